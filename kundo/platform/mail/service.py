"""Send mail through SMTP at MAIL_URL; without it, keep the mail in the local outbox.

Every message is also recorded in `control.mail_outbox`, so `kundo mail outbox` and the
outbox page show what Kundo sent even when a real server delivered it.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from flask import current_app

from kundo.platform.db import db
from kundo.platform.mail.models import OutboxMail


def send_mail(recipient: str, subject: str, body_text: str) -> OutboxMail:
    """Send (or store) one plain-text message; the caller's transaction records it."""
    settings = current_app.config["KUNDO"]
    mail = OutboxMail(
        recipient=recipient,
        sender=settings.mail_sender,
        subject=subject,
        body_text=body_text,
        delivered_via="smtp" if settings.mail_url else "outbox",
    )
    if settings.mail_url:
        _deliver_smtp(settings.mail_url, settings.mail_sender, recipient, subject, body_text)
    db.session.add(mail)
    return mail


def _deliver_smtp(mail_url: str, sender: str, recipient: str, subject: str, body: str) -> None:
    parts = urlsplit(mail_url)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content(body)
    smtp_class = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    with smtp_class(parts.hostname or "localhost", parts.port or 25, timeout=10) as smtp:
        if parts.scheme == "smtp+starttls":
            smtp.starttls()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)


def latest_mail(limit: int = 50) -> list[OutboxMail]:
    return list(
        db.session.scalars(db.select(OutboxMail).order_by(OutboxMail.id.desc()).limit(limit))
    )
