"""Workspace addresses: validated before they touch SQL or a host name."""

from __future__ import annotations

import re

from flask_babel import gettext as _

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
MIN_LENGTH = 3

RESERVED_SLUGS = frozenset(
    {
        "www", "api", "admin", "control", "public", "app", "apps", "mail", "smtp", "static",
        "assets", "cdn", "docs", "help", "support", "status", "billing", "login", "signup",
        "auth", "account", "accounts", "dashboard", "marketplace", "kundo", "root", "system",
        "information_schema", "tenant", "tenants", "demo-template", "localhost", "test",
    }
)


class InvalidSlug(ValueError):
    """The message is shown to the person choosing the address."""


def normalize_slug(raw: str) -> str:
    return (raw or "").strip().lower()


def validate_slug(raw: str) -> str:
    """Return the normalized slug or raise InvalidSlug saying what to change."""
    slug = normalize_slug(raw)
    if not slug:
        raise InvalidSlug(_("Choose a workspace address."))
    if len(slug) < MIN_LENGTH:
        raise InvalidSlug(_("The workspace address needs at least %(count)d characters.", count=MIN_LENGTH))
    if not SLUG_PATTERN.match(slug):
        raise InvalidSlug(
            _("Use only lower-case letters, digits and hyphens (not at the start or end), at most 40 characters.")
        )
    if "--" in slug:
        raise InvalidSlug(_("The workspace address cannot contain two hyphens in a row."))
    if slug in RESERVED_SLUGS or slug.startswith("pg-") or slug.startswith("pg_"):
        raise InvalidSlug(_("“%(slug)s” is reserved. Please choose another address.", slug=slug))
    return slug


def slug_suggestion(company_name: str) -> str:
    """A valid-looking slug derived from a company name, for the sign-up form."""
    translit = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
    base = re.sub(r"[^a-z0-9]+", "-", (company_name or "").lower().translate(translit)).strip("-")
    return re.sub(r"-{2,}", "-", base)[:40].strip("-")
