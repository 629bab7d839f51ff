"""Reading one cell into a field's value; each reader raises ValueError with a message for the person.

E-mails, phones, tags and domains are cleaned by the contacts' and companies' own
rules, so an imported value is spelled as if it had been typed in. Cells come from
spreadsheets, so readers are forgiving where the meaning is clear (“Kunde” is the
customer stage, “1.200” employees is 1200) and strict where a guess could be wrong.
"""

from __future__ import annotations

import re
from functools import lru_cache

from flask_babel import gettext as _

from kundo.crm.companies.domains import normalise_domain
from kundo.crm.companies.errors import CompanyError
from kundo.crm.contacts.errors import ContactError
from kundo.crm.contacts.models import LifecycleStage
from kundo.crm.contacts.values import clean_phones, clean_tags, digits_of, normalise_email
from kundo.crm.imports.mapping import normalize_header

_WHOLE_NUMBER = re.compile(r"^\d{1,3}(?:([.,' ])\d{3})(?:\1\d{3})*$|^\d+$")
_LIST_SEPARATORS = re.compile(r"[,;|]")
_PHONE_SEPARATORS = re.compile(r"[;,]")
#: The contacts' phone rule without its extension part: the common case, checked quickly.
_PLAIN_PHONE = re.compile(r"^\+?[0-9 ()./\-]{3,40}$")
_NOT_DIGITS = str.maketrans("", "", "+ ()./-")
_PHONE_LENGTH = 50  # the contacts.phones column
_SCIENTIFIC = re.compile(r"\d[.,]\d*e\+\d+$", re.IGNORECASE)
#: Separates list items when lists travel to SQL as one text value.
LIST_JOINER = "\x1f"

_LIFECYCLE_NAMES = {
    LifecycleStage.SUBSCRIBER: ("subscriber", "abonnent", "abonnentin", "newsletter abonnent"),
    LifecycleStage.LEAD: ("lead", "interessent", "interessentin"),
    LifecycleStage.MQL: ("marketing qualified lead", "mql", "marketingqualifizierter lead",
                         "marketing qualifizierter lead"),
    LifecycleStage.SQL: ("sales qualified lead", "sql", "vertriebsqualifizierter lead",
                         "vertriebs qualifizierter lead"),
    LifecycleStage.OPPORTUNITY: ("opportunity", "verkaufschance", "chance", "verkaufsgelegenheit"),
    LifecycleStage.CUSTOMER: ("customer", "kunde", "kundin", "client"),
    LifecycleStage.EVANGELIST: ("evangelist", "fürsprecher", "fürsprecherin", "markenbotschafter"),
    LifecycleStage.OTHER: ("other", "sonstige", "sonstiges", "andere"),
}
LIFECYCLE_BY_NAME = {
    normalize_header(name): stage.value
    for stage, names in _LIFECYCLE_NAMES.items() for name in (stage.value, *names)
}

_COUNTRIES = {
    "DE": ("deutschland", "germany", "bundesrepublik deutschland", "brd", "ger", "deu"),
    "AT": ("österreich", "oesterreich", "austria", "aut"),
    "CH": ("schweiz", "switzerland", "suisse", "svizzera", "che"),
    "LI": ("liechtenstein",),
    "LU": ("luxemburg", "luxembourg"),
    "NL": ("niederlande", "netherlands", "holland", "the netherlands"),
    "BE": ("belgien", "belgium", "belgique"),
    "FR": ("frankreich", "france"),
    "IT": ("italien", "italy", "italia"),
    "ES": ("spanien", "spain", "españa"),
    "PT": ("portugal",),
    "PL": ("polen", "poland", "polska"),
    "CZ": ("tschechien", "czechia", "czech republic", "tschechische republik"),
    "DK": ("dänemark", "daenemark", "denmark"),
    "SE": ("schweden", "sweden"),
    "NO": ("norwegen", "norway"),
    "FI": ("finnland", "finland"),
    "IE": ("irland", "ireland"),
    "GB": ("vereinigtes königreich", "united kingdom", "uk", "großbritannien", "grossbritannien", "england",
           "great britain"),
    "US": ("usa", "vereinigte staaten", "united states", "united states of america", "amerika"),
    "CA": ("kanada", "canada"),
}
COUNTRY_BY_NAME = {normalize_header(name): code for code, names in _COUNTRIES.items() for name in (code, *names)}


