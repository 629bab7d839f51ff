"""The host: app factory, configuration, database sessions, auth, API base, web shell, CLI."""
