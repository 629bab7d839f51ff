"""The web shell: layout, navigation that plugins extend, landing page and dashboard."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, g

from kundo.tenants.models import Role


@dataclass(frozen=True)
class NavItem:
    """One sidebar entry. Plugins add theirs through the SDK (see the plugin issue)."""

    key: str
    label: str  # an English msgid; the template translates it
    endpoint: str
    icon: str = "circle"
    order: int = 100
    min_role: Role = Role.MEMBER
    section: str = "main"


CORE_NAV = (
    NavItem("dashboard", "Dashboard", "web.index", icon="home", order=0),
    NavItem("members", "Members", "tenants.members", icon="users", order=900, section="settings"),
    NavItem("tokens", "API tokens", "auth.tokens", icon="key", order=910, section="settings"),
    NavItem("account", "My profile", "auth.account", icon="user", order=920, section="settings"),
)


def navigation_for(app: Flask, membership) -> list[NavItem]:
    """The core entries plus those of providers (the plugin host's, per tenant)."""
    if membership is None:
        return []
    items = list(app.extensions["kundo_nav"])
    for provider in app.extensions.get("kundo_nav_providers", ()):
        items.extend(provider(g.get("tenant")))
    role = Role(membership.role)
    return sorted((i for i in items if role.at_least(i.min_role)), key=lambda i: (i.order, i.key))


def init_app(app: Flask) -> None:
    from kundo.platform.web import views

    app.extensions["kundo_nav"] = list(CORE_NAV)
    app.register_blueprint(views.blueprint)

    @app.context_processor
    def _shell_context():
        from flask import current_app

        from kundo.tenants.service import memberships_of

        user = g.get("user")
        membership = g.get("membership")
        return {
            "current_user": user,
            "current_tenant": g.get("tenant"),
            "current_membership": membership,
            "current_role": Role(membership.role) if membership else None,
            "navigation": navigation_for(current_app, membership),
            "my_memberships": memberships_of(user) if user is not None and g.get("tenant") is not None else [],
            "settings": current_app.config["KUNDO"],
        }
