"""Pages for logging in and out, password reset, e-mail verification, hand-offs
between workspace hosts, the personal profile and API tokens."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from kundo.platform.audit.service import record_audit
from kundo.platform.auth import service
from kundo.platform.auth.models import ApiToken, User
from kundo.platform.auth.session import load_membership, login_required, login_user, logout_user
from kundo.platform.db import db
from kundo.platform.mail.service import send_mail
from kundo.platform.security import WeakPassword, limiter
from kundo.tenants.models import Tenant

blueprint = Blueprint("auth", __name__, template_folder="templates")


def _login_limit() -> str:
    return current_app.config["KUNDO"].login_rate_limit


def _reset_limit() -> str:
    return current_app.config["KUNDO"].reset_rate_limit


def _safe_next(default: str) -> str:
    target = request.values.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return default


def handoff_url(user: User, tenant: Tenant, next_path: str = "/") -> str:
    """A link that signs `user` in on `tenant`'s own host (cookies are per host)."""
    token = service.issue_one_time_token("handoff", user, tenant.id)
    base = current_app.config["KUNDO"].workspace_url(tenant.slug)
    return f"{base}{url_for('auth.handoff', token=token, next=next_path)}"


@blueprint.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"],
               error_message=lambda: _("Too many login attempts. Wait a minute and try again."))
def login():
    tenant = g.get("tenant")
    if request.method == "GET" and g.get("user") is not None and (tenant is None or g.get("membership")):
        return redirect(_safe_next(url_for("web.index")))
    error = None
    email = request.form.get("email", "")
    if request.method == "POST":
        user = service.authenticate(email, request.form.get("password", ""))
        if user is None:
            error = _("E-mail or password is wrong.")
            record_audit("user.login_failed", tenant_id=tenant.id if tenant else None,
                         data={"email_domain": email.rpartition("@")[2][:100]})
            db.session.commit()
        elif tenant is not None and load_membership(tenant.id, user.id) is None:
            error = _("You are not a member of this workspace. Ask one of its admins for an invitation.")
        else:
            chosen_locale = session.get("locale")
            login_user(user)
            if chosen_locale:
                # A language picked on this login page a moment ago is the person's choice.
                session["locale"] = user.locale = chosen_locale
            record_audit("user.login", tenant_id=tenant.id if tenant else None, actor_user_id=user.id,
                         target=f"user:{user.id}")
            db.session.commit()
            if tenant is not None:
                return redirect(_safe_next(url_for("web.index")))
            return redirect(url_for("tenants.workspaces"))
    return render_template("auth/login.html", error=error, email=email, next=request.values.get("next", "")), (
        401 if error else 200)


@blueprint.post("/logout")
def logout():
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@blueprint.get("/auth/handoff")
def handoff():
    tenant = g.get("tenant")
    if tenant is None:
        abort(404)
    try:
        token = service.consume_one_time_token("handoff", request.args.get("token", ""))
    except service.AuthError as error:
        flash(str(error), "error")
        return redirect(url_for("auth.login"))
    if token.tenant_id != tenant.id:
        abort(404)
    user = db.session.get(User, token.user_id)
    if load_membership(tenant.id, user.id) is None:
        abort(403, description=_("You are not a member of this workspace."))
    login_user(user)
    db.session.commit()
    return redirect(_safe_next("/"))


@blueprint.get("/switch/<slug>")
@login_required
def switch(slug: str):
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None or load_membership(tenant.id, g.user.id) is None:
        abort(404, description=_("You are not a member of that workspace."))
    url = handoff_url(g.user, tenant)
    db.session.commit()
    return redirect(url)


@blueprint.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"],
               error_message=lambda: _("Too many requests. Wait a minute and try again."))
def forgot_password():
    sent = False
    if request.method == "POST":
        user = service.find_user_by_email(request.form.get("email", ""))
        if user is not None:
            token = service.issue_one_time_token("password_reset", user)
            link = f"{_reset_base_url(user)}{url_for('auth.reset_password', token=token)}"
            send_mail(user.email, _("Reset your Kundo password"),
                      _("Hello %(name)s,\n\nset a new password here:\n%(link)s\n\n"
                        "The link works once and expires in one hour. If you did not ask for it, ignore this mail.",
                        name=user.name, link=link))
            db.session.commit()
        sent = True  # the same answer either way: nobody learns who has an account
    return render_template("auth/forgot.html", sent=sent)


