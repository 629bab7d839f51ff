"""The Service Hub's page: tickets, with an empty state that says what to do first."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy import func, select

from kundo.platform.auth.session import login_required
from kundo.tenants.resolution import current_tenant_db
from kundo_service.models import Ticket

blueprint = Blueprint("service", __name__, template_folder="templates")


@blueprint.route("/tickets", methods=["GET", "POST"])
@login_required
def tickets():
    session = current_tenant_db()
    error = None
    if request.method == "POST":
        name = " ".join(request.form.get("name", "").split())[:200]
        if not name:
            error = _("Give it a name.")
        elif session.scalar(select(Ticket.id).where(func.lower(Ticket.name) == name.lower())):
            error = _("There is an open ticket “%(name)s” already.", name=name)
        else:
            session.add(Ticket(name=name, created_by=g.user.id))
            session.commit()
            flash(_("Ticket “%(name)s” opened.", name=name), "success")
            return redirect(url_for("service.tickets"))
    rows = session.scalars(select(Ticket).order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(200)).all()
    return render_template("service/tickets.html", rows=rows, error=error,
                           name=request.form.get("name", "") if error else ""), 400 if error else 200


def render_widget(session, tenant) -> str:  # noqa: ARG001 - the SDK's widget signature
    """The dashboard card: how many tickets there are, linking to the page."""
    count = session.scalar(select(func.count()).select_from(Ticket)) or 0
    return (f'<span class="stat-value">{count}</span>'
            f'<a class="small" href="{escape(url_for("service.tickets"))}">{escape(_("Open the list"))} →</a>')
