"""Marketplace pages on the root domain: the public listing, publishers and the review queue.

Workspace hosts answer 404 here: the marketplace belongs to Kundo, not to a workspace
(tenants meet approved plugins on their own "Hubs & apps" page).
"""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kundo.platform.auth.session import login_required
from kundo.platform.db import db
from kundo.plugins.marketplace import listings, service
from kundo.plugins.marketplace.models import ReviewStatus
from kundo.plugins.sdk import CATEGORIES

blueprint = Blueprint("marketplace", __name__, url_prefix="/marketplace", template_folder="templates",
                      static_folder="static", static_url_path="/static")

CATEGORY_LABELS = {
    "sales": _l("Sales"), "marketing": _l("Marketing"), "service": _l("Service"),
    "productivity": _l("Productivity"), "communication": _l("Communication"), "finance": _l("Finance"),
    "analytics": _l("Analytics"), "other": _l("Other"),
}
PERMISSION_LABELS = {
    "contacts:read": _l("See contacts"), "contacts:write": _l("Create and change contacts"),
    "companies:read": _l("See companies"), "companies:write": _l("Create and change companies"),
    "timeline:read": _l("See timelines"), "timeline:write": _l("Add timeline entries"),
    "tasks:read": _l("See tasks"), "tasks:write": _l("Create and change tasks"),
    "events:read": _l("Receive events about changes"), "mail:send": _l("Send e-mail"),
    "webhooks:call": _l("Call web addresses outside Kundo"),
}
STATUS_LABELS = {
    ReviewStatus.PENDING.value: _l("In review"), ReviewStatus.APPROVED.value: _l("Approved"),
    ReviewStatus.REJECTED.value: _l("Rejected"),
}


@blueprint.before_request
def _root_domain_only():
    if g.get("tenant") is not None:
        abort(404)


@blueprint.context_processor
def _labels():
    return {"category_labels": CATEGORY_LABELS, "permission_labels": PERMISSION_LABELS,
            "status_labels": STATUS_LABELS, "money": _money}


def _money(cents: int, currency: str = "eur") -> str:
    """An amount in cents as the reader's locale writes money (12,60 € / €12.60)."""
    from decimal import Decimal

    from babel.numbers import format_currency
    from flask_babel import get_locale

    return format_currency(Decimal(cents or 0) / 100, (currency or "eur").upper(), locale=str(get_locale() or "en"))


# ---- public listing -------------------------------------------------------------------


@blueprint.get("/")
def catalogue():
    query = request.args.get("q", "").strip()[:200]
    category = request.args.get("category", "")
    if category not in CATEGORIES:
        category = ""
    everything = listings.all_listings()
    found = listings.search_listings(everything, query, category)
    return render_template("marketplace/catalogue.html", listings=found, total=len(everything), query=query,
                           category=category, category_counts=listings.category_counts(everything),
                           publisher=service.publisher_of(g.get("user")))


@blueprint.get("/apps/<plugin_id>")
def listing(plugin_id: str):
    found = listings.find_listing(plugin_id)
    if found is None:
        abort(404, description=_("There is no app “%(id)s” in the marketplace.", id=plugin_id))
    return render_template("marketplace/listing.html", listing=found)


# ---- publishers -----------------------------------------------------------------------


@blueprint.route("/publish", methods=["GET", "POST"])
@login_required
def publisher_home():
    """Registration for people who are not publishers yet; their dashboard for those who are."""
    publisher = service.publisher_of(g.user)
    if publisher is not None:
        from kundo.billing import catalog, revenue

        months = revenue.monthly_for_publisher(publisher.id)
        return render_template("marketplace/publisher.html", publisher=publisher,
                               versions=service.versions_of(publisher), revenue_months=months,
                               revenue_totals=revenue.totals(m.sums for m in months),
                               app_names=revenue.app_names(m.plugin_id for m in months),
                               fee_percent=catalog.PLATFORM_FEE_PERCENT)
    form = {key: request.form.get(key, "").strip() for key in ("name", "website", "support_email")}
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            service.register_publisher(g.user, **form)
        except service.MarketplaceError as error:
            db.session.rollback()
            errors[error.field or "form"] = str(error)
        else:
            db.session.commit()
            flash(_("You are registered as a publisher. Upload your first app."), "success")
            return redirect(url_for("marketplace.upload"))
    else:
        form["support_email"] = g.user.email
    return render_template("marketplace/register.html", form=form, errors=errors), 400 if errors else 200


