"""The hooks billing fills in elsewhere: plugin entitlement, plugin disabled, invitation seats, sign-up.

Each is a no-op while billing is off (no Stripe key): everything is free then.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from kundo.billing import catalog, service
from kundo.billing.stripe_api import billing_enabled
from kundo.platform.db import db, utcnow


def plugin_entitlement(tenant, manifest) -> str | None:
    """Enabling a paid hub or app subscribes it; a refusal says what to do instead."""
    if not billing_enabled():
        return None
    offer = catalog.offer_for_plugin(manifest)
    if offer is None:
        return None
    try:
        service.subscribe_addon(tenant, offer)
    except service.BillingError as error:
        return str(error)
    except service.unreachable_errors():
        return _("Our payment provider cannot be reached right now. Please try again in a few minutes.")
    db.session.commit()  # the subscription exists in Stripe now; Kundo's copy must not be lost
    return None


def plugin_disabled(tenant, plugin_id: str) -> None:
    """Disabling a paid hub or app cancels its subscription at the end of the period."""
    if not billing_enabled():
        return
    from kundo.plugins.host import plugin_host

    loaded = plugin_host().loaded.get(plugin_id)
    offer = catalog.HUBS.get(plugin_id) or (catalog.app_offer(loaded.manifest)
                                            if loaded is not None and loaded.manifest else None)
    if offer is None:
        return
    service.cancel_addon(tenant, offer.key)
    db.session.commit()


def invite_check(tenant) -> str | None:
    """Refuse an invitation that would need more seats than are paid for."""
    if not billing_enabled():
        return None
    from kundo.tenants.models import Invitation

    taken = service.seats_used(tenant.id) + (db.session.scalar(select(func.count()).select_from(Invitation).where(
        Invitation.tenant_id == tenant.id, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None),
        Invitation.expires_at > utcnow())) or 0)
    paid = service.seats_paid(tenant.id)
    if paid is None:
        if taken >= catalog.FREE_USERS:
            return _("The Free plan covers %(n)s users. Choose Starter or Professional under Settings → Billing "
                     "to invite more people.", n=catalog.FREE_USERS)
        return None
    if taken >= paid:
        return _("All %(n)s paid seats are taken (members and open invitations). Add a seat under Settings → "
                 "Billing, then invite again.", n=paid)
    return None


def workspace_created(tenant, owner) -> None:
    service.on_workspace_created(tenant, owner)
