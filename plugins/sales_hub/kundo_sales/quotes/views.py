"""Quote pages: create on a deal, the editor (header, lines, totals), PDF, send, withdraw; the deal panel.

The buyer's public page lives in `quotes.public`.
"""

from __future__ import annotations

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kundo.crm import Contact
from kundo.platform.auth.session import login_required
from kundo.tenants.resolution import current_tenant, current_tenant_db
from kundo_sales.access import may_see, workspace_locale
from kundo_sales.deals.service import get_deal
from kundo_sales.errors import SalesNotFound, SalesValidationError
from kundo_sales.products.models import VAT_PRESETS
from kundo_sales.products.service import list_products
from kundo_sales.quotes import service
from kundo_sales.quotes.sending import pdf_filename, pdf_of, public_url, send_quote

ID = "int(max=9223372036854775807)"
LINE_FIELDS = ("product_id", "name", "description", "quantity", "unit", "unit_price", "discount_percent", "tax_rate")


def register(blueprint) -> None:
    blueprint.add_url_rule("/quotes", "quotes", quote_list)
    blueprint.add_url_rule(f"/deals/<{ID}:deal_id>/quotes", "new_quote", new_quote, methods=["POST"])
    blueprint.add_url_rule(f"/quotes/<{ID}:quote_id>", "quote", editor, methods=["GET", "POST"])
    blueprint.add_url_rule(f"/quotes/<{ID}:quote_id>/pdf", "quote_pdf", quote_pdf)
    blueprint.add_url_rule(f"/quotes/<{ID}:quote_id>/send", "send_quote", send, methods=["POST"])
    blueprint.add_url_rule(f"/quotes/<{ID}:quote_id>/withdraw", "withdraw_quote", withdraw, methods=["POST"])
    from kundo_sales.quotes import public

    public.register(blueprint)


def deal_panel_context(session, deal) -> dict:
    """What the deal page's quotes panel shows (see kundo_sales.deals.panels)."""
    return {"quotes": service.quotes_of_deal(session, deal.id), "label": service.status_label}


def _quote_or_404(session, quote_id: int):
    try:
        quote = service.get_quote(session, quote_id)
        deal = get_deal(session, quote.deal_id)
    except SalesNotFound:
        abort(404)
    if not may_see(session, deal):
        abort(404)
    return quote, deal


def _flash_errors(error: SalesValidationError) -> None:
    flash(" ".join(m for messages in error.errors.values() for m in messages), "error")


def _lines_from_form(form) -> list[dict]:
    columns = {field: form.getlist(f"line_{field}") for field in LINE_FIELDS}
    count = max((len(values) for values in columns.values()), default=0)
    removed = form.get("remove")
    lines = []
    for index in range(count):
        if removed is not None and removed == str(index):
            continue
        line = {field: (values[index] if index < len(values) else "") for field, values in columns.items()}
        if line["tax_rate"] == "other":
            others = form.getlist("line_tax_rate_other")
            line["tax_rate"] = others[index] if index < len(others) else ""
        if not any(str(v).strip() for k, v in line.items() if k not in ("quantity", "tax_rate")):
            continue  # an untouched blank row
        lines.append(line)
    return lines


@login_required
def quote_list():
    session = current_tenant_db()
    status = request.args.get("status") if request.args.get("status") in {s.value for s in service.QuoteStatus} \
        else None
    rows = [q for q in service.list_quotes(session, status=status)
            if may_see(session, get_deal(session, q.deal_id))]
    return render_template("sales/quotes/list.html", rows=rows, status=status, label=service.status_label)


@login_required
def new_quote(deal_id: int):
    session = current_tenant_db()
    try:
        deal = get_deal(session, deal_id)
    except SalesNotFound:
        abort(404)
    if not may_see(session, deal):
        abort(404)
    try:
        quote = service.create_quote(session, deal.id, actor_id=g.user.id, default_language=workspace_locale())
    except SalesValidationError as error:
        session.rollback()
        _flash_errors(error)
        return redirect(url_for("sales.deal", deal_id=deal_id))
    session.commit()
    flash(_("Quote %(number)s created. Add its lines.", number=quote.number), "success")
    return redirect(url_for("sales.quote", quote_id=quote.id))


@login_required
def editor(quote_id: int):
    session = current_tenant_db()
    quote, deal = _quote_or_404(session, quote_id)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        action = request.form.get("action", "save")
        lines = _lines_from_form(request.form)
        if action == "add_product" and request.form.get("add_product_id"):
            lines.append({"product_id": request.form["add_product_id"], "quantity": "1"})
        elif action == "add_line":
            lines.append({"name": _("New item"), "quantity": "1", "unit_price": "0", "tax_rate": "19"})
        changes = {field: request.form.get(field) for field in ("title", "introduction", "valid_until", "language",
                                                                  "contact_id", "discount_percent")
                   if field in request.form}
        if "win_deal_on_accept" in request.form or "title" in request.form:
            changes["win_deal_on_accept"] = request.form.get("win_deal_on_accept") == "1"
        try:
            service.update_quote(session, quote, changes, lines=lines)
        except SalesValidationError as error:
            session.rollback()
            errors = {field: " ".join(messages) for field, messages in error.errors.items()}
            status = 400
            quote, deal = _quote_or_404(session, quote_id)
        else:
            session.commit()
            if action == "save":
                flash(_("Quote %(number)s saved.", number=quote.number), "success")
            return redirect(url_for("sales.quote", quote_id=quote.id) + ("#lines" if action != "save" else ""))
    contacts = []
    if deal.contact_ids:
        contacts = session.query(Contact).filter(Contact.id.in_(deal.contact_ids)).all()
    recipient = next((c for c in contacts if c.id == quote.contact_id), None)
    return render_template(
        "sales/quotes/editor.html", quote=quote, deal=deal, totals=service.totals_of(quote), errors=errors,
        products=list_products(session), presets=VAT_PRESETS, contacts=contacts, label=service.status_label,
        recipient_email=(quote.sent_to or (recipient.primary_email if recipient else "") or ""),
        link=public_url(current_tenant(), quote) if quote.status == "sent" else None,
        expired=service.expired(session, quote)), status


@login_required
def quote_pdf(quote_id: int):
    session = current_tenant_db()
    quote, _deal = _quote_or_404(session, quote_id)
    data = pdf_of(session, quote, current_tenant())
    disposition = "attachment" if request.args.get("download") else "inline"
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'{disposition}; filename="{pdf_filename(quote)}"'})


@login_required
def send(quote_id: int):
    session = current_tenant_db()
    quote, _deal = _quote_or_404(session, quote_id)
    try:
        send_quote(session, quote, tenant=current_tenant(), to=request.form.get("to", ""),
                   message=request.form.get("message"), user=g.user)
    except SalesValidationError as error:
        session.rollback()
        _flash_errors(error)
        return redirect(url_for("sales.quote", quote_id=quote_id))
    session.commit()
    flash(_("Quote %(number)s sent to %(to)s.", number=quote.number, to=quote.sent_to), "success")
    return redirect(url_for("sales.quote", quote_id=quote_id))


@login_required
def withdraw(quote_id: int):
    session = current_tenant_db()
    quote, _deal = _quote_or_404(session, quote_id)
    try:
        service.withdraw_quote(session, quote, actor_id=g.user.id)
    except SalesValidationError as error:
        session.rollback()
        _flash_errors(error)
        return redirect(url_for("sales.quote", quote_id=quote_id))
    session.commit()
    flash(_("Quote %(number)s withdrawn; its link no longer works.", number=quote.number), "success")
    return redirect(url_for("sales.quote", quote_id=quote_id))
