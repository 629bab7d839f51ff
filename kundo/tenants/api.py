"""API: the workspace, its members and invitations."""

from __future__ import annotations

from flask import abort, current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kundo.platform.api import paginate, token_required
from kundo.platform.db import db
from kundo.platform.errors import Problem
from kundo.tenants import service
from kundo.tenants.models import Membership, Role
from kundo.tenants.resolution import current_tenant_db
from kundo.tenants.schemas import (
    InvitationCreateSchema,
    InvitationSchema,
    MemberPageSchema,
    MemberPatchSchema,
    MemberQueryArgsSchema,
    MemberSchema,
    WorkspacePatchSchema,
    WorkspaceSchema,
)
from kundo.tenants.workspace import WorkspaceProfile

blueprint = Blueprint("api_workspace", __name__, url_prefix="/api/v1",
                      description="The workspace, its members and invitations")

#: Ids are PostgreSQL bigints; a larger number in the URL is simply not found.
ID = "int(max=9223372036854775807)"


def _workspace_view(profile: WorkspaceProfile) -> dict:
    tenant = g.tenant
    return {
        "id": tenant.id, "slug": tenant.slug, "name": tenant.name, "status": tenant.status,
        "locale": tenant.locale, "created_at": tenant.created_at,
        "url": current_app.config["KUNDO"].workspace_url(tenant.slug),
        "company_name": profile.company_name, "address": profile.address,
        "currency": profile.currency, "timezone": profile.timezone,
    }


@blueprint.route("/workspace")
class Workspace(MethodView):
    @token_required("read")
    @blueprint.response(200, WorkspaceSchema)
    def get(self):
        """The workspace this token belongs to"""
        return _workspace_view(current_tenant_db().get(WorkspaceProfile, 1))

    @token_required("write", role=Role.ADMIN)
    @blueprint.arguments(WorkspacePatchSchema)
    @blueprint.response(200, WorkspaceSchema)
    def patch(self, data):
        """Change the workspace's name, language or profile"""
        tenant_db = current_tenant_db()
        profile = tenant_db.get(WorkspaceProfile, 1)
        if "name" in data:
            g.tenant.name = data["name"]
            profile.company_name = data["name"]
        if "locale" in data:
            g.tenant.locale = data["locale"]
        for key in ("address", "currency", "timezone"):
            if key in data:
                setattr(profile, key, data[key])
        tenant_db.commit()
        db.session.commit()
        return _workspace_view(profile)


@blueprint.route("/members")
class Members(MethodView):
    @token_required("read")
    @blueprint.arguments(MemberQueryArgsSchema, location="query", unknown=RAISE)
    @blueprint.response(200, MemberPageSchema)
    def get(self, args):
        """List the workspace's members, ordered by user id, one page at a time"""
        query = (select(Membership).where(Membership.tenant_id == g.tenant.id)
                 .options(selectinload(Membership.user)))
        items, next_cursor = paginate(query, key_columns=[Membership.user_id], limit=args["limit"],
                                      cursor=args["cursor"], session=db.session)
        return {"items": items, "next_cursor": next_cursor}


def _member_or_404(user_id: int) -> Membership:
    try:
        return service.get_member(g.tenant, user_id)
    except LookupError:
        abort(404, description="No member with this id in this workspace.")


def _refusal_status(target: Membership, new_role: Role | None = None) -> int:
    """403 when the actor lacks the rank for this change, 409 when the workspace's state
    (its last owner) forbids it — the service says why in either case."""
    actor_role = Role(g.membership.role)
    if actor_role == Role.OWNER:
        return 409
    touches_owner = Role.OWNER in (target.role, new_role)
    acts_on_someone_else = target.user_id != g.membership.user_id
    if touches_owner or (acts_on_someone_else and not actor_role.at_least(Role.ADMIN)):
        return 403
    return 409


@blueprint.route(f"/members/<{ID}:user_id>")
class MemberById(MethodView):
    @token_required("read")
    @blueprint.response(200, MemberSchema)
    def get(self, user_id: int):
        """One member of the workspace"""
        return _member_or_404(user_id)

    @token_required("write", role=Role.ADMIN)
    @blueprint.arguments(MemberPatchSchema)
    @blueprint.response(200, MemberSchema)
    def patch(self, data, user_id: int):
        """Change a member's role (granting or taking the owner role needs an owner)"""
        target = _member_or_404(user_id)
        try:
            membership = service.change_role(g.tenant, g.membership, user_id, data["role"])
        except service.WorkspaceError as error:
            db.session.rollback()
            abort(_refusal_status(target, Role(data["role"])), description=str(error))
        db.session.commit()
        return membership

    @token_required("write")
    @blueprint.response(204)
    def delete(self, user_id: int):
        """Remove a member (admins), or leave the workspace (your own user id)"""
        target = _member_or_404(user_id)
        try:
            service.remove_member(g.tenant, g.membership, user_id)
        except service.WorkspaceError as error:
            db.session.rollback()
            abort(_refusal_status(target), description=str(error))
        db.session.commit()


@blueprint.route("/invitations")
class Invitations(MethodView):
    @token_required("read", role=Role.ADMIN)
    @blueprint.response(200, InvitationSchema(many=True))
    def get(self):
        """List the open invitations"""
        return service.open_invitations(g.tenant)

    @token_required("write", role=Role.ADMIN)
    @blueprint.arguments(InvitationCreateSchema)
    @blueprint.response(201, InvitationSchema)
    def post(self, data):
        """Invite someone by e-mail (inviting an owner needs an owner)"""
        try:
            invitation, _link = service.invite(g.tenant, g.membership, email=data["email"], role=data["role"])
        except service.WorkspaceError as error:
            db.session.rollback()
            if data["role"] == Role.OWNER and g.membership.role != Role.OWNER:
                abort(403, description=str(error))
            raise Problem(422, str(error), errors={error.field or "email": [str(error)]}) from error
        db.session.commit()
        return invitation
