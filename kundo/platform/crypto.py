"""Encrypting secrets Kundo must read back (webhook signing secrets), keyed from SECRET_KEY.

Passwords and API tokens are hashed, never stored readable; a webhook's signing secret has
to be used again on every delivery, so it is encrypted instead. Fernet (AES-128-CBC with an
HMAC-SHA256 tag) gives authenticated encryption; its key is derived from SECRET_KEY with
HKDF and a per-purpose label, so one SECRET_KEY yields independent keys and a leaked
database alone reveals no secret. Rotating SECRET_KEY makes stored secrets unreadable:
`decrypt_secret` then raises :class:`SecretUnreadable` and the owner sets a new one.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


class SecretUnreadable(ValueError):
    """The ciphertext was not made with this SECRET_KEY and purpose (or was altered)."""


def _fernet(purpose: str, secret_key: str | None = None) -> Fernet:
    key_material = (secret_key or current_app.config["SECRET_KEY"]).encode()
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"kundo.crypto", info=purpose.encode()).derive(
        key_material)
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt_secret(plain: str, *, purpose: str, secret_key: str | None = None) -> str:
    """Encrypt `plain` for storage; `purpose` (e.g. "webhook-secret") separates the keys."""
    return _fernet(purpose, secret_key).encrypt(plain.encode()).decode()


def decrypt_secret(token: str, *, purpose: str, secret_key: str | None = None) -> str:
    """The plain text of `encrypt_secret`'s result, or SecretUnreadable."""
    try:
        return _fernet(purpose, secret_key).decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable(purpose) from error
