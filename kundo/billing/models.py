"""Control-plane records of billing: each workspace's account, its subscriptions, Stripe's events, revenue share.

Stripe is the source of truth for money; these rows are Kundo's copy of what it last
read from Stripe (so pages and the read-only guard need no network call) plus the
durable record of every webhook event, stored once by its id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from kundo.platform.db import db

#: Workspace billing states, from Stripe's subscription states plus Kundo's own two.
FREE = "free"  # no paid plan: CRM core, up to two users
PENDING = "pending"  # the Stripe customer could not be created yet; a job retries
TRIALING = "trialing"
ACTIVE = "active"
PAST_DUE = "past_due"  # a payment failed: banner for admins, writes still allowed during the grace period
UNPAID = "unpaid"  # read-only until paid
CANCELED = "canceled"  # read-only until a plan is chosen again
READ_ONLY_STATES = frozenset({UNPAID, CANCELED})


class BillingAccount(db.Model):
    """One per workspace: its Stripe customer and the state its paid plan is in."""

    __tablename__ = "billing_accounts"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("control.tenants.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    #: Where invoices go (the owner's address at sign-up).
    email: Mapped[str] = mapped_column(String(320))
    #: "free", "starter" or "professional".
    plan: Mapped[str] = mapped_column(String(40), default="free", server_default="free")
    interval: Mapped[str] = mapped_column(String(10), default="month", server_default="month")
    state: Mapped[str] = mapped_column(String(20), default=FREE, server_default=FREE)
    #: When the first failed payment was seen; the grace period counts from here.
    past_due_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The 14-day trial is given once per workspace.
    trial_used: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())


class BillingSubscription(db.Model):
    """Kundo's copy of one Stripe subscription: the plan (`plan`), a hub (`hub:sales`) or an app (`app:<id>`)."""

    __tablename__ = "billing_subscriptions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("control.tenants.id", ondelete="CASCADE"), index=True)
    product_key: Mapped[str] = mapped_column(String(80))
    stripe_id: Mapped[str] = mapped_column(String(100), unique=True)
    plan_id: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(30))
    quantity: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    trial_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    current_period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())


class StripeEvent(db.Model):
    """Every webhook event Stripe sent, once (its id is the key); processed by the billing.process_event job."""

    __tablename__ = "billing_stripe_events"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    error: Mapped[str | None] = mapped_column(Text)


class RevenueShare(db.Model):
    """One paid invoice line of a third-party app: what the platform keeps and what the publisher is owed."""

    __tablename__ = "billing_revenue_shares"
    __table_args__ = (UniqueConstraint("invoice_id", "line_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("control.tenants.id", ondelete="SET NULL"), index=True)
    plugin_id: Mapped[str] = mapped_column(String(40), index=True)
    publisher_id: Mapped[int | None] = mapped_column(ForeignKey("control.publishers.id", ondelete="SET NULL"),
                                                     index=True)
    invoice_id: Mapped[str] = mapped_column(String(100))
    line_id: Mapped[str] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    amount_cents: Mapped[int] = mapped_column(Integer)
    platform_fee_cents: Mapped[int] = mapped_column(Integer)
    publisher_share_cents: Mapped[int] = mapped_column(Integer)
    #: The Stripe Connect transfer, once made (see kundo.billing.revenue.transfer_to_publisher).
    transfer_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
