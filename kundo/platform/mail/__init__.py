"""The one mailer: SMTP at MAIL_URL, or a local outbox when there is none."""
