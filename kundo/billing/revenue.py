"""Marketplace revenue share: every paid invoice line of a third-party app, split into fee and share.

`record_invoice` writes one ledger row per line (unique by invoice and line, so a
replayed event adds nothing). `transfer_to_publisher` pays a row out through Stripe
Connect; it is UNTESTED: the Stripe stand-in used in tests (localstripe) has no
transfers or connected accounts, so it only runs against real Stripe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
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
    return list(db.session.scalars(select(RevenueShare).order_by(RevenueShare.created_at.desc(),
                                                                 RevenueShare.id.desc()).limit(limit)))


@dataclass(frozen=True)
class Sums:
    """Amounts of several ledger rows in one currency (cents)."""

    currency: str
    invoices: int
    gross: int
    fee: int
    share: int
    #: The part of `share` not transferred to the publisher yet.
    owed: int = 0


@dataclass(frozen=True)
class MonthOfApp:
    """One app's revenue in one calendar month (UTC)."""

    plugin_id: str
    month: date
    sums: Sums


def _sums(row) -> Sums:
    return Sums(row.currency, int(row.invoices), int(row.gross or 0), int(row.fee or 0), int(row.share or 0),
                int(getattr(row, "owed", 0) or 0))


_MONTH = func.date_trunc("month", func.timezone("UTC", RevenueShare.created_at))
_SUMS = (RevenueShare.currency, func.count().label("invoices"), func.sum(RevenueShare.amount_cents).label("gross"),
         func.sum(RevenueShare.platform_fee_cents).label("fee"),
         func.sum(RevenueShare.publisher_share_cents).label("share"))


def monthly_for_publisher(publisher_id: int) -> list[MonthOfApp]:
    """What the publisher's dashboard shows: per app and month, newest month first."""
    rows = db.session.execute(select(RevenueShare.plugin_id, _MONTH.label("month"), *_SUMS)
                              .where(RevenueShare.publisher_id == publisher_id)
                              .group_by(RevenueShare.plugin_id, _MONTH, RevenueShare.currency)
                              .order_by(_MONTH.desc(), RevenueShare.plugin_id, RevenueShare.currency))
    return [MonthOfApp(row.plugin_id, row.month.date(), _sums(row)) for row in rows]


def totals(sums) -> list[Sums]:
    """Several sums added up per currency (one row per currency, EUR in practice)."""
    by_currency: dict[str, Sums] = {}
    for s in sums:
        old = by_currency.get(s.currency) or Sums(s.currency, 0, 0, 0, 0, 0)
        by_currency[s.currency] = Sums(s.currency, old.invoices + s.invoices, old.gross + s.gross,
                                       old.fee + s.fee, old.share + s.share, old.owed + s.owed)
    return [by_currency[key] for key in sorted(by_currency)]


def totals_by_publisher() -> list[tuple[int | None, Sums]]:
    """The operators' summary: per publisher (None: an app without a known publisher) and currency."""
    owed = func.sum(RevenueShare.publisher_share_cents).filter(RevenueShare.transfer_id.is_(None)).label("owed")
    rows = db.session.execute(select(RevenueShare.publisher_id, *_SUMS, owed)
                              .group_by(RevenueShare.publisher_id, RevenueShare.currency)
                              .order_by(func.sum(RevenueShare.amount_cents).desc()))
    return [(row.publisher_id, _sums(row)) for row in rows]


def app_names(plugin_ids) -> dict[str, str]:
    """Each app's name from its newest uploaded manifest (the id where none is known)."""
    from kundo.plugins.marketplace.models import PluginVersion

    ids = sorted(set(plugin_ids))
    names = dict.fromkeys(ids)
    if ids:
        for plugin_id, manifest in db.session.execute(
                select(PluginVersion.plugin_id, PluginVersion.manifest).where(PluginVersion.plugin_id.in_(ids))
                .order_by(PluginVersion.id)):
            names[plugin_id] = (manifest or {}).get("name") or plugin_id
    return {key: value or key for key, value in names.items()}


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
