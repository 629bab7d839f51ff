"""Checks for the (object_type, object_id) links of activities and tasks.

Contacts and companies are the core's own objects, so a link to one must point at a
row of this tenant. Deals, tickets, quotes … belong to hubs, which check their own
objects before they link; the core accepts those as given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from kundo.crm.companies.models import Company
from kundo.crm.contacts.models import Contact

_OBJECT_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_BIGINT_MAX = 2**63 - 1
MAX_LINKS = 100


class LinkError(ValueError):
    """A link that is malformed; `field` names the request field to fix."""

    field = "links"


class LinkTargetNotFound(LookupError):
    """A link to a contact or company that does not exist in this workspace."""

    def __init__(self, object_type: str, object_id: int):
        super().__init__(_("There is no %(type)s with id %(id)s in this workspace. Check the id, or create the "
                           "%(type)s first.", type=object_type, id=object_id))
        self.object_type = object_type
        self.object_id = object_id


def normalise_links(links: Iterable) -> list[tuple[str, int]]:
    """The links as distinct (type, id) tuples in their given order, or LinkError."""
    seen: dict[tuple[str, int], None] = {}
    for link in links or ():
        try:
            object_type, object_id = link
        except (TypeError, ValueError) as error:
            raise LinkError(_("Give each link as an object type and an id, e.g. contact 42.")) from error
        if not isinstance(object_type, str) or not _OBJECT_TYPE.match(object_type):
            raise LinkError(_("“%(type)s” is not an object type. Use a lower-case name such as contact or deal.",
                              type=object_type))
        if isinstance(object_id, bool) or not isinstance(object_id, int) or not 1 <= object_id <= _BIGINT_MAX:
            raise LinkError(_("“%(id)s” is not an id. Use the positive whole number of the %(type)s.",
                              id=object_id, type=object_type))
        seen[(object_type, object_id)] = None
    if len(seen) > MAX_LINKS:
        raise LinkError(_("Link at most %(count)s objects.", count=MAX_LINKS))
    return list(seen)


def check_links(session: Session, links: Iterable, *, required: bool = True) -> list[tuple[str, int]]:
    """Normalised links whose contacts and companies exist and are not erased."""
    links = normalise_links(links)
    if required and not links:
        raise LinkError(_("Link it to at least one contact, company or other object."))
    _require_existing(session, Contact, [i for t, i in links if t == "contact"], "contact", live_only=True)
    _require_existing(session, Company, [i for t, i in links if t == "company"], "company")
    return links


def _require_existing(session: Session, model, ids: list[int], object_type: str, live_only: bool = False) -> None:
    if not ids:
        return
    query = select(model.id).where(model.id.in_(ids))
    if live_only:
        # An erased contact must not collect new personal data through the timeline.
        query = query.where(model.erased_at.is_(None))
    found = set(session.scalars(query))
    for object_id in ids:
        if object_id not in found:
            raise LinkTargetNotFound(object_type, object_id)


def object_exists(session: Session, object_type: str, object_id: int) -> bool:
    """Whether a contact or company exists (erased contacts too); other types are the hubs' business."""
    model = {"contact": Contact, "company": Company}.get(object_type)
    if model is None:
        return True
    return session.scalar(select(model.id).where(model.id == object_id)) is not None
