"""Custom properties: definitions per object type, validated on every write."""
