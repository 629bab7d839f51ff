"""Tasks: calls, e-mails, to-dos and follow-ups with due dates and owners."""
