"""pytest fixtures for plugin tests: an app that loads given plugins, and enabling one for a workspace.

Used by Kundo's own tests, the hubs' tests and every plugin made by `kundo plugins new`.
"""

from __future__ import annotations

import pytest


def _manifest_version(plugin_id: str) -> str:
    from importlib.metadata import entry_points

    for entry_point in entry_points(group="kundo.plugins", name=plugin_id):
        return entry_point.load().manifest.version
    raise LookupError(f"no kundo.plugins entry point named {plugin_id!r} is installed")


@pytest.fixture
def app_with_plugins(database_url, app):  # noqa: ARG001 - `app` migrates the control plane first
    """app_with_plugins(*plugin_ids, **settings) -> a new app that approved and loaded them.

    First-party hubs load in every app; third-party plugins need their approved_plugins
    row, which this writes (and removes afterwards).
    """
    from sqlalchemy import text

    from kundo.platform.db import db
    from kundo.testing.fixtures import build_app

    built, approved = [], set()

    def _build(*plugin_ids: str, versions: dict | None = None, **overrides):
        with app.app_context():
            for plugin_id in plugin_ids:
                version = (versions or {}).get(plugin_id) or _manifest_version(plugin_id)
                db.session.execute(text(
                    "INSERT INTO control.approved_plugins (plugin_id, version, source) VALUES (:id, :v, 'marketplace') "
                    "ON CONFLICT (plugin_id) DO UPDATE SET version = excluded.version"),
                    {"id": plugin_id, "v": version})
                approved.add(plugin_id)
            db.session.commit()
        new_app = build_app(database_url, **overrides)
        built.append(new_app)
        return new_app

    yield _build
    with app.app_context():
        if approved:
            db.session.execute(text("DELETE FROM control.approved_plugins WHERE plugin_id = ANY(:ids)"),
                               {"ids": sorted(approved)})
            db.session.commit()
    from kundo.testing.jobs import stop_job_runner

    for each in built:
        stop_job_runner(each)  # its worker threads and broker pool end with the test
        with each.app_context():
            db.engine.dispose()


@pytest.fixture
def enable_app():
    """enable_app(app, workspace, plugin_id) enables a plugin as the workspace owner, consenting to all it asks."""
    from kundo.platform.auth.models import User
    from kundo.platform.db import db
    from kundo.plugins.host import loaded_plugins
    from kundo.plugins.installs import enable_plugin
    from kundo.tenants.models import Tenant

    def _enable(flask_app, workspace, plugin_id: str, with_requirements: bool = True):
        with flask_app.app_context():
            tenant = db.session.get(Tenant, workspace.tenant_id)
            owner = db.session.get(User, workspace.owner_id)
            scopes = {s for lp in loaded_plugins().values() if lp.manifest for s in lp.manifest.permissions}
            return enable_plugin(tenant, plugin_id, user=owner, consented_scopes=scopes,
                                 with_requirements=with_requirements)

    return _enable


def tenant_tables(flask_app, workspace) -> set[str]:
    """The table names in a workspace's schema."""
    from sqlalchemy import text

    from kundo.platform.db import db

    with flask_app.app_context():
        return set(db.session.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = :s"),
                                      {"s": workspace.schema_name}).scalars())


def install_sources(root, packages: dict[str, tuple], *, version: str = "0.1.0"):
    """Make plugin packages importable with real `kundo.plugins` entry points, without pip.

    `packages` is {plugin id: (source package folder, "module:Class")}; each is copied
    under `root` with a `<dist>-<version>.dist-info` (METADATA, entry_points.txt), which
    importlib.metadata (and so stevedore) finds once `root` is on sys.path. Returns a
    function that takes `root` off sys.path and forgets the imported modules.
    """
    import shutil
    import sys
    from pathlib import Path

    root = Path(root)
    modules = []
    for plugin_id, (source, target) in packages.items():
        source = Path(source)
        shutil.copytree(source, root / source.name, dirs_exist_ok=True)
        dist = f"kundo_{plugin_id}"
        info = root / f"{dist}-{version}.dist-info"
        info.mkdir(exist_ok=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[kundo.plugins]\n{plugin_id} = {target}\n")
        modules.append(source.name)
    sys.path.insert(0, str(root))

    def remove() -> None:
        if str(root) in sys.path:
            sys.path.remove(str(root))
        for name in list(sys.modules):
            if name.split(".")[0] in modules:
                del sys.modules[name]

    return remove
