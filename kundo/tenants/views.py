"""Pages: sign-up, the workspace chooser, members & invitations, accepting an invitation."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from kundo.platform.auth import service as auth_service
from kundo.platform.auth.session import login_required, login_user, role_required
from kundo.platform.auth.views import handoff_url
from kundo.platform.db import db
from kundo.platform.security import WeakPassword, limiter
from kundo.tenants import service
from kundo.tenants.models import Role
from kundo.tenants.slugs import slug_suggestion

blueprint = Blueprint("tenants", __name__, template_folder="templates")

SIGNUP_FIELDS = ("company_name", "slug", "name", "email", "password")


def _signup_limit() -> str:
    return current_app.config["KUNDO"].signup_rate_limit


def _root_only():
    if g.get("tenant") is not None:
        abort(404)


def _workspace_only():
    # Signed in on the root domain, a person has no workspace these pages could mean.
    if g.get("tenant") is None:
        abort(404)


@blueprint.route("/signup", methods=["GET", "POST"])
@limiter.limit(_signup_limit, methods=["POST"], error_message=lambda: _("Too many sign-ups from here. Wait a minute."))
def signup():
    _root_only()
    form = {key: request.form.get(key, "") for key in SIGNUP_FIELDS}
    errors: dict[str, str] = {}
    if request.method == "POST":
        if request.form.get("terms") != "on":
            errors["terms"] = _("Please accept the terms to create a workspace.")
        else:
            try:
                tenant, user = service.sign_up(locale=str(get_locale() or "en"), **form)
            except service.WorkspaceError as error:
                db.session.rollback()
                errors[error.field or "form"] = str(error)
            else:
                url = handoff_url(user, tenant, "/?welcome=1")
                db.session.commit()
                return redirect(url)
    form["password"] = ""
    return render_template("tenants/signup.html", form=form, errors=errors,
                           domain=current_app.config["KUNDO"].domain), 400 if errors else 200


@blueprint.get("/signup/check")
def check_slug():
    """Live availability of a workspace address (an htmx fragment, or JSON)."""
    _root_only()
    raw = request.args.get("slug") or slug_suggestion(request.args.get("company_name", ""))
    available, message = service.slug_availability(raw)
    if request.accept_mimetypes.best == "application/json":
        return {"slug": raw, "available": available, "message": message}
    return render_template("tenants/_slug_check.html", available=available, message=message)


@blueprint.get("/workspaces")
@login_required
def workspaces():
    memberships = service.memberships_of(g.user)
    return render_template("tenants/workspaces.html", memberships=memberships)


@blueprint.get("/settings/members")
@login_required
def members():
    _workspace_only()
    return render_template(
        "tenants/members.html",
        members=service.members_of(g.tenant),
        invitations=service.open_invitations(g.tenant) if Role(g.membership.role).at_least(Role.ADMIN) else [],
        roles=list(Role),
        can_manage=Role(g.membership.role).at_least(Role.ADMIN),
    )


def _back_to_members(message: str | None = None, category: str = "success"):
    if message:
        flash(message, category)
    return redirect(url_for("tenants.members"))


@blueprint.post("/settings/members/invite")
@role_required(Role.ADMIN)
def invite():
    try:
        invitation, _link = service.invite(g.tenant, g.membership, email=request.form.get("email", ""),
                                           role=request.form.get("role", "member"))
    except service.WorkspaceError as error:
        db.session.rollback()
        return _back_to_members(str(error), "error")
    db.session.commit()
    return _back_to_members(_("Invitation sent to %(email)s.", email=invitation.email))


@blueprint.post("/settings/members/<int:user_id>/role")
@role_required(Role.ADMIN)
def change_role(user_id: int):
    try:
        service.change_role(g.tenant, g.membership, user_id, request.form.get("role", ""))
    except LookupError:
        abort(404)
    except service.WorkspaceError as error:
        db.session.rollback()
        return _back_to_members(str(error), "error")
    db.session.commit()
    return _back_to_members(_("Role changed."))


@blueprint.post("/settings/members/<int:user_id>/remove")
@role_required(Role.ADMIN)
def remove(user_id: int):
    try:
        service.remove_member(g.tenant, g.membership, user_id)
    except LookupError:
        abort(404)
    except service.WorkspaceError as error:
        db.session.rollback()
        return _back_to_members(str(error), "error")
    db.session.commit()
    return _back_to_members(_("Member removed."))


@blueprint.post("/settings/invitations/<int:invitation_id>/revoke")
@role_required(Role.ADMIN)
def revoke_invitation(invitation_id: int):
    try:
        service.revoke_invitation(g.tenant, g.membership, invitation_id)
    except service.WorkspaceError as error:
        db.session.rollback()
        return _back_to_members(str(error), "error")
    db.session.commit()
    return _back_to_members(_("Invitation withdrawn."))


@blueprint.post("/settings/leave")
@login_required
def leave():
    _workspace_only()
    if request.form.get("confirm") != g.tenant.slug:
        return _back_to_members(_("Type the workspace address to confirm that you want to leave."), "error")
    try:
        service.remove_member(g.tenant, g.membership, g.user.id)
    except service.WorkspaceError as error:
        db.session.rollback()
        return _back_to_members(str(error), "error")
    db.session.commit()
    flash(_("You left %(name)s.", name=g.tenant.name), "info")
    return redirect(current_app.config["KUNDO"].root_url() + url_for("tenants.workspaces"))


@blueprint.route("/invitations/<secret>", methods=["GET", "POST"])
@limiter.limit(_signup_limit, methods=["POST"],
               error_message=lambda: _("Too many attempts from here. Wait a minute and try again."))
def accept_invitation(secret: str):
    if g.get("tenant") is None:
        abort(404)
    try:
        invitation = service.find_invitation(g.tenant, secret)
    except service.WorkspaceError as error:
        return render_template("auth/message.html", title=_("Invitation not valid"), message=str(error)), 410
    existing = auth_service.find_user_by_email(invitation.email)
    errors: dict[str, str] = {}
    if request.method == "POST":
        user = g.get("user")
        if user is None and existing is not None:
            user = auth_service.authenticate(invitation.email, request.form.get("password", ""))
            if user is None:
                errors["password"] = _("The password is wrong.")
        elif user is None:
            try:
                user = auth_service.create_user(email=invitation.email, name=request.form.get("name", ""),
                                                password=request.form.get("password", ""),
                                                locale=str(get_locale() or "en"))
            except (auth_service.AuthError, WeakPassword) as error:
                field = "password" if isinstance(error, WeakPassword) else error.field
                errors[field if field in ("password", "name") else "form"] = str(error)
        if not errors:
            try:
                service.accept_invitation(invitation, user)
            except service.WorkspaceError as error:
                db.session.rollback()
                errors["form"] = str(error)
            else:
                login_user(user)
                db.session.commit()
                flash(_("Welcome to %(name)s!", name=g.tenant.name), "success")
                return redirect(url_for("web.index"))
        db.session.rollback()
    return render_template("tenants/accept_invitation.html", invitation=invitation, existing=existing,
                           errors=errors), 400 if errors else 200
