"""Deals: create, edit, move through stages, win and lose — the one way every page, API and hook changes a deal.

Each stage change is written to the stage history (time and user), put on the timeline
of the deal and its contacts, announced as an event (deal.stage_changed, and deal.won /
deal.lost when it closes), runs the stage rules of the stage entered (tasks for the deal's
owner), and moves the deal's contacts forward in their lifecycle through `kundo.crm`
(open deal → opportunity, won → customer), so the CRM's lifecycle events fire too.
All of it happens in the caller's transaction: a failed move leaves no trace.

Other parts of the hub (quotes: `mark_deal_won`) call these functions, never the models.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kundo.crm import Company, Contact, LifecycleStage, create_task, log_activity, set_lifecycle_stage
from kundo.platform.clock import now
from kundo.platform.events import emit_event
from kundo_sales.deals.models import Deal, DealContact, DealStatus, ForecastCategory, StageChange
from kundo_sales.errors import SalesNotFound, SalesValidationError
from kundo_sales.pipelines.models import Pipeline, Stage, StageKind, StageRule
from kundo_sales.pipelines.service import get_pipeline, lost_stage, won_stage

__all__ = [
    "create_deal", "delete_deal", "deal_payload", "get_deal", "mark_deal_lost", "mark_deal_won", "move_deal",
    "reopen_deal", "update_deal",
]

MAX_AMOUNT = Decimal("999999999999.99")
MAX_CONTACTS = 50
TEXT_LIMITS = {"name": 200, "next_step": 300, "source": 100, "lost_reason": 2000}
#: Lifecycle stages an open deal moves forward to opportunity; later ones (customer …) stay.
BEFORE_OPPORTUNITY = {None, LifecycleStage.SUBSCRIBER.value, LifecycleStage.LEAD.value, LifecycleStage.MQL.value,
                      LifecycleStage.SQL.value, LifecycleStage.OTHER.value}
CUSTOMER_OR_LATER = {LifecycleStage.CUSTOMER.value, LifecycleStage.EVANGELIST.value}


def get_deal(session: Session, deal_id: int, *, lock: bool = False) -> Deal:
    """The deal, with its contacts; SalesNotFound when this workspace has none with that id."""
    query = select(Deal).where(Deal.id == deal_id).options(selectinload(Deal.contacts))
    if lock:
        query = query.with_for_update(of=Deal).execution_options(populate_existing=True)
    deal = session.scalar(query)
    if deal is None:
        raise SalesNotFound(_("There is no deal with id %(id)s in this workspace.", id=deal_id))
    return deal


# -- field checks --------------------------------------------------------------------------------------------------

def _text(errors, field, value, *, required=False):
    text = " ".join(str(value).split()) if value is not None else ""
    if field == "lost_reason" and value is not None:
        text = str(value).strip()
    if required and not text:
        errors.setdefault(field, []).append(_("Give it a name.") if field == "name" else _("This is required."))
    if len(text) > TEXT_LIMITS[field]:
        errors.setdefault(field, []).append(_("Use at most %(count)s characters.", count=TEXT_LIMITS[field]))
    return text or None


def _amount(errors, value) -> Decimal:
    if value in (None, ""):
        return Decimal("0.00")
    try:
        amount = Decimal(str(value).replace(" ", "")).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        errors.setdefault("amount", []).append(_("Give the amount as a number, e.g. 12500.50."))
        return Decimal("0.00")
    if not Decimal("0") <= amount <= MAX_AMOUNT:
        errors.setdefault("amount", []).append(_("Give an amount from 0 to 999,999,999,999.99."))
    return amount


def _currency(errors, value) -> str:
    code = str(value or "EUR").strip().upper()
    if len(code) != 3 or not code.isalpha():
        errors.setdefault("currency", []).append(_("Use a three-letter currency code such as EUR."))
    return code


def _close_date(errors, value) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors.setdefault("expected_close_date", []).append(_("Give the date as YYYY-MM-DD."))
        return None


def _forecast_category(errors, value) -> str | None:
    if value in (None, ""):
        return None
    if value not in {c.value for c in ForecastCategory}:
        errors.setdefault("forecast_category", []).append(
            _("Use one of: %(values)s.", values=", ".join(c.value for c in ForecastCategory)))
    return value


def _company(session, errors, value) -> int | None:
    if value in (None, ""):
        return None
    company_id = _int(value)
    if company_id is None or session.get(Company, company_id) is None:
        errors.setdefault("company_id", []).append(_("There is no company with id %(id)s in this workspace.",
                                                     id=value))
        return None
    return company_id


def _contacts(session, errors, values) -> list[int]:
    ids = []
    for value in values or ():
        number = _int(value)
        if number is None:
            errors.setdefault("contact_ids", []).append(_("“%(id)s” is not an id.", id=value))
            continue
        if number not in ids:
            ids.append(number)
    if len(ids) > MAX_CONTACTS:
        errors.setdefault("contact_ids", []).append(_("Link at most %(count)s contacts.", count=MAX_CONTACTS))
        return ids
    if ids:
        found = set(session.scalars(select(Contact.id).where(Contact.id.in_(ids), Contact.erased_at.is_(None))))
        for missing in [i for i in ids if i not in found]:
            errors.setdefault("contact_ids", []).append(
                _("There is no contact with id %(id)s in this workspace.", id=missing))
    return ids


def _int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= 2**63 - 1 else None


def _stage_of(session: Session, pipeline: Pipeline, stage_id) -> Stage:
    number = _int(stage_id)
    stage = next((s for s in pipeline.stages if s.id == number), None)
    if stage is None:
        raise SalesValidationError({"stage_id": [_("Choose a stage of the pipeline “%(name)s”.",
                                                   name=pipeline.name)]})
    return stage


# -- create and edit ------------------------------------------------------------------------------------------------

def create_deal(session: Session, *, name: str, pipeline_id: int, stage_id: int | None = None, amount=None,
                currency: str = "EUR", owner_id: int | None = None, company_id=None,
                contact_ids: Iterable = (), expected_close_date=None, source: str | None = None,
                next_step: str | None = None, lost_reason: str | None = None, forecast_category=None,
                actor_id: int | None = None) -> Deal:
    """A new deal in `stage_id` (default: the pipeline's first stage); emits deal.created.

    `owner_id` must be a member of the workspace (the caller checks it).
    :raises SalesValidationError: naming the fields to fix.
    """
    try:
        pipeline = get_pipeline(session, _int(pipeline_id) or 0)
    except SalesNotFound as error:
        raise SalesValidationError({"pipeline_id": [str(error)]}) from error
    stage = _stage_of(session, pipeline, stage_id) if stage_id not in (None, "") else pipeline.stages[0]
    errors: dict[str, list[str]] = {}
    deal = Deal(
        name=_text(errors, "name", name, required=True), amount=_amount(errors, amount),
        currency=_currency(errors, currency), pipeline_id=pipeline.id, stage_id=stage.id, owner_id=owner_id,
        company_id=_company(session, errors, company_id), expected_close_date=_close_date(errors, expected_close_date),
        source=_text(errors, "source", source), next_step=_text(errors, "next_step", next_step),
        forecast_category=_forecast_category(errors, forecast_category), created_by=actor_id,
        status=DealStatus.OPEN.value,
    )
    contacts = _contacts(session, errors, contact_ids)
    reason = _text(errors, "lost_reason", lost_reason)
    if stage.kind == StageKind.LOST and not reason:
        errors.setdefault("lost_reason", []).append(_("Say why the deal was lost."))
    if errors:
        raise SalesValidationError(errors)
    moment = now()
    deal.created_at = deal.updated_at = deal.stage_entered_at = moment
    deal.contacts = [DealContact(contact_id=cid, created_at=moment) for cid in contacts]
    session.add(deal)
    session.flush()
    emit_event(session, "deal.created", object_type="deal", object_id=deal.id, actor_id=actor_id,
               payload=deal_payload(deal))
    _enter_stage(session, deal, None, stage, actor_id=actor_id, reason=reason, moment=moment)
    return deal


UPDATABLE = {"name", "amount", "currency", "owner_id", "company_id", "contact_ids", "expected_close_date", "source",
             "next_step", "forecast_category", "lost_reason"}


def update_deal(session: Session, deal: Deal | int, changes: dict, *, actor_id: int | None = None) -> Deal:
    """Change the given fields; `stage_id` (and `pipeline_id`) in `changes` move the deal via `move_deal`."""
    deal = deal if isinstance(deal, Deal) else get_deal(session, deal)
    unknown = set(changes) - UPDATABLE - {"stage_id", "pipeline_id"}
    if unknown:
        raise TypeError(f"update_deal() cannot change: {', '.join(sorted(unknown))}")
    errors: dict[str, list[str]] = {}
    values = {}
    if "name" in changes:
        values["name"] = _text(errors, "name", changes["name"], required=True)
    if "amount" in changes:
        values["amount"] = _amount(errors, changes["amount"])
    if "currency" in changes:
        values["currency"] = _currency(errors, changes["currency"])
    if "owner_id" in changes:
        values["owner_id"] = changes["owner_id"]
    if "company_id" in changes:
        values["company_id"] = _company(session, errors, changes["company_id"])
    if "expected_close_date" in changes:
        values["expected_close_date"] = _close_date(errors, changes["expected_close_date"])
    for field in ("source", "next_step"):
        if field in changes:
            values[field] = _text(errors, field, changes[field])
    if "forecast_category" in changes:
        values["forecast_category"] = _forecast_category(errors, changes["forecast_category"])
    if "lost_reason" in changes and deal.status == DealStatus.LOST and "stage_id" not in changes:
        values["lost_reason"] = _text(errors, "lost_reason", changes["lost_reason"])
        if not values["lost_reason"]:
            errors.setdefault("lost_reason", []).append(_("Say why the deal was lost."))
    contacts = _contacts(session, errors, changes["contact_ids"]) if "contact_ids" in changes else None
    if errors:
        raise SalesValidationError(errors)
    before = deal_payload(deal)
    for key, value in values.items():
        setattr(deal, key, value)
    new_contacts = []
    if contacts is not None:
        kept = {link.contact_id: link for link in deal.contacts}
        new_contacts = [cid for cid in contacts if cid not in kept]
        deal.contacts = [kept.get(cid) or DealContact(contact_id=cid, created_at=now()) for cid in contacts]
    if "stage_id" in changes or "pipeline_id" in changes:
        move_deal(session, deal, changes.get("stage_id"), pipeline_id=changes.get("pipeline_id"),
                  user_id=actor_id, lost_reason=changes.get("lost_reason"))
    session.flush()
    after = deal_payload(deal)
    changed = {key: [before[key], after[key]] for key in after if before.get(key) != after[key]
               and key not in ("stage_id", "pipeline_id", "status", "updated_at", "closed_at", "lost_reason")}
    if changed or new_contacts:
        deal.updated_at = now()
        emit_event(session, "deal.updated", object_type="deal", object_id=deal.id, actor_id=actor_id,
                   payload={**after, "changes": changed})
    if new_contacts and deal.status == DealStatus.OPEN:
        _advance_lifecycle(session, new_contacts, LifecycleStage.OPPORTUNITY.value, actor_id)
    elif new_contacts and deal.status == DealStatus.WON:
        _advance_lifecycle(session, new_contacts, LifecycleStage.CUSTOMER.value, actor_id)
    return deal


def delete_deal(session: Session, deal: Deal | int, *, actor_id: int | None = None) -> None:
    deal = deal if isinstance(deal, Deal) else get_deal(session, deal)
    payload = deal_payload(deal)
    session.delete(deal)
    session.flush()
    emit_event(session, "deal.deleted", object_type="deal", object_id=payload["id"], actor_id=actor_id,
               payload=payload)


# -- stage changes ---------------------------------------------------------------------------------------------------

def move_deal(session: Session, deal: Deal | int, stage_id, *, pipeline_id=None, user_id: int | None = None,
              lost_reason: str | None = None) -> Deal:
    """Move the deal to `stage_id` (of `pipeline_id`, default its own pipeline). Moving to the stage it is in
    does nothing. Entering a lost stage needs `lost_reason`.

    :raises SalesValidationError: an unknown stage, or a lost stage without reason.
    """
    deal = deal if isinstance(deal, Deal) else get_deal(session, deal)
    target_pipeline_id = _int(pipeline_id) if pipeline_id not in (None, "") else deal.pipeline_id
    try:
        pipeline = get_pipeline(session, target_pipeline_id or 0)
    except SalesNotFound as error:
        raise SalesValidationError({"pipeline_id": [str(error)]}) from error
    if stage_id in (None, ""):
        if pipeline.id == deal.pipeline_id:
            return deal
        stage = pipeline.stages[0]
    else:
        stage = _stage_of(session, pipeline, stage_id)
    if stage.id == deal.stage_id:
        return deal
    errors: dict[str, list[str]] = {}
    reason = _text(errors, "lost_reason", lost_reason)
    if stage.kind == StageKind.LOST and not reason:
        errors.setdefault("lost_reason", []).append(_("Say why the deal was lost."))
    if errors:
        raise SalesValidationError(errors)
    previous = session.get(Stage, deal.stage_id)
    deal.pipeline_id = pipeline.id
    _enter_stage(session, deal, previous, stage, actor_id=user_id, reason=reason, moment=now())
    return deal


def mark_deal_won(session: Session, deal_id: int, *, user_id: int | None = None,
                  reason: str = "quote accepted") -> Deal:
    """Move the deal to its pipeline's won stage (e.g. when the buyer accepted a quote). Already won: unchanged."""
    deal = get_deal(session, deal_id, lock=True)
    if deal.status == DealStatus.WON:
        return deal
    pipeline = get_pipeline(session, deal.pipeline_id)
    return _move_to(session, deal, won_stage(pipeline), user_id=user_id, reason=reason)


def mark_deal_lost(session: Session, deal_id: int, *, reason: str, user_id: int | None = None) -> Deal:
    """Move the deal to its pipeline's lost stage; `reason` is required."""
    deal = get_deal(session, deal_id, lock=True)
    pipeline = get_pipeline(session, deal.pipeline_id)
    return move_deal(session, deal, lost_stage(pipeline).id, user_id=user_id, lost_reason=reason)


def reopen_deal(session: Session, deal_id: int, *, user_id: int | None = None) -> Deal:
    """A closed deal back to the last open stage of its pipeline."""
    deal = get_deal(session, deal_id, lock=True)
    if deal.status == DealStatus.OPEN:
        return deal
    pipeline = get_pipeline(session, deal.pipeline_id)
    last_open = [s for s in pipeline.stages if s.kind == StageKind.OPEN][-1]
    return move_deal(session, deal, last_open.id, user_id=user_id)


def _move_to(session, deal, stage, *, user_id, reason):
    previous = session.get(Stage, deal.stage_id)
    _enter_stage(session, deal, previous, stage, actor_id=user_id, reason=reason, moment=now())
    return deal


def _enter_stage(session: Session, deal: Deal, previous: Stage | None, stage: Stage, *, actor_id, reason, moment):
    """Everything entering a stage means; see the module docstring."""
    was = deal.status
    deal.stage_id = stage.id
    deal.stage_entered_at = moment
    deal.updated_at = moment
    deal.status = {StageKind.WON: DealStatus.WON, StageKind.LOST: DealStatus.LOST}.get(
        StageKind(stage.kind), DealStatus.OPEN).value
    if deal.status == DealStatus.OPEN:
        deal.closed_at = None
        deal.lost_reason = None
    elif was != deal.status or deal.closed_at is None:
        deal.closed_at = moment
    if deal.status == DealStatus.LOST:
        deal.lost_reason = reason
    session.add(StageChange(deal_id=deal.id, pipeline_id=deal.pipeline_id, from_stage_id=previous.id if previous
                            else None, to_stage_id=stage.id, changed_by=actor_id, changed_at=moment))
    session.flush()
    links = [("deal", deal.id), *(("contact", cid) for cid in deal.contact_ids)]
    if deal.company_id:
        links.append(("company", deal.company_id))
    if previous is not None:
        log_activity(session, "system", links=links, actor_id=actor_id, occurred_at=moment, source="sales",
                     subject=_("Deal “%(deal)s” moved to %(stage)s", deal=deal.name, stage=stage.name),
                     body=reason if deal.status != DealStatus.OPEN else None,
                     payload={"kind": "deal_stage", "deal_id": deal.id, "from_stage_id": previous.id,
                              "to_stage_id": stage.id, "status": deal.status})
    else:
        log_activity(session, "system", links=links, actor_id=actor_id, occurred_at=moment, source="sales",
                     subject=_("Deal “%(deal)s” created in %(stage)s", deal=deal.name, stage=stage.name),
                     payload={"kind": "deal_created", "deal_id": deal.id, "to_stage_id": stage.id})
    payload = {**deal_payload(deal), "from_stage_id": previous.id if previous else None,
               "to_stage_id": stage.id, "stage_name": stage.name}
    if previous is not None:
        emit_event(session, "deal.stage_changed", object_type="deal", object_id=deal.id, actor_id=actor_id,
                   payload=payload)
    if deal.status == DealStatus.WON and was != DealStatus.WON:
        emit_event(session, "deal.won", object_type="deal", object_id=deal.id, actor_id=actor_id,
                   payload={**payload, "reason": reason})
    if deal.status == DealStatus.LOST and was != DealStatus.LOST:
        emit_event(session, "deal.lost", object_type="deal", object_id=deal.id, actor_id=actor_id,
                   payload={**payload, "reason": reason})
    _run_stage_rules(session, deal, stage, actor_id=actor_id, moment=moment)
    if deal.status == DealStatus.WON:
        _advance_lifecycle(session, deal.contact_ids, LifecycleStage.CUSTOMER.value, actor_id)
    elif deal.status == DealStatus.OPEN:
        _advance_lifecycle(session, deal.contact_ids, LifecycleStage.OPPORTUNITY.value, actor_id)


def _run_stage_rules(session: Session, deal: Deal, stage: Stage, *, actor_id, moment) -> None:
    rules = session.scalars(select(StageRule).where(StageRule.stage_id == stage.id).order_by(StageRule.id)).all()
    links = [("deal", deal.id), *(("contact", cid) for cid in deal.contact_ids)]
    for rule in rules:
        create_task(session, title=rule.title, type=rule.task_type, owner_id=deal.owner_id,
                    due_at=moment + timedelta(days=rule.due_in_days), links=links, created_by=actor_id,
                    notes=_("Created by the stage rule of “%(stage)s” for the deal “%(deal)s”.",
                            stage=stage.name, deal=deal.name))


def _advance_lifecycle(session: Session, contact_ids: list[int], target: str, actor_id) -> None:
    """Move contacts forward only: an opportunity never falls back to lead, a customer never to opportunity."""
    if not contact_ids:
        return
    rows = session.execute(select(Contact.id, Contact.lifecycle_stage).where(
        Contact.id.in_(contact_ids), Contact.erased_at.is_(None))).all()
    for contact_id, current in rows:
        if target == LifecycleStage.OPPORTUNITY.value and current not in BEFORE_OPPORTUNITY:
            continue
        if target == LifecycleStage.CUSTOMER.value and current in CUSTOMER_OR_LATER:
            continue
        set_lifecycle_stage(session, contact_id, target, actor_id=actor_id)


def deal_payload(deal: Deal) -> dict:
    """The deal as plain JSON data: event payloads and workflow conditions read it."""
    return {
        "id": deal.id, "name": deal.name, "amount": str(deal.amount if deal.amount is not None else "0.00"),
        "currency": deal.currency, "pipeline_id": deal.pipeline_id, "stage_id": deal.stage_id,
        "owner_id": deal.owner_id, "company_id": deal.company_id, "contact_ids": deal.contact_ids,
        "expected_close_date": deal.expected_close_date.isoformat() if deal.expected_close_date else None,
        "status": deal.status, "lost_reason": deal.lost_reason, "next_step": deal.next_step, "source": deal.source,
        "forecast_category": deal.forecast_category,
        "closed_at": deal.closed_at.isoformat() if deal.closed_at else None,
    }
