"""Workspaces and their people: sign-up, invitations, roles, leaving.

Every function works inside the caller's control-plane transaction and raises
`WorkspaceError` with a message meant for the person who asked.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from kundo.platform.audit.service import record_audit
from kundo.platform.auth.models import User
from kundo.platform.auth.service import (
    AuthError,
    create_user,
    find_user_by_email,
    issue_one_time_token,
    valid_email,
)
from kundo.platform.db import db, utcnow, violates_unique
from kundo.platform.mail.service import send_mail
from kundo.platform.security import WeakPassword, hash_secret, new_secret
from kundo.tenants.models import Invitation, Membership, Role, Tenant, TenantStatus
from kundo.tenants.provisioning import drop_tenant_storage, provision_tenant
from kundo.tenants.slugs import InvalidSlug, validate_slug

INVITATION_LIFETIME = timedelta(days=7)
#: app.extensions keys other features fill in: callables (tenant, owner) run when a workspace was
#: created (in its transaction), and (tenant) -> None | refusal asked before an invitation.
WORKSPACE_CREATED_HOOKS_KEY = "kundo.workspace_created_hooks"
INVITE_CHECKS_KEY = "kundo.invite_checks"


class WorkspaceError(ValueError):
    """A refusal to show as it is; `field` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def database_name() -> str:
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).database or "kundo"


def slug_availability(raw: str) -> tuple[bool, str]:
    """(available, message) for the live check on the sign-up form."""
    try:
        slug = validate_slug(raw)
    except InvalidSlug as error:
        return False, str(error)
    if db.session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        return False, _("“%(slug)s” is already taken. Try another address.", slug=slug)
    return True, _("%(slug)s is available.", slug=slug)


def create_workspace(*, slug: str, name: str, owner: User, locale: str = "en") -> Tenant:
    """Provision a workspace with `owner` as its first owner (caller commits)."""
    name = (name or "").strip()
    if not name:
        raise WorkspaceError(_("Enter your company name."), "company_name")
    try:
        slug = validate_slug(slug)
    except InvalidSlug as error:
        raise WorkspaceError(str(error), "slug") from error
    if db.session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise WorkspaceError(_("“%(slug)s” is already taken. Try another address.", slug=slug), "slug")
    try:
        with db.session.begin_nested():
            tenant = provision_tenant(db.session, slug=slug, name=name[:200], locale=locale,
                                      database_name=database_name())
    except IntegrityError as error:  # a concurrent sign-up took the address after the check above
        if not violates_unique(error, "uq_tenants_slug"):
            raise
        raise WorkspaceError(_("“%(slug)s” is already taken. Try another address.", slug=slug), "slug") from error
    db.session.add(Membership(tenant_id=tenant.id, user_id=owner.id, role=Role.OWNER))
    db.session.flush()
    for hook in current_app.extensions.get(WORKSPACE_CREATED_HOOKS_KEY, ()):
        hook(tenant, owner)  # billing: the Stripe customer
    return tenant


def sign_up(*, company_name: str, slug: str, name: str, email: str, password: str, locale: str = "en"):
    """Self-service sign-up: a new user, their workspace, and a verification e-mail.

    Returns (tenant, user). Nothing is committed here; a failure anywhere rolls back
    the user, the tenant row, its role, schema and tables together.
    """
    missing = [label for label, value in (
        ("company_name", company_name), ("slug", slug), ("name", name), ("email", email), ("password", password),
    ) if not (value or "").strip()]
    if missing:
        raise WorkspaceError(_("Please fill in every field."), missing[0])
    try:
        validate_slug(slug)
    except InvalidSlug as error:
        raise WorkspaceError(str(error), "slug") from error
    try:
        user = create_user(email=email, name=name, password=password, locale=locale)
    except WeakPassword as error:
        raise WorkspaceError(str(error), "password") from error
    except AuthError as error:
        raise WorkspaceError(str(error), error.field or "email") from error
    tenant = create_workspace(slug=slug, name=company_name, owner=user, locale=locale)
    send_verification_mail(user, tenant)
    record_audit("tenant.signed_up", tenant_id=tenant.id, actor_user_id=user.id,
                 target=f"tenant:{tenant.slug}", data={"company": tenant.name})
    return tenant, user


