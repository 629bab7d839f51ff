"""API: who am I, and my personal API tokens."""

from __future__ import annotations

from flask import abort, g
from flask.views import MethodView
from flask_smorest import Blueprint

from kundo.platform.api import token_required
from kundo.platform.auth.models import ApiToken
from kundo.platform.auth.schemas import ApiTokenSchema, MeSchema, NewApiTokenSchema
from kundo.platform.auth.service import AuthError, create_api_token, list_api_tokens, revoke_api_token
from kundo.platform.db import db

blueprint = Blueprint("api_auth", __name__, url_prefix="/api/v1", description="The signed-in user and API tokens")


@blueprint.route("/me")
class Me(MethodView):
    @token_required("read")
    @blueprint.response(200, MeSchema)
    def get(self):
        """Who the token belongs to, in which workspace, with which role"""
        return {"user": g.user, "tenant": g.tenant, "membership": g.membership, "token_scopes": g.api_token.scopes}


@blueprint.route("/tokens")
class Tokens(MethodView):
    @token_required("read")
    @blueprint.response(200, ApiTokenSchema(many=True))
    def get(self):
        """List my API tokens in this workspace"""
        return list_api_tokens(g.tenant.id, g.user.id)

    @token_required("admin")
    @blueprint.arguments(ApiTokenSchema)
    @blueprint.response(201, NewApiTokenSchema)
    def post(self, data):
        """Create an API token (needs a token with the `admin` scope)"""
        try:
            token, plain = create_api_token(tenant_id=g.tenant.id, user=g.user, name=data["name"],
                                            scopes=data["scopes"])
        except AuthError as error:
            abort(422, description=str(error))
        db.session.commit()
        result = NewApiTokenSchema().dump(token)
        result["token"] = plain
        return result


@blueprint.route("/tokens/<int:token_id>")
class TokenById(MethodView):
    @token_required("admin")
    @blueprint.response(204)
    def delete(self, token_id: int):
        """Revoke one of my API tokens"""
        token = db.session.get(ApiToken, token_id)
        if token is None or token.tenant_id != g.tenant.id or token.user_id != g.user.id:
            abort(404, description="No such token.")
        revoke_api_token(token, g.user)
        db.session.commit()
