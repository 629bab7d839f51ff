"""Quotes: create on a deal, edit lines, number, send, and the buyer's accept/decline — the one way in.

Numbers are `<year>-<nnnn>`, counted per workspace and year. `next_number` increments the
year's counter row with INSERT … ON CONFLICT DO UPDATE … RETURNING, which takes the row's
lock until the creating transaction ends: concurrent quotes wait in line, and a quote
that rolls back gives its number back, so numbers have neither gaps nor duplicates.
Quotes are never deleted (a sent number must stay accounted for); they are withdrawn.

The buyer's decision is recorded on the timeline of the deal and its contacts, announced
as quote.accepted / quote.declined, and an accepted quote marks the deal won (unless the
quote says otherwise) through `kundo_sales.deals.service.mark_deal_won`.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select, text
from sqlalchemy.orm import Session, selectinload

from kundo.crm import get_contact, log_activity
from kundo.platform.clock import now
from kundo.platform.events import emit_event
from kundo_sales.deals.service import get_deal, mark_deal_won
from kundo_sales.errors import SalesNotFound, SalesValidationError
from kundo_sales.products.models import Product
from kundo_sales.products.service import parse_decimal
from kundo_sales.quotes.models import Quote, QuoteLine, QuoteStatus
from kundo_sales.quotes.totals import LineInput, Totals, compute_totals
from kundo_sales.signing import new_link_key
from kundo_sales.workspace import workspace_zone

LANGUAGES = ("de", "en")
DEFAULT_VALID_DAYS = 30
MAX_LINES = 200
MAX_QUANTITY = Decimal("999999999.999")
MAX_PRICE = Decimal("999999999999.99")
QUOTE_FIELDS = ("title", "introduction", "valid_until", "language", "contact_id", "discount_percent",
                "win_deal_on_accept")


# -- numbers -----------------------------------------------------------------------------------------------------------

def next_number(session: Session, year: int) -> str:
    """The next number of `year`, locking the counter row until the caller's transaction ends."""
    value = session.execute(text(
        "INSERT INTO sales_quote_counters (year, last_number) VALUES (:year, 1) "
        "ON CONFLICT (year) DO UPDATE SET last_number = sales_quote_counters.last_number + 1 "
        "RETURNING last_number"), {"year": year}).scalar_one()
    return f"{year}-{value:04d}"


# -- reading -----------------------------------------------------------------------------------------------------------

def get_quote(session: Session, quote_id: int, *, lock: bool = False) -> Quote:
    query = select(Quote).where(Quote.id == quote_id).options(selectinload(Quote.lines))
    if lock:
        query = query.with_for_update(of=Quote).execution_options(populate_existing=True)
    quote = session.scalar(query)
    if quote is None:
        raise SalesNotFound(_("There is no quote with id %(id)s in this workspace.", id=quote_id))
    return quote


def quotes_of_deal(session: Session, deal_id: int) -> list[Quote]:
    return list(session.scalars(select(Quote).where(Quote.deal_id == deal_id)
                                .order_by(Quote.created_at.desc(), Quote.id.desc())))


def list_quotes(session: Session, *, status: str | None = None, deal_id: int | None = None,
                limit: int = 200) -> list[Quote]:
    query = select(Quote)
    if status:
        query = query.where(Quote.status == status)
    if deal_id:
        query = query.where(Quote.deal_id == deal_id)
    return list(session.scalars(query.order_by(Quote.created_at.desc(), Quote.id.desc()).limit(limit)))


def totals_of(quote: Quote) -> Totals:
    return compute_totals((LineInput(line.quantity, line.unit_price, line.tax_rate, line.discount_percent)
                           for line in quote.lines), quote.discount_percent)


def expired(session: Session, quote: Quote) -> bool:
    """Past its validity date in the workspace's time zone (valid through the whole last day)."""
    return now().astimezone(workspace_zone(session)).date() > quote.valid_until


# -- checks ------------------------------------------------------------------------------------------------------------

def _percent(errors: dict, field: str, value) -> Decimal:
    if value in (None, ""):
        return Decimal("0.00")
    number = parse_decimal(value, places=2)
    if number is None or number < 0 or number > 100:
        errors.setdefault(field, []).append(_("Enter a percentage between 0 and 100."))
        return Decimal("0.00")
    return number


