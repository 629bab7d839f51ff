"""Delivery through the machine's real RabbitMQ and Redis (BROKER_URL), as in production.

Each test run uses its own queue prefix, so runs sharing a broker never take each other's
jobs; the queues are deleted afterwards.
"""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import select

from kundo.crm import create_contact, create_task
from kundo.crm.tasks.models import Task
from kundo.platform.db import db
from kundo.platform.events import Consumer, register_consumer
from kundo.platform.jobs import jobs_of
from kundo.platform.jobs.worker import BackgroundWorker
from kundo.tenants.session import TenantScope, tenant_session
from kundo.testing.fixtures import build_app

BROKERS = {
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672/%2F",
    "redis": "redis://127.0.0.1:6379/0",
}


def drop_queues(kind: str, url: str, names: list[str]) -> None:
    if kind == "rabbitmq":
        import pika

        connection = pika.BlockingConnection(pika.URLParameters(url))
        channel = connection.channel()
        for name in names:
            for suffix in ("", ".DQ", ".XQ"):
                channel.queue_delete(queue=name + suffix)
        connection.close()
    else:
        import redis

        client = redis.Redis.from_url(url)
        keys = [key for name in names for key in client.scan_iter(f"dramatiq:{name}*")]
        if keys:
            client.delete(*keys)


@pytest.fixture(params=sorted(BROKERS))
def broker_app(request, database_url):
    kind = request.param
    prefix = f"kundo-test-{uuid.uuid4().hex[:8]}"
    app = build_app(database_url, broker_url=BROKERS[kind], queue_prefix=prefix)
    yield app
    queues = list(jobs_of(app).broker.get_declared_queues()) if jobs_of(app).started else []
    jobs_of(app).close()
    drop_queues(kind, BROKERS[kind], queues)
    with app.app_context():
        db.engine.dispose()


def test_events_are_delivered_once_through_a_real_broker(broker_app, make_workspace):
    workspace = make_workspace()
    scope = TenantScope(workspace.tenant_id, workspace.slug, workspace.schema_name, workspace.role_name)
    register_consumer(broker_app, Consumer(
        name="test.broker_follow_up", event_types=frozenset({"contact.created"}),
        applies_to=lambda tenant_id: tenant_id == workspace.tenant_id,
        handle=lambda session, event: create_task(session, title=f"Broker follow-up {event.object_id}"),
    ))
    worker = BackgroundWorker(broker_app, threads=2).start()
    try:
        with broker_app.app_context():
            ids = []
            for n in range(20):
                with tenant_session(scope) as session:
                    ids.append(create_contact(session, first_name=f"B{n}", emails=[f"b{n}@example.org"]).id)
        deadline = time.monotonic() + 30
        titles: list[str] = []
        while time.monotonic() < deadline:
            with broker_app.app_context(), tenant_session(scope) as session:
                titles = list(session.scalars(select(Task.title).where(Task.title.startswith("Broker follow-up"))))
            if len(titles) >= len(ids):
                break
            time.sleep(0.2)
    finally:
        worker.stop()
    assert sorted(titles) == sorted(f"Broker follow-up {i}" for i in ids)
