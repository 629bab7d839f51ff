"""People and credentials: users, passwords, one-time links, API tokens, sessions."""
