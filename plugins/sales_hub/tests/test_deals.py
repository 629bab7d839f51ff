"""Deals through the service: pipelines and stages, stage history, lost reason, lifecycle, events, stage rules."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from kundo_sales.deals import service
from kundo_sales.deals.models import Deal, StageChange
from kundo_sales.errors import SalesValidationError
from kundo_sales.pipelines import service as pipelines
from kundo_sales.pipelines.models import Pipeline
from sqlalchemy import select

from kundo.crm import Contact, tasks_for
from kundo.platform.events import OutboxEvent


def _default(session, locale="en"):
    pipelines.ensure_default_pipeline(session, locale)
    return session.scalars(select(Pipeline).order_by(Pipeline.id)).first()


def test_default_pipeline_is_made_once_in_the_workspace_language(sales_workspace):
    german = sales_workspace("de")
    with german.session() as session:
        first = pipelines.ensure_default_pipeline(session, "de")
        assert pipelines.ensure_default_pipeline(session, "de") is None, "idempotent"
        assert [(s.name, s.probability, s.kind) for s in first.stages] == [
            ("Qualifiziert", 10, "open"), ("Termin vereinbart", 20, "open"), ("Angebot", 50, "open"),
            ("Verhandlung", 75, "open"), ("Gewonnen", 100, "won"), ("Verloren", 0, "lost")]
    english = sales_workspace("en")
    with english.session() as session:
        stages = [s.name for s in _default(session).stages]
    assert stages == ["Qualified", "Appointment scheduled", "Proposal", "Negotiation", "Won", "Lost"]


def test_stages_are_editable_but_won_and_lost_stay_fixed(sales_workspace):
    ws = sales_workspace()
    with ws.session() as session:
        pipeline = pipelines.create_pipeline(session, "Partners", stages=[{"name": "Intro", "probability": 10}])
        assert [s.kind for s in pipeline.stages] == ["open", "won", "lost"]
        demo = pipelines.add_stage(session, pipeline, name="Demo", probability=40, rotting_days=7)
        assert [s.name for s in pipeline.stages] == ["Intro", "Demo", "Won", "Lost"]
        pipelines.update_stage(session, demo, {"name": "Live demo", "probability": "45", "rotting_days": ""})
        assert (demo.name, demo.probability, demo.rotting_days) == ("Live demo", 45, None)
        intro = pipeline.stages[0]
        pipelines.reorder_stages(session, pipeline, [demo.id, intro.id])
        session.expire(pipeline)
        assert [s.name for s in pipeline.stages] == ["Live demo", "Intro", "Won", "Lost"]
        won = pipelines.won_stage(pipeline)
        with pytest.raises(SalesValidationError) as refused:
            pipelines.update_stage(session, won, {"probability": 50})
        assert "probability" in refused.value.errors
        with pytest.raises(SalesValidationError):
            pipelines.delete_stage(session, won)
        with pytest.raises(SalesValidationError) as refused:
            pipelines.update_stage(session, demo, {"probability": 101})
        assert "probability" in refused.value.errors
        with pytest.raises(SalesValidationError):
            pipelines.reorder_stages(session, pipeline, [demo.id])
        with pytest.raises(SalesValidationError):
            pipelines.create_pipeline(session, "partners")


def test_deal_lifecycle_records_history_events_and_contact_stages(sales_workspace):
    ws = sales_workspace()
    owner = ws.workspace.owner_id
    with ws.session() as session:
        pipeline = _default(session)
        lead = Contact(first_name="Lena", lifecycle_stage="lead")
        customer = Contact(first_name="Carl", lifecycle_stage="customer")
        session.add_all([lead, customer])
        session.flush()
        deal = service.create_deal(session, name="Müller GmbH", pipeline_id=pipeline.id, amount="12500.50",
                                   owner_id=owner, contact_ids=[lead.id, customer.id], actor_id=owner)
        assert (deal.status, deal.stage_id, deal.amount, deal.currency) == (
            "open", pipeline.stages[0].id, Decimal("12500.50"), "EUR")
        session.flush()
        session.refresh(lead)
        session.refresh(customer)
        assert lead.lifecycle_stage == "opportunity"
        assert customer.lifecycle_stage == "customer", "never moved backwards"
        service.move_deal(session, deal, pipeline.stages[2].id, user_id=owner)
        won = service.mark_deal_won(session, deal.id, user_id=owner)
        assert won.status == "won" and won.closed_at is not None
        assert service.mark_deal_won(session, deal.id).status == "won", "winning twice changes nothing"
        session.refresh(lead)
        assert lead.lifecycle_stage == "customer"
        history = session.scalars(select(StageChange).where(StageChange.deal_id == deal.id)
                                  .order_by(StageChange.id)).all()
        assert [(h.from_stage_id, h.to_stage_id, h.changed_by) for h in history] == [
            (None, pipeline.stages[0].id, owner), (pipeline.stages[0].id, pipeline.stages[2].id, owner),
            (pipeline.stages[2].id, pipeline.stages[4].id, owner)]
        types = session.scalars(select(OutboxEvent.type).where(OutboxEvent.object_type == "deal",
                                                               OutboxEvent.object_id == deal.id)
                                .order_by(OutboxEvent.id)).all()
        assert types == ["deal.created", "deal.stage_changed", "deal.stage_changed", "deal.won"]
        lifecycle = session.scalars(select(OutboxEvent.payload).where(
            OutboxEvent.type == "lifecycle_stage.changed", OutboxEvent.object_id == lead.id)
            .order_by(OutboxEvent.id)).all()
        assert [(p["from"], p["to"]) for p in lifecycle] == [("lead", "opportunity"), ("opportunity", "customer")]
        assert not session.scalars(select(OutboxEvent).where(
            OutboxEvent.type == "lifecycle_stage.changed", OutboxEvent.object_id == customer.id)).all()


def test_lost_needs_a_reason_and_reopening_clears_it(sales_workspace):
    ws = sales_workspace()
    with ws.session() as session:
        pipeline = _default(session)
        deal = service.create_deal(session, name="Lost one", pipeline_id=pipeline.id)
        lost = pipelines.lost_stage(pipeline)
        with pytest.raises(SalesValidationError) as refused:
            service.move_deal(session, deal, lost.id)
        assert "lost_reason" in refused.value.errors
        with pytest.raises(SalesValidationError):
            service.mark_deal_lost(session, deal.id, reason="   ")
        service.mark_deal_lost(session, deal.id, reason="Too expensive")
        assert (deal.status, deal.lost_reason) == ("lost", "Too expensive")
        event = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "deal.lost")).one()
        assert event.payload["reason"] == "Too expensive"
        service.reopen_deal(session, deal.id)
        assert (deal.status, deal.lost_reason, deal.closed_at) == ("open", None, None)
        with pytest.raises(SalesValidationError) as refused:
            service.create_deal(session, name="", pipeline_id=pipeline.id, amount="-5", currency="EURO",
                                expected_close_date="31.12.2025", stage_id=999999)
        assert "stage_id" in refused.value.errors


def test_invalid_fields_are_named(sales_workspace):
    ws = sales_workspace()
    with ws.session() as session:
        pipeline = _default(session)
        with pytest.raises(SalesValidationError) as refused:
            service.create_deal(session, name="", pipeline_id=pipeline.id, amount="-5", currency="EURO",
                                expected_close_date="31.12.2025", contact_ids=[987654], company_id=987654)
        assert set(refused.value.errors) == {"name", "amount", "currency", "expected_close_date", "contact_ids",
                                             "company_id"}


def test_stage_rules_create_tasks_for_the_owner(sales_workspace):
    ws = sales_workspace()
    owner = ws.workspace.owner_id
    with ws.session() as session:
        pipeline = _default(session)
        meeting = pipeline.stages[1]
        pipelines.create_rule(session, pipeline, stage_id=meeting.id, title="Follow-up call", task_type="call",
                              due_in_days=2)
        with pytest.raises(SalesValidationError) as refused:
            pipelines.create_rule(session, pipeline, stage_id=meeting.id, title="", task_type="fax", due_in_days=-1)
        assert set(refused.value.errors) == {"title", "task_type", "due_in_days"}
        contact = Contact(first_name="Ina")
        session.add(contact)
        session.flush()
        deal = service.create_deal(session, name="Rules", pipeline_id=pipeline.id, owner_id=owner,
                                   contact_ids=[contact.id])
        assert tasks_for(session, "deal", deal.id) == []
        service.move_deal(session, deal, meeting.id, user_id=owner)
        tasks = tasks_for(session, "deal", deal.id)
        assert [(t.title, t.type, t.owner_id) for t in tasks] == [("Follow-up call", "call", owner)]
        assert tasks[0].due_at - deal.stage_entered_at == timedelta(days=2)
        assert [t.title for t in tasks_for(session, "contact", contact.id)] == ["Follow-up call"]


def test_tables_are_per_workspace(sales_workspace):
    one, two = sales_workspace(), sales_workspace()
    with one.session() as session:
        service.create_deal(session, name="Only here", pipeline_id=_default(session).id)
    with two.session() as session:
        _default(session)
        assert session.scalars(select(Deal)).all() == []
