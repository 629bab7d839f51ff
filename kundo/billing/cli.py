"""`kundo billing ...`: push the catalogue to Stripe, send unprocessed webhook events and pending customers again."""

from __future__ import annotations

import click
from flask.cli import AppGroup

billing_cli = AppGroup("billing", help="Stripe billing: catalogue, pending work.")


def _require_billing() -> None:
    from kundo.billing.stripe_api import billing_enabled

    if not billing_enabled():
        raise click.ClickException("Billing is off: set STRIPE_SECRET_KEY (and STRIPE_API_BASE for a stand-in).")


@billing_cli.command("sync-catalog")
def sync_catalog_command():
    """Create the plans, hub add-ons and paid apps Stripe lacks (safe to run again)."""
    _require_billing()
    from kundo.billing.catalog import sync_catalog
    from kundo.billing.stripe_api import stripe_client, unreachable_errors
    from kundo.plugins.host import plugin_host

    manifests = [lp.manifest for lp in plugin_host().healthy().values() if lp.manifest is not None]
    try:
        counts = sync_catalog(stripe_client(), manifests)
    except unreachable_errors() as error:
        raise click.ClickException(f"Stripe cannot be reached: {error}") from error
    click.echo(f"Catalogue in Stripe: {counts['created']} created, {counts['existing']} already there.")


@billing_cli.command("process-pending")
def process_pending_command():
    """Enqueue unprocessed webhook events and retry workspaces still waiting for their Stripe customer."""
    _require_billing()
    from kundo.billing.service import retry_pending_customers
    from kundo.billing.webhooks import process_pending

    events = process_pending()
    customers = retry_pending_customers()
    click.echo(f"Sent again: {events} webhook event(s), {customers} pending customer(s).")


@billing_cli.command("payout-account")
@click.argument("publisher")
@click.argument("account_id")
def payout_account_command(publisher: str, account_id: str):
    """Set a marketplace publisher's Stripe Connect account (acct_...), where its revenue share is paid."""
    from sqlalchemy import func, select

    from kundo.platform.audit.service import record_audit
    from kundo.platform.db import db
    from kundo.plugins.marketplace.models import Publisher

    account_id = account_id.strip()
    if not account_id.startswith("acct_") or len(account_id) > 100:
        raise click.ClickException("A payout account id starts with acct_ (Stripe Connect).")
    row = db.session.scalar(select(Publisher).where(func.lower(Publisher.name) == publisher.strip().lower()))
    if row is None:
        raise click.ClickException(f"There is no publisher named {publisher!r}.")
    previous, row.payout_account_id = row.payout_account_id, account_id
    record_audit("billing.payout_account_set", target=f"publisher:{row.id}",
                 data={"from": previous, "to": account_id})
    db.session.commit()
    click.echo(f"Payouts of {row.name} go to {account_id}.")
