"""Which CSV column goes into which field: the targets, suggestions and validation.

A mapping is a JSON object {column header: target}. A target is a field name from
`FIELDS[object_type]` or `custom.<key>` for a custom property; columns that are not
mapped (or mapped to null / "") are ignored. Suggestions understand German and
English headers as Excel, Outlook, HubSpot and Google exports write them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _

from kundo.crm.properties.models import PropertyDefinition

OBJECT_TYPES = ("contact", "company")
CUSTOM_PREFIX = "custom."


class MappingError(ValueError):
    """`errors` maps each offending column header to what is wrong with it."""

    def __init__(self, message: str, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.errors = errors or {}


@dataclass(frozen=True)
class Field:
    """A target of the mapping and how a cell is read into it."""

    name: str
    kind: str  #: text, email, phone, tags, lifecycle, integer, domain, country, owner
    max_length: int | None = None
    #: Several columns may feed it (Telefon + Mobil → phones).
    multiple: bool = False
    synonyms: tuple[str, ...] = ()


def _f(name, kind="text", max_length=None, *synonyms, multiple=False) -> Field:
    return Field(name, kind, max_length, multiple, synonyms)


_COMPANY_COMMON = {
    "industry": ("branche", "industry", "sektor", "sector", "wirtschaftszweig"),
    "size": ("mitarbeiter", "employees", "anzahl mitarbeiter", "mitarbeiterzahl", "number of employees",
             "anzahl der mitarbeiter", "company size", "unternehmensgröße", "größe", "size", "headcount"),
    "street": ("straße", "strasse", "street", "adresse", "address", "street address", "anschrift",
               "straße und hausnummer", "address line 1", "adresszeile 1"),
    "postal_code": ("plz", "postleitzahl", "postal code", "zip", "zip code", "postcode", "post code"),
    "city": ("ort", "stadt", "city", "town", "wohnort", "gemeinde"),
    "country": ("land", "country", "staat", "country region", "land region"),
}
_DOMAIN_SYNONYMS = ("website", "domain", "webseite", "homepage", "web", "url", "website url", "internetseite",
                    "company domain name", "company domain", "firmen website", "unternehmenswebsite")
_OWNER_SYNONYMS = ("besitzer", "owner", "inhaber", "kontaktinhaber", "contact owner", "company owner",
                   "zuständig", "verantwortlich", "betreuer", "account owner")

FIELDS: dict[str, dict[str, Field]] = {
    "contact": {field.name: field for field in (
        _f("first_name", "text", 200, "vorname", "first name", "firstname", "given name", "rufname"),
        _f("last_name", "text", 200, "nachname", "name", "last name", "lastname", "surname", "familienname",
           "family name", "zuname"),
        _f("email", "email", 320, "e mail", "email", "mail", "e mail adresse", "email address", "e mail address",
           "emailadresse", "mailadresse", "e mail 1", "email 1", "primary email", "haupt e mail"),
        _f("phone", "phone", 50, "telefon", "phone", "mobil", "mobile", "handy", "telefonnummer", "phone number",
           "mobilnummer", "mobile phone", "mobile phone number", "tel", "telefon geschäftlich", "business phone",
           "mobiltelefon", "festnetz", multiple=True),
        _f("job_title", "text", 200, "position", "job title", "jobtitel", "funktion", "berufsbezeichnung",
           "rolle", "role", "title", "stellenbezeichnung"),
        _f("lifecycle_stage", "lifecycle", None, "lebenszyklusphase", "lifecycle stage", "lifecycle",
           "lebenszyklus", "phase"),
        _f("lead_status", "text", 40, "lead status", "leadstatus"),
        _f("source", "text", 100, "quelle", "source", "lead source", "herkunft", "leadquelle", "original source",
           "kontaktquelle"),
        _f("tags", "tags", 60, "tags", "schlagwörter", "schlagworte", "stichwörter", "labels", "kategorien",
           "categories", multiple=True),
        _f("owner", "owner", None, *_OWNER_SYNONYMS),
        _f("company", "text", 300, "firma", "unternehmen", "company", "company name", "organisation",
           "organization", "firmenname", "account", "account name", "arbeitgeber", "employer"),
        _f("company_domain", "domain", 255, *_DOMAIN_SYNONYMS),
        *(_f(f"company_{name}", kind, length, *_COMPANY_COMMON[name])
          for name, kind, length in (("industry", "text", 100), ("size", "integer", None),
                                     ("street", "text", 300), ("postal_code", "text", 20),
                                     ("city", "text", 120), ("country", "country", None))),
    )},
    "company": {field.name: field for field in (
        _f("name", "text", 300, "firma", "unternehmen", "company", "name", "company name", "firmenname",
           "organisation", "organization", "account name", "unternehmensname"),
        _f("domain", "domain", 255, *_DOMAIN_SYNONYMS),
        _f("industry", "text", 100, *_COMPANY_COMMON["industry"]),
        _f("size", "integer", None, *_COMPANY_COMMON["size"]),
        _f("street", "text", 300, *_COMPANY_COMMON["street"]),
        _f("postal_code", "text", 20, *_COMPANY_COMMON["postal_code"]),
        _f("city", "text", 120, *_COMPANY_COMMON["city"]),
        _f("country", "country", None, *_COMPANY_COMMON["country"]),
        _f("phone", "text", 50, "telefon", "phone", "tel", "telefonnummer", "phone number", "zentrale"),
        _f("notes", "text", 20_000, "notizen", "notes", "bemerkung", "bemerkungen", "beschreibung",
           "description", "kommentar", "comment", "about"),
        _f("owner", "owner", None, *_OWNER_SYNONYMS),
    )},
}


def normalized_object_type(raw: str) -> str:
    """"contacts" or "contact" → "contact"; MappingError for anything else."""
    value = (raw or "").strip().lower()
    value = {"contacts": "contact", "companies": "company"}.get(value, value)
    if value not in OBJECT_TYPES:
        raise MappingError(_("Import contacts or companies (object type “contact” or “company”)."))
    return value


def normalize_header(header: str) -> str:
    """Case, punctuation and spacing do not matter: “E-Mail-Adresse” ≈ “e mail adresse”."""
    text = header.casefold().replace("ß", "ss")
    return " ".join(re.findall(r"[^\W_]+", text))


def _synonym_index(object_type: str) -> dict[str, str]:
    index = {}
    for field in FIELDS[object_type].values():
        for synonym in (field.name.replace("_", " "), *field.synonyms):
            index.setdefault(normalize_header(synonym), field.name)
    return index


_SYNONYMS = {object_type: _synonym_index(object_type) for object_type in OBJECT_TYPES}


def suggest_mapping(headers: list[str], object_type: str,
                    definitions: dict[str, PropertyDefinition] | None = None) -> dict[str, str | None]:
    """The likely target of each column, or None; each single-valued target is used once.

    A custom property whose key or label equals the header wins over the built-in
    synonyms: a workspace that defined “Region” means its own property.
    """
    custom = {}
    for key, definition in (definitions or {}).items():
        custom.setdefault(normalize_header(definition.label), f"{CUSTOM_PREFIX}{key}")
        custom.setdefault(normalize_header(key), f"{CUSTOM_PREFIX}{key}")
    fields = FIELDS[object_type]
    used: set[str] = set()
    suggestion: dict[str, str | None] = {}
    for header in headers:
        normal = normalize_header(header)
        target = custom.get(normal) or _SYNONYMS[object_type].get(normal) or _SYNONYMS[object_type].get(
            re.sub(r"\s*\d+$", "", normal))  # “Telefon 2”, “Tag 3”
        field = fields.get(target) if target else None
        if target in used and not (field and field.multiple):
            target = None
        if target:
            used.add(target)
        suggestion[header] = target
    return suggestion


def validate_mapping(mapping: dict, headers: list[str], object_type: str,
                     definitions: dict[str, PropertyDefinition]) -> dict[str, str]:
    """The mapping without ignored columns; MappingError naming every bad column at once."""
    if not isinstance(mapping, dict):
        raise MappingError(_("The mapping must be an object {column header: field}."))
    fields = FIELDS[object_type]
    known_headers = set(headers)
    errors: dict[str, str] = {}
    result: dict[str, str] = {}
    used: dict[str, str] = {}
    for header, target in mapping.items():
        if target in (None, ""):
            continue
        if header not in known_headers:
            errors[header] = _("The file has no column “%(header)s”. Its columns are: %(headers)s.",
                               header=header, headers=", ".join(headers))
            continue
        if not isinstance(target, str):
            errors[header] = _("Name a field as text, e.g. “email”.")
            continue
        if target.startswith(CUSTOM_PREFIX):
            if target[len(CUSTOM_PREFIX):] not in definitions:
                errors[header] = _("There is no custom property “%(key)s”. Create it under Settings → Properties "
                                   "or choose another field.", key=target[len(CUSTOM_PREFIX):])
                continue
        elif target not in fields:
            errors[header] = _("Unknown field “%(target)s”. Use one of: %(fields)s, or custom.<property key>.",
                               target=target, fields=", ".join(fields))
            continue
        field = fields.get(target)
        if target in used and not (field and field.multiple):
            errors[header] = _("“%(target)s” is already filled from column “%(other)s”. Map only one column to it.",
                               target=target, other=used[target])
            continue
        used.setdefault(target, header)
        result[header] = target
    if errors:
        raise MappingError(_("Some columns cannot be mapped; each one is named with its problem."), errors)
    _require_identifying_field(set(result.values()), object_type)
    return result


def _require_identifying_field(targets: set[str], object_type: str) -> None:
    if object_type == "contact" and not targets & {"email", "first_name", "last_name"}:
        raise MappingError(_("Map at least one column to e-mail, first name or last name, so each contact can be "
                             "told apart."))
    if object_type == "company" and not targets & {"name", "domain"}:
        raise MappingError(_("Map a column to the company name or its domain; every company needs one of them."))
