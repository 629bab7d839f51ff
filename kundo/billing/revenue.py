"""Marketplace revenue share: every paid invoice line of a third-party app, split into fee and share.

`record_invoice` writes one ledger row per line (unique by invoice and line, so a
replayed event adds nothing). `transfer_to_publisher` pays a row out through Stripe
Connect; it is UNTESTED: the Stripe stand-in used in tests (localstripe) has no
transfers or connected accounts, so it only runs against real Stripe.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from kundo.billing import catalog
from kundo.billing.models import BillingAccount, RevenueShare
from kundo.platform.db import db

APP_PRODUCT_PREFIX = "kundo_app_"


def _line_product(line) -> str:
    plan = line.get("plan") or {}
    product = plan.get("product") if isinstance(plan, dict) else None
    if isinstance(product, dict):
        product = product.get("id")
    return product or ""


def split(amount_cents: int) -> tuple[int, int]:
    """(platform fee, publisher share); the fee is rounded, the publisher gets the rest."""
    fee = round(amount_cents * catalog.PLATFORM_FEE_PERCENT / 100)
    return fee, amount_cents - fee


def record_invoice(invoice) -> int:
    """Ledger rows for the app lines of a paid invoice; returns how many were new."""
    from kundo.plugins.marketplace.models import PluginVersion

    account = db.session.scalar(select(BillingAccount).where(BillingAccount.customer_id == invoice["customer"]))
    added = 0
    for line in (invoice.get("lines") or {}).get("data", []):
        product = _line_product(line)
        amount = int(line.get("amount") or 0)
        if not product.startswith(APP_PRODUCT_PREFIX) or amount <= 0:
            continue
        plugin_id = product[len(APP_PRODUCT_PREFIX):]
        publisher_id = db.session.scalar(select(PluginVersion.publisher_id).where(
            PluginVersion.plugin_id == plugin_id).order_by(PluginVersion.id.desc()).limit(1))
        fee, share = split(amount)
        inserted = db.session.scalar(insert(RevenueShare).values(
            tenant_id=account.tenant_id if account else None, plugin_id=plugin_id, publisher_id=publisher_id,
            invoice_id=invoice["id"], line_id=line["id"], currency=line.get("currency") or catalog.CURRENCY,
            amount_cents=amount, platform_fee_cents=fee, publisher_share_cents=share,
        ).on_conflict_do_nothing(index_elements=["invoice_id", "line_id"]).returning(RevenueShare.id))
        added += 1 if inserted else 0
    return added


def ledger_for_publisher(publisher_id: int, limit: int = 100) -> list[RevenueShare]:
    return list(db.session.scalars(select(RevenueShare).where(RevenueShare.publisher_id == publisher_id)
                                   .order_by(RevenueShare.created_at.desc()).limit(limit)))


def ledger(limit: int = 200) -> list[RevenueShare]:
    return list(db.session.scalars(select(RevenueShare).order_by(RevenueShare.created_at.desc()).limit(limit)))


def transfer_to_publisher(share: RevenueShare) -> str | None:
    """Pay the publisher's share through Stripe Connect; returns the transfer id (caller commits).

    UNTESTED: localstripe has no Connect transfers, so no test runs this; it is the one
    place that talks to Connect. Idempotent by the ledger row (its id is the idempotency
    key, and a row with a transfer id is skipped).
    """
    from kundo.billing.stripe_api import stripe_client
    from kundo.plugins.marketplace.models import Publisher

    if share.transfer_id or share.publisher_id is None:
        return share.transfer_id
    publisher = db.session.get(Publisher, share.publisher_id)
    if publisher is None or not publisher.payout_account_id:
        return None
    transfer = stripe_client().v1.transfers.create(params={
        "amount": share.publisher_share_cents, "currency": share.currency,
        "destination": publisher.payout_account_id, "transfer_group": share.invoice_id,
        "metadata": {"plugin_id": share.plugin_id, "invoice_id": share.invoice_id, "line_id": share.line_id},
    }, options={"idempotency_key": f"kundo-revenue-share-{share.id}"})
    share.transfer_id = transfer.id
    return transfer.id
