"""The Sales Hub's page: pipelines, with an empty state that says what to do first."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy import func, select

from kundo.platform.auth.session import login_required
from kundo.tenants.resolution import current_tenant_db
from kundo_sales.models import Pipeline

blueprint = Blueprint("sales", __name__, template_folder="templates")


@blueprint.route("/pipelines", methods=["GET", "POST"])
@login_required
def pipelines():
    session = current_tenant_db()
    error = None
    if request.method == "POST":
        name = " ".join(request.form.get("name", "").split())[:200]
        if not name:
            error = _("Give it a name.")
        elif session.scalar(select(Pipeline.id).where(func.lower(Pipeline.name) == name.lower())):
            error = _("There is a pipeline called “%(name)s” already.", name=name)
        else:
            session.add(Pipeline(name=name, created_by=g.user.id))
            session.commit()
            flash(_("Pipeline “%(name)s” created.", name=name), "success")
            return redirect(url_for("sales.pipelines"))
    rows = session.scalars(select(Pipeline).order_by(Pipeline.created_at.desc(), Pipeline.id.desc()).limit(200)).all()
    return render_template("sales/pipelines.html", rows=rows, error=error,
                           name=request.form.get("name", "") if error else ""), 400 if error else 200


def render_widget(session, tenant) -> str:  # noqa: ARG001 - the SDK's widget signature
    """The dashboard card: how many pipelines there are, linking to the page."""
    count = session.scalar(select(func.count()).select_from(Pipeline)) or 0
    return (f'<span class="stat-value">{count}</span>'
            f'<a class="small" href="{escape(url_for("sales.pipelines"))}">{escape(_("Open the list"))} →</a>')
