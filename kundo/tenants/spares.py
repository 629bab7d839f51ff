"""Spare tenant schemas, made ahead of sign-ups.

Creating a tenant's tables is most of a sign-up's time: tens of milliseconds of DDL,
more under load. A spare is a complete tenant schema — role, tables, version stamp —
made before anyone asks. A sign-up claims one with a single DELETE ... RETURNING in
the same transaction that writes the tenant row, so a failed sign-up hands the spare
back by rolling back, and two sign-ups never get the same spare (SKIP LOCKED).

Only spares stamped at the running code's head revision are claimed; `kundo db upgrade`
replaces older ones. With no spare at hand, provisioning builds the schema itself.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, String, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from kundo.platform.db import db


class SpareSchema(db.Model):
    __tablename__ = "spare_schemas"

    #: Reserved from the tenants' id sequence: the claiming tenant gets this id.
    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    schema_name: Mapped[str] = mapped_column(String(63), unique=True)
    role_name: Mapped[str] = mapped_column(String(63), unique=True)
    revision: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


_CLAIM = text("""
    DELETE FROM control.spare_schemas WHERE tenant_id = (
        SELECT tenant_id FROM control.spare_schemas WHERE revision = :revision
        ORDER BY tenant_id LIMIT 1 FOR UPDATE SKIP LOCKED
    ) RETURNING tenant_id, schema_name, role_name
""")


def claim_spare(session: Session, revision: str) -> tuple[int, str, str] | None:
    """(tenant_id, schema, role) of a spare at `revision`, removed from the pool; or None."""
    row = session.execute(_CLAIM, {"revision": revision}).first()
    return tuple(row) if row else None


def spare_counts(session: Session) -> dict[str, int]:
    """Spares per revision."""
    return dict(session.execute(
        select(SpareSchema.revision, func.count()).group_by(SpareSchema.revision)
    ).all())


def stale_spares(session: Session, head: str) -> list[SpareSchema]:
    """Spares stamped at another revision than `head`, locked so no sign-up claims them meanwhile."""
    return list(session.scalars(
        select(SpareSchema).where(SpareSchema.revision != head).with_for_update(skip_locked=True)))


def all_spares(session: Session) -> list[SpareSchema]:
    return list(session.scalars(select(SpareSchema).with_for_update(skip_locked=True)))
