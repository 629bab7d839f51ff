"""Where uploaded wheels are kept: `<marketplace folder>/<plugin_id>/<wheel file name>`.

An upload is streamed into `.incoming/` with its SHA-256 computed on the way and cut off
at the size limit, so a too-large upload never fills the disk; only a wheel that passed
every check is moved to its final place.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app

_CHUNK = 1024 * 1024


class TooLarge(ValueError):
    """The upload passed the configured size limit."""


@dataclass(frozen=True)
class StoredUpload:
    path: Path
    sha256: str
    size: int

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def marketplace_folder() -> Path:
    return current_app.config["KUNDO"].marketplace_path()


def receive_upload(stream: BinaryIO, max_bytes: int) -> StoredUpload:
    """Copy `stream` into a temporary file of the marketplace folder; raises TooLarge past `max_bytes`."""
    incoming = marketplace_folder() / ".incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    handle, name = tempfile.mkstemp(dir=incoming, suffix=".upload")
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as target:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(size)
                digest.update(chunk)
                target.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return StoredUpload(path, digest.hexdigest(), size)


def keep_artifact(upload: StoredUpload, plugin_id: str, filename: str) -> str:
    """Move a checked upload to its final place; returns the path relative to the marketplace folder."""
    relative = f"{plugin_id}/{filename}"
    target = marketplace_folder() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(upload.path, target)
    return relative


def artifact_file(relative: str) -> Path:
    return marketplace_folder() / relative
