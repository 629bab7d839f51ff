"""A quote as the buyer reads it — texts in the quote's language, amounts formatted — for the PDF and the page.

Both renderings take this one view, so the PDF and the public page never disagree on a
figure. Labels are msgids translated under the quote's language (German or English),
whatever the language of the person who renders it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from kundo.crm import get_company, get_contact
from kundo.platform.clock import now
from kundo_sales.quotes.models import Quote
from kundo_sales.quotes.service import totals_of
from kundo_sales.workspace import Letterhead, letterhead


@dataclass(frozen=True)
class DocLine:
    position: int
    name: str
    description: str
    quantity: str
    unit_price: str
    discount: str
    tax_rate: str
    net: str


@dataclass(frozen=True)
class QuoteDocument:
    language: str
    number: str
    title: str
    heading: str
    introduction: str
    issued: str
    valid_until: str
    letterhead: Letterhead
    recipient: list[str]
    labels: dict[str, str]
    lines: list[DocLine]
    totals: list[tuple[str, str, bool]]  # (label, amount, emphasised)
    gross: str
    closing: str


def _rate(value: Decimal, locale: str) -> str:
    return format_decimal(value.normalize() if value == value.to_integral() else value, locale=locale) + " %"


def build_document(session: Session, quote: Quote, *, workspace_name: str = "") -> QuoteDocument:
    lang = quote.language if quote.language in ("de", "en") else "en"
    head = letterhead(session, workspace_name)
    totals = totals_of(quote)

    def money(amount: Decimal) -> str:
        return format_currency(amount, quote.currency, locale=lang)

    recipient: list[str] = []
    if quote.contact_id:
        try:
            contact = get_contact(session, quote.contact_id)
        except LookupError:
            contact = None
        if contact is not None:
            if contact.primary_company_id:
                try:
                    recipient.append(get_company(session, contact.primary_company_id).name)
                except LookupError:
                    pass
            recipient.append(contact.name)
    with force_locale(lang):
        labels = {
            "position": _("Pos."), "item": _("Description"), "quantity": _("Qty"), "unit_price": _("Unit price"),
            "discount": _("Disc."), "tax": _("VAT"), "net": _("Net"), "number": _("Quote no."),
            "date": _("Date"), "valid_until": _("Valid until"), "page": _("Page"),
        }
        lines = [DocLine(i + 1, line.name, line.description or "",
                         format_decimal(line.quantity.normalize() if line.quantity == line.quantity.to_integral()
                                        else line.quantity, locale=lang) + (f" {line.unit}" if line.unit else ""),
                         money(line.unit_price),
                         _rate(line.discount_percent, lang) if line.discount_percent else "",
                         _rate(line.tax_rate, lang), money(net))
                 for i, (line, net) in enumerate(zip(quote.lines, totals.line_nets, strict=True))]
        rows: list[tuple[str, str, bool]] = [(_("Subtotal (net)"), money(totals.subtotal), False)]
        if totals.discount:
            rows.append((_("Discount %(percent)s", percent=_rate(quote.discount_percent, lang)),
                         "−" + money(totals.discount), False))
            rows.append((_("Total net"), money(totals.net), False))
        for rate in totals.by_rate:
            rows.append((_("VAT %(rate)s on %(base)s", rate=_rate(rate.rate, lang), base=money(rate.net)),
                         money(rate.tax), False))
        rows.append((_("Total"), money(totals.gross), True))
        issued_on = (quote.sent_at or quote.created_at or now()).astimezone(head.timezone).date()
        return QuoteDocument(
            language=lang, number=quote.number, title=quote.title or "",
            heading=_("Quote %(number)s", number=quote.number),
            introduction=quote.introduction or _("Thank you for your interest. We are pleased to offer you the "
                                                 "following:"),
            issued=format_date(issued_on, "long", locale=lang),
            valid_until=format_date(quote.valid_until, "long", locale=lang),
            letterhead=head, recipient=recipient, labels=labels, lines=lines, totals=rows, gross=money(totals.gross),
            closing=_("This quote is valid until %(date)s. Prices in %(currency)s.",
                      date=format_date(quote.valid_until, "long", locale=lang), currency=quote.currency),
        )
