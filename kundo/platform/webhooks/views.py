"""Pages (workspace admins): webhook subscriptions — list, create (secret shown once), pause, delete,
send a test, delivery log."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kundo.platform.auth.session import role_required
from kundo.platform.web import NavItem
from kundo.platform.webhooks import service
from kundo.tenants.models import Role
from kundo.tenants.resolution import current_tenant_db

blueprint = Blueprint("webhooks", __name__, template_folder="templates")

ID = "int(max=9223372036854775807)"
WEBHOOKS_NAV = (
    NavItem("webhooks", "Webhooks", "webhooks.index", icon="send", order=850, min_role=Role.ADMIN, section="settings"),
)
LOG_SIZE = 50


def _subscription(subscription_id: int):
    try:
        return service.get_subscription(current_tenant_db(), subscription_id)
    except service.SubscriptionNotFound:
        abort(404)


def _list_page(*, created=None, secret=None, errors=None, form=None, status=200):
    session = current_tenant_db()
    return render_template(
        "webhooks/index.html", subscriptions=service.list_subscriptions(session), event_types=service.EVENT_TYPES,
        created=created, secret=secret, errors=errors or {}, form=form or {},
        workflow_secret=service.workflow_signing_secret(g.tenant.id),
    ), status


@blueprint.get("/settings/webhooks")
@role_required(Role.ADMIN)
def index():
    return _list_page()


@blueprint.post("/settings/webhooks")
@role_required(Role.ADMIN)
def create():
    session = current_tenant_db()
    form = request.form
    chosen = form.getlist("event_types")
    try:
        subscription, secret = service.create_subscription(
            session, url=form.get("url", ""), event_types=chosen, description=form.get("description"),
            created_by=g.user.id)
    except service.WebhookError as error:
        session.rollback()
        return _list_page(errors=error.errors, form={"url": form.get("url", ""), "event_types": chosen,
                                                     "description": form.get("description", "")}, status=400)
    session.commit()
    return _list_page(created=subscription, secret=secret, status=201)


@blueprint.get(f"/settings/webhooks/<{ID}:subscription_id>")
@role_required(Role.ADMIN)
def detail(subscription_id: int):
    subscription = _subscription(subscription_id)
    deliveries, next_before = service.deliveries_of(current_tenant_db(), subscription.id,
                                                    before_id=request.args.get("before", type=int), limit=LOG_SIZE)
    return render_template("webhooks/detail.html", subscription=subscription, deliveries=deliveries,
                           next_before=next_before)


@blueprint.post(f"/settings/webhooks/<{ID}:subscription_id>/pause")
@role_required(Role.ADMIN)
def pause(subscription_id: int):
    session = current_tenant_db()
    subscription = _subscription(subscription_id)
    paused = request.form.get("paused", "1") == "1"
    service.set_paused(subscription, paused)
    session.commit()
    flash(_("Deliveries to %(url)s are paused.", url=subscription.url) if paused
          else _("Deliveries to %(url)s are running again.", url=subscription.url), "success")
    if request.form.get("next") == "detail":
        return redirect(url_for("webhooks.detail", subscription_id=subscription.id))
    return redirect(url_for("webhooks.index"))


@blueprint.post(f"/settings/webhooks/<{ID}:subscription_id>/delete")
@role_required(Role.ADMIN)
def delete(subscription_id: int):
    session = current_tenant_db()
    subscription = _subscription(subscription_id)
    url = subscription.url
    service.delete_subscription(session, subscription)
    session.commit()
    flash(_("The webhook to %(url)s is deleted.", url=url), "success")
    return redirect(url_for("webhooks.index"))


@blueprint.post(f"/settings/webhooks/<{ID}:subscription_id>/test")
@role_required(Role.ADMIN)
def send_test(subscription_id: int):
    session = current_tenant_db()
    subscription = _subscription(subscription_id)
    service.send_test(session, subscription)
    session.commit()
    flash(_("A test delivery is on its way. Reload in a moment to see the answer."), "success")
    return redirect(url_for("webhooks.detail", subscription_id=subscription.id))
