"""Provisioning is atomic and leaves a schema only its own role can touch.

Failures are injected in PostgreSQL itself (a trigger that raises), so the real
sign-up code runs unchanged up to the point where the database refuses.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from kundo.platform.audit.models import AuditEntry
from kundo.platform.auth.models import User
from kundo.platform.db import db
from kundo.platform.mail.models import OutboxMail
from kundo.tenants.models import Membership, Tenant
from kundo.tenants.provisioning import (
    discard_spares,
    provision_spare_schema,
    provision_tenant,
    replace_stale_spares,
    tenant_head_revision,
)
from kundo.tenants.service import create_workspace, database_name, sign_up
from kundo.tenants.session import tenant_session
from kundo.tenants.spares import SpareSchema
from kundo.tenants.workspace import WorkspaceProfile
from kundo.testing.fixtures import TEST_PASSWORD, unique_slug


@contextmanager
def failing_inserts(table: str):
    """Make every INSERT into `table` raise, until the block ends."""
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE FUNCTION control.kundo_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'injected failure on %%', TG_TABLE_NAME; END $$;"
            f"CREATE TRIGGER kundo_test_refuse BEFORE INSERT ON control.{table} "
            "FOR EACH ROW EXECUTE FUNCTION control.kundo_test_refuse()"
        )
    try:
        yield
    finally:
        with db.engine.begin() as connection:
            connection.exec_driver_sql(
                f"DROP TRIGGER kundo_test_refuse ON control.{table}; DROP FUNCTION control.kundo_test_refuse()"
            )


def tenant_schemas_and_roles() -> tuple[set[str], set[str]]:
    schemas = set(db.session.scalars(text("SELECT nspname FROM pg_namespace WHERE nspname ~ '^t_[0-9]+$'")))
    roles = set(db.session.scalars(
        text("SELECT rolname FROM pg_roles WHERE starts_with(rolname, :prefix)"),
        {"prefix": f"kundo_{database_name()}_t"},
    ))
    db.session.rollback()
    return schemas, roles


def signup_form(slug: str) -> dict:
    return {"company_name": "Atomic GmbH", "slug": slug, "name": "Ada Atomic",
            "email": f"ada-{uuid.uuid4().hex[:8]}@example.com", "password": TEST_PASSWORD}


def assert_nothing_left(form: dict, before: tuple[set[str], set[str]]) -> None:
    assert tenant_schemas_and_roles() == before, "a schema or role survived the failed sign-up"
    assert db.session.scalar(select(Tenant.id).where(Tenant.slug == form["slug"])) is None
    assert db.session.scalar(select(User.id).where(User.email == form["email"])) is None
    assert db.session.scalar(select(func.count()).select_from(OutboxMail)
                             .where(OutboxMail.recipient == form["email"])) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.target == f"tenant:{form['slug']}")) == 0


@pytest.mark.parametrize("failing_table", ["memberships", "audit_log"])
def test_failed_sign_up_leaves_nothing_behind_and_can_be_retried(app_ctx, failing_table):
    """memberships fails in the middle (after the DDL), audit_log at the very end (at commit)."""
    form = signup_form(unique_slug("atomic"))
    before = tenant_schemas_and_roles()

    with failing_inserts(failing_table), pytest.raises(DBAPIError) as failure:
        sign_up(**form)
        db.session.commit()
    assert "injected failure" in str(failure.value)
    db.session.rollback()
    assert_nothing_left(form, before)

    tenant, user = sign_up(**form)
    db.session.commit()
    schemas, roles = tenant_schemas_and_roles()
    assert schemas - before[0] == {tenant.schema_name}
    assert roles - before[1] == {tenant.role_name}
    assert db.session.scalar(select(Membership.role).where(Membership.tenant_id == tenant.id)) == "owner"
    assert db.session.scalar(select(OutboxMail.subject).where(OutboxMail.recipient == user.email))


def test_failed_create_workspace_for_an_existing_user_keeps_the_user(app_ctx, make_user):
    user_id, _email = make_user()
    slug = unique_slug("again")
    before = tenant_schemas_and_roles()
    with failing_inserts("memberships"), pytest.raises(DBAPIError):
        create_workspace(slug=slug, name="Again AG", owner=db.session.get(User, user_id))
    db.session.rollback()
    assert tenant_schemas_and_roles() == before
    assert db.session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is None
    assert db.session.get(User, user_id) is not None

    tenant = create_workspace(slug=slug, name="Again AG", owner=db.session.get(User, user_id))
    db.session.commit()
    assert tenant.slug == slug


def test_a_taken_slug_is_refused_before_any_ddl_runs(app_ctx, make_workspace):
    """Two sign-ups racing for one slug: the unique index stops the second before CREATE ROLE."""
    taken = make_workspace()
    before = tenant_schemas_and_roles()
    with pytest.raises(IntegrityError):
        provision_tenant(db.session, slug=taken.slug, name="Copycat", database_name=database_name())
    db.session.rollback()
    assert tenant_schemas_and_roles() == before


def test_new_schema_belongs_to_a_nologin_role_the_app_can_act_as(app_ctx, make_workspace):
    ws = make_workspace(name="Owned KG")
    facts = db.session.execute(text(
        "SELECT n.nspowner::regrole::text AS schema_owner, r.rolcanlogin, r.rolinherit, r.rolsuper, "
        "       r.rolcreaterole, r.rolcreatedb, pg_has_role(current_user, r.oid, 'MEMBER') AS app_is_member "
        "FROM pg_namespace n, pg_roles r WHERE n.nspname = :schema AND r.rolname = :role"
    ), {"schema": ws.schema_name, "role": ws.role_name}).one()
    assert facts.schema_owner == ws.role_name
    assert facts.rolcanlogin is False
    assert facts.rolinherit is False, "a tenant role must not inherit privileges of other roles"
    assert not (facts.rolsuper or facts.rolcreaterole or facts.rolcreatedb)
    assert facts.app_is_member is True

    owners = set(db.session.scalars(text(
        "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class WHERE relnamespace = CAST(:schema AS regnamespace)"
    ), {"schema": ws.schema_name}))
    assert owners == {ws.role_name}, "every table, index and sequence belongs to the tenant role"
    assert db.session.scalar(text(f'SELECT version_num FROM "{ws.schema_name}".alembic_version')) \
        == tenant_head_revision()
    assert db.session.scalar(text(f'SELECT company_name FROM "{ws.schema_name}".workspace_profile')) == "Owned KG"
    db.session.rollback()


def test_deleting_a_workspace_drops_schema_role_and_rows(app_ctx, make_workspace):
    from kundo.tenants.service import delete_workspace

    ws = make_workspace()
    delete_workspace(db.session.get(Tenant, ws.tenant_id))
    db.session.commit()
    schemas, roles = tenant_schemas_and_roles()
    assert ws.schema_name not in schemas
    assert ws.role_name not in roles
    assert db.session.scalar(select(func.count()).select_from(Membership)
                             .where(Membership.tenant_id == ws.tenant_id)) == 0


# ---- spare schemas made ahead of sign-ups ---------------------------------------------------------


@pytest.fixture
def make_spares(app_ctx):
    """make_spares(n) -> [(tenant_id, schema, role)]; leftovers are dropped afterwards."""

    def make(count: int = 1) -> list[tuple[int, str, str]]:
        made = []
        for _ in range(count):
            spare = provision_spare_schema(db.session, database_name=database_name())
            db.session.commit()
            made.append((spare.tenant_id, spare.schema_name, spare.role_name))
        return made

    yield make
    db.session.rollback()
    discard_spares(db.session)


def spares_left() -> set[str]:
    left = set(db.session.scalars(select(SpareSchema.schema_name)))
    db.session.rollback()
    return left


def test_sign_up_claims_the_oldest_ready_spare(app_ctx, make_spares):
    (first_id, first_schema, first_role), (_id, second_schema, _role) = make_spares(2)
    form = signup_form(unique_slug("spare"))
    tenant, _user = sign_up(**form)
    db.session.commit()
    assert (tenant.id, tenant.schema_name, tenant.role_name) == (first_id, first_schema, first_role)
    assert spares_left() == {second_schema}
    with tenant_session(tenant) as session:
        assert session.get(WorkspaceProfile, 1).company_name == form["company_name"]
        assert session.scalar(text("SELECT current_user")) == first_role


def test_a_failed_sign_up_hands_the_spare_back(app_ctx, make_spares):
    [(spare_id, spare_schema, _role)] = make_spares(1)
    form = signup_form(unique_slug("giveback"))
    before = tenant_schemas_and_roles()
    with failing_inserts("memberships"), pytest.raises(DBAPIError):
        sign_up(**form)
    db.session.rollback()
    assert_nothing_left(form, before)
    assert spares_left() == {spare_schema}

    tenant, _user = sign_up(**form)
    db.session.commit()
    assert (tenant.id, tenant.schema_name) == (spare_id, spare_schema)
    assert spares_left() == set()


def test_stale_spares_are_never_claimed_and_are_replaced(app_ctx, make_spares):
    """`kundo db upgrade` calls replace_stale_spares (tests/tenants/test_migrations.py runs the command)."""
    [(_id, stale_schema, stale_role)] = make_spares(1)
    db.session.execute(text("UPDATE control.spare_schemas SET revision = 'older' WHERE schema_name = :s"),
                       {"s": stale_schema})
    db.session.commit()

    tenant, _user = sign_up(**signup_form(unique_slug("fresh")))
    db.session.commit()
    assert tenant.schema_name != stale_schema

    assert replace_stale_spares(db.session, database_name=database_name()) == 1
    schemas, roles = tenant_schemas_and_roles()
    assert stale_schema not in schemas and stale_role not in roles
    replacement = db.session.scalar(select(SpareSchema))
    assert replacement.revision == tenant_head_revision() and replacement.schema_name in schemas
    db.session.rollback()
