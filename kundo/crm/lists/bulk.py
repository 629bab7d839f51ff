"""Bulk actions on a selection of contacts: assign an owner, add or remove a tag, delete.

A selection is a list of ids or a whole filter result, which may be a million rows,
so each action is one set-based statement: data-modifying CTEs change the rows and
write one outbox event per changed contact in the same statement (and so the same
transaction). Rows that already are as asked (the owner already set, the tag already
there) are left alone and announce nothing. The events carry the same payloads as
the contacts service's single-record changes, so a handler cannot tell the two apart.

Deleting needs the caller to echo the number of contacts it will delete: a filter
typed in a hurry then fails loudly instead of emptying the workspace.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    String,
    and_,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    not_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from kundo.crm.contacts.models import Contact, ContactEmail
from kundo.crm.contacts.values import MAX_TAGS, clean_tags
from kundo.crm.lists.filters import FilterContext
from kundo.crm.lists.service import ListQuery, compile_query, selected_ids
from kundo.crm.tasks.models import TaskLink
from kundo.crm.timeline.models import Activity, ActivityLink
from kundo.platform.events import OutboxEvent

MAX_IDS = 10_000


class BulkAction(enum.StrEnum):
    ASSIGN_OWNER = "assign_owner"
    ADD_TAG = "add_tag"
    REMOVE_TAG = "remove_tag"
    DELETE = "delete"


class BulkError(ValueError):
    """A bulk request that cannot run; `field` names the request field to fix."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


class ConfirmationRequired(BulkError):
    """Deleting needs `confirm` to equal the number of contacts it would delete."""

    def __init__(self, count: int):
        super().__init__(
            f"This deletes {count} contact{'' if count == 1 else 's'} for good. To go ahead, send the same "
            f"request with \"confirm\": {count}.", "confirm")
        self.count = count


@dataclass(frozen=True)
class BulkResult:
    action: BulkAction
    #: Contacts the selection matched.
    matched: int
    #: Contacts the action changed (or deleted); each has one event in the outbox.
    changed: int


def run_bulk_action(session: Session, action: BulkAction | str, *, ids: list[int] | None = None,
                    filters: list | None = None, value=None, confirm: int | None = None,
                    actor_id: int | None = None, context: FilterContext | None = None) -> BulkResult:
    """Apply `action` to the contacts named by `ids` or matched by `filters` (exactly one of them).

    The caller checks that an owner is a member of the workspace (that lives in the
    control plane). Raises BulkError, ConfirmationRequired or ListQueryError.
    """
    try:
        action = BulkAction(action)
    except ValueError:
        raise BulkError(f"Unknown action “{action}”. Use one of: {', '.join(BulkAction)}.", "action") from None
    selection = _selection(session, ids, filters, context or FilterContext(user_id=actor_id))
    matched = session.scalar(select(func.count()).select_from(selection.subquery()))
    if action == BulkAction.DELETE:
        if confirm != matched or isinstance(confirm, bool):
            raise ConfirmationRequired(matched)
        changed = _delete(session, selection, actor_id)
    elif action == BulkAction.ASSIGN_OWNER:
        changed = _assign_owner(session, selection, _owner(value), actor_id)
    else:
        changed = _change_tag(session, selection, _tag(value), add=action == BulkAction.ADD_TAG, actor_id=actor_id)
    # The ORM may hold contacts these statements changed behind its back.
    session.expire_all()
    return BulkResult(action, matched, changed)


def _selection(session: Session, ids, filters, context: FilterContext) -> Select:
    if (ids is None) == (filters is None):
        raise BulkError("Send either “ids” (a list of contact ids) or “filter” (a list view's filter).", "ids")
    if ids is not None:
        if not ids or len(ids) > MAX_IDS:
            raise BulkError(f"Send between 1 and {MAX_IDS} ids; for more, select by filter.", "ids")
        return select(Contact.id).where(Contact.erased_at.is_(None), Contact.id.in_(ids))
    return selected_ids(compile_query(session, ListQuery("contact", filters), context))


