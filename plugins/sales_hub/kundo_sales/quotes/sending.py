"""Sending a quote: the PDF, the mail with it attached and the public link, then `mark_sent`.

Shared by the editor page and the API so both send the same mail. The tenant change
(status, timeline, quote.sent) is made first and rolled back by the caller if the mail
fails; the control-plane outbox row is committed once the mail went out.
"""

from __future__ import annotations

import re
from email.utils import make_msgid, parseaddr

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from kundo.platform.db import db
from kundo.platform.mail.service import Attachment, send_mail
from kundo_sales.errors import SalesValidationError
from kundo_sales.quotes.document import build_document
from kundo_sales.quotes.models import Quote
from kundo_sales.quotes.pdf import render_pdf
from kundo_sales.quotes.service import mark_sent
from kundo_sales.signing import make_token

#: How long a public quote link works, counted from when it was made (sending makes a new one).
LINK_MAX_AGE_DAYS = 60
PUBLIC_PATH = "/apps/sales/q/{token}"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def public_url(tenant, quote: Quote) -> str:
    token = make_token("quote", tenant.id, quote.id, quote.link_key)
    return current_app.config["KUNDO"].workspace_url(tenant.slug) + PUBLIC_PATH.format(token=token)


def pdf_of(session: Session, quote: Quote, tenant) -> bytes:
    return render_pdf(build_document(session, quote, workspace_name=tenant.name))


def pdf_filename(quote: Quote) -> str:
    with force_locale(quote.language):
        return f"{_('Quote')}-{quote.number}.pdf"


def send_quote(session: Session, quote: Quote, *, tenant, to: str, message: str | None, user) -> None:
    to = str(to or "").strip()
    if not re.match(EMAIL_PATTERN, to) or len(to) > 320:
        raise SalesValidationError({"to": [_("Enter the buyer's e-mail address.")]})
    message = (str(message or "").strip() or None)
    if message and len(message) > 5000:
        raise SalesValidationError({"message": [_("Use at most %(limit)s characters.", limit=5000)]})
    settings = current_app.config["KUNDO"]
    with force_locale(quote.language):
        subject = _("Quote %(number)s from %(company)s", number=quote.number, company=tenant.name)
        body = "\n\n".join(part for part in (
            message or _("Hello,\n\nplease find our quote %(number)s attached.", number=quote.number),
            _("View, accept or decline it online: %(link)s", link=public_url(tenant, quote)),
            _("Kind regards\n%(name)s", name=user.name),
        ) if part)
    message_id = make_msgid(domain=settings.domain.split(":")[0])
    mark_sent(session, quote, to=to, actor_id=user.id, sender=parseaddr(settings.mail_sender)[1], message_id=message_id,
              subject=subject, body=body)
    send_mail(to, subject[:300], body,
              attachments=[Attachment(pdf_filename(quote), "application/pdf", pdf_of(session, quote, tenant))])
    db.session.commit()
