"""Passwords (argon2), CSRF on every form, rate limits, secure headers, secret hashing."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import BadRequest

from kundo.platform.errors import handle_http_error

log = logging.getLogger("kundo.security")
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@limiter.request_filter
def _limits_off_for_this_app() -> bool:
    # Flask-Limiter keeps its on/off switch on the shared `limiter` object, so the last
    # app to start would decide for every app in the process (tests build several).
    # The limiter itself therefore stays on, and each app's own setting is read here.
    return not current_app.config.get("KUNDO_RATELIMIT_ENABLED", True)


MIN_PASSWORD_LENGTH = 10
_COMMON_PASSWORDS = frozenset(
    {"password", "passwort", "1234567890", "password123", "qwertzuiop", "qwertyuiop", "letmein123",
     "passwort123", "kundo12345", "0123456789", "iloveyou12", "welcome123", "changeme12"}
)


class WeakPassword(ValueError):
    """The message tells the person what a good password needs."""


def check_password_strength(password: str, *, email: str = "", name: str = "") -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise WeakPassword(_("Use at least %(count)d characters.", count=MIN_PASSWORD_LENGTH))
    lowered = password.lower()
    if lowered in _COMMON_PASSWORDS or len(set(password)) < 5:
        raise WeakPassword(_("This password is too easy to guess. Mix words, digits or symbols."))
    local_part = email.split("@")[0].lower()
    if local_part and len(local_part) >= 4 and local_part in lowered:
        raise WeakPassword(_("The password must not contain your e-mail address."))


#: argon2 cost profiles. "standard" is argon2-cffi's default (RFC 9106 low-memory:
#: 3 passes over 64 MiB, ~0.1 s). "fast" is for test suites, which hash thousands of
#: passwords; production refuses it (Settings.validate).
PASSWORD_HASHING_PROFILES = {
    "standard": {},
    "fast": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
}


class PasswordHashing:
    """One app's argon2 hasher, and a dummy hash of the same cost for unknown accounts."""

    def __init__(self, profile: str):
        self.hasher = PasswordHasher(**PASSWORD_HASHING_PROFILES[profile])

    @cached_property
    def dummy_hash(self) -> str:
        return self.hasher.hash("kundo-timing-equaliser")


def _hashing() -> PasswordHashing:
    return current_app.extensions["kundo_password_hashing"]


def hash_password(password: str) -> str:
    return _hashing().hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hashing().hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hashing().hasher.check_needs_rehash(password_hash)


def spend_password_check_time(password: str) -> None:
    """Spent on unknown e-mail addresses so login timing does not reveal who has an account."""
    verify_password(_hashing().dummy_hash, password)


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_secret(secret: str) -> str:
    """SHA-256 for high-entropy secrets (tokens, links); passwords use argon2."""
    return hashlib.sha256(secret.encode()).hexdigest()


def secrets_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)


def _explain_refused_form(error: CSRFError):
    # "The CSRF token is missing." means nothing to the person; the log keeps the reason.
    log.info("form refused: %s", error.description)
    return handle_http_error(BadRequest(description=_(
        "This form has expired or was sent from another page. Reload the page and send it again.")))


def init_app(app: Flask) -> None:
    app.extensions["kundo_password_hashing"] = PasswordHashing(app.config["KUNDO"].argon2_profile)
    csrf.init_app(app)
    app.register_error_handler(CSRFError, _explain_refused_form)
    app.config["KUNDO_RATELIMIT_ENABLED"] = app.config.get("RATELIMIT_ENABLED", True)
    app.config["RATELIMIT_ENABLED"] = True  # see _limits_off_for_this_app
    limiter.init_app(app)

    @app.after_request
    def _secure_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
