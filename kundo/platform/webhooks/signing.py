"""Signatures of outgoing webhooks: HMAC-SHA256 over "<timestamp>.<body>".

A receiver recomputes the HMAC with its subscription's secret and compares; the timestamp
is signed too, so a captured request cannot be replayed later than the receiver's
tolerance. The header looks like Stripe's: ``Kundo-Signature: t=1732867200,v1=5f2b…``.
`verify_signature` is what a Python receiver (and Kundo's tests) use.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "Kundo-Signature"
EVENT_ID_HEADER = "Kundo-Event-Id"
EVENT_TYPE_HEADER = "Kundo-Event-Type"
DEFAULT_TOLERANCE = 300  # seconds


def new_signing_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(24)


def compute_signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    return f"t={timestamp},v1={compute_signature(secret, timestamp, body)}"


def verify_signature(secret: str, header: str, body: bytes, *, tolerance: int = DEFAULT_TOLERANCE,
                     now: float | None = None) -> bool:
    """True if `header` signs `body` with `secret` and its timestamp is within `tolerance` seconds."""
    fields: dict[str, list[str]] = {}
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = compute_signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in fields.get("v1", []))
