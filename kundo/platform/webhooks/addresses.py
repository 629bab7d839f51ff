"""The SSRF guard: outgoing webhooks reach public addresses only.

A tenant chooses the URL, so without a guard Kundo could be made to POST to its own
database port, the cloud metadata service (169.254.169.254) or anything else inside the
network. The host is resolved here and every address it resolves to must be public; the
connection is then made to the address that was checked (`resolve_target`), so a DNS
answer that changes between check and connect (rebinding) gains nothing. Operators with
on-premises receivers allow private addresses with KUNDO_WEBHOOK_ALLOW_PRIVATE=1.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import gettext as _

MAX_URL = 2000


class UnsafeWebhookUrl(ValueError):
    """The URL is malformed or points somewhere Kundo must not send to."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query string
    address: str  # the checked IP to connect to


def check_url_syntax(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an http(s) URL without credentials, or UnsafeWebhookUrl."""
    url = (url or "").strip()
    if not url or len(url) > MAX_URL:
        raise UnsafeWebhookUrl(_("Enter an http:// or https:// address of at most 2000 characters."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeWebhookUrl(_("This is not a valid web address.")) from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeWebhookUrl(_("Enter an http:// or https:// address."))
    if parts.username or parts.password:
        raise UnsafeWebhookUrl(_("Leave user name and password out of the address; the signature proves the sender."))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
                or ip.is_unspecified or not ip.is_global)


def resolve_target(url: str, *, allow_private: bool) -> Target:
    """Check `url` and resolve its host to an address Kundo may connect to."""
    scheme, host, port, path = check_url_syntax(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeWebhookUrl(_("The host %(host)s cannot be found.", host=host)) from error
    addresses = [info[4][0].split("%")[0] for info in infos]
    if not addresses:
        raise UnsafeWebhookUrl(_("The host %(host)s cannot be found.", host=host))
    if not allow_private:
        # Every address must be public: otherwise a name with one public and one internal
        # address would let the connection pick the internal one.
        for address in addresses:
            if not is_public(address):
                raise UnsafeWebhookUrl(_(
                    "%(host)s leads to a private, loopback or link-local address (%(address)s); "
                    "webhooks are sent to public addresses only.", host=host, address=address))
    return Target(scheme, host, port, path, addresses[0])
