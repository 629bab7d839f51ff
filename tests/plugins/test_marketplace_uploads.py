"""Publishing: registration, what an upload must be, and every refusal saying exactly why."""

from __future__ import annotations

import json
import zipfile

from sqlalchemy import func, select

from kundo.platform.db import db
from kundo.plugins.marketplace.models import PluginVersion, Publisher
from kundo.testing.fixtures import TEST_DOMAIN
from kundo.testing.web import HostClient

from .conftest import SAMPLE_PUBLISHER, sample_manifest, upload, write_wheel


def _versions(app, plugin_id: str) -> list[PluginVersion]:
    with app.app_context():
        return list(db.session.scalars(select(PluginVersion).where(PluginVersion.plugin_id == plugin_id)))


def _refused(response, *fragments: str) -> str:
    assert response.status_code == 400, response.status_code
    html = response.get_data(as_text=True)
    assert 'data-testid="upload-error"' in html
    for fragment in fragments:
        assert fragment in html, html[html.find("upload-error"):][:600]
    return html


def _incoming_is_empty(marketplace_dir) -> bool:
    incoming = marketplace_dir / ".incoming"
    return not incoming.exists() or not any(incoming.iterdir())


def test_registration_needs_sign_in_and_valid_details(app, client, make_user, signed_in_root):
    anonymous = HostClient(client, TEST_DOMAIN)
    response = anonymous.get("/marketplace/publish")
    assert response.status_code == 302 and "/login" in response.headers["Location"]

    _user_id, email = make_user()
    person = signed_in_root(email)
    page = person.get("/marketplace/publish")
    assert page.status_code == 200 and email in page.get_data(as_text=True)  # support e-mail prefilled
    response = person.submit("/marketplace/publish", {"name": "X", "website": "example", "support_email": "nope"})
    assert response.status_code == 400
    assert "Enter a publisher name of 2 to 80 characters." in response.get_data(as_text=True)
    response = person.submit("/marketplace/publish", {"name": "Valid Name GmbH", "website": "example",
                                                      "support_email": email})
    assert "Enter the website as a full address" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Publisher).where(Publisher.name == "X")) == 0


def test_publisher_names_are_unique(publisher, make_user, signed_in_root):
    _user_id, email = make_user()
    other = signed_in_root(email)
    response = other.submit("/marketplace/publish", {"name": SAMPLE_PUBLISHER.upper(),
                                                     "website": "https://other.example", "support_email": email})
    assert response.status_code == 400
    assert "A publisher with this name exists already." in response.get_data(as_text=True)


def test_marketplace_is_not_served_on_workspace_hosts(client, make_workspace):
    workspace = make_workspace()
    assert HostClient(client, workspace.host).get("/marketplace/").status_code == 404


def test_a_valid_upload_is_stored_with_its_hash_and_queued(app, publisher, tmp_path, marketplace_dir):
    wheel = write_wheel(tmp_path, name="queued_app", entry_points={"queued_app": "queued_app:Plugin"},
                        manifest=sample_manifest(id="queued_app", name="Queued App"))
    response = upload(publisher, wheel, changelog="First release.")
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    (version,) = _versions(app, "queued_app")
    import hashlib

    stored = marketplace_dir / version.artifact_path
    assert stored.read_bytes() == wheel.read_bytes()
    assert version.sha256 == hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert version.status == "pending" and version.changelog == "First release."
    assert version.manifest["permissions"] == ["contacts:read"]
    assert {f["name"] for f in version.files} >= {"queued_app/__init__.py", "queued_app/kundo_plugin.json"}
    dashboard = publisher.get("/marketplace/publish").get_data(as_text=True)
    assert "Queued App" in dashboard and "In review" in dashboard
    assert _incoming_is_empty(marketplace_dir)


