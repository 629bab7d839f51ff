"""Company domains: one spelling per domain, so lookups by e-mail domain find the company.

People paste domains as `https://www.Acme.de/impressum`, `acme.de.` or `WWW.ACME.DE`;
all of these are the company `acme.de`. Sub-domains other than `www.` are kept:
`shop.acme.de` may well be someone else's (see the matcher's docstring).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask_babel import gettext as _

from kundo.crm.companies.errors import CompanyError

_LABEL = re.compile(r"^(?!-)[^\W_](?:[\w-]{0,61}[^\W_])?$")
#: Second-level labels under which registries sell names (acme.co.uk, acme.com.au).
_REGISTRY_LABELS = frozenset({"co", "com", "net", "org", "ac", "gov", "edu", "or", "ne", "gv"})


def normalise_domain(value: str | None) -> str | None:
    """The bare, lower-case host of `value`, None if blank, or CompanyError if it is no domain."""
    text = (value or "").strip().lower()
    if not text:
        return None
    if "@" in text and "://" not in text:
        text = text.rsplit("@", 1)[1]  # someone pasted an e-mail address
    host = urlsplit(text if "://" in text else f"//{text}").hostname or ""
    host = host.rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise CompanyError(_("“%(value)s” is not a domain. Enter it like acme.de.", value=value), field="domain")
    return host


def company_name_from_domain(domain: str) -> str:
    """A readable first name for a company known only by its domain: `acme-gmbh.co.uk` → `Acme-Gmbh`."""
    labels = domain.split(".")
    name = labels[-2] if len(labels) >= 2 else labels[0]
    if len(labels) >= 3 and name in _REGISTRY_LABELS:
        name = labels[-3]
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))