def _date(errors: dict, field: str, value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        errors.setdefault(field, []).append(_("Enter a date like 2026-12-31."))
        return None


def _contact(session: Session, errors: dict, value) -> int | None:
    if value in (None, ""):
        return None
    try:
        contact_id = int(value)
        get_contact(session, contact_id)
    except (TypeError, ValueError, LookupError):
        errors.setdefault("contact_id", []).append(_("Choose a contact of this workspace."))
        return None
    return contact_id


def _quote_fields(session: Session, data: dict, errors: dict) -> dict:
    clean: dict = {}
    if "title" in data:
        title = " ".join(str(data["title"] or "").split()) or None
        if title and len(title) > 200:
            errors.setdefault("title", []).append(_("Use at most %(limit)s characters.", limit=200))
        clean["title"] = title
    if "introduction" in data:
        intro = str(data["introduction"] or "").strip() or None
        if intro and len(intro) > 5000:
            errors.setdefault("introduction", []).append(_("Use at most %(limit)s characters.", limit=5000))
        clean["introduction"] = intro
    if "valid_until" in data:
        clean["valid_until"] = _date(errors, "valid_until", data["valid_until"])
    if "language" in data:
        if data["language"] not in LANGUAGES:
            errors.setdefault("language", []).append(_("Choose German or English."))
        clean["language"] = data["language"]
    if "contact_id" in data:
        clean["contact_id"] = _contact(session, errors, data["contact_id"])
    if "discount_percent" in data:
        clean["discount_percent"] = _percent(errors, "discount_percent", data["discount_percent"])
    if "win_deal_on_accept" in data:
        clean["win_deal_on_accept"] = bool(data["win_deal_on_accept"])
    return clean


def _line(session: Session, data: dict, errors: dict, index: int) -> QuoteLine | None:
    """A line from a product (its name, price and VAT rate unless given) or free text."""
    prefix = f"lines.{index}."
    before = len(errors)
    product = None
    if data.get("product_id") not in (None, ""):
        try:
            product = session.get(Product, int(data["product_id"]))
        except (TypeError, ValueError):
            product = None
        if product is None:
            errors.setdefault(prefix + "product_id", []).append(_("Choose a product of the catalogue."))
    name = " ".join(str(data.get("name") or (product.name if product else "")).split())
    if not name:
        errors.setdefault(prefix + "name", []).append(_("Describe the line or pick a product."))
    elif len(name) > 200:
        errors.setdefault(prefix + "name", []).append(_("Use at most %(limit)s characters.", limit=200))
    quantity = parse_decimal(data.get("quantity", "1"), places=3)
    if quantity is None or quantity <= 0 or quantity > MAX_QUANTITY:
        errors.setdefault(prefix + "quantity", []).append(_("Enter a quantity above 0 (up to three decimals)."))
    raw_price = data.get("unit_price")
    price = parse_decimal(raw_price if raw_price not in (None, "") else (product.unit_price if product else None),
                          places=2)
    if price is None or price < 0 or price > MAX_PRICE:
        errors.setdefault(prefix + "unit_price", []).append(
            _("Enter a net price of 0 or more with at most two decimals, e.g. 1499.00."))
    raw_rate = data.get("tax_rate")
    rate = parse_decimal(raw_rate if raw_rate not in (None, "") else (product.tax_rate if product else "19"),
                         places=2)
    if rate is None or rate < 0 or rate > 100:
        errors.setdefault(prefix + "tax_rate", []).append(
            _("Enter a VAT rate between 0 and 100 percent, e.g. 19 or 7."))
    discount = _percent(errors, prefix + "discount_percent", data.get("discount_percent"))
    description = str(data.get("description") or (product.description if product and "description" not in data
                                                   else "") or "").strip() or None
    unit = str(data.get("unit") or (product.unit if product and product.unit else "") or "").strip()[:30] or None
    if len(errors) > before:
        return None
    return QuoteLine(product_id=product.id if product else None, name=name, description=description,
                     quantity=quantity, unit=unit, unit_price=price, discount_percent=discount, tax_rate=rate)


def _editable(quote: Quote) -> None:
    if not quote.editable:
        raise SalesValidationError({"status": [_("Only draft quotes can be changed. This one is %(status)s.",
                                                 status=status_label(quote.status))]})


def _recompute(quote: Quote) -> None:
    totals = totals_of(quote)
    quote.net_total, quote.tax_total, quote.gross_total = totals.net, totals.tax, totals.gross


# -- writing -----------------------------------------------------------------------------------------------------------

def create_quote(session: Session, deal_id: int, data: dict | None = None, *, lines: list[dict] = (),
                 actor_id: int | None = None, default_language: str = "de") -> Quote:
    """A draft quote on the deal with the next number; its recipient defaults to the deal's first contact.

    :raises SalesNotFound: no such deal. :raises SalesValidationError: naming the fields.
    """
    data = dict(data or {})
    unknown = set(data) - set(QUOTE_FIELDS)
    if unknown:
        raise TypeError(f"create_quote() cannot set: {', '.join(sorted(unknown))}")
    deal = get_deal(session, deal_id)
    errors: dict[str, list[str]] = {}
    today = now().astimezone(workspace_zone(session)).date()
    data.setdefault("valid_until", today + timedelta(days=DEFAULT_VALID_DAYS))
    data.setdefault("language", default_language if default_language in LANGUAGES else "en")
    data.setdefault("discount_percent", "0")  # totals are computed before the column default would apply
    if "contact_id" not in data and deal.contact_ids:
        data["contact_id"] = deal.contact_ids[0]
    clean = _quote_fields(session, data, errors)
    new_lines = [_line(session, line, errors, i) for i, line in enumerate(lines)]
    if len(new_lines) > MAX_LINES:
        errors.setdefault("lines", []).append(_("A quote has at most %(limit)s lines.", limit=MAX_LINES))
    if clean.get("valid_until") and clean["valid_until"] < today:
        errors.setdefault("valid_until", []).append(_("Choose today or a later date."))
    if errors:
        raise SalesValidationError(errors)
    moment = now()
    quote = Quote(deal_id=deal.id, currency=deal.currency, created_by=actor_id, created_at=moment, updated_at=moment,
                  link_key=new_link_key(), status=QuoteStatus.DRAFT.value, **clean)
    if not quote.title:
        quote.title = deal.name[:200]
    for position, line in enumerate(new_lines):
        line.position = position
    quote.lines = new_lines
    _recompute(quote)
    # The number comes last: the counter row stays locked for as short a time as possible.
    quote.number = next_number(session, today.year)
    session.add(quote)
    session.flush()
    emit_event(session, "quote.created", object_type="quote", object_id=quote.id, actor_id=actor_id,
               payload=quote_payload(quote))
    return quote


def update_quote(session: Session, quote: Quote, changes: dict, *, lines: list[dict] | None = None) -> Quote:
    """Change a draft's fields, and replace its lines when `lines` is given."""
    unknown = set(changes) - set(QUOTE_FIELDS)
    if unknown:
        raise TypeError(f"update_quote() cannot change: {', '.join(sorted(unknown))}")
    _editable(quote)
    errors: dict[str, list[str]] = {}
    clean = _quote_fields(session, changes, errors)
    new_lines = None
    if lines is not None:
        new_lines = [_line(session, line, errors, i) for i, line in enumerate(lines)]
        if len(new_lines) > MAX_LINES:
            errors.setdefault("lines", []).append(_("A quote has at most %(limit)s lines.", limit=MAX_LINES))
    if errors:
        raise SalesValidationError(errors)
    for field, value in clean.items():
        setattr(quote, field, value)
    if new_lines is not None:
        for position, line in enumerate(new_lines):
            line.position = position
        quote.lines = new_lines
    _recompute(quote)
    quote.updated_at = now()
    session.flush()
    return quote


def add_line(session: Session, quote: Quote, data: dict) -> QuoteLine:
    _editable(quote)
    errors: dict[str, list[str]] = {}
    line = _line(session, data, errors, len(quote.lines))
    if len(quote.lines) >= MAX_LINES:
        errors.setdefault("lines", []).append(_("A quote has at most %(limit)s lines.", limit=MAX_LINES))
    if errors:
        raise SalesValidationError({key.split(".", 2)[-1]: value for key, value in errors.items()})
    line.position = (max((existing.position for existing in quote.lines), default=-1)) + 1
    quote.lines.append(line)
    _recompute(quote)
    quote.updated_at = now()
    session.flush()
    return line


def remove_line(session: Session, quote: Quote, line_id: int) -> None:
    _editable(quote)
    line = next((line for line in quote.lines if line.id == line_id), None)
    if line is None:
        raise SalesNotFound(_("This quote has no line with id %(id)s.", id=line_id))
    quote.lines.remove(line)
    _recompute(quote)
    quote.updated_at = now()
    session.flush()


def withdraw_quote(session: Session, quote: Quote, *, actor_id: int | None = None) -> Quote:
    """A draft or sent quote is withdrawn: its links stop working, its number stays used."""
    if quote.status not in (QuoteStatus.DRAFT, QuoteStatus.SENT):
        raise SalesValidationError({"status": [_("Only draft or sent quotes can be withdrawn.")]})
    quote.status = QuoteStatus.WITHDRAWN.value
    quote.link_key = new_link_key()
    quote.updated_at = now()
    session.flush()
    emit_event(session, "quote.withdrawn", object_type="quote", object_id=quote.id, actor_id=actor_id,
               payload=quote_payload(quote))
    return quote


def mark_sent(session: Session, quote: Quote, *, to: str, actor_id: int | None, sender: str, message_id: str,
              subject: str, body: str) -> Quote:
    """After the mail went out: status sent, timeline entry, quote.sent."""
    if not quote.lines:
        raise SalesValidationError({"lines": [_("Add at least one line before sending the quote.")]})
    if quote.status not in (QuoteStatus.DRAFT, QuoteStatus.SENT):
        raise SalesValidationError({"status": [_("This quote is %(status)s and cannot be sent again.",
                                                 status=status_label(quote.status))]})
    moment = now()
    quote.status = QuoteStatus.SENT.value
    quote.sent_at, quote.sent_to, quote.updated_at = moment, to, moment
    log_activity(session, "email", links=_timeline_links(session, quote), occurred_at=moment, actor_id=actor_id,
                 subject=subject, body=body, source="sales",
                 payload={"direction": "out", "from": sender, "to": [to], "message_id": message_id})
    emit_event(session, "quote.sent", object_type="quote", object_id=quote.id, actor_id=actor_id,
               payload={**quote_payload(quote), "to": to})
    return quote


def decide(session: Session, quote: Quote, *, accept: bool, name: str, note: str | None = None) -> Quote:
    """The buyer accepts or declines on the public page (the caller checked the link).

    :raises SalesValidationError: the quote is not open for a decision (draft, withdrawn, decided, expired)
        or the name is missing.
    """
    errors: dict[str, list[str]] = {}
    name = " ".join(str(name or "").split())[:200]
    note = (str(note or "").strip() or None)
    if note and len(note) > 2000:
        errors["note"] = [_("Use at most %(limit)s characters.", limit=2000)]
    if accept and not name:
        errors["name"] = [_("Type your name to accept the quote.")]
    if quote.status != QuoteStatus.SENT:
        errors["status"] = [_("This quote is %(status)s and can no longer be answered.",
                              status=status_label(quote.status))]
    elif expired(session, quote):
        errors["status"] = [_("This quote expired on %(date)s. Ask for a new one.", date=quote.valid_until.isoformat())]
    if errors:
        raise SalesValidationError(errors)
    moment = now()
    quote.status = (QuoteStatus.ACCEPTED if accept else QuoteStatus.DECLINED).value
    quote.decided_at, quote.decided_by_name, quote.decision_note, quote.updated_at = moment, name or None, note, moment
    kind = "quote_accepted" if accept else "quote_declined"
    subject = (_("Quote %(number)s accepted by %(name)s", number=quote.number, name=name) if accept
               else _("Quote %(number)s declined", number=quote.number))
    log_activity(session, "system", links=_timeline_links(session, quote), occurred_at=moment, subject=subject,
                 body=note, source="sales",
                 payload={"kind": kind, "quote_id": quote.id, "number": quote.number, "by": name,
                          "gross_total": str(quote.gross_total), "currency": quote.currency})
    emit_event(session, f"quote.{'accepted' if accept else 'declined'}", object_type="quote", object_id=quote.id,
               payload={**quote_payload(quote), "by": name})
    if accept and quote.win_deal_on_accept:
        mark_deal_won(session, quote.deal_id, reason=_("Quote %(number)s accepted", number=quote.number))
    session.flush()
    return quote


def _timeline_links(session: Session, quote: Quote) -> list[tuple[str, int]]:
    deal = get_deal(session, quote.deal_id)
    contacts = list(dict.fromkeys([*([quote.contact_id] if quote.contact_id else []), *deal.contact_ids]))
    return [("deal", deal.id), ("quote", quote.id), *(("contact", cid) for cid in contacts)]


def quote_payload(quote: Quote) -> dict:
    return {"id": quote.id, "number": quote.number, "deal_id": quote.deal_id, "status": quote.status,
            "net_total": str(quote.net_total), "tax_total": str(quote.tax_total),
            "gross_total": str(quote.gross_total), "currency": quote.currency,
            "valid_until": quote.valid_until.isoformat() if quote.valid_until else None}


def status_label(status: str) -> str:
    return {
        "draft": _("draft"), "sent": _("sent"), "accepted": _("accepted"), "declined": _("declined"),
        "withdrawn": _("withdrawn"),
    }.get(status, status)