def test_not_a_zip(app, publisher, tmp_path, marketplace_dir):
    fake = tmp_path / "fake_app-1.0.0-py3-none-any.whl"
    fake.write_bytes(b"MZ this is not a zip archive" * 10)
    _refused(upload(publisher, fake), "The file is not a wheel: it is not a ZIP archive.")
    assert _versions(app, "fake_app") == [] and _incoming_is_empty(marketplace_dir)


def test_wheel_file_name_must_be_valid(publisher, tmp_path):
    wheel = write_wheel(tmp_path, manifest=sample_manifest())
    _refused(upload(publisher, wheel, filename="my-plugin.zip"), "is not a valid wheel file name")


def test_no_entry_point(app, publisher, tmp_path):
    wheel = write_wheel(tmp_path, name="no_ep", entry_points={}, manifest=sample_manifest(id="no_ep"))
    _refused(upload(publisher, wheel), "The wheel declares no entry point in the “kundo.plugins” group.")
    assert _versions(app, "no_ep") == []


def test_two_entry_points(app, publisher, tmp_path):
    wheel = write_wheel(tmp_path, name="two_ep", entry_points={"two_ep": "two_ep:A", "two_ep_b": "two_ep:B"},
                        manifest=sample_manifest(id="two_ep"))
    _refused(upload(publisher, wheel), "declares 2 entry points", "two_ep, two_ep_b")
    assert _versions(app, "two_ep") == []


def test_bad_manifests(app, publisher, tmp_path):
    missing = write_wheel(tmp_path, name="bad_app", entry_points={"bad_app": "bad_app:Plugin"})
    _refused(upload(publisher, missing), "The wheel has no manifest: bad_app/kundo_plugin.json is missing.")

    (tmp_path / "b").mkdir()
    not_json = write_wheel(tmp_path / "b", name="bad_app", entry_points={"bad_app": "bad_app:Plugin"},
                           manifest="{not json")
    _refused(upload(publisher, not_json), "is not valid JSON")

    (tmp_path / "c").mkdir()
    invalid = write_wheel(tmp_path / "c", name="bad_app", entry_points={"bad_app": "bad_app:Plugin"},
                          manifest=sample_manifest(id="bad_app", permissions=["everything:write"], summary=""))
    html = _refused(upload(publisher, invalid), "The manifest is not valid:")
    assert "permissions" in html and "summary" in html

    (tmp_path / "d").mkdir()
    other_id = write_wheel(tmp_path / "d", name="bad_app", entry_points={"bad_app": "bad_app:Plugin"},
                           manifest=sample_manifest(id="other_app"))
    _refused(upload(publisher, other_id), "is “other_app” but the entry point is named “bad_app”")

    (tmp_path / "e").mkdir()
    other_version = write_wheel(tmp_path / "e", name="bad_app", entry_points={"bad_app": "bad_app:Plugin"},
                                manifest=sample_manifest(id="bad_app", version="9.0.0"))
    _refused(upload(publisher, other_version), "The manifest says version 9.0.0 but the wheel is version 1.0.0.")

    (tmp_path / "f").mkdir()
    impostor = write_wheel(tmp_path / "f", name="bad_app", entry_points={"bad_app": "bad_app:Plugin"},
                           manifest=sample_manifest(id="bad_app", publisher="Someone Else"))
    _refused(upload(publisher, impostor), "The manifest names the publisher “Someone Else”")
    assert _versions(app, "bad_app") == []


def test_duplicate_and_older_versions(app, publisher, tmp_path):
    def wheel_of(version: str, folder: str):
        (tmp_path / folder).mkdir()
        return write_wheel(tmp_path / folder, name="dup_app", version=version,
                           entry_points={"dup_app": "dup_app:Plugin"},
                           manifest=sample_manifest(id="dup_app", version=version))

    assert upload(publisher, wheel_of("1.2.0", "a")).status_code == 302
    _refused(upload(publisher, wheel_of("1.2.0", "b")), "Version 1.2.0 of “dup_app” was uploaded already.")
    _refused(upload(publisher, wheel_of("1.1.0", "c")), "Version 1.1.0 is older than 1.2.0")
    assert [v.version for v in _versions(app, "dup_app")] == ["1.2.0"]