def read_text(raw: str, max_length: int | None) -> str | None:
    text = raw.strip()
    if not text:
        return None
    if max_length and len(text) > max_length:
        raise ValueError(_("Too long: at most %(limit)s characters, this has %(length)s.",
                           limit=max_length, length=len(text)))
    return text


def read_email(raw: str, max_length: int | None) -> str | None:  # noqa: ARG001 - one signature for all
    text = raw.strip()
    if not text:
        return None
    if _LIST_SEPARATORS.search(text) and text.count("@") > 1:
        raise ValueError(_("Holds several e-mail addresses; put one address per row."))
    try:
        return normalise_email(text)
    except ContactError as error:
        raise ValueError(str(error)) from None


def read_phones(raw: str, max_length: int | None) -> list[str]:  # noqa: ARG001
    """Numbers separated by `;` or `,`; plain numbers take a fast path, the rest the contacts' rules."""
    phones = []
    for part in _PHONE_SEPARATORS.split(raw):
        phone = " ".join(part.split())
        if not phone:
            continue
        if _PLAIN_PHONE.match(phone) and len(phone.translate(_NOT_DIGITS)) >= 3:
            phones.append(phone)
            continue
        if _SCIENTIFIC.search(phone):
            raise ValueError(_("“%(value)s” was turned into a scientific number by Excel. Format the column as "
                               "text in Excel and export again.", value=phone))
        try:
            phones.extend(clean_phones([phone]))  # extensions (“x 12”), or the contacts' message
        except ContactError as error:
            raise ValueError(str(error)) from None
        if len(phone) > _PHONE_LENGTH:
            raise ValueError(_("“%(value)s” is too long for a phone number (at most %(limit)s characters).",
                               value=phone, limit=_PHONE_LENGTH))
    return distinct_phones(phones)


def distinct_phones(phones: list[str]) -> list[str]:
    """One number per digit sequence, as the contacts service keeps them."""
    if len(phones) < 2:
        return phones
    seen, result = set(), []
    for phone in phones:
        digits = digits_of(phone)
        if digits not in seen:
            seen.add(digits)
            result.append(phone)
    return result


def read_tags(raw: str, max_length: int | None) -> list[str]:  # noqa: ARG001
    if not raw.strip():
        return []
    try:
        return clean_tags(_LIST_SEPARATORS.split(raw))
    except ContactError as error:
        raise ValueError(str(error)) from None


@lru_cache(maxsize=1024)
def read_lifecycle(raw: str, max_length: int | None) -> str | None:  # noqa: ARG001 - one signature for all
    text = raw.strip()
    if not text:
        return None
    stage = LIFECYCLE_BY_NAME.get(normalize_header(text))
    if stage is None:
        raise ValueError(_("“%(value)s” is not a lifecycle stage. Use one of: %(stages)s.",
                           value=text, stages=", ".join(stage.value for stage in LifecycleStage)))
    return stage


def read_integer(raw: str, max_length: int | None) -> int | None:  # noqa: ARG001
    text = raw.strip()
    if not text:
        return None
    compact = text.replace("\u00a0", " ")
    if not _WHOLE_NUMBER.match(compact):
        raise ValueError(_("“%(value)s” is not a whole number. Write it like 1200 or 1.200.", value=text))
    number = int(re.sub(r"\D", "", compact))
    if number > 2_147_483_647:
        raise ValueError(_("“%(value)s” is too large.", value=text))
    return number


@lru_cache(maxsize=65536)  # many contacts share a company's website
def read_domain(raw: str, max_length: int | None) -> str | None:  # noqa: ARG001
    try:
        return normalise_domain(raw)
    except CompanyError as error:
        raise ValueError(str(error)) from None


@lru_cache(maxsize=1024)
def read_country(raw: str, max_length: int | None) -> str | None:  # noqa: ARG001
    text = raw.strip()
    if not text:
        return None
    code = COUNTRY_BY_NAME.get(normalize_header(text))
    if code is None and re.fullmatch(r"[A-Za-z]{2}", text):
        code = text.upper()
    if code is None:
        raise ValueError(_("“%(value)s” is not a country Kundo knows. Use a two-letter code like DE, AT or CH.",
                           value=text))
    return code


READERS = {
    "text": read_text,
    "email": read_email,
    "phone": read_phones,
    "tags": read_tags,
    "lifecycle": read_lifecycle,
    "integer": read_integer,
    "domain": read_domain,
    "country": read_country,
}
