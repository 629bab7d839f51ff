"""How contact fields are cleaned before they are stored: e-mails, phones, tags, texts, stages.

Shared by the contacts service, the matcher and the merge, so an address or a phone
number is spelled the same way whichever door it came in through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime

from flask_babel import gettext as _

from kundo.crm.contacts.errors import ContactError
from kundo.crm.contacts.models import LifecycleStage

_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+\.[^@\s<>(),;:\"\[\].]{2,}$")
_PHONE = re.compile(r"^\+?[0-9 ()./\-]{3,40}(?:\s*(?:ext\.?|x|#)\s*[0-9]{1,6})?$", re.IGNORECASE)
MAX_EMAIL_LENGTH = 320
MAX_TAG_LENGTH = 60
MAX_TAGS = 100

#: The sales funnel in order; `other` stands outside it.
FUNNEL = (LifecycleStage.SUBSCRIBER, LifecycleStage.LEAD, LifecycleStage.MQL, LifecycleStage.SQL,
          LifecycleStage.OPPORTUNITY, LifecycleStage.CUSTOMER, LifecycleStage.EVANGELIST)


def normalise_email(value: str) -> str:
    """The address as stored: trimmed, without `mailto:` or angle brackets, domain in lower case."""
    text = (value or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    text = text.strip().strip("<>").strip()
    if len(text) > MAX_EMAIL_LENGTH or not _EMAIL.match(text):
        raise ContactError(_("“%(value)s” is not an e-mail address. Enter it like name@example.com.", value=value),
                           field="emails")
    local, _at, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


def clean_emails(values: Iterable[str]) -> list[str]:
    """Distinct addresses (case-insensitively), first one first: it becomes the primary."""
    seen, result = set(), []
    for value in values or ():
        address = normalise_email(value)
        if address.lower() not in seen:
            seen.add(address.lower())
            result.append(address)
    return result


def digits_of(phone: str) -> str:
    return re.sub(r"\D", "", phone or "")


def clean_phones(values: Iterable[str]) -> list[str]:
    """Trimmed numbers, one per distinct digit sequence; letters are refused."""
    seen, result = set(), []
    for value in values or ():
        text = re.sub(r"\s+", " ", str(value or "")).strip()
        if not text:
            continue
        if not _PHONE.match(text) or len(digits_of(text)) < 3:
            raise ContactError(_("“%(value)s” is not a phone number. Use digits, spaces and + ( ) - / only.",
                                 value=value), field="phones")
        if digits_of(text) not in seen:
            seen.add(digits_of(text))
            result.append(text)
    return result


def phone_digits_of(phones: Iterable[str]) -> str:
    """The `phone_digits` column: digits of every number, space separated, for trigram search."""
    return " ".join(digits_of(phone) for phone in phones or ())


def clean_tags(values: Iterable[str]) -> list[str]:
    """Trimmed tags without case-insensitive repeats; the first spelling wins."""
    seen, result = set(), []
    for value in values or ():
        tag = str(value or "").strip()
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise ContactError(_("The tag “%(tag)s” is too long (at most %(max)s characters).", tag=tag[:20] + "…",
                                 max=MAX_TAG_LENGTH), field="tags")
        if tag.lower() not in seen:
            seen.add(tag.lower())
            result.append(tag)
    if len(result) > MAX_TAGS:
        raise ContactError(_("A record can carry at most %(max)s tags.", max=MAX_TAGS), field="tags")
    return result


def clean_text(field: str, value, max_length: int) -> str | None:
    """Trimmed text, None when blank, or ContactError naming `field` when too long."""
    if value is None:
        return None
    text = str(value).strip()
    if len(text) > max_length:
        raise ContactError(_("Too long: at most %(max)s characters.", max=max_length), field=field)
    return text or None


def lifecycle_stage(value) -> str | None:
    if value in (None, ""):
        return None
    try:
        return LifecycleStage(value).value
    except ValueError:
        raise ContactError(_("“%(value)s” is not a lifecycle stage. Use one of: %(stages)s.", value=value,
                             stages=", ".join(stage.value for stage in LifecycleStage)),
                           field="lifecycle_stage") from None


def funnel_rank(stage: str | None) -> int:
    """Position in the funnel; -1 for `other` and no stage, which rank below any funnel stage."""
    return FUNNEL.index(stage) if stage in FUNNEL else -1


def jsonable(value):
    """`value` as JSON can hold it (for event payloads and activity payloads)."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    return value