def _owner(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise BulkError("“value” is the new owner's user id, or null to remove the owner.", "value")
    return value


def _tag(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BulkError("“value” is the tag, a non-empty text.", "value")
    try:
        (tag,) = clean_tags([value])
    except ValueError as error:
        raise BulkError(str(error), "value") from None
    return tag


def _change(field: str, old, new):
    """The payload of a contact.updated event, as the contacts service writes it."""
    return func.jsonb_build_object("changes", func.jsonb_build_object(
        field, func.jsonb_build_object("from", func.to_jsonb(old), "to", func.to_jsonb(new))))


def _announce(changed, event_type: str, payload, actor_id: int | None):
    """INSERT … SELECT one outbox event per row of the CTE `changed`; returns a CTE counting them."""
    rows = select(literal(event_type, String), literal("contact", String), changed.c.id, payload,
                  literal(actor_id, BigInteger))
    return (
        insert(OutboxEvent)
        .from_select(["type", "object_type", "object_id", "payload", "actor_id"], rows.select_from(changed))
        .returning(OutboxEvent.id)
        .cte("events")
    )


def _count(events, *others) -> Select:
    return select(func.count()).select_from(events).add_cte(*others)


def _assign_owner(session: Session, selection: Select, owner_id: int | None, actor_id: int | None) -> int:
    old = (
        select(Contact.id, Contact.owner_id)
        .where(Contact.id.in_(selection), Contact.owner_id.is_distinct_from(owner_id))
        .with_for_update().subquery("old")
    )
    changed = (
        update(Contact).where(Contact.id == old.c.id)
        .values(owner_id=owner_id, updated_at=func.now())
        .returning(Contact.id, old.c.owner_id.label("before"))
        .cte("changed")
    )
    payload = _change("owner_id", changed.c.before, cast(literal(owner_id, BigInteger), BigInteger))
    return session.scalar(_count(_announce(changed, "contact.updated", payload, actor_id)))


def _change_tag(session: Session, selection: Select, tag: str, *, add: bool, actor_id: int | None) -> int:
    """Tags compare case-insensitively, as in the contacts service: "VIP" removes "vip"."""
    element = func.unnest(Contact.tags).table_valued("tag").render_derived(name="element")
    carries = exists(select(literal(1)).select_from(element)
                     .where(func.lower(element.c.tag) == tag.lower()).correlate(Contact))
    if add:
        condition = and_(not_(carries), func.cardinality(Contact.tags) < MAX_TAGS)
    else:
        condition = carries
    old = (
        select(Contact.id, Contact.tags)
        .where(Contact.id.in_(selection), condition)
        .with_for_update().subquery("old")
    )
    if add:
        new_tags = func.array_append(Contact.tags, cast(literal(tag), String(60)))
    else:
        kept = func.unnest(Contact.tags).table_valued("tag").render_derived(name="kept")
        new_tags = func.coalesce(
            select(func.array_agg(kept.c.tag)).select_from(kept)
            .where(func.lower(kept.c.tag) != tag.lower()).correlate(Contact).scalar_subquery(),
            cast(literal_column("'{}'"), ARRAY(String(60))),
        )
    changed = (
        update(Contact).where(Contact.id == old.c.id)
        .values(tags=new_tags, updated_at=func.now())
        .returning(Contact.id, old.c.tags.label("before"), Contact.tags.label("after"))
        .cte("changed")
    )
    payload = _change("tags", changed.c.before, changed.c.after)
    return session.scalar(_count(_announce(changed, "contact.updated", payload, actor_id)))


def _delete(session: Session, selection: Select, actor_id: int | None) -> int:
    """Delete contacts like `delete_contact` does: links dropped, activities only they had deleted."""
    primary_email = (
        select(ContactEmail.email).where(ContactEmail.contact_id == Contact.id)
        .order_by(ContactEmail.is_primary.desc(), ContactEmail.id).limit(1).correlate(Contact).scalar_subquery()
    )
    name = func.nullif(func.concat_ws(" ", Contact.first_name, Contact.last_name), "")
    doomed = (
        select(Contact.id, name.label("name"), primary_email.label("email"))
        .where(Contact.id.in_(selection)).with_for_update(of=Contact).cte("doomed")
    )
    gone = delete(Contact).where(Contact.id == doomed.c.id).returning(Contact.id).cte("gone")
    gone_ids = select(gone.c.id)
    links = (
        delete(ActivityLink)
        .where(ActivityLink.object_type == "contact", ActivityLink.object_id.in_(gone_ids))
        .returning(ActivityLink.activity_id).cte("links")
    )
    # All parts of one statement see the rows as they were before it, so "linked to
    # nothing else" must leave out the links this statement removes.
    other = ActivityLink.__table__.alias("other")
    orphans = (
        delete(Activity)
        .where(Activity.id.in_(select(links.c.activity_id)),
               ~exists().where(other.c.activity_id == Activity.id,
                               ~and_(other.c.object_type == "contact", other.c.object_id.in_(gone_ids))))
        .returning(Activity.id).cte("orphans")
    )
    task_links = (
        delete(TaskLink).where(TaskLink.object_type == "contact", TaskLink.object_id.in_(gone_ids))
        .returning(TaskLink.task_id).cte("task_links")
    )
    announced = select(doomed.c.id, doomed.c.name, doomed.c.email).join(gone, gone.c.id == doomed.c.id).cte("announced")
    payload = func.jsonb_build_object(
        "name", func.coalesce(announced.c.name, announced.c.email, literal("#") + cast(announced.c.id, String)),
        "email", announced.c.email,
    )
    events = _announce(announced, "contact.deleted", cast(payload, JSONB), actor_id)
    return session.scalar(_count(events, orphans, task_links))

