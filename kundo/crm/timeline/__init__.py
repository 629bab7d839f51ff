"""The one timeline: every interaction, linked to any number of objects."""
