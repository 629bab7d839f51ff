"""Send mail through SMTP at MAIL_URL; without it, keep the mail in the local outbox.

Every message is also recorded in `control.mail_outbox`, so `kundo mail outbox` and the
outbox page show what Kundo sent even when a real server delivered it. Attachments (a
quote's PDF, a meeting's ICS) go out as MIME parts; the outbox row names them at the end
of the text, as the outbox keeps no files.
"""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from flask import current_app

from kundo.platform.db import db
from kundo.platform.mail.models import OutboxMail


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "application/pdf", "text/calendar; method=REQUEST"
    data: bytes


def attachment_line(attachment: Attachment) -> str:
    """How the outbox lists an attachment: `📎 name (type, N bytes)`."""
    kind = attachment.content_type.split(";")[0]
    return f"\N{PAPERCLIP} {attachment.filename} ({kind}, {len(attachment.data)} bytes)"


def send_mail(recipient: str, subject: str, body_text: str, attachments: Sequence[Attachment] = ()) -> OutboxMail:
    """Send (or store) one plain-text message; the caller's transaction records it."""
    settings = current_app.config["KUNDO"]
    recorded = body_text
    if attachments:
        recorded = body_text.rstrip() + "\n\n" + "\n".join(attachment_line(a) for a in attachments)
    mail = OutboxMail(
        recipient=recipient,
        sender=settings.mail_sender,
        subject=subject,
        body_text=recorded,
        delivered_via="smtp" if settings.mail_url else "outbox",
    )
    if settings.mail_url:
        _deliver_smtp(settings.mail_url, settings.mail_sender, recipient, subject, body_text, attachments)
    db.session.add(mail)
    return mail


def _deliver_smtp(mail_url: str, sender: str, recipient: str, subject: str, body: str,
                  attachments: Sequence[Attachment] = ()) -> None:
    parts = urlsplit(mail_url)
    message = build_message(sender, recipient, subject, body, attachments)
    smtp_class = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    with smtp_class(parts.hostname or "localhost", parts.port or 25, timeout=10) as smtp:
        if parts.scheme == "smtp+starttls":
            smtp.starttls()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)


def build_message(sender: str, recipient: str, subject: str, body: str,
                  attachments: Sequence[Attachment] = ()) -> EmailMessage:
    """The MIME message as SMTP delivery sends it."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content(body)
    for attachment in attachments:
        main, _, rest = attachment.content_type.partition("/")
        subtype, *params = [part.strip() for part in rest.split(";")]
        extra = dict(param.split("=", 1) for param in params if "=" in param)
        message.add_attachment(attachment.data, maintype=main, subtype=subtype, filename=attachment.filename,
                               params=extra)
    return message


def latest_mail(limit: int = 50) -> list[OutboxMail]:
    return list(
        db.session.scalars(db.select(OutboxMail).order_by(OutboxMail.id.desc()).limit(limit))
    )
