"""The one matcher: e-mail → contact, e-mail domain → company, used by every channel."""
