"""Accounts and credentials: users, password checks, one-time links, API tokens.

Functions here never read the Flask request; views and the API pass what they need.
The caller commits the control-plane session.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from kundo.platform.audit.service import record_audit
from kundo.platform.auth.models import ApiToken, OneTimeToken, User
from kundo.platform.db import db, utcnow, violates_unique
from kundo.platform.security import (
    check_password_strength,
    hash_password,
    hash_secret,
    new_secret,
    password_needs_rehash,
    secrets_equal,
    spend_password_check_time,
    verify_password,
)

TOKEN_LIFETIMES = {
    "password_reset": timedelta(hours=1),
    "verify_email": timedelta(days=3),
    "handoff": timedelta(minutes=2),
}

API_TOKEN_SCOPES = ("read", "write", "admin")


class AuthError(ValueError):
    """A refusal whose message can be shown to the person as it is; `field` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# ---- users ---------------------------------------------------------------------------


#: The longest address SMTP can deliver to (RFC 5321); the column would take more.
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 200


def normalize_email(email: str) -> str:
    return (email or "").strip()


def valid_email(email: str) -> str:
    """The normalized address, or AuthError: checked before it reaches a column or a mail server."""
    email = normalize_email(email)
    local, _at, domain = email.rpartition("@")
    if not local or "." not in domain or len(email) > MAX_EMAIL_LENGTH or any(c.isspace() for c in email):
        raise AuthError(_("Enter a valid e-mail address."), "email")
    return email


def valid_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise AuthError(_("Enter your name."), "name")
    if len(name) > MAX_NAME_LENGTH:
        raise AuthError(_("Use at most %(count)d characters for your name.", count=MAX_NAME_LENGTH), "name")
    return name


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalize_email(email).lower()))


def create_user(*, email: str, name: str, password: str, locale: str | None = None) -> User:
    email = valid_email(email)
    name = valid_name(name)
    if find_user_by_email(email) is not None:
        raise AuthError(_("An account with this e-mail address already exists. Log in instead."), "email")
    check_password_strength(password, email=email, name=name)
    user = User(email=email, name=name, password_hash=hash_password(password), locale=locale)
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError as error:  # the same address signed up a moment ago
        if not violates_unique(error, "uq_users_email_lower"):
            raise
        raise AuthError(_("An account with this e-mail address already exists. Log in instead."), "email") from error
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user for these credentials, or None; takes the same time either way."""
    user = find_user_by_email(email)
    if user is None:
        spend_password_check_time(password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def set_password(user: User, password: str) -> None:
    check_password_strength(password, email=user.email, name=user.name)
    user.password_hash = hash_password(password)


# ---- one-time links ---------------------------------------------------------------------


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"kundo.{purpose}")


def issue_one_time_token(purpose: str, user: User, tenant_id: int | None = None) -> str:
    """A signed, expiring, single-use token for a link."""
    secret = new_secret()
    token = OneTimeToken(
        purpose=purpose,
        user_id=user.id,
        tenant_id=tenant_id,
        secret_hash=hash_secret(secret),
        expires_at=utcnow() + TOKEN_LIFETIMES[purpose],
    )
    db.session.add(token)
    db.session.flush()
    return _serializer(purpose).dumps({"i": token.id, "s": secret})


def consume_one_time_token(purpose: str, signed: str) -> OneTimeToken:
    """Check and burn a token; raises AuthError saying why it cannot be used."""
    max_age = int(TOKEN_LIFETIMES[purpose].total_seconds())
    try:
        payload = _serializer(purpose).loads(signed, max_age=max_age)
    except SignatureExpired as error:
        raise AuthError(_("This link has expired. Ask for a new one.")) from error
    except BadSignature as error:
        raise AuthError(_("This link is not valid. Copy the whole link from the e-mail.")) from error
    token = db.session.get(OneTimeToken, payload.get("i"), with_for_update=True)
    if token is None or token.purpose != purpose or not secrets_equal(
        token.secret_hash, hash_secret(str(payload.get("s")))
    ):
        raise AuthError(_("This link is not valid. Copy the whole link from the e-mail."))
    if token.used_at is not None:
        raise AuthError(_("This link has already been used. Ask for a new one."))
    if token.expires_at <= utcnow():
        raise AuthError(_("This link has expired. Ask for a new one."))
    token.used_at = utcnow()
    return token


def verify_email(signed: str) -> User:
    token = consume_one_time_token("verify_email", signed)
    user = db.session.get(User, token.user_id)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        record_audit("user.email_verified", actor_user_id=user.id, target=f"user:{user.id}")
    return user


def reset_password(signed: str, new_password: str) -> User:
    token = consume_one_time_token("password_reset", signed)
    user = db.session.get(User, token.user_id)
    set_password(user, new_password)
    # Every older reset link for this user dies with this one.
    for other in db.session.scalars(
        select(OneTimeToken).where(
            OneTimeToken.user_id == user.id,
            OneTimeToken.purpose == "password_reset",
            OneTimeToken.used_at.is_(None),
        )
    ):
        other.used_at = utcnow()
    record_audit("user.password_reset", actor_user_id=user.id, target=f"user:{user.id}")
    return user


# ---- API tokens --------------------------------------------------------------------------


def create_api_token(*, tenant_id: int, user: User, name: str, scopes: list[str]) -> tuple[ApiToken, str]:
    """Create a token; the plain value is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise AuthError(_("Give the token a name, so you recognise it later."))
    unknown = sorted(set(scopes) - set(API_TOKEN_SCOPES))
    if unknown:
        raise AuthError(_("Unknown scopes: %(unknown)s. Use %(known)s.", unknown=", ".join(unknown),
                            known=", ".join(API_TOKEN_SCOPES)))
    prefix = new_secret(6)[:8].replace("-", "a").replace("_", "b")
    secret = new_secret(32)
    token = ApiToken(
        tenant_id=tenant_id, user_id=user.id, name=name[:100], prefix=prefix,
        secret_hash=hash_secret(secret), scopes=sorted(set(scopes or ["read"])),
    )
    db.session.add(token)
    db.session.flush()
    record_audit("api_token.created", tenant_id=tenant_id, actor_user_id=user.id,
                 target=f"api_token:{token.id}", data={"name": token.name, "scopes": token.scopes})
    return token, f"kundo_{prefix}_{secret}"


def authenticate_api_token(raw: str) -> ApiToken | None:
    parts = (raw or "").split("_", 2)
    if len(parts) != 3 or parts[0] != "kundo":
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.prefix == parts[1]))
    if token is None or token.revoked_at is not None:
        return None
    if not secrets_equal(token.secret_hash, hash_secret(parts[2])):
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now  # coarse, so reads do not write on every call
    return token


def revoke_api_token(token: ApiToken, actor: User) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record_audit("api_token.revoked", tenant_id=token.tenant_id, actor_user_id=actor.id,
                     target=f"api_token:{token.id}")


def list_api_tokens(tenant_id: int, user_id: int) -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken)
        .where(ApiToken.tenant_id == tenant_id, ApiToken.user_id == user_id)
        .order_by(ApiToken.created_at.desc())
    ))
