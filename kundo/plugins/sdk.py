"""The plugin SDK: everything a hub or third-party app may declare and contribute.

Plugins import this module, `kundo.crm` and `kundo.platform.events` — nothing else of
Kundo. A plugin is a class deriving from :class:`Plugin`, published under the entry-point
group ``kundo.plugins`` with its manifest id as the entry-point name. Each contribution is
a method returning plain data (dataclasses below), so the host decides when to call it,
catches what it raises and scopes it to the tenants that enabled the plugin.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from marshmallow import Schema, ValidationError, fields, validate, validates
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from kundo.platform.db import NAMING_CONVENTION, TENANT_SCHEMA_PLACEHOLDER
from kundo.platform.events.consumers import DeliveredEvent
from kundo.platform.web import NavItem

if TYPE_CHECKING:
    from flask import Blueprint, Flask
    from sqlalchemy.orm import Session

__all__ = [
    "DashboardWidget",
    "EventHandler",
    "Manifest",
    "ManifestSchema",
    "NavItem",
    "PERMISSIONS",
    "Plugin",
    "PluginEvent",
    "WorkflowAction",
    "WorkflowTrigger",
    "load_manifest",
    "plugin_model_base",
    "table_prefix",
]

#: Scopes a plugin may ask for; the tenant admin consents to them before enabling.
PERMISSIONS = (
    "contacts:read", "contacts:write",
    "companies:read", "companies:write",
    "timeline:read", "timeline:write",
    "tasks:read", "tasks:write",
    "events:read", "mail:send", "webhooks:call",
)

PLUGIN_ID = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
VERSION = re.compile(r"^\d+\.\d+\.\d+([.-]?[A-Za-z0-9.]+)?$")
CATEGORIES = ("sales", "marketing", "service", "productivity", "communication", "finance", "analytics", "other")


class PriceSchema(Schema):
    """Free, or a paid product billed per month in EUR cents (billing fills in the rest)."""

    model = fields.String(load_default="free", validate=validate.OneOf(("free", "monthly")))
    amount_cents = fields.Integer(load_default=0, validate=validate.Range(min=0))
    currency = fields.String(load_default="eur", validate=validate.OneOf(("eur",)))


class ManifestSchema(Schema):
    """What a plugin declares about itself; the marketplace validates uploads with it too."""

    id = fields.String(required=True, validate=validate.Regexp(PLUGIN_ID, error="lower-case letters, digits, _"))
    name = fields.String(required=True, validate=validate.Length(min=2, max=80))
    version = fields.String(required=True, validate=validate.Regexp(VERSION, error="a version such as 1.2.0"))
    publisher = fields.String(required=True, validate=validate.Length(min=2, max=80))
    summary = fields.String(required=True, validate=validate.Length(min=5, max=160))
    description = fields.String(load_default="", validate=validate.Length(max=20_000))
    categories = fields.List(fields.String(validate=validate.OneOf(CATEGORIES)), load_default=list)
    icon = fields.String(load_default="puzzle", validate=validate.Length(max=40))
    #: Other plugin ids this one needs enabled first ("crm" is core and always there).
    requires = fields.List(fields.String(validate=validate.Regexp(PLUGIN_ID)), load_default=list)
    #: A PEP 440 specifier on Kundo's version, e.g. ">=0.1,<1".
    kundo_version = fields.String(load_default=">=0.1")
    permissions = fields.List(fields.String(validate=validate.OneOf(PERMISSIONS)), load_default=list)
    price = fields.Nested(PriceSchema, load_default=lambda: PriceSchema().load({}))
    first_party = fields.Boolean(load_default=False)

    @validates("kundo_version")
    def _specifier(self, value: str, **_: Any) -> None:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            SpecifierSet(value)
        except InvalidSpecifier as error:
            raise ValidationError("not a version range such as >=0.1,<1") from error


@dataclass(frozen=True)
class Manifest:
    id: str
    name: str
    version: str
    publisher: str
    summary: str
    description: str = ""
    categories: tuple[str, ...] = ()
    icon: str = "puzzle"
    requires: tuple[str, ...] = ()
    kundo_version: str = ">=0.1"
    permissions: tuple[str, ...] = ()
    price: Mapping[str, Any] = field(default_factory=lambda: {"model": "free", "amount_cents": 0, "currency": "eur"})
    first_party: bool = False

    @property
    def is_paid(self) -> bool:
        return self.price.get("model", "free") != "free"


def load_manifest(data: Mapping[str, Any]) -> Manifest:
    """Validate a manifest mapping; raises marshmallow.ValidationError naming the fields."""
    loaded = ManifestSchema().load(dict(data))
    for key in ("categories", "requires", "permissions"):
        loaded[key] = tuple(loaded[key])
    return Manifest(**loaded)


def table_prefix(plugin_id: str) -> str:
    """Every table of plugin `plugin_id` starts with this (`sales_` for the Sales Hub)."""
    return f"{plugin_id}_"


def plugin_model_base(plugin_id: str) -> type[DeclarativeBase]:
    """A declarative base for one plugin's tenant tables.

    Why not `TenantModel`: its metadata is created in every tenant schema at sign-up,
    while a plugin's tables exist only where a tenant enabled it (its own migrations make
    them). The schema placeholder is the same ("tenant"), so `tenant_session` maps these
    models onto the tenant's schema like core ones. A table whose name does not start
    with ``<plugin_id>_`` is refused when the class is declared::

        Base = plugin_model_base("sales")

        class Pipeline(Base):
            __tablename__ = "sales_pipelines"
    """
    if not PLUGIN_ID.match(plugin_id):
        raise ValueError(f"{plugin_id!r} is not a plugin id (lower-case letters, digits, _)")
    prefix = table_prefix(plugin_id)

    class PluginModel(DeclarativeBase):
        metadata = MetaData(schema=TENANT_SCHEMA_PLACEHOLDER, naming_convention=NAMING_CONVENTION,
                            info={"kundo_plugin_id": plugin_id})

        def __init_subclass__(cls, **kwargs: Any) -> None:
            name = cls.__dict__.get("__tablename__")
            if name is not None and not str(name).startswith(prefix):
                raise ValueError(f"table {name!r} of plugin {plugin_id!r} must start with {prefix!r}")
            super().__init_subclass__(**kwargs)

    PluginModel.__name__ = PluginModel.__qualname__ = f"{plugin_id.title().replace('_', '')}Model"
    return PluginModel


#: What an event handler receives: one outbox event of a tenant that enabled the plugin.
PluginEvent = DeliveredEvent


@dataclass(frozen=True)
class EventHandler:
    """Runs once per event (idempotency is the host's job) inside the tenant's session."""

    event_type: str  # exact type such as "contact.created", or "*" for all
    handler: Callable[[Session, PluginEvent], None]
    name: str = ""  # stable consumer name within the plugin; defaults to the function name


@dataclass(frozen=True)
class WorkflowTrigger:
    """An event type a workflow can start from, with the object type its conditions look at."""

    event_type: str
    label: str  # English msgid
    object_type: str  # e.g. "contact", "deal"


@dataclass(frozen=True)
class WorkflowAction:
    """A step a workflow can run. `run` gets the tenant session, the enrolled object and validated params."""

    key: str  # globally unique, e.g. "sales.create_deal"
    label: str  # English msgid
    params_schema: type[Schema]
    run: Callable[..., Any]  # run(session, *, object_type, object_id, params, context) -> dict | None


@dataclass(frozen=True)
class DashboardWidget:
    """A card on the workspace dashboard; `render(session, tenant)` returns HTML (escaped by the plugin)."""

    key: str
    title: str  # English msgid
    render: Callable[..., str]
    order: int = 100


class Plugin:
    """Base class of every plugin. Override what you contribute; the defaults contribute nothing.

    Naming rules the host enforces: blueprints are named after the plugin id (``<id>`` or
    ``<id>_...``), tables start with ``<id>_``, workflow action keys with ``<id>.``.
    Page blueprints are mounted under ``/apps/<id>/`` and API blueprints under
    ``/api/v1/apps/<id>/``; both answer 404 for tenants that have not enabled the plugin.
    """

    #: Set by the subclass, usually ``load_manifest({...})``.
    manifest: ClassVar[Manifest]

    def init_app(self, app: Flask) -> None:
        """Called once at start-up after the host registered the plugin's blueprints."""

    def blueprints(self) -> list[Blueprint]:
        """Page blueprints (Flask), mounted under /apps/<id>/."""
        return []

    def api_blueprints(self) -> list[Blueprint]:
        """flask-smorest blueprints, mounted under /api/v1/apps/<id>/ and listed in the OpenAPI."""
        return []

    def migrations_path(self) -> Path | None:
        """The folder of this plugin's Alembic tenant migrations (with a `versions/` folder), or None."""
        return None

    def metadata_tables(self) -> list[Any]:
        """The SQLAlchemy Table objects of the plugin (for the migration check and uninstall).

        Usually ``list(Base.metadata.tables.values())`` of the base from `plugin_model_base`.
        """
        return []

    def nav_items(self) -> list[NavItem]:
        return []

    def event_handlers(self) -> list[EventHandler]:
        return []

    def workflow_triggers(self) -> list[WorkflowTrigger]:
        return []

    def workflow_actions(self) -> list[WorkflowAction]:
        return []

    def dashboard_widgets(self) -> list[DashboardWidget]:
        return []

    def settings_schema(self) -> type[Schema] | None:
        """A marshmallow schema for the plugin's per-tenant settings page, or None."""
        return None
