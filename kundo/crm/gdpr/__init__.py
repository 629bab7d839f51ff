"""GDPR: export everything about a contact; erase a contact's personal data."""
