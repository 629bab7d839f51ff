"""API: the workspace, its members and invitations."""

from __future__ import annotations

from flask import abort, current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

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


def _workspace_view():
    profile = current_tenant_db().get(WorkspaceProfile, 1)
    tenant = g.tenant
    return {
        "id": tenant.id, "slug": tenant.slug, "name": tenant.name, "status": tenant.status,
        "locale": tenant.locale, "created_at": tenant.created_at,
        "url": current_app.config["KUNDO"].workspace_url(tenant.slug),
        "company_name": profile.company_name, "address": profile.address,
        "currency": profile.currency, "timezone": profile.timezone,
    }


class _View(dict):
    """Lets fields.Function lambdas read dict keys as attributes."""

    __getattr__ = dict.get


@blueprint.route("/workspace")
class Workspace(MethodView):
    @token_required("read")
    @blueprint.response(200, WorkspaceSchema)
    def get(self):
        """The workspace this token belongs to"""
        return _View(_workspace_view())

    @token_required("write", role=Role.ADMIN)
    @blueprint.arguments(WorkspacePatchSchema)
    @blueprint.response(200, WorkspaceSchema)
    def patch(self, data):
        """Change the workspace's name, language or profile (admins)"""
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
        return _View(_workspace_view())


@blueprint.route("/members")
class Members(MethodView):
    @token_required("read")
    @blueprint.arguments(MemberQueryArgsSchema, location="query")
    @blueprint.response(200, MemberPageSchema)
    def get(self, args):
        """List the workspace's members (cursor-paginated by user id)"""
        query = select(Membership).where(Membership.tenant_id == g.tenant.id)
        items, next_cursor = paginate(query, key_columns=[Membership.user_id], limit=args["limit"],
                                      cursor=args["cursor"], session=db.session)
        return {"items": items, "next_cursor": next_cursor}


def _member_or_404(user_id: int) -> Membership:
    try:
        return service.get_member(g.tenant, user_id)
    except LookupError:
        abort(404, description="No member with this id in this workspace.")


@blueprint.route("/members/<int:user_id>")
class MemberById(MethodView):
    @token_required("read")
    @blueprint.response(200, MemberSchema)
    def get(self, user_id: int):
        """One member"""
        return _member_or_404(user_id)

    @token_required("write", role=Role.ADMIN)
    @blueprint.arguments(MemberPatchSchema)
    @blueprint.response(200, MemberSchema)
    def patch(self, data, user_id: int):
        """Change a member's role (admins; owner changes need an owner)"""
        _member_or_404(user_id)
        try:
            membership = service.change_role(g.tenant, g.membership, user_id, data["role"])
        except service.WorkspaceError as error:
            db.session.rollback()
            abort(409, description=str(error))
        db.session.commit()
        return membership

    @token_required("write")
    @blueprint.response(204)
    def delete(self, user_id: int):
        """Remove a member (admins), or leave the workspace (your own id)"""
        _member_or_404(user_id)
        try:
            service.remove_member(g.tenant, g.membership, user_id)
        except service.WorkspaceError as error:
            db.session.rollback()
            status = 403 if not Role(g.membership.role).at_least(Role.ADMIN) else 409
            abort(status, description=str(error))
        db.session.commit()


@blueprint.route("/invitations")
class Invitations(MethodView):
    @token_required("read", role=Role.ADMIN)
    @blueprint.response(200, InvitationSchema(many=True))
    def get(self):
        """Open invitations (admins)"""
        return service.open_invitations(g.tenant)

    @token_required("write", role=Role.ADMIN)
    @blueprint.arguments(InvitationCreateSchema)
    @blueprint.response(201, InvitationSchema)
    def post(self, data):
        """Invite someone by e-mail (admins)"""
        try:
            invitation, _link = service.invite(g.tenant, g.membership, email=data["email"], role=data["role"])
        except service.WorkspaceError as error:
            db.session.rollback()
            raise Problem(422, str(error), title="Invalid invitation", field=error.field) from error
        db.session.commit()
        return invitation
