"""`kundo plugins sync`: install approved marketplace versions and allow them to load.

For each plugin the newest approved version is pip-installed from the stored wheel with
its stored SHA-256 (`--require-hashes`, `--no-deps`, no index), into the environment this
Kundo runs in; then `control.approved_plugins` says which version the loader may import.
The loader reads that list at start-up, so the new version serves after a restart.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version
from sqlalchemy.dialects.postgresql import insert

from kundo.platform.audit.service import record_audit
from kundo.platform.db import db, utcnow
from kundo.plugins.marketplace.models import PluginVersion
from kundo.plugins.marketplace.service import approved_versions
from kundo.plugins.marketplace.storage import artifact_file


@dataclass(frozen=True)
class SyncResult:
    plugin_id: str
    version: str
    outcome: str  # "installed", "up to date" or "failed"
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.outcome == "failed"


def newest_approved() -> list[PluginVersion]:
    """The newest approved version of each plugin id."""
    newest: dict[str, PluginVersion] = {}
    for version in approved_versions():
        known = newest.get(version.plugin_id)
        if known is None or Version(version.version) > Version(known.version):
            newest[version.plugin_id] = version
    return [newest[key] for key in sorted(newest)]


def installed_version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def sync_approved_plugins(*, python: str = sys.executable) -> list[SyncResult]:
    """Install what is approved but not installed; commit the allow-list per plugin."""
    results = []
    for version in newest_approved():
        current = installed_version(version.distribution)
        try:
            if current is None or Version(current) != Version(version.version):
                install_wheel(version, python=python)
                outcome = "installed"
            else:
                outcome = "up to date"
        except SyncError as error:
            results.append(SyncResult(version.plugin_id, version.version, "failed", str(error)))
            continue
        allow_loading(version)
        db.session.commit()
        results.append(SyncResult(version.plugin_id, version.version, outcome))
    importlib.invalidate_caches()
    return results


class SyncError(RuntimeError):
    """The stored wheel is missing, changed, or pip refused it."""


def install_wheel(version: PluginVersion, *, python: str = sys.executable) -> None:
    path = artifact_file(version.artifact_path)
    if not path.is_file():
        raise SyncError(f"the stored wheel {path} is missing")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != version.sha256:
        raise SyncError(f"the stored wheel {path} was changed since it was uploaded (SHA-256 {digest[:12]}…, "
                        f"expected {version.sha256[:12]}…)")
    with tempfile.TemporaryDirectory(prefix="kundo-sync-") as folder:
        requirements = Path(folder) / "requirements.txt"
        requirements.write_text(f"{path.resolve().as_uri()} --hash=sha256:{version.sha256}\n", encoding="utf-8")
        completed = subprocess.run(  # noqa: S603 - our own interpreter, a file we wrote
            [python, "-m", "pip", "install", "--no-deps", "--no-index", "--require-hashes", "--upgrade",
             "--disable-pip-version-check", "--no-input", "-q", "-r", str(requirements)],
            capture_output=True, text=True, check=False,
        )
    if completed.returncode != 0:
        detail = (completed.stderr or completed.stdout).strip().splitlines()
        raise SyncError("pip refused: " + (detail[-1] if detail else f"exit code {completed.returncode}"))


def allow_loading(version: PluginVersion) -> None:
    """Upsert the loader's allow-list row for this plugin to this version (audited when it changes)."""
    from kundo.plugins.models import ApprovedPlugin

    now = utcnow()
    statement = insert(ApprovedPlugin).values(plugin_id=version.plugin_id, version=version.version,
                                              source="marketplace", approved_at=now)
    changed = db.session.execute(statement.on_conflict_do_update(
        index_elements=[ApprovedPlugin.plugin_id],
        set_={"version": version.version, "source": "marketplace", "approved_at": now},
        where=ApprovedPlugin.version != version.version,
    ).returning(ApprovedPlugin.plugin_id)).first()
    if changed is None:
        return
    record_audit("plugins.synced", target=f"plugin:{version.plugin_id}@{version.version}",
                 data={"sha256": version.sha256})