def send_verification_mail(user: User, tenant: Tenant | None) -> None:
    settings = current_app.config["KUNDO"]
    token = issue_one_time_token("verify_email", user, tenant.id if tenant else None)
    base = settings.workspace_url(tenant.slug) if tenant else settings.root_url()
    send_mail(
        user.email,
        _("Confirm your e-mail address for Kundo"),
        _("Hello %(name)s,\n\nplease confirm your e-mail address:\n%(link)s\n\nThe link is valid for 3 days.",
          name=user.name, link=f"{base}/verify/{token}"),
    )


def memberships_of(user: User) -> list[Membership]:
    return list(db.session.scalars(
        select(Membership).join(Tenant).where(Membership.user_id == user.id).order_by(Tenant.name)
    ))


def members_of(tenant: Tenant) -> list[Membership]:
    return list(db.session.scalars(
        select(Membership).join(User).where(Membership.tenant_id == tenant.id).order_by(User.name)
    ))


def open_invitations(tenant: Tenant) -> list[Invitation]:
    return list(db.session.scalars(
        select(Invitation).where(
            Invitation.tenant_id == tenant.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        ).order_by(Invitation.created_at.desc())
    ))


def _require(actor: Membership, role: Role) -> None:
    if not Role(actor.role).at_least(role):
        raise WorkspaceError(_("This needs the %(role)s role in this workspace.", role=role.value))


def invite(tenant: Tenant, actor: Membership, *, email: str, role: Role | str) -> tuple[Invitation, str]:
    """Invite someone by e-mail; returns the invitation and the link sent."""
    _require(actor, Role.ADMIN)
    email = (email or "").strip()
    try:
        role = Role(role)
    except ValueError as error:
        raise WorkspaceError(_("Choose a role: owner, admin or member."), "role") from error
    if role == Role.OWNER and actor.role != Role.OWNER:
        raise WorkspaceError(_("Only owners can invite owners."), "role")
    try:
        email = valid_email(email)
    except AuthError as error:
        raise WorkspaceError(str(error), "email") from error
    for check in current_app.extensions.get(INVITE_CHECKS_KEY, ()):
        refusal = check(tenant)  # billing: paid seats
        if refusal:
            raise WorkspaceError(refusal, "email")
    existing = find_user_by_email(email)
    if existing is not None and db.session.scalar(
        select(Membership.id).where(Membership.tenant_id == tenant.id, Membership.user_id == existing.id)
    ):
        raise WorkspaceError(_("%(email)s is already a member of this workspace.", email=email), "email")
    for pending in db.session.scalars(select(Invitation).where(
        Invitation.tenant_id == tenant.id, func.lower(Invitation.email) == email.lower(),
        Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None),
    )):
        pending.revoked_at = utcnow()  # a new invitation replaces an older one
    db.session.flush()
    secret = new_secret()
    invitation = Invitation(
        tenant_id=tenant.id, email=email, role=role, token_hash=hash_secret(secret),
        invited_by_id=actor.user_id, expires_at=utcnow() + INVITATION_LIFETIME,
    )
    db.session.add(invitation)
    db.session.flush()
    link = f"{current_app.config['KUNDO'].workspace_url(tenant.slug)}/invitations/{secret}"
    inviter = db.session.get(User, actor.user_id)
    send_mail(
        email,
        _("%(name)s invites you to %(workspace)s on Kundo", name=inviter.name, workspace=tenant.name),
        _("Hello,\n\n%(name)s invites you to join the workspace “%(workspace)s” as %(role)s.\n\n"
          "Accept the invitation:\n%(link)s\n\nThe link is valid for 7 days.",
          name=inviter.name, workspace=tenant.name, role=role.value, link=link),
    )
    record_audit("member.invited", tenant_id=tenant.id, actor_user_id=actor.user_id,
                 target=f"invitation:{invitation.id}", data={"role": role.value})
    return invitation, link


def find_invitation(tenant: Tenant, secret: str) -> Invitation:
    invitation = db.session.scalar(select(Invitation).where(
        Invitation.tenant_id == tenant.id, Invitation.token_hash == hash_secret(secret or "")
    ))
    if invitation is None or invitation.revoked_at is not None:
        raise WorkspaceError(_("This invitation is not valid any more. Ask for a new one."))
    if invitation.accepted_at is not None:
        raise WorkspaceError(_("This invitation has already been accepted. Log in to continue."))
    if invitation.expires_at <= utcnow():
        raise WorkspaceError(_("This invitation has expired. Ask an admin of the workspace for a new one."))
    return invitation