@blueprint.route("/publish/upload", methods=["GET", "POST"])
@login_required
def upload():
    publisher = service.publisher_of(g.user)
    if publisher is None:
        return redirect(url_for("marketplace.publisher_home"))
    errors: dict[str, str] = {}
    changelog = request.form.get("changelog", "")
    if request.method == "POST":
        file = request.files.get("wheel")
        try:
            if file is None or not file.filename:
                raise service.MarketplaceError(_("Choose a wheel file (.whl) to upload."), "wheel")
            version = service.submit_version(publisher, file.stream, file.filename, changelog=changelog)
            db.session.commit()
        except service.MarketplaceError as error:
            db.session.rollback()
            errors[error.field or "form"] = str(error)
        else:
            flash(_("%(name)s %(version)s is uploaded and waits for review.", name=version.manifest["name"],
                    version=version.version), "success")
            return redirect(url_for("marketplace.publisher_home"))
    return render_template("marketplace/upload.html", publisher=publisher, changelog=changelog, errors=errors,
                           max_mb=_max_mb()), 400 if errors else 200


def _max_mb() -> str:
    from flask import current_app

    return f"{current_app.config['KUNDO'].marketplace_max_bytes / 1024 / 1024:g}"


# ---- review ---------------------------------------------------------------------------


def _operator_only() -> None:
    if not g.user.is_operator:
        abort(403, description=_("Only platform operators review marketplace uploads."))


@blueprint.get("/review")
@login_required
def review_queue():
    _operator_only()
    return render_template("marketplace/review_queue.html", pending=service.review_queue(),
                           reviewed=service.recently_reviewed())


@blueprint.route("/review/<int:version_id>", methods=["GET", "POST"])
@login_required
def review(version_id: int):
    _operator_only()
    version = service.find_version(version_id)
    if version is None:
        abort(404)
    error = None
    if request.method == "POST":
        decision = request.form.get("decision")
        if decision not in ("approve", "reject"):
            abort(400)
        try:
            service.review_version(version, g.user, approve=decision == "approve",
                                   reason=request.form.get("reason", ""))
        except service.MarketplaceError as refusal:
            db.session.rollback()
            error = str(refusal)
        else:
            db.session.commit()
            names = {"name": version.manifest["name"], "version": version.version}
            if decision == "approve":
                flash(_("%(name)s %(version)s is approved. Run `kundo plugins sync` to install it.", **names),
                      "success")
            else:
                flash(_("%(name)s %(version)s is rejected; the publisher sees why.", **names), "info")
            return redirect(url_for("marketplace.review_queue"))
    manifest_json = json.dumps(version.manifest, indent=2, ensure_ascii=False, sort_keys=True)
    return render_template("marketplace/review.html", version=version, manifest_json=manifest_json,
                           error=error), 400 if error else 200


# ---- revenue share (operators) --------------------------------------------------------


@blueprint.get("/revenue")
@login_required
def revenue_ledger():
    """The revenue-share ledger of every paid app, with what each publisher earned and is owed."""
    if not g.user.is_operator:
        abort(403, description=_("Only platform operators see the revenue ledger."))
    from sqlalchemy import select

    from kundo.billing import catalog, revenue
    from kundo.plugins.marketplace.models import Publisher
    from kundo.tenants.models import Tenant

    rows = revenue.ledger()
    per_publisher = revenue.totals_by_publisher()
    publisher_ids = {pid for pid, _sums in per_publisher} | {row.publisher_id for row in rows}
    publishers = {p.id: p for p in db.session.scalars(select(Publisher).where(
        Publisher.id.in_([pid for pid in publisher_ids if pid is not None])))}
    tenant_ids = {row.tenant_id for row in rows if row.tenant_id is not None}
    workspaces = {tenant_id: slug for tenant_id, slug in db.session.execute(
        select(Tenant.id, Tenant.slug).where(Tenant.id.in_(tenant_ids)))} if tenant_ids else {}
    return render_template("marketplace/revenue.html", rows=rows, per_publisher=per_publisher,
                           grand_totals=revenue.totals(sums for _pid, sums in per_publisher),
                           publishers=publishers, workspaces=workspaces,
                           app_names=revenue.app_names(row.plugin_id for row in rows),
                           fee_percent=catalog.PLATFORM_FEE_PERCENT, limit=len(rows))