def test_too_large(app, publisher, tmp_path, marketplace_dir, monkeypatch):
    monkeypatch.setattr(app.config["KUNDO"], "marketplace_max_bytes", 4096)
    wheel = write_wheel(tmp_path, name="big_app", entry_points={"big_app": "big_app:Plugin"},
                        manifest=sample_manifest(id="big_app"), files={"big_app/data.bin": bytes(range(256)) * 64})
    assert wheel.stat().st_size > 4096
    _refused(upload(publisher, wheel), "The file is larger than 0.00390625 MB")
    assert _versions(app, "big_app") == [] and _incoming_is_empty(marketplace_dir)


def test_path_tricks_and_tampering(publisher, tmp_path):
    escape = write_wheel(tmp_path, name="trick_app", entry_points={"trick_app": "trick_app:Plugin"},
                         manifest=sample_manifest(id="trick_app"), files={"../../etc/cron.d/evil": b"x"})
    _refused(upload(publisher, escape), "points outside the install folder")

    (tmp_path / "b").mkdir()
    pth = write_wheel(tmp_path / "b", name="trick_app", entry_points={"trick_app": "trick_app:Plugin"},
                      manifest=sample_manifest(id="trick_app"), files={"trick_app.pth": b"import os"})
    _refused(upload(publisher, pth), ".pth files run code whenever Python starts")

    (tmp_path / "c").mkdir()
    shadow = write_wheel(tmp_path / "c", name="trick_app", entry_points={"trick_app": "trick_app:Plugin"},
                         manifest=sample_manifest(id="trick_app"), files={"kundo/__init__.py": b"hijacked = True"})
    _refused(upload(publisher, shadow), "would install “kundo”")

    (tmp_path / "d").mkdir()
    tampered = write_wheel(tmp_path / "d", name="trick_app", entry_points={"trick_app": "trick_app:Plugin"},
                           manifest=sample_manifest(id="trick_app"))
    changed = tmp_path / "d" / "changed.whl"
    with zipfile.ZipFile(tampered) as source, zipfile.ZipFile(changed, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.endswith("kundo_plugin.json"):
                data = json.dumps(sample_manifest(id="trick_app", permissions=["mail:send"])).encode()
            target.writestr(item, data)
    _refused(upload(publisher, changed, filename=tampered.name), "does not match its hash in RECORD")


def test_first_party_ids_are_taken(publisher, tmp_path):
    wheel = write_wheel(tmp_path, name="hub_copy", entry_points={"sales": "hub_copy:Plugin"},
                        files={"hub_copy/kundo_plugin.json": json.dumps(sample_manifest(id="sales")).encode()})
    _refused(upload(publisher, wheel), "The plugin id “sales” is taken by a plugin Kundo ships.")


def test_an_id_belongs_to_its_first_publisher(app, publisher, make_user, signed_in_root, tmp_path):
    wheel = write_wheel(tmp_path, name="owned_app", entry_points={"owned_app": "owned_app:Plugin"},
                        manifest=sample_manifest(id="owned_app"))
    assert upload(publisher, wheel).status_code == 302
    _user_id, email = make_user()
    rival = signed_in_root(email)
    assert rival.submit("/marketplace/publish", {"name": "Rival Ltd", "website": "https://rival.example",
                                                 "support_email": email}).status_code == 302
    (tmp_path / "b").mkdir()
    copy = write_wheel(tmp_path / "b", name="owned_app", version="2.0.0",
                       entry_points={"owned_app": "owned_app:Plugin"},
                       manifest=sample_manifest(id="owned_app", version="2.0.0", publisher="Rival Ltd"))
    _refused(upload(rival, copy), "The plugin id “owned_app” belongs to another publisher.")
