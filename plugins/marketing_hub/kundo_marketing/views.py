"""The Marketing Hub's page: forms, with an empty state that says what to do first."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy import func, select

from kundo.platform.auth.session import login_required
from kundo.tenants.resolution import current_tenant_db
from kundo_marketing.models import Form

blueprint = Blueprint("marketing", __name__, template_folder="templates")


@blueprint.route("/forms", methods=["GET", "POST"])
@login_required
def forms():
    session = current_tenant_db()
    error = None
    if request.method == "POST":
        name = " ".join(request.form.get("name", "").split())[:200]
        if not name:
            error = _("Give it a name.")
        elif session.scalar(select(Form.id).where(func.lower(Form.name) == name.lower())):
            error = _("There is a form called “%(name)s” already.", name=name)
        else:
            session.add(Form(name=name, created_by=g.user.id))
            session.commit()
            flash(_("Form “%(name)s” created.", name=name), "success")
            return redirect(url_for("marketing.forms"))
    rows = session.scalars(select(Form).order_by(Form.created_at.desc(), Form.id.desc()).limit(200)).all()
    return render_template("marketing/forms.html", rows=rows, error=error,
                           name=request.form.get("name", "") if error else ""), 400 if error else 200


def render_widget(session, tenant) -> str:  # noqa: ARG001 - the SDK's widget signature
    """The dashboard card: how many forms there are, linking to the page."""
    count = session.scalar(select(func.count()).select_from(Form)) or 0
    return (f'<span class="stat-value">{count}</span>'
            f'<a class="small" href="{escape(url_for("marketing.forms"))}">{escape(_("Open the list"))} →</a>')
