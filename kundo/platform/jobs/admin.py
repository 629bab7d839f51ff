"""Pages and API for dead letters: what failed for good in this workspace, and a retry button.

Admins see their own workspace's letters only (`dead_letters_of(tenant_id)`); a retry sends
the job again with fresh retries or re-arms the timer (`retry_dead_letter`), once per letter.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import Schema, fields

from kundo.platform.api import token_required
from kundo.platform.auth.session import role_required
from kundo.platform.db import db
from kundo.platform.jobs.deadletters import DeadLetterNotFound, dead_letters_of, retry_dead_letter
from kundo.platform.web import NavItem
from kundo.tenants.models import Role

blueprint = Blueprint("jobs_admin", __name__, template_folder="templates")
api_blueprint = ApiBlueprint("api_jobs", __name__, url_prefix="/api/v1", description="Jobs: dead letters")

ID = "int(max=9223372036854775807)"
DEAD_LETTERS_NAV = (
    NavItem("dead_letters", "Failed jobs", "jobs_admin.dead_letters", icon="alert", order=860, min_role=Role.ADMIN,
            section="settings"),
)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    app.extensions["kundo_nav"].extend(DEAD_LETTERS_NAV)


@blueprint.get("/settings/failed-jobs")
@role_required(Role.ADMIN)
def dead_letters():
    return render_template("jobs/dead_letters.html", letters=dead_letters_of(g.tenant.id))


@blueprint.post(f"/settings/failed-jobs/<{ID}:letter_id>/retry")
@role_required(Role.ADMIN)
def retry(letter_id: int):
    try:
        retry_dead_letter(g.tenant.id, letter_id, user_id=g.user.id)
    except DeadLetterNotFound:
        db.session.rollback()
        abort(404)
    flash(_("The job runs again. If it fails again, it comes back to this list."), "success")
    return redirect(url_for("jobs_admin.dead_letters"))


class DeadLetterSchema(Schema):
    id = fields.Integer(dump_only=True)
    kind = fields.String(dump_only=True, metadata={"description": "job (a queued job) or timer (a due timer)"})
    actor = fields.String(dump_only=True, metadata={"description": "The job or timer handler that failed."})
    args = fields.Raw(dump_only=True)
    error = fields.String(dump_only=True)
    failed_at = fields.DateTime(dump_only=True)
    retried_at = fields.DateTime(dump_only=True, allow_none=True)


class DeadLetterPageSchema(Schema):
    items = fields.List(fields.Nested(DeadLetterSchema))


@api_blueprint.route("/jobs/dead-letters")
class DeadLetters(MethodView):
    @token_required("read", Role.ADMIN)
    @api_blueprint.response(200, DeadLetterPageSchema)
    def get(self):
        """Jobs and timers of this workspace that failed after every retry (newest first, 100 at most)"""
        return {"items": dead_letters_of(g.tenant.id)}


@api_blueprint.route(f"/jobs/dead-letters/<{ID}:letter_id>/retry")
class RetryDeadLetter(MethodView):
    @token_required("admin", Role.ADMIN)
    @api_blueprint.response(202, DeadLetterSchema)
    def post(self, letter_id: int):
        """Run a dead job or timer again, with fresh retries (each letter once)"""
        try:
            return retry_dead_letter(g.tenant.id, letter_id, user_id=g.user.id)
        except DeadLetterNotFound:
            db.session.rollback()
            abort(404, description="No dead letter with this id waits for a retry in this workspace.")
