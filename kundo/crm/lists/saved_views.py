"""Saved views: a named filter, sort and set of columns for a contact or company list.

A personal view is visible to its owner only; a shared one to the whole workspace.
Only the owner changes or deletes a view, except that workspace admins may tidy up
shared ones. Definitions are checked with the same compiler the lists use, so a
view that saves also runs.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kundo.crm.lists.export import default_columns, export_columns
from kundo.crm.lists.fields import OBJECT_TYPES
from kundo.crm.lists.filters import FilterContext
from kundo.crm.lists.models import SavedView
from kundo.crm.lists.service import ListQuery, ListQueryError, compile_query


class SavedViewError(ValueError):
    """A view definition that cannot be saved; `field` names the request field to fix."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


class SavedViewNotFound(LookupError):
    """No view with this id that the user may see."""


class SavedViewForbidden(PermissionError):
    """The user may see the view but not change it."""


def _visible_to(user_id: int):
    return or_(SavedView.shared.is_(True), SavedView.owner_id == user_id)


def list_views(session: Session, user_id: int, object_type: str | None = None) -> list[SavedView]:
    """The user's own views and the shared ones, by name."""
    query = select(SavedView).where(_visible_to(user_id)).order_by(SavedView.name, SavedView.id)
    if object_type:
        query = query.where(SavedView.object_type == object_type)
    return list(session.scalars(query))


def get_view(session: Session, view_id: int, user_id: int) -> SavedView:
    view = session.scalar(select(SavedView).where(SavedView.id == view_id, _visible_to(user_id)))
    if view is None:
        raise SavedViewNotFound(f"There is no view with id {view_id} that you can see.")
    return view


def _checked_definition(session: Session, object_type: str, filters, sort, columns, user_id: int) -> dict:
    query = ListQuery(object_type, filters, sort)
    try:
        compiled = compile_query(session, query, FilterContext(user_id=user_id))
    except ListQueryError as error:
        raise SavedViewError(str(error), "filters" if error.field == "filter" else error.field) from None
    if columns is not None:
        try:
            export_columns(compiled.catalog, columns)
        except ValueError as error:
            raise SavedViewError(str(error), "columns") from None
    return {
        "filters": filters or [],
        "sort": compiled.sort.text,
        "columns": list(columns) if columns is not None else default_columns(object_type),
    }


def create_view(session: Session, *, object_type: str, name: str, owner_id: int, filters=None, sort=None,
                columns=None, shared: bool = False) -> SavedView:
    """Save a view for `owner_id`; raises SavedViewError naming the bad part."""
    if object_type not in OBJECT_TYPES:
        raise SavedViewError(f"Use one of: {', '.join(OBJECT_TYPES)}.", "object_type")
    name = (name or "").strip()
    if not name:
        raise SavedViewError("Give the view a name.", "name")
    definition = _checked_definition(session, object_type, filters, sort, columns, owner_id)
    view = SavedView(object_type=object_type, name=name, owner_id=owner_id, shared=bool(shared),
                     definition=definition)
    session.add(view)
    session.flush()
    return view


def _ensure_may_change(view: SavedView, user_id: int, is_admin: bool) -> None:
    if view.owner_id != user_id and not (is_admin and view.shared):
        raise SavedViewForbidden("Only the view's owner can change it (admins may change shared views).")


def update_view(session: Session, view_id: int, *, user_id: int, is_admin: bool = False, **changes) -> SavedView:
    """Change name, shared, filters, sort or columns; an omitted key keeps its value."""
    view = get_view(session, view_id, user_id)
    _ensure_may_change(view, user_id, is_admin)
    if "name" in changes:
        name = (changes["name"] or "").strip()
        if not name:
            raise SavedViewError("Give the view a name.", "name")
        view.name = name
    if "shared" in changes:
        view.shared = bool(changes["shared"])
    current = view.definition or {}
    if {"filters", "sort", "columns"} & set(changes):
        view.definition = _checked_definition(
            session, view.object_type, changes.get("filters", current.get("filters")),
            changes.get("sort", current.get("sort")), changes.get("columns", current.get("columns")), user_id,
        )
    session.flush()
    return view


def delete_view(session: Session, view_id: int, *, user_id: int, is_admin: bool = False) -> None:
    view = get_view(session, view_id, user_id)
    _ensure_may_change(view, user_id, is_admin)
    session.delete(view)
    session.flush()


def view_query(session: Session, view_id: int, user_id: int, object_type: str, *, filters=None,
               sort: str | None = None) -> tuple[ListQuery, SavedView]:
    """The list query of a view, with extra `filters` and-ed to its own and `sort` replacing its sort."""
    view = get_view(session, view_id, user_id)
    if view.object_type != object_type:
        raise SavedViewNotFound(f"View {view_id} lists {view.object_type} records, not {object_type} records.")
    definition = view.definition or {}
    combined = [*(definition.get("filters") or []), *(filters or [])]
    return ListQuery(object_type, combined, sort or definition.get("sort"), tuple(definition.get("columns") or ())
                     or None), view

