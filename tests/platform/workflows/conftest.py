"""Workflow tests run on an app of their own: they move its clock by weeks."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kundo.platform.db import db
from kundo.tenants.session import TenantScope, tenant_session
from kundo.testing.fixtures import build_app
from kundo.testing.jobs import run_jobs, stop_job_runner

ONBOARDING = {
    "trigger": {"event": "lifecycle_stage.changed",
                "conditions": {"match": "all", "rules": [
                    {"property": "event.to", "operator": "is_any_of", "value": ["customer"]}]}},
    "enrollment": {"mode": "once"},
    "goal": None,
    "steps": [
        {"kind": "action", "action": "send_email",
         "params": {"subject": "Welcome aboard, {{ contact.first_name }}!",
                    "body": "Hello {{ contact.first_name }},\n\nthank you for choosing {{ company.name or 'us' }}."}},
        {"kind": "delay", "mode": "duration", "amount": 3, "unit": "days"},
        {"kind": "action", "action": "create_task",
         "params": {"title": "Check in with {{ contact.first_name }} {{ contact.last_name }}", "task_type": "call",
                    "due_in_days": 1}},
        {"kind": "delay", "mode": "duration", "amount": 11, "unit": "days"},
        {"kind": "action", "action": "send_email",
         "params": {"subject": "How are we doing, {{ contact.first_name }}?",
                    "body": "Two weeks in: tell us in one minute how satisfied you are."}},
    ],
}


@pytest.fixture(scope="module")
def wf_app(database_url):
    app = build_app(database_url)
    yield app
    stop_job_runner(app)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def deliver(wf_app):
    return lambda: run_jobs(wf_app)


def scope(workspace) -> TenantScope:
    return TenantScope(workspace.tenant_id, workspace.slug, workspace.schema_name, workspace.role_name)


class Tenant:
    """A workspace's tenant session on the workflow app, for arranging and asserting."""

    def __init__(self, app, workspace):
        self.app, self.workspace = app, workspace

    def session(self):
        from contextlib import contextmanager

        @contextmanager
        def opened():
            with self.app.app_context(), tenant_session(scope(self.workspace)) as session:
                yield session

        return opened()

    def all(self, query):
        with self.session() as session:
            return list(session.execute(query).all()) if hasattr(query, "selected_columns") and \
                len(query.selected_columns) > 1 else list(session.scalars(query))


@pytest.fixture
def tenant_of(wf_app):
    return lambda workspace: Tenant(wf_app, workspace)


def mails_to(app, address: str) -> list[str]:
    from kundo.platform.mail.models import OutboxMail

    with app.app_context():
        return list(db.session.scalars(select(OutboxMail.subject).where(OutboxMail.recipient == address)
                                       .order_by(OutboxMail.id)))
