"""The buyer's page: a signed, expiring link shows the quote, its PDF, and accept / decline buttons.

No sign-in: the link is the key (see kundo_sales.signing). A forged link, one for another
workspace, or one revoked by withdrawing answers 404; an old one 410. The forms carry
CSRF tokens like every form, and answering is rate-limited per address.
"""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kundo.platform.security import limiter
from kundo.tenants.resolution import current_tenant, current_tenant_db
from kundo_sales.errors import SalesNotFound, SalesValidationError
from kundo_sales.quotes import service
from kundo_sales.quotes.document import build_document
from kundo_sales.quotes.sending import LINK_MAX_AGE_DAYS, pdf_filename, pdf_of
from kundo_sales.signing import LinkExpired, LinkInvalid, read_token


def register(blueprint) -> None:
    blueprint.add_url_rule("/q/<token>", "public_quote", public_quote)
    blueprint.add_url_rule("/q/<token>/pdf", "public_quote_pdf", public_pdf)
    blueprint.add_url_rule("/q/<token>/answer", "answer_quote", answer, methods=["POST"])


def _answer_limit() -> str:
    return current_app.config.get("KUNDO_SALES_ANSWER_LIMIT", "10 per minute")


def _quote_of(token: str):
    tenant = current_tenant()
    try:
        quote_id, key = read_token("quote", token, tenant_id=tenant.id, max_age_seconds=LINK_MAX_AGE_DAYS * 86400)
    except LinkExpired:
        abort(410, description=_("This link has expired. Ask the sender for a new one."))
    except LinkInvalid:
        abort(404)
    session = current_tenant_db()
    try:
        quote = service.get_quote(session, quote_id)
    except SalesNotFound:
        abort(404)
    if quote.link_key != key or quote.status == "draft":
        abort(404)
    return session, tenant, quote


def public_quote(token: str):
    session, tenant, quote = _quote_of(token)
    document = build_document(session, quote, workspace_name=tenant.name)
    return render_template("sales/quotes/public.html", quote=quote, doc=document, token=token,
                           expired=service.expired(session, quote), label=service.status_label)


def public_pdf(token: str):
    session, tenant, quote = _quote_of(token)
    return Response(pdf_of(session, quote, tenant), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{pdf_filename(quote)}"'})


@limiter.limit(_answer_limit, methods=["POST"], error_message=lambda: _("Too many tries. Wait a minute."))
def answer(token: str):
    session, _tenant, quote = _quote_of(token)
    accept = request.form.get("decision") == "accept"
    try:
        service.get_quote(session, quote.id, lock=True)
        service.decide(session, quote, accept=accept, name=request.form.get("name", ""),
                       note=request.form.get("note"))
    except SalesValidationError as error:
        session.rollback()
        flash(" ".join(m for messages in error.errors.values() for m in messages), "error")
        return redirect(url_for("sales.public_quote", token=token)), 303
    session.commit()
    flash(_("Thank you — you accepted the quote.") if accept else _("Thank you — we have noted that you declined."),
          "success")
    return redirect(url_for("sales.public_quote", token=token)), 303