def _reset_base_url(user: User) -> str:
    """Where the reset link leads: this workspace for its members, else the root domain,
    where the person lands on their workspace chooser instead of a "not a member" page.
    From the settings, not the request, so the scheme is right behind a TLS proxy."""
    settings = current_app.config["KUNDO"]
    tenant = g.get("tenant")
    if tenant is not None and load_membership(tenant.id, user.id) is not None:
        return settings.workspace_url(tenant.slug)
    return settings.root_url()


@blueprint.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    error = None
    if request.method == "POST":
        password = request.form.get("password", "")
        if password != request.form.get("password_confirm", ""):
            error = _("The two passwords differ.")
        else:
            try:
                user = service.reset_password(token, password)
            except (service.AuthError, WeakPassword) as exc:
                db.session.rollback()
                error = str(exc)
            else:
                login_user(user)
                db.session.commit()
                flash(_("Your password is changed and you are logged in."), "success")
                return redirect(url_for("web.index") if g.get("tenant") else url_for("tenants.workspaces"))
    return render_template("auth/reset.html", error=error, token=token), 400 if error else 200


@blueprint.get("/verify/<token>")
def verify(token: str):
    try:
        service.verify_email(token)
    except service.AuthError as error:
        db.session.rollback()
        return render_template("auth/message.html", title=_("Link not valid"), message=str(error)), 400
    db.session.commit()
    flash(_("Thank you — your e-mail address is confirmed."), "success")
    return redirect(url_for("web.index"))


@blueprint.post("/verify/resend")
@login_required
def resend_verification():
    from kundo.tenants.service import send_verification_mail

    send_verification_mail(g.user, g.get("tenant"))
    db.session.commit()
    flash(_("We sent you a new confirmation link."), "info")
    return redirect(url_for("web.index"))


@blueprint.post("/locale")
def set_locale():
    locale = request.form.get("locale")
    if locale in ("en", "de"):
        session["locale"] = locale
        if g.get("user") is not None:
            g.user.locale = locale
            db.session.commit()
    return redirect(_safe_next(url_for("web.index")))


@blueprint.route("/account", methods=["GET", "POST"])
@login_required
def account():
    if g.get("tenant") is None:
        abort(404)  # the profile lives in the workspace shell; the root domain has none
    errors = {}
    if request.method == "POST":
        try:
            name = service.valid_name(request.form.get("name", ""))
        except service.AuthError as error:
            errors["name"] = str(error)
        new_password = request.form.get("new_password", "")
        if new_password:
            if not service.authenticate(g.user.email, request.form.get("current_password", "")):
                errors["current_password"] = _("Your current password is wrong.")
            else:
                try:
                    service.set_password(g.user, new_password)
                except WeakPassword as error:
                    errors["new_password"] = str(error)
        if not errors:
            g.user.name = name
            locale = request.form.get("locale")
            if locale in ("en", "de"):
                g.user.locale = locale
                session["locale"] = locale
            if new_password:
                login_user(g.user)  # keeps this session valid, signs out the others
            db.session.commit()
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("auth.account"))
        db.session.rollback()
    return render_template("auth/account.html", errors=errors), 400 if errors else 200


@blueprint.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    tenant = g.get("tenant")
    if tenant is None:
        abort(404)
    created = None
    error = None
    if request.method == "POST":
        try:
            token, created = service.create_api_token(
                tenant_id=tenant.id, user=g.user, name=request.form.get("name", ""),
                scopes=request.form.getlist("scopes") or ["read"])
            db.session.commit()
        except service.AuthError as exc:
            db.session.rollback()
            error = str(exc)
    return render_template("auth/tokens.html", tokens=service.list_api_tokens(tenant.id, g.user.id),
                           created=created, error=error, scopes=service.API_TOKEN_SCOPES), 400 if error else 200


@blueprint.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    token = db.session.get(ApiToken, token_id)
    tenant = g.get("tenant")
    if token is None or tenant is None or token.tenant_id != tenant.id or token.user_id != g.user.id:
        abort(404)
    service.revoke_api_token(token, g.user)
    db.session.commit()
    flash(_("The token “%(name)s” is revoked.", name=token.name), "success")
    return redirect(url_for("auth.tokens"))
