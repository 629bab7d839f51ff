"""Read-only workspaces: an unpaid or canceled workspace can be read and exported, not changed.

A before_request hook on workspace hosts refuses writes (POST/PUT/PATCH/DELETE): pages
get a friendly page that links to billing, the API a problem+json 402 with a clear
type. Billing itself, signing in and out, the language switch and exports stay open,
so the way back (paying) is never blocked.
"""

from __future__ import annotations

from flask import g, render_template, request

from kundo.billing.stripe_api import billing_enabled
from kundo.platform.errors import problem_response

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READ_ONLY_TYPE = "https://kundo.dev/problems/workspace-read-only"
#: Endpoints (or blueprint prefixes ending in ".") that stay writable in a read-only workspace.
ALWAYS_OPEN = ("billing.", "billing_webhook.", "auth.login", "auth.logout", "auth.set_locale", "auth.handoff",
               "auth.verify", "auth.resend_verification", "health.")


def _open(endpoint: str) -> bool:
    if any(endpoint == e or (e.endswith(".") and endpoint.startswith(e)) for e in ALWAYS_OPEN):
        return True
    return "export" in endpoint or "gdpr" in endpoint


def refuse_writes_when_read_only():
    if request.method not in WRITE_METHODS or not billing_enabled():
        return None
    if _open(request.endpoint or ""):
        return None
    tenant = g.get("tenant")
    if tenant is None and request.path.startswith("/api/") and request.headers.get("Authorization"):
        from kundo.platform.api import _authenticate_bearer

        _authenticate_bearer()  # the token names the workspace on the root host
        tenant = g.get("tenant")
    if tenant is None:
        return None
    from kundo.billing.service import is_read_only

    if not is_read_only(tenant.id):
        return None
    from flask_babel import gettext as _

    detail = _("This workspace is read-only because its subscription is unpaid or canceled. You can still see "
               "and export everything. An owner or admin can reactivate it under Settings → Billing.")
    if request.path.startswith("/api/"):
        return problem_response(402, _("Workspace is read-only"), detail, type=READ_ONLY_TYPE)
    return render_template("billing/read_only.html", detail=detail), 402
