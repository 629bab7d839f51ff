"""API: who am I, and my personal API tokens."""

from __future__ import annotations

from flask import abort, g
from flask.views import MethodView
from flask_smorest import Blueprint

from kundo.platform.api import token_required
from kundo.platform.auth.models import ApiToken
from kundo.platform.auth.schemas import ApiTokenCreateSchema, ApiTokenSchema, MeSchema, NewApiTokenSchema
from kundo.platform.auth.service import AuthError, create_api_token, list_api_tokens, revoke_api_token
from kundo.platform.db import db
from kundo.platform.errors import Problem

blueprint = Blueprint("api_auth", __name__, url_prefix="/api/v1", description="The signed-in user and API tokens")


@blueprint.route("/me")
class Me(MethodView):
    @token_required("read")
    @blueprint.response(200, MeSchema)
    def get(self):
        """Who the token belongs to, in which workspace, with which role"""
        return {"user": g.user, "workspace": g.tenant, "role": g.membership.role, "token_scopes": g.api_token.scopes}


@blueprint.route("/tokens")
class Tokens(MethodView):
    @token_required("read")
    @blueprint.response(200, ApiTokenSchema(many=True))
    def get(self):
        """List my API tokens in this workspace, newest first"""
        return list_api_tokens(g.tenant.id, g.user.id)

    @token_required("admin")
    @blueprint.arguments(ApiTokenCreateSchema)
    @blueprint.response(201, NewApiTokenSchema)
    def post(self, data):
        """Create an API token; its value is in the answer and never shown again"""
        try:
            token, plain = create_api_token(tenant_id=g.tenant.id, user=g.user, name=data["name"],
                                            scopes=data["scopes"])
        except AuthError as error:
            db.session.rollback()
            raise Problem(422, str(error), errors={"name": [str(error)]}) from error
        db.session.commit()
        # The plain value exists only now; it is never stored, so it is not an attribute.
        return {**{name: getattr(token, name) for name in ApiTokenSchema().fields}, "token": plain}


@blueprint.route("/tokens/<int(max=9223372036854775807):token_id>")
class TokenById(MethodView):
    @token_required("admin")
    @blueprint.response(204)
    def delete(self, token_id: int):
        """Revoke one of my API tokens; it stops working at once"""
        token = db.session.get(ApiToken, token_id)
        if token is None or token.tenant_id != g.tenant.id or token.user_id != g.user.id:
            abort(404, description="You have no token with this id in this workspace.")
        revoke_api_token(token, g.user)
        db.session.commit()
