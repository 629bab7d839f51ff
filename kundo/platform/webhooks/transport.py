"""One HTTP POST to a checked address, with a hard timeout and no redirects.

http.client connects to the address `resolve_target` approved (the URL's host name still
travels in the Host header and, for https, in SNI and the certificate check). Redirects
are not followed: a 3xx is an answer like any other non-2xx, so a receiver cannot bounce
Kundo to an internal address.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from kundo.platform.webhooks.addresses import Target

TIMEOUT_SECONDS = 10.0
USER_AGENT = "Kundo-Webhooks/1"
MAX_RESPONSE_EXCERPT = 500


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    duration_ms: int
    error: str | None  # None when the receiver answered 2xx

    @property
    def succeeded(self) -> bool:
        return self.error is None


def post(target: Target, body: bytes, headers: dict[str, str], *, timeout: float = TIMEOUT_SECONDS) -> Attempt:
    """POST `body` to `target`; never raises for network trouble (it is the attempt's outcome)."""
    if target.scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)

    def connect_checked(address, timeout=timeout, source_address=None):
        return socket.create_connection((target.address, address[1]), timeout, source_address)

    connection._create_connection = connect_checked  # the checked address, not a second DNS answer
    started = time.monotonic()
    try:
        connection.request("POST", target.path, body=body, headers={
            "Content-Type": "application/json", "User-Agent": USER_AGENT, **headers})
        response = connection.getresponse()
        excerpt = response.read(MAX_RESPONSE_EXCERPT).decode("utf-8", "replace")
        status = response.status
    except (OSError, http.client.HTTPException) as error:
        return Attempt(None, _elapsed(started), f"{type(error).__name__}: {error}"[:2000])
    finally:
        connection.close()
    if 200 <= status < 300:
        return Attempt(status, _elapsed(started), None)
    return Attempt(status, _elapsed(started), f"HTTP {status}: {excerpt}".strip()[:2000])


def _elapsed(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
