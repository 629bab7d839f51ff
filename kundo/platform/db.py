"""The two metadata trees and the Flask-SQLAlchemy handle for the control plane.

Control-plane models live in schema `control`. Tenant models are declared against the
placeholder schema `tenant`; `kundo.tenants.session.tenant_session` maps it to the real
`t_<id>` schema with `schema_translate_map`, so the same model serves every tenant.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

CONTROL_SCHEMA = "control"
TENANT_SCHEMA_PLACEHOLDER = "tenant"

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class ControlModel(DeclarativeBase):
    metadata = MetaData(schema=CONTROL_SCHEMA, naming_convention=NAMING_CONVENTION)


class TenantModel(DeclarativeBase):
    """Base of every table that exists once per tenant schema."""

    metadata = MetaData(schema=TENANT_SCHEMA_PLACEHOLDER, naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=ControlModel)


def utcnow() -> datetime:
    return datetime.now(UTC)


def limit_connection_uses(engine: Engine, max_uses: int) -> None:
    """Recycle a pooled connection after `max_uses` checkouts.

    Why: a PostgreSQL backend caches catalog entries for every relation it touches.
    A worker that walks thousands of tenant schemas would otherwise grow each backend
    without bound; recycling keeps backend memory flat (measured in bench/tenancy.py).
    """
    if max_uses <= 0:
        return

    @event.listens_for(engine, "checkout")
    def _recycle_when_worn(dbapi_conn, record, proxy):  # noqa: ARG001 - SQLAlchemy signature
        uses = record.info.get("kundo_uses", 0) + 1
        if uses > max_uses:
            record.info["kundo_uses"] = 0
            # The documented way to make the pool replace a connection on checkout.
            raise exc.DisconnectionError("connection reached KUNDO_DB_CONN_MAX_USES")
        record.info["kundo_uses"] = uses


def violates_unique(error: exc.IntegrityError, constraint: str) -> bool:
    """Whether `error` is PostgreSQL refusing a duplicate in the unique index `constraint`.

    The up-front "is it taken?" checks cannot see a concurrent transaction; the index
    can, and this tells a refusal worth explaining from a bug worth a 500.
    """
    diag = getattr(error.orig, "diag", None)
    return getattr(error.orig, "sqlstate", None) == "23505" and getattr(diag, "constraint_name", None) == constraint
