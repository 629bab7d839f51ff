"""Fixtures of the marketplace tests: wheels built from sources, publishers and operators.

The `app` here keeps uploaded wheels in a temporary folder instead of `var/marketplace`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from kundo.testing.fixtures import TEST_DOMAIN, TEST_PASSWORD, build_app
from kundo.testing.web import HostClient

SAMPLE_APP = Path(__file__).parent / "sample_app"
SAMPLE_DISTRIBUTION = "kundo-sample-notes"
SAMPLE_PUBLISHER = "Sample Publisher"


@pytest.fixture(scope="session")
def marketplace_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("marketplace")


@pytest.fixture(scope="session")
def app(database_url, marketplace_dir):
    app = build_app(database_url, marketplace_dir=str(marketplace_dir))
    yield app
    from kundo.platform.db import db

    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def sample_wheels(tmp_path_factory) -> dict[str, Path]:
    """{"1.0.0": wheel, "2.0.0": wheel} of the sample plugin, built with pip as a publisher would."""
    out = tmp_path_factory.mktemp("wheels")
    wheels = {}
    for version, overlay in (("1.0.0", None), ("2.0.0", SAMPLE_APP / "v2")):
        source = tmp_path_factory.mktemp(f"sample-{version}")
        shutil.copytree(SAMPLE_APP / "notes", source, dirs_exist_ok=True)
        if overlay is not None:
            shutil.copytree(overlay, source, dirs_exist_ok=True)
        target = out / version
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                        "--disable-pip-version-check", "-q", "-w", str(target), str(source)],
                       check=True, capture_output=True)
        (wheel,) = target.glob("*.whl")
        wheels[version] = wheel
    return wheels


def sample_manifest(**changes) -> dict:
    manifest = {"id": "acme_app", "name": "Acme App", "version": "1.0.0", "publisher": SAMPLE_PUBLISHER,
                "summary": "Does acme things for your contacts.", "permissions": ["contacts:read"],
                "categories": ["sales"]}
    manifest.update(changes)
    return manifest


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def write_wheel(folder: Path, *, name: str = "acme_app", version: str = "1.0.0",
                entry_points: dict[str, str] | None = None, manifest: dict | str | None = None,
                files: dict[str, bytes] | None = None, filename: str | None = None) -> Path:
    """A wheel made by hand, with correct RECORD hashes, for refusals a build tool would not produce."""
    entry_points = {"acme_app": "acme_app:Plugin"} if entry_points is None else entry_points
    dist_info = f"{name}-{version}.dist-info"
    members: dict[str, bytes] = {f"{name}/__init__.py": b"raise RuntimeError('never imported')\n"}
    if manifest is not None:
        text = manifest if isinstance(manifest, str) else json.dumps(manifest)
        members[f"{name}/kundo_plugin.json"] = text.encode()
    members.update(files or {})
    members[f"{dist_info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    members[f"{dist_info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    if entry_points:
        lines = "".join(f"{key} = {value}\n" for key, value in entry_points.items())
        members[f"{dist_info}/entry_points.txt"] = f"[kundo.plugins]\n{lines}".encode()
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in members.items())
    members[f"{dist_info}/RECORD"] = (record + f"{dist_info}/RECORD,,\n").encode()
    path = folder / (filename or f"{name}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path


@pytest.fixture
def signed_in_root(app):
    """signed_in_root(email) -> a HostClient with its own cookies, logged in on the root domain."""

    def _sign_in(email: str) -> HostClient:
        host = HostClient(app.test_client(), TEST_DOMAIN)
        response = host.submit("/login", {"email": email, "password": TEST_PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return host

    return _sign_in


@pytest.fixture
def publisher(app, make_user, signed_in_root) -> HostClient:
    """The publisher "Sample Publisher" (registered through the page once per database), signed in."""
    from kundo.platform.auth.models import User
    from kundo.platform.db import db
    from kundo.plugins.marketplace.models import Publisher

    with app.app_context():
        existing = db.session.query(Publisher).filter_by(name=SAMPLE_PUBLISHER).one_or_none()
        email = db.session.get(User, existing.user_id).email if existing else None
    if email is not None:
        return signed_in_root(email)
    _user_id, email = make_user(name="Paula Publisher")
    client = signed_in_root(email)
    response = client.submit("/marketplace/publish", {"name": SAMPLE_PUBLISHER, "website": "https://sample.example",
                                                      "support_email": "help@sample.example"})
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    return client


@pytest.fixture
def operator(app, make_user, signed_in_root) -> HostClient:
    """A platform operator (promoted with the real CLI), signed in on the root domain."""
    _user_id, email = make_user(name="Olga Operator")
    result = app.test_cli_runner().invoke(args=["users", "promote", email])
    assert result.exit_code == 0, result.output
    return signed_in_root(email)


def upload(client: HostClient, wheel: Path, changelog: str = "", filename: str | None = None):
    with wheel.open("rb") as handle:
        return client.submit("/marketplace/publish/upload",
                             {"wheel": (handle, filename or wheel.name), "changelog": changelog},
                             content_type="multipart/form-data")
