"""API: custom property definitions per object type (contact, company)."""

from __future__ import annotations

from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint

from kundo.crm.contacts.problems import tenant_work
from kundo.crm.properties import service
from kundo.crm.properties.schemas import (
    PropertyDefinitionCreateSchema,
    PropertyDefinitionPatchSchema,
    PropertyDefinitionSchema,
    PropertyDeleteArgsSchema,
)
from kundo.platform.api import token_required
from kundo.platform.errors import Problem
from kundo.tenants.models import Role

blueprint = Blueprint("api_crm_properties", __name__, url_prefix="/api/v1", description="CRM: custom properties")

OBJECT_TYPE = "any(" + ", ".join(service.OBJECT_TYPES) + "):object_type"


@blueprint.route(f"/properties/<{OBJECT_TYPE}>")
class Properties(MethodView):
    @token_required("read")
    @blueprint.response(200, PropertyDefinitionSchema(many=True))
    def get(self, object_type: str):
        """The custom properties of contacts or companies, in display order"""
        with tenant_work(commit=False) as session:
            return list(service.definitions_for(session, object_type).values())

    @token_required("write", role=Role.ADMIN)
    @blueprint.arguments(PropertyDefinitionCreateSchema)
    @blueprint.response(201, PropertyDefinitionSchema)
    def post(self, data, object_type: str):
        """Add a custom property"""
        with tenant_work(properties_field=None) as session:
            return service.create_definition(session, object_type, **data)


@blueprint.route(f"/properties/<{OBJECT_TYPE}>/<string:key>")
class PropertyByKey(MethodView):
    @token_required("read")
    @blueprint.response(200, PropertyDefinitionSchema)
    def get(self, object_type: str, key: str):
        """One custom property"""
        with tenant_work(commit=False) as session:
            return service.get_definition(session, object_type, key)

    @token_required("write", role=Role.ADMIN)
    @blueprint.arguments(PropertyDefinitionPatchSchema)
    @blueprint.response(200, PropertyDefinitionSchema)
    def patch(self, data, object_type: str, key: str):
        """Change a property's label, options, required flag or position"""
        with tenant_work(properties_field=None) as session:
            return service.update_definition(session, object_type, key, **data)

    @token_required("write", role=Role.ADMIN)
    @blueprint.arguments(PropertyDeleteArgsSchema, location="query")
    @blueprint.response(204)
    def delete(self, args, object_type: str, key: str):
        """Delete a property and its value on every record (needs `?confirm=true`)"""
        with tenant_work(properties_field=None) as session:
            definition = service.get_definition(session, object_type, key)
            if not args["confirm"]:
                count = service.count_values(session, object_type, definition.key)
                message = _("Deleting “%(key)s” also deletes its value on %(count)s records. Repeat the request "
                            "with ?confirm=true to go ahead.", key=key, count=count)
                raise Problem(400, message, errors={"confirm": [message]})
            service.delete_definition(session, object_type, key)
