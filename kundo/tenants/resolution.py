"""Request → tenant: `<slug>.<KUNDO_DOMAIN>`, or the API token's workspace.

Unknown tenants answer 404; suspended ones a clear 403. The host is parsed against
the configured domain and the slug pattern before it is used in a query, so a host
such as `control.` or `a";drop.` never reaches SQL as anything but a bound value
that matches no row.
"""

from __future__ import annotations

from flask import Flask, abort, current_app, g, request
from flask_babel import gettext as _
from sqlalchemy import select

from kundo.platform.db import db
from kundo.platform.errors import Problem
from kundo.tenants.models import Tenant, TenantStatus
from kundo.tenants.session import TenantScope, TenantSession, open_tenant_session
from kundo.tenants.slugs import SLUG_PATTERN


class HostKind:
    ROOT = "root"
    TENANT = "tenant"
    UNKNOWN = "unknown"


def classify_host(host: str, domain: str) -> tuple[str, str | None]:
    """Return (kind, slug) for a Host header value.

    Only ASCII is lower-cased: Unicode case folding maps look-alikes onto letters
    (the Kelvin sign "K" becomes "k"), which would let an odd host reach a workspace.
    """
    host = (host or "").strip()
    if not host.isascii():
        return HostKind.UNKNOWN, None
    host, domain = host.lower(), domain.lower()
    if host == domain:
        return HostKind.ROOT, None
    suffix = "." + domain
    if host.endswith(suffix):
        slug = host[: -len(suffix)]
        if SLUG_PATTERN.fullmatch(slug):  # fullmatch: `$` would let a trailing newline through
            return HostKind.TENANT, slug
    return HostKind.UNKNOWN, None


def find_tenant(slug: str) -> Tenant | None:
    return db.session.scalar(select(Tenant).where(Tenant.slug == slug))


def ensure_tenant_usable(tenant: Tenant) -> None:
    """Refuse a suspended workspace with 403, saying who can lift the suspension."""
    if tenant.status == TenantStatus.SUSPENDED:
        raise Problem(403, _(
            "The workspace “%(name)s” is suspended. Its owner can contact Kundo support to reactivate it.",
            name=tenant.name,
        ), title=_("Workspace suspended"))


def current_tenant() -> Tenant | None:
    return g.get("tenant")


def current_tenant_db() -> TenantSession:
    """The request's tenant session, opened on first use and closed at teardown."""
    session = g.get("tenant_db")
    if session is None:
        tenant = g.get("tenant")
        if tenant is None:
            abort(404)
        session = open_tenant_session(TenantScope.of(tenant))
        g.tenant_db = session
    return session


def init_app(app: Flask) -> None:
    @app.before_request
    def _resolve_tenant():
        settings = current_app.config["KUNDO"]
        kind, slug = classify_host(request.host, settings.domain)
        g.host_kind = kind
        g.tenant = None
        if kind == HostKind.UNKNOWN:
            # Health checks come from load balancers that use whatever host they like.
            if request.path in ("/healthz", "/readyz"):
                return None
            abort(404, description=_("No Kundo workspace lives at this address."))
        if kind == HostKind.TENANT:
            tenant = find_tenant(slug)
            if tenant is None:
                abort(404, description=_("There is no workspace at “%(slug)s”. Check the address.", slug=slug))
            ensure_tenant_usable(tenant)
            g.tenant = tenant
        return None

    @app.teardown_request
    def _close_tenant_db(exc):  # noqa: ARG001
        session = g.pop("tenant_db", None)
        if session is not None:
            session.close()
