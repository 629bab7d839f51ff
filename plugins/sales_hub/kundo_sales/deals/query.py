"""Deal filters shared by the board, the list and the API: owner, close date, amount, status, stage, text."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select

from kundo_sales.deals.models import Deal
from kundo_sales.errors import SalesValidationError

STATUSES = ("open", "won", "lost")


@dataclass
class DealFilters:
    pipeline_id: int | None = None
    stage_id: int | None = None
    owner_id: int | None = None
    status: str | None = None
    close_from: date | None = None
    close_to: date | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    q: str | None = None

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) not in (None, "") for f in fields(self)
                   if f.name not in ("pipeline_id", "status"))

    def as_args(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) not in (None, "")}


def parse_filters(args, *, me: int | None = None) -> DealFilters:
    """Filters from query arguments; a malformed one raises SalesValidationError naming it."""
    errors: dict[str, list[str]] = {}
    found = DealFilters()
    for key in ("pipeline_id", "stage_id"):
        raw = (args.get(key) or args.get(key.removesuffix("_id")) or "").strip()
        if raw:
            if raw.isdigit() and 0 < int(raw) < 2**63:
                setattr(found, key, int(raw))
            else:
                errors[key] = [_("“%(id)s” is not an id.", id=raw)]
    owner = (args.get("owner_id") or args.get("owner") or "").strip()
    if owner == "me" and me is not None:
        found.owner_id = me
    elif owner:
        if owner.isdigit():
            found.owner_id = int(owner)
        else:
            errors["owner_id"] = [_("“%(id)s” is not an id.", id=owner)]
    status = (args.get("status") or "").strip()
    if status:
        if status in STATUSES:
            found.status = status
        else:
            errors["status"] = [_("Use one of: %(values)s.", values=", ".join(STATUSES))]
    for key in ("close_from", "close_to"):
        raw = (args.get(key) or "").strip()
        if raw:
            try:
                setattr(found, key, date.fromisoformat(raw))
            except ValueError:
                errors[key] = [_("Give the date as YYYY-MM-DD.")]
    for key in ("amount_min", "amount_max"):
        raw = (args.get(key) or "").strip().replace(",", ".")
        if raw:
            try:
                setattr(found, key, Decimal(raw))
            except InvalidOperation:
                errors[key] = [_("Give the amount as a number, e.g. 12500.50.")]
    text = " ".join((args.get("q") or "").split())[:200]
    found.q = text or None
    if errors:
        raise SalesValidationError(errors)
    return found


def apply_filters(query, filters: DealFilters):
    if filters.pipeline_id:
        query = query.where(Deal.pipeline_id == filters.pipeline_id)
    if filters.stage_id:
        query = query.where(Deal.stage_id == filters.stage_id)
    if filters.owner_id:
        query = query.where(Deal.owner_id == filters.owner_id)
    if filters.status:
        query = query.where(Deal.status == filters.status)
    if filters.close_from:
        query = query.where(Deal.expected_close_date >= filters.close_from)
    if filters.close_to:
        query = query.where(Deal.expected_close_date <= filters.close_to)
    if filters.amount_min is not None:
        query = query.where(Deal.amount >= filters.amount_min)
    if filters.amount_max is not None:
        query = query.where(Deal.amount <= filters.amount_max)
    if filters.q:
        escaped = filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Deal.name.ilike(f"%{escaped}%"))
    return query


def deals_query(filters: DealFilters):
    return apply_filters(select(Deal), filters)
