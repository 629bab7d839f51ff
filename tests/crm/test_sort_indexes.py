"""Sort indexes of custom properties are built and dropped by a job that follows the property's events."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, ProgrammingError

from kundo.crm import create_contact
from kundo.crm.lists.sort_indexes import sort_index_name
from kundo.platform.db import db
from kundo.tenants.session import TenantScope, tenant_autocommit_connection, tenant_session
from kundo.testing.web import HostClient


@pytest.fixture
def api(client, make_workspace, api_token):
    workspace = make_workspace()
    host = HostClient(client, workspace.host)
    token = api_token(workspace)

    def call(method, path, json=None):
        return host.api(method, f"/api/v1{path}", token, json=json)

    call.workspace = workspace
    return call


def scope_of(workspace) -> TenantScope:
    return TenantScope(workspace.tenant_id, workspace.slug, workspace.schema_name, workspace.role_name)


def fresh_key() -> str:
    """A key no other test uses, so "in this schema only" can be checked across the whole database."""
    return f"sx_{uuid.uuid4().hex[:10]}"


def indexes_named(app, name: str) -> list[tuple[str, bool]]:
    """(schema, valid) of every index called `name` in the database."""
    with app.app_context(), db.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT n.nspname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = :name ORDER BY 1"), {"name": name})
        return [tuple(row) for row in rows]


def define(api, key: str, type_: str = "number", object_type: str = "contact"):
    response = api("POST", f"/properties/{object_type}", {"key": key, "label": key.title(), "type": type_})
    assert response.status_code == 201, response.get_json()
    return response


def test_creating_a_property_builds_its_index_in_that_workspace_only_and_deleting_drops_it(
        app, api, make_workspace, run_jobs):
    other = make_workspace()
    key = fresh_key()
    name = sort_index_name("contact", key)
    define(api, key)
    for score in (3, 1, 2):
        created = api("POST", "/contacts", {"first_name": f"P{score}", "custom": {key: score}})
        assert created.status_code == 201, created.get_json()
    # The list sorts before the index exists, only more slowly.
    before = api("GET", f"/contacts?sort=-custom.{key}").get_json()
    assert [c["first_name"] for c in before["items"]] == ["P3", "P2", "P1"]
    assert indexes_named(app, name) == []

    run_jobs()
    assert indexes_named(app, name) == [(api.workspace.schema_name, True)]
    assert other.schema_name not in {schema for schema, _valid in indexes_named(app, name)}
    after = api("GET", f"/contacts?sort=-custom.{key}").get_json()
    assert [c["first_name"] for c in after["items"]] == ["P3", "P2", "P1"]

    assert api("DELETE", f"/properties/contact/{key}?confirm=true").status_code == 204
    run_jobs()
    assert indexes_named(app, name) == []


def test_company_properties_get_theirs_and_long_text_types_get_none(app, api, run_jobs):
    dated, enum_key, texty, link = fresh_key(), fresh_key(), fresh_key(), fresh_key()
    define(api, dated, "date", "company")
    assert api("POST", "/properties/contact", {"key": enum_key, "label": "Tier", "type": "enum",
                                               "options": [{"value": "gold"}, {"value": "silver"}]}).status_code == 201
    define(api, texty, "text")
    define(api, link, "url")
    run_jobs()
    schema = api.workspace.schema_name
    assert indexes_named(app, sort_index_name("company", dated)) == [(schema, True)]
    assert indexes_named(app, sort_index_name("contact", enum_key)) == [(schema, True)]
    # Values of up to 10,000 characters do not fit a btree entry: such an index would refuse saves.
    assert indexes_named(app, sort_index_name("contact", texty)) == []
    assert indexes_named(app, sort_index_name("contact", link)) == []


def test_a_property_deleted_before_the_job_ran_leaves_no_index(app, api, run_jobs):
    key = fresh_key()
    define(api, key)
    assert api("DELETE", f"/properties/contact/{key}?confirm=true").status_code == 204
    run_jobs()  # both jobs look at the property as it is now: gone
    assert indexes_named(app, sort_index_name("contact", key)) == []


def test_an_invalid_leftover_index_is_dropped_and_rebuilt(app, api, run_jobs):
    key = fresh_key()
    name = sort_index_name("contact", key)
    workspace = api.workspace
    with app.app_context():
        with tenant_session(scope_of(workspace)) as session:
            create_contact(session, first_name="Ada")
            create_contact(session, first_name="Grace")
        db.session.remove()
        # A concurrent build that failed half-way (here: a unique index over two equal rows) leaves
        # an INVALID index under the name; IF NOT EXISTS alone would keep it forever.
        with pytest.raises(IntegrityError, match="could not create unique index"):
            with tenant_autocommit_connection(scope_of(workspace)) as connection:
                connection.exec_driver_sql(f'CREATE UNIQUE INDEX CONCURRENTLY "{name}" ON contacts ((1))')
    assert indexes_named(app, name) == [(workspace.schema_name, False)]

    define(api, key)
    run_jobs()
    assert indexes_named(app, name) == [(workspace.schema_name, True)]
    with app.app_context(), db.engine.connect() as connection:
        definition = connection.scalar(text("SELECT indexdef FROM pg_indexes WHERE schemaname = :schema "
                                            "AND indexname = :name"),
                                       {"schema": workspace.schema_name, "name": name})
    assert "UNIQUE" not in definition and f"((custom -> '{key}'::text)), id)" in definition


def test_the_autocommit_connection_is_the_tenant_and_gives_the_role_back(app, make_workspace):
    mine, theirs = make_workspace(), make_workspace()
    with app.app_context():
        db.session.remove()
        single = create_engine(db.engine.url, pool_size=1, max_overflow=0)  # the next checkout is the same one
        with tenant_autocommit_connection(scope_of(mine), single) as connection:
            assert connection.scalar(text("SELECT current_user")) == mine.role_name
            assert connection.scalar(text("SELECT count(*) FROM contacts")) == 0  # its own schema first
            with pytest.raises(ProgrammingError, match="permission denied"):
                connection.execute(text(f'SELECT count(*) FROM "{theirs.schema_name}".contacts'))
            with pytest.raises(ProgrammingError, match="permission denied"):
                connection.execute(text("SELECT count(*) FROM control.tenants"))
            backend = connection.scalar(text("SELECT pg_backend_pid()"))
        # The pool gets the connection back as the application's own user, with the default search_path.
        with single.connect() as connection:
            assert connection.scalar(text("SELECT pg_backend_pid()")) == backend
            assert connection.scalar(text("SELECT current_user")) == connection.scalar(text("SELECT session_user"))
            assert mine.schema_name not in connection.scalar(text("SHOW search_path"))
        single.dispose()


def test_the_cli_builds_what_is_missing_and_drops_what_has_no_property(app, make_workspace):
    from kundo.crm.lists.sort_indexes import create_sort_index
    from kundo.crm.properties.models import PropertyDefinition

    workspace = make_workspace()
    old, gone, texty = fresh_key(), fresh_key(), fresh_key()
    with app.app_context():
        with tenant_session(scope_of(workspace)) as session:  # made before properties announced themselves
            session.add(PropertyDefinition(object_type="contact", key=old, label="Old", type="number"))
            session.add(PropertyDefinition(object_type="contact", key=texty, label="Texty", type="text"))
        db.session.remove()
        create_sort_index(scope_of(workspace), "contact", gone)  # its property was deleted while no worker ran
    runner = app.test_cli_runner()

    result = runner.invoke(args=["crm", "sort-indexes", "--workspace", workspace.slug])
    assert result.exit_code == 0, result.output
    assert f"{workspace.slug}: 1 sort indexes in place, 2 dropped or not needed." in result.output
    assert indexes_named(app, sort_index_name("contact", old)) == [(workspace.schema_name, True)]
    assert indexes_named(app, sort_index_name("contact", gone)) == []

    missing = runner.invoke(args=["crm", "sort-indexes", "--workspace", "no-such-workspace"])
    assert missing.exit_code == 1 and "No workspace “no-such-workspace”" in missing.output
