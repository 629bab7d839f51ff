"""The demo's Sales Hub data: deals over the default pipeline, products, a quote, targets, a booking page.

Everything goes through the hub's service functions, so each deal has its stage history,
timeline entries and events, and won deals make their contacts customers (which starts
the demo's onboarding workflow). The platform never imports a hub at module level:
`seed_sales` is called only when the Sales Hub is loaded and enabled, and imports it then.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from kundo.platform.clock import now
from kundo.platform.demo.crm import COMPANIES, CONTACTS, company_ids_by_domain, contact_ids_by_email, email_of

ROLLOUT = _l("%(company)s – CRM rollout")
LICENCES = _l("%(company)s – annual licences")
WORKSHOP = _l("%(company)s – onboarding workshop")
SUPPORT = _l("%(company)s – premium support")
EXPANSION = _l("%(company)s – second site")

PRICE = _l("Chose a competitor with a lower price.")
NO_BUDGET = _l("No budget this year; asked us to call again in spring.")
POSTPONED = _l("The project was postponed indefinitely after a change of management.")

WON, LOST = "won", "lost"

#: (name template, company domain, which of its contacts (0/1), amount, stage: open stage index 0-3 / won / lost,
#:  expected close in days from today (negative: in the past), forecast category, lost reason)
DEALS = (
    (ROLLOUT, "nordlicht-logistik.example", 0, 18_500, 3, 12, "commit", None),
    (SUPPORT, "nordlicht-logistik.example", 1, 4_800, 0, 75, None, None),
    (LICENCES, "bergmann-soehne.example", 0, 32_000, 2, 28, "best_case", None),
    (WORKSHOP, "bergmann-soehne.example", 1, 2_400, WON, -6, None, None),
    (ROLLOUT, "isarwerk.example", 0, 45_000, 2, 35, None, None),
    (EXPANSION, "isarwerk.example", 1, 12_000, 0, 84, None, None),
    (LICENCES, "rheinblick-hotels.example", 0, 9_600, 1, 40, None, None),
    (WORKSHOP, "rheinblick-hotels.example", 1, 3_600, LOST, -12, None, PRICE),
    (ROLLOUT, "elbtal-energie.example", 0, 38_000, 3, 20, "commit", None),
    (SUPPORT, "elbtal-energie.example", 1, 6_000, WON, -3, None, None),
    (LICENCES, "spreekueche.example", 0, 5_900, 1, 45, None, None),
    (WORKSHOP, "spreekueche.example", 0, 2_400, WON, -10, None, None),
    (ROLLOUT, "main-consulting.example", 0, 14_000, 2, 52, "best_case", None),
    (SUPPORT, "main-consulting.example", 1, 3_000, LOST, -20, None, NO_BUDGET),
    (ROLLOUT, "alpenblick-medtech.example", 0, 27_500, 1, 60, None, None),
    (LICENCES, "alpenblick-medtech.example", 1, 11_800, WON, -1, None, None),
    (EXPANSION, "nordlicht-logistik.example", 0, 16_000, 0, 88, None, None),
    (EXPANSION, "bergmann-soehne.example", 0, 21_000, 1, 66, None, None),
    (SUPPORT, "isarwerk.example", 0, 7_200, 3, 8, "commit", None),
    (WORKSHOP, "alpenblick-medtech.example", 0, 4_800, 2, 30, None, None),
    (EXPANSION, "elbtal-energie.example", 0, 24_000, 0, 70, None, None),
    (LICENCES, "main-consulting.example", 0, 8_400, 3, 16, None, None),
    (WORKSHOP, "isarwerk.example", 1, 3_600, WON, -15, None, None),
    (EXPANSION, "rheinblick-hotels.example", 0, 19_000, LOST, -5, None, POSTPONED),
    (LICENCES, "elbtal-energie.example", 1, 13_500, 0, 58, None, None),
)

#: (name msgid, sku, unit msgid, net price, VAT %)
PRODUCTS = (
    (_l("Kundo CRM Professional (per user and month)"), "CRM-PRO", _l("user"), "49.00", "19"),
    (_l("Onboarding workshop (one day, on site)"), "WS-ONB", _l("day"), "1200.00", "19"),
    (_l("Premium support (per year)"), "SUP-PREM", _l("year"), "2400.00", "19"),
    (_l("Handbook “CRM in practice” (print)"), "BOOK-CRM", _l("copy"), "39.90", "7"),
)

#: (sku, quantity) of the quote on the Isarwerk rollout
QUOTE_LINES = (("CRM-PRO", "25"), ("WS-ONB", "2"), ("SUP-PREM", "1"), ("BOOK-CRM", "10"))
QUOTE_INTRO = _l("Thank you for the good conversations. As discussed, here is our offer for introducing Kundo "
                 "to your sales and customer success teams.")
BOOKING_DESCRIPTION = _l("A 30-minute video call about your CRM: your questions, a short demo, the next steps.")

#: Monthly sales targets of the demo owner, from this month on.
TARGETS = ("40000", "45000", "50000")


def _short(company_name: str) -> str:
    """Bergmann & Söhne KG → Bergmann & Söhne: deal names read better without the legal form."""
    for suffix in (" GmbH", " AG", " KG"):
        if company_name.endswith(suffix):
            return company_name[: -len(suffix)]
    return company_name


def _company_contacts() -> dict[str, list[str]]:
    by_company: dict[str, list[str]] = {}
    for first, last, _title, domain, _stage in CONTACTS:
        if domain:
            by_company.setdefault(domain, []).append(email_of(first, last, domain))
    return by_company


def seed_sales(session, owner, locale: str) -> dict:
    """Deals, products, a quote, targets and the owner's booking page; each part only when it is missing."""
    made = {"deals": 0, "products": 0, "quote": False, "booking_page": False}
    made["products"] = _seed_products(session, owner.id)
    deals = _seed_deals(session, owner.id, locale)
    made["deals"] = len(deals)
    if deals:
        made["quote"] = _seed_quote(session, deals, owner.id, locale)
        _seed_targets(session, owner.id)
    made["booking_page"] = _seed_booking_page(session, owner)
    return made


