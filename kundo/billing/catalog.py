"""What Kundo sells, defined in code, and `sync_catalog` that pushes it to Stripe idempotently.

Product and plan ids are chosen here (`kundo_starter`, `kundo_starter_month`, ...), so a
second sync finds everything by id and creates nothing. A plan's price cannot change in
Stripe; a paid app whose manifest price changes gets a new plan id (the amount is in it).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from kundo.billing.stripe_api import not_found

CURRENCY = "eur"
TRIAL_DAYS = 14
#: Users the Free plan covers.
FREE_USERS = 2
#: Days a workspace stays writable after a failed payment before it turns read-only.
GRACE_DAYS = 7
#: The platform's share of a third-party app's revenue, in percent.
PLATFORM_FEE_PERCENT = 30
INTERVALS = ("month", "year")


@dataclass(frozen=True)
class Offer:
    """One product: `key` is how Kundo names its subscription (`plan`, `hub:sales`, `app:<id>`)."""

    key: str
    product_id: str
    name: str
    month_cents: int
    year_cents: int | None = None
    per_seat: bool = False

    def plan_id(self, interval: str) -> str:
        if self.key.startswith("app:"):
            return f"{self.product_id}_{interval}_{self.month_cents}"
        return f"{self.product_id}_{interval}"

    def amount(self, interval: str) -> int:
        return self.month_cents if interval == "month" else (self.year_cents or self.month_cents * 10)


PLANS = {
    "starter": Offer("plan", "kundo_starter", "Kundo Starter", 1500, 15000, per_seat=True),
    "professional": Offer("plan", "kundo_professional", "Kundo Professional", 4900, 49000, per_seat=True),
}
PLAN_LABELS = {"free": _l("Free"), "starter": _l("Starter"), "professional": _l("Professional")}
HUBS = {
    "sales": Offer("hub:sales", "kundo_hub_sales", "Kundo Sales Hub", 2000, 20000),
    "marketing": Offer("hub:marketing", "kundo_hub_marketing", "Kundo Marketing Hub", 2000, 20000),
    "service": Offer("hub:service", "kundo_hub_service", "Kundo Service Hub", 2000, 20000),
}


def app_offer(manifest) -> Offer | None:
    """A paid third-party app's offer, from its manifest price (monthly only)."""
    if not manifest.is_paid or manifest.id in HUBS:
        return None
    return Offer(f"app:{manifest.id}", f"kundo_app_{manifest.id}", manifest.name,
                 int(manifest.price.get("amount_cents", 0)), None)


def offer_for_plugin(manifest) -> Offer | None:
    """The offer enabling this plugin subscribes to, or None when it is free."""
    return HUBS.get(manifest.id) or app_offer(manifest)


def offer_for_key(key: str, manifests=()) -> Offer | None:
    if key == "plan":
        return None
    if key.startswith("hub:"):
        return HUBS.get(key[4:])
    for manifest in manifests:
        if f"app:{manifest.id}" == key:
            return app_offer(manifest)
    return None


def all_offers(manifests=()) -> list[Offer]:
    offers = [*PLANS.values(), *HUBS.values()]
    offers.extend(offer for offer in (app_offer(m) for m in manifests) if offer is not None)
    return offers


def sync_catalog(client, manifests=()) -> dict[str, int]:
    """Create what Stripe lacks; returns {"created": n, "existing": m} over products and plans."""
    counts = {"created": 0, "existing": 0}
    for offer in all_offers(manifests):
        if _ensure(client.v1.products, offer.product_id,
                   {"id": offer.product_id, "name": offer.name, "metadata": {"kundo_key": offer.key}}):
            counts["created"] += 1
        else:
            counts["existing"] += 1
        intervals = ("month",) if offer.year_cents is None else INTERVALS
        for interval in intervals:
            plan_id = offer.plan_id(interval)
            created = _ensure(client.v1.plans, plan_id, {
                "id": plan_id, "product": offer.product_id, "amount": offer.amount(interval),
                "currency": CURRENCY, "interval": interval, "nickname": f"{offer.name} ({interval})",
                "metadata": {"kundo_key": offer.key, "per_seat": "1" if offer.per_seat else "0"},
            })
            counts["created" if created else "existing"] += 1
    return counts


def _ensure(service, object_id: str, params: dict) -> bool:
    import stripe

    try:
        service.retrieve(object_id)
        return False
    except stripe.InvalidRequestError as error:
        if not not_found(error):
            raise
    service.create(params=params, options={"idempotency_key": f"kundo-catalog-{object_id}"})
    return True
