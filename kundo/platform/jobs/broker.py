"""Building the dramatiq broker that `BROKER_URL` names.

Empty `BROKER_URL`: dramatiq-postgres in schema `kundo_jobs` of Kundo's own database —
a message is a row, a worker killed mid-job loses its claim once its heartbeat lapses and
the job runs again (consumers are idempotent). `amqp://` and `redis://` select dramatiq's
RabbitMQ and Redis brokers. Every broker gets the same retry policy and the dead-letter
recorder, so what admins see does not depend on the broker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dramatiq
from dramatiq.middleware import Retries

from kundo.platform.config import libpq_url
from kundo.platform.jobs.deadletters import DeadLetterRecorder

if TYPE_CHECKING:
    from flask import Flask

    from kundo.platform.config import Settings

JOBS_SCHEMA = "kundo_jobs"


def build_broker(app: Flask, settings: Settings) -> dramatiq.Broker:
    url = settings.broker_url
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker: dramatiq.Broker = RabbitmqBroker(url=url)
    elif url.startswith(("redis://", "rediss://")):
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=url)
    else:
        from dramatiq_postgres import PostgresBroker

        broker = PostgresBroker(
            url=libpq_url(settings.database_url, application_name="kundo-jobs", maxconn="8"),
            schema=JOBS_SCHEMA, results=False,
            heartbeat_interval=max(1.0, settings.worker_heartbeat_ttl / 4),
            heartbeat_ttl=settings.worker_heartbeat_ttl,
            maintenance_interval=max(1.0, settings.worker_heartbeat_ttl / 2),
            poll_interval=0.5,
        )
    for middleware in broker.middleware:
        if isinstance(middleware, Retries):
            middleware.max_retries = settings.job_max_retries
            middleware.min_backoff = settings.job_min_backoff_ms
            middleware.max_backoff = settings.job_max_backoff_ms
    broker.add_middleware(DeadLetterRecorder(app))
    return broker


def broker_kind(settings: Settings) -> str:
    if settings.broker_url.startswith("amqp"):
        return "rabbitmq"
    if settings.broker_url.startswith("redis"):
        return "redis"
    return "postgres"