def accept_invitation(invitation: Invitation, user: User) -> Membership:
    """Make `user` a member; works for new and existing accounts."""
    if user.email.lower() != invitation.email.lower():
        raise WorkspaceError(_("This invitation was sent to %(email)s. Log in with that address.",
                               email=invitation.email))
    membership = db.session.scalar(select(Membership).where(
        Membership.tenant_id == invitation.tenant_id, Membership.user_id == user.id))
    if membership is None:
        membership = Membership(tenant_id=invitation.tenant_id, user_id=user.id, role=invitation.role)
        db.session.add(membership)
    invitation.accepted_at = utcnow()
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()  # the link proved the address
    db.session.flush()
    record_audit("member.joined", tenant_id=invitation.tenant_id, actor_user_id=user.id,
                 target=f"user:{user.id}", data={"role": Role(invitation.role).value})
    return membership


def revoke_invitation(tenant: Tenant, actor: Membership, invitation_id: int) -> None:
    _require(actor, Role.ADMIN)
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.tenant_id != tenant.id:
        raise WorkspaceError(_("No such invitation."))
    invitation.revoked_at = utcnow()


def _owner_count(tenant_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Membership).where(
        Membership.tenant_id == tenant_id, Membership.role == Role.OWNER))


def get_member(tenant: Tenant, user_id: int) -> Membership:
    membership = db.session.scalar(select(Membership).where(
        Membership.tenant_id == tenant.id, Membership.user_id == user_id))
    if membership is None:
        raise LookupError(user_id)
    return membership


def change_role(tenant: Tenant, actor: Membership, user_id: int, role: Role | str) -> Membership:
    _require(actor, Role.ADMIN)
    try:
        role = Role(role)
    except ValueError as error:
        raise WorkspaceError(_("Choose a role: owner, admin or member."), "role") from error
    target = get_member(tenant, user_id)
    if (role == Role.OWNER or target.role == Role.OWNER) and actor.role != Role.OWNER:
        raise WorkspaceError(_("Only owners can grant or take away the owner role."))
    if target.role == Role.OWNER and role != Role.OWNER:
        # Lock the owners so two owners demoting each other cannot both succeed.
        db.session.execute(select(Membership.id).where(
            Membership.tenant_id == tenant.id, Membership.role == Role.OWNER).with_for_update())
        if _owner_count(tenant.id) <= 1:
            raise WorkspaceError(_("A workspace needs at least one owner. Make someone else owner first."))
    old = Role(target.role)
    target.role = role
    record_audit("member.role_changed", tenant_id=tenant.id, actor_user_id=actor.user_id,
                 target=f"user:{user_id}", data={"from": old.value, "to": role.value})
    return target


def remove_member(tenant: Tenant, actor: Membership, user_id: int) -> None:
    if actor.user_id != user_id:
        _require(actor, Role.ADMIN)
    target = get_member(tenant, user_id)
    if target.role == Role.OWNER:
        if actor.role != Role.OWNER:
            raise WorkspaceError(_("Only owners can remove an owner."))
        db.session.execute(select(Membership.id).where(
            Membership.tenant_id == tenant.id, Membership.role == Role.OWNER).with_for_update())
        if _owner_count(tenant.id) <= 1:
            raise WorkspaceError(_("The last owner cannot leave or be removed. Make someone else owner first."))
    db.session.delete(target)
    record_audit("member.left" if actor.user_id == user_id else "member.removed",
                 tenant_id=tenant.id, actor_user_id=actor.user_id, target=f"user:{user_id}")


def set_tenant_status(tenant: Tenant, status: TenantStatus, reason: str | None = None) -> None:
    tenant.status = status
    tenant.suspended_reason = reason if status == TenantStatus.SUSPENDED else None
    record_audit(f"tenant.{status.value}", tenant_id=tenant.id, target=f"tenant:{tenant.slug}",
                 data={"reason": reason} if reason else {})


def delete_workspace(tenant: Tenant) -> None:
    """Drop schema and role and delete the row (caller commits)."""
    drop_tenant_storage(db.session, tenant)
    record_audit("tenant.deleted", target=f"tenant:{tenant.slug}", data={"schema": tenant.schema_name})
    db.session.delete(tenant)
