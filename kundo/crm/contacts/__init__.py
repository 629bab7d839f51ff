"""Contacts: people, their e-mail addresses, lifecycle and consent."""