def _seed_products(session, owner_id: int) -> int:
    from kundo_sales.products.models import Product
    from kundo_sales.products.service import create_product

    if session.scalar(select(Product.id).limit(1)) is not None:
        return 0
    for name, sku, unit, price, rate in PRODUCTS:
        create_product(session, {"name": str(name), "sku": sku, "unit": str(unit), "unit_price": price,
                                 "tax_rate": rate, "currency": "EUR"}, actor_id=owner_id)
    return len(PRODUCTS)


class _PinnedClock:
    """The app's clock held at one moment while a step of a deal's history is written."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


@contextmanager
def _clock_at(moment: datetime):
    """Let the hub's services (which ask `kundo.platform.clock.now`) write `moment` as the time of what they do.

    Why: a pipeline whose every deal was created and moved in the same second has no sales
    cycle and no time in stage; the demo's deals get weeks of history instead. Runs before
    the server and its worker start, and the app's own clock is put back afterwards.
    """
    from flask import current_app

    from kundo.platform.clock import EXTENSION_KEY, clock_of

    extensions = current_app.extensions
    original = clock_of(current_app)
    extensions[EXTENSION_KEY] = _PinnedClock(moment)
    try:
        yield
    finally:
        extensions[EXTENSION_KEY] = original


def _history(index: int, stage, close_in: int, open_count: int) -> tuple[int, list[int]]:
    """(days ago the deal was created, days ago it entered each later stage): open deals entered their
    stage 2 to 16 days ago (two rot), closed ones closed up to two months ago after a 3 to 7 week cycle."""
    if isinstance(stage, int):
        entered = (2, 5, 8, 3, 11, 16)[index % 6]
        created = entered + 6 * stage + (index % 3) * 4 if stage else entered
        steps = stage
    else:
        entered = abs(close_in) * 3
        created = entered + 21 + (index % 3) * 7
        steps = open_count if stage == WON else index % 3 + 1
    spacing = (created - entered) / max(steps, 1)
    return created, [round(created - spacing * (n + 1)) if n + 1 < steps else entered for n in range(steps)]


def _seed_deals(session, owner_id: int, locale: str) -> list:
    from kundo_sales.deals.models import Deal
    from kundo_sales.deals.service import create_deal, mark_deal_lost, mark_deal_won, move_deal
    from kundo_sales.pipelines.models import StageKind
    from kundo_sales.pipelines.service import ensure_default_pipeline, list_pipelines

    if session.scalar(select(Deal.id).limit(1)) is not None:
        return []
    ensure_default_pipeline(session, locale)
    pipeline = list_pipelines(session)[0]
    open_stages = [stage for stage in pipeline.stages if stage.kind == StageKind.OPEN]
    names = {domain: _short(name) for name, domain, *_rest in COMPANIES}
    companies = company_ids_by_domain(session)
    contacts = contact_ids_by_email(session)
    people = _company_contacts()
    moment = now()
    today = moment.date()
    deals = []
    for index, (template, domain, person, amount, stage, close_in, category, reason) in enumerate(DEALS):
        if domain not in companies:
            continue
        contact = contacts.get(people[domain][person])
        if isinstance(stage, int):
            stage = min(stage, len(open_stages) - 1)
        created, entered = _history(index, stage, close_in, len(open_stages))
        closes = today + timedelta(days=close_in) if isinstance(stage, int) else (moment - timedelta(
            days=entered[-1])).date()
        with _clock_at(moment - timedelta(days=created)):
            deal = create_deal(
                session, name=str(template) % {"company": names[domain]}, pipeline_id=pipeline.id,
                stage_id=open_stages[0].id, amount=amount, currency="EUR", owner_id=owner_id,
                company_id=companies[domain], contact_ids=[contact] if contact else [], expected_close_date=closes,
                source="demo", forecast_category=category, actor_id=owner_id)
        for step, days_ago in enumerate(entered, start=1):
            with _clock_at(moment - timedelta(days=days_ago, hours=-step)):
                if step == len(entered) and stage == WON:
                    mark_deal_won(session, deal.id, user_id=owner_id, reason=str(_l("Contract signed")))
                elif step == len(entered) and stage == LOST:
                    mark_deal_lost(session, deal.id, reason=str(reason), user_id=owner_id)
                else:
                    move_deal(session, deal, open_stages[step].id, user_id=owner_id)
        deals.append(deal)
    return deals


def _seed_quote(session, deals: list, owner_id: int, locale: str) -> bool:
    from kundo_sales.deals.models import DealStatus
    from kundo_sales.products.models import Product
    from kundo_sales.quotes.service import create_quote

    deal = next((d for d in deals if d.status == DealStatus.OPEN and d.name.startswith("Isarwerk Software")), None)
    if deal is None:
        return False
    products = {p.sku: p.id for p in session.scalars(select(Product).where(Product.sku.is_not(None)))}
    lines = [{"product_id": products[sku], "quantity": quantity} for sku, quantity in QUOTE_LINES if sku in products]
    create_quote(session, deal.id, {"introduction": str(QUOTE_INTRO)}, lines=lines,
                 actor_id=owner_id, default_language=locale)
    return True


def _seed_targets(session, owner_id: int) -> None:
    from kundo_sales.forecast.service import add_months, month_start, set_target

    first = month_start(now().date())
    for offset, amount in enumerate(TARGETS):
        month: date = add_months(first, offset)
        set_target(session, owner_id=owner_id, month=month, amount=amount, created_by=owner_id)


def _seed_booking_page(session, owner) -> bool:
    from kundo_sales.booking.service import ensure_page, page_by_slug, page_of_user, update_page
    from kundo_sales.errors import SalesNotFound

    if page_of_user(session, owner.id) is not None:
        return False
    page = ensure_page(session, owner.id, owner.name or owner.email)
    changes = {"description": str(BOOKING_DESCRIPTION)}
    try:
        page_by_slug(session, "demo")
    except SalesNotFound:
        changes["slug"] = "demo"
    update_page(session, page, changes)
    return True
