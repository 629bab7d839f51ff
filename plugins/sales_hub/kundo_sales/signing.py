"""Signed, expiring links for people without an account (a quote's buyer, a meeting's visitor).

The token names the workspace, the object and the object's `link_key`; it is signed with
the app's secret (itsdangerous) and stamped with Kundo's clock, so tests can let it expire
by moving the clock. A token is only accepted on its own workspace's host, and changing
the object's `link_key` revokes every link handed out before.
"""

from __future__ import annotations

import secrets

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from kundo.platform.clock import now


class LinkInvalid(Exception):
    """Forged, for another workspace or object kind, or revoked."""


class LinkExpired(LinkInvalid):
    """Genuine but older than its lifetime."""


class _ClockSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(now().timestamp())


def new_link_key() -> str:
    return secrets.token_urlsafe(16)[:22]


def _serializer(kind: str) -> URLSafeTimedSerializer:
    secret = current_app.config["KUNDO"].secret_key
    return URLSafeTimedSerializer(secret, salt=f"kundo.sales.{kind}", signer=_ClockSigner)


def make_token(kind: str, tenant_id: int, object_id: int, link_key: str) -> str:
    return _serializer(kind).dumps([tenant_id, object_id, link_key])


def read_token(kind: str, token: str, *, tenant_id: int, max_age_seconds: int) -> tuple[int, str]:
    """(object id, link key) of a token made by `make_token` for this tenant; raises LinkInvalid/LinkExpired."""
    try:
        data = _serializer(kind).loads(token, max_age=max_age_seconds)
    except SignatureExpired as error:
        raise LinkExpired(str(error)) from error
    except BadSignature as error:
        raise LinkInvalid(str(error)) from error
    if (not isinstance(data, list) or len(data) != 3 or data[0] != tenant_id or not isinstance(data[1], int)
            or not isinstance(data[2], str)):
        raise LinkInvalid("not a link of this workspace")
    return data[1], data[2]
