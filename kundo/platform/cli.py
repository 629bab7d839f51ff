"""The `kundo` command: serve, db upgrade, tenants, users, mail.

The app is built lazily by FlaskGroup; without DATABASE_URL the embedded PostgreSQL
starts first (that is the CLI's job, never the app factory's).
"""

from __future__ import annotations

import gc
import os
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from kundo.platform.db import db


def _create_app_for_cli():
    from kundo.platform.app import create_app
    from kundo.platform.config import ConfigError, Settings
    from kundo.platform.embedded import ensure_database_url

    ensure_database_url()
    try:
        return create_app(Settings.from_env())
    except ConfigError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(2)


@click.group(cls=FlaskGroup, create_app=_create_app_for_cli, add_default_commands=False,
             add_version_option=False)
def cli():
    """Kundo — multi-tenant CRM. Run `kundo serve` to start it."""


def main() -> None:
    cli(prog_name="kundo")


class KundoCommand(click.Command):
    """Turns database errors an operator can fix into one clear line and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DBAPIError as error:
            _end_failed_transaction()
            raise _explain(error) from error


def _explain(error: DBAPIError) -> click.ClickException:
    reason = type(error.orig).__name__ if error.orig is not None else type(error).__name__
    first_line = _first_line(error.orig or error)
    # A failed connection is psycopg's OperationalError itself; SQLSTATE errors are subclasses.
    if isinstance(error, OperationalError) and reason == "OperationalError":
        return click.ClickException(f"Cannot reach PostgreSQL at {_database_location()}: {first_line} "
                                    "Check DATABASE_URL and that the server is running.")
    if reason == "UndefinedTable":
        return click.ClickException(f"The database at {_database_location()} has no Kundo tables yet "
                                    f"({first_line}) Run `kundo db upgrade` first.")
    if reason == "InsufficientPrivilege":
        return click.ClickException(f"PostgreSQL refused: {first_line} Kundo's database user must own the "
                                    "database and may create roles (tenant roles are made on the fly).")
    return click.ClickException(f"PostgreSQL refused: {reason}: {first_line}")


def _end_failed_transaction() -> None:
    """Roll back so the failed statement's locks go now, not when the process ends."""
    from flask import has_app_context

    if has_app_context():
        try:
            db.session.rollback()
        except DBAPIError:
            db.session.invalidate()


class KundoGroup(click.Group):
    command_class = KundoCommand


def _database_location() -> str:
    try:
        url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    except (RuntimeError, KeyError):
        return "DATABASE_URL"
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database}"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__).rstrip(".") + "."


def register_commands(app) -> None:
    """Commands live on the app's CLI group so `flask --app wsgi` finds them too."""
    from kundo.crm.imports.cli import crm_group
    from kundo.plugins.cli import plugins_group

    for command in (serve, worker_command, db_group, tenants_group, users_group, mail_group, crm_group,
                    plugins_group):
        app.cli.add_command(command)


# ---- serve -----------------------------------------------------------------------------


@click.command("serve", cls=KundoCommand)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--demo/--no-demo", default=False, help="Create the demo workspace if it is missing.")
@click.option("--migrate/--no-migrate", default=True, show_default=True, help="Run `db upgrade` first.")
@click.option("--worker/--no-worker", default=True, show_default=True,
              help="Run jobs and the event relay in this process too (production runs `kundo worker` apart).")
@with_appcontext
def serve(host: str, port: int, demo: bool, migrate: bool, worker: bool):
    """Migrate, optionally seed the demo workspace, and serve the app (with its worker)."""
    from werkzeug.serving import run_simple

    from kundo.platform.demo import ensure_demo_workspace
    from kundo.platform.jobs.worker import BackgroundWorker

    app = current_app._get_current_object()
    if migrate:
        _upgrade(workers=1)
    if demo:
        login = ensure_demo_workspace()
        settings = app.config["KUNDO"]
        click.secho("\n  Kundo is running.", fg="green", bold=True)
        click.echo(f"  Landing page:     {settings.root_url()}")
        click.echo(f"  Demo workspace:   {settings.workspace_url('demo')}")
        click.echo(f"  Demo login:       {login['email']}  /  {login['password']}")
        click.echo(f"  Mail outbox:      {settings.root_url()}/mail/outbox\n")
    _stop_cleanly_on_signals()
    background = BackgroundWorker(app, threads=2).start() if worker else None
    gc.freeze()  # as wsgi.py does: start-up objects out of the collector's sight
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if background is not None:
            background.stop()


@click.command("worker", cls=KundoCommand)
@click.option("--threads", default=4, show_default=True, type=int, help="Jobs run at the same time.")
@click.option("--relay/--no-relay", default=True, show_default=True,
              help="Also hand outbox events and due timers to the queue (any number of workers may).")
@with_appcontext
def worker_command(threads: int, relay: bool):
    """Run jobs, event delivery and durable timers until Ctrl-C or SIGTERM."""
    from kundo.platform.jobs.broker import broker_kind
    from kundo.platform.jobs.worker import BackgroundWorker

    app = current_app._get_current_object()
    _stop_cleanly_on_signals()
    background = BackgroundWorker(app, threads=threads, relay=relay).start()
    click.echo(f"worker running: {threads} threads, broker {broker_kind(app.config['KUNDO'])}"
               f"{', relay on' if relay else ''}")
    try:
        background.wait()
    except (KeyboardInterrupt, SystemExit):
        click.echo("stopping worker ...")
    finally:
        background.stop()


def _stop_cleanly_on_signals() -> None:
    """Ctrl-C and SIGTERM end `serve` through normal interpreter exit.

    Why: the embedded PostgreSQL is stopped by an exit handler, which runs on
    KeyboardInterrupt/SystemExit but not when a signal kills the process. A shell
    that starts `make run` in the background ignores SIGINT for its children, and
    process managers send SIGTERM; both must still take the database down.
    """
    import signal

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))


# ---- db ----------------------------------------------------------------------------------


@click.group("db", cls=KundoGroup)
def db_group():
    """Database migrations."""


def _upgrade(workers: int) -> bool:
    from kundo.tenants.migrations import upgrade_all_tenants, upgrade_control_plane
    from kundo.tenants.models import Tenant
    from kundo.tenants.session import TenantScope

    revision = upgrade_control_plane(db.engine)
    click.echo(f"control plane at {revision}")
    tenants = db.session.scalars(select(Tenant).order_by(Tenant.id)).all()
    scopes = [TenantScope.of(t) for t in tenants]
    # Each tenant also migrates the plugins it enabled (their own version tables).
    from kundo.plugins.host import enabled_plugin_trees

    plugin_trees = enabled_plugin_trees(current_app._get_current_object(), [s.tenant_id for s in scopes])
    db.session.remove()
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    db.engine.dispose()  # worker processes must not inherit pooled connections
    with click.progressbar(length=len(scopes), label=f"tenant schemas ({len(scopes)})",
                           file=sys.stderr) as bar:
        report = upgrade_all_tenants(url, scopes, workers=workers, on_progress=bar.update, extra_trees=plugin_trees)
    click.echo(f"tenant schemas: {len(report.upgraded)} upgraded, {report.up_to_date} already at head, "
               f"{len(report.failed)} failed")
    for slug, error in sorted(report.failed.items()):
        click.secho(f"  FAILED {slug}: {error}", fg="red", err=True)
    _replace_stale_spares()
    return report.ok


def _replace_stale_spares() -> None:
    from kundo.tenants.provisioning import replace_stale_spares
    from kundo.tenants.service import database_name

    replaced = replace_stale_spares(db.session, database_name=database_name())
    if replaced:
        click.echo(f"spare schemas: {replaced} replaced at the new head")


@db_group.command("upgrade")
@click.option("--workers", default=min(4, os.cpu_count() or 2), show_default=True, type=click.IntRange(min=1),
              help="Tenant schemas migrated in parallel (processes).")
@with_appcontext
def db_upgrade(workers: int):
    """Migrate the control plane, then every tenant schema (resumable)."""
    if not _upgrade(workers):
        click.secho("Some tenants failed; fix them and run `kundo db upgrade` again — "
                    "finished tenants are skipped.", fg="red", err=True)
        sys.exit(1)


# ---- tenants -------------------------------------------------------------------------------


@click.group("tenants", cls=KundoGroup)
def tenants_group():
    """Create, list, suspend, resume and delete workspaces."""


def _tenant_or_exit(slug: str):
    from kundo.tenants.resolution import find_tenant

    tenant = find_tenant(slug)
    if tenant is None:
        click.secho(f"No workspace “{slug}”. `kundo tenants list` shows them all.", fg="red", err=True)
        sys.exit(1)
    return tenant


@tenants_group.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="Company name shown in the workspace.")
@click.option("--owner", "owner_email", required=True, help="E-mail of an existing user.")
@click.option("--locale", default="en", type=click.Choice(["en", "de"]), show_default=True)
@with_appcontext
def tenants_create(slug: str, name: str, owner_email: str, locale: str):
    """Create a workspace owned by an existing user."""
    from kundo.platform.auth.service import find_user_by_email
    from kundo.tenants.service import WorkspaceError, create_workspace

    owner = find_user_by_email(owner_email)
    if owner is None:
        click.secho(f"No user {owner_email}. Create one with `kundo users create`.", fg="red", err=True)
        sys.exit(1)
    try:
        tenant = create_workspace(slug=slug, name=name, owner=owner, locale=locale)
    except WorkspaceError as error:
        db.session.rollback()
        click.secho(f"Error: {error}", fg="red", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"created {tenant.slug} (schema {tenant.schema_name}) — "
               f"{current_app.config['KUNDO'].workspace_url(tenant.slug)}")


@tenants_group.command("spares")
@click.option("--fill", "fill_to", type=click.IntRange(min=0), default=None,
              help="Make spare schemas until this many are ready.")
@click.option("--discard", is_flag=True, help="Drop every spare schema first.")
@with_appcontext
def tenants_spares(fill_to: int | None, discard: bool):
    """Show or top up the spare schemas that make sign-ups instant (run --fill from cron)."""
    from kundo.tenants.provisioning import discard_spares, provision_spare_schema, tenant_head_revision
    from kundo.tenants.service import database_name
    from kundo.tenants.spares import spare_counts

    if discard:
        click.echo(f"discarded {discard_spares(db.session)} spare schema(s)")
    head = tenant_head_revision()
    counts = spare_counts(db.session)
    ready = counts.get(head, 0)
    if fill_to is not None and fill_to > ready:
        with click.progressbar(range(fill_to - ready), label="making spare schemas", file=sys.stderr) as bar:
            for _ in bar:
                provision_spare_schema(db.session, database_name=database_name())
                db.session.commit()
        ready = fill_to
    stale = sum(count for revision, count in counts.items() if revision != head)
    click.echo(f"{ready} spare schema(s) ready at {head}"
               + (f", {stale} at an older revision (`kundo db upgrade` replaces them)" if stale else ""))


@tenants_group.command("list")
@with_appcontext
def tenants_list():
    """List workspaces."""
    from sqlalchemy import func

    from kundo.tenants.models import Membership, Tenant

    rows = db.session.execute(
        select(Tenant, func.count(Membership.id)).outerjoin(Membership).group_by(Tenant.id).order_by(Tenant.slug)
    ).all()
    if not rows:
        click.echo("No workspaces yet. `kundo tenants create` or the sign-up page makes one.")
        return
    click.echo(f"{'SLUG':<24} {'STATUS':<10} {'SCHEMA':<12} {'MEMBERS':>7}  NAME")
    for tenant, members in rows:
        click.echo(f"{tenant.slug:<24} {tenant.status.value:<10} {tenant.schema_name:<12} {members:>7}  {tenant.name}")


@tenants_group.command("suspend")
@click.argument("slug")
@click.option("--reason", default=None)
@with_appcontext
def tenants_suspend(slug: str, reason: str | None):
    """Suspend a workspace: its pages answer with a suspension notice."""
    from kundo.tenants.models import TenantStatus
    from kundo.tenants.service import set_tenant_status

    set_tenant_status(_tenant_or_exit(slug), TenantStatus.SUSPENDED, reason)
    db.session.commit()
    click.echo(f"suspended {slug}")


@tenants_group.command("resume")
@click.argument("slug")
@with_appcontext
def tenants_resume(slug: str):
    """Reactivate a suspended workspace."""
    from kundo.tenants.models import TenantStatus
    from kundo.tenants.service import set_tenant_status

    set_tenant_status(_tenant_or_exit(slug), TenantStatus.ACTIVE)
    db.session.commit()
    click.echo(f"resumed {slug}")


@tenants_group.command("delete")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def tenants_delete(slug: str, yes: bool):
    """Delete a workspace: drops its schema, role and all its data."""
    from kundo.tenants.service import delete_workspace

    tenant = _tenant_or_exit(slug)
    if not yes:
        typed = click.prompt(
            f"This deletes “{tenant.name}” and all its data for good. Type the workspace address "
            f"({slug}) to confirm", default="", show_default=False)
        if typed.strip() != slug:
            click.secho("Not deleted: the address did not match.", fg="yellow", err=True)
            sys.exit(1)
    delete_workspace(tenant)
    db.session.commit()
    click.echo(f"deleted {slug}")


# ---- users ------------------------------------------------------------------------------------


@click.group("users", cls=KundoGroup)
def users_group():
    """Manage user accounts."""


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def users_create(email: str, name: str, password: str):
    """Create a verified user account."""
    from kundo.platform.auth.service import AuthError, create_user
    from kundo.platform.db import utcnow
    from kundo.platform.security import WeakPassword

    try:
        user = create_user(email=email, name=name, password=password)
    except (AuthError, WeakPassword) as error:
        db.session.rollback()
        click.secho(f"Error: {error}", fg="red", err=True)
        sys.exit(1)
    user.email_verified_at = utcnow()
    db.session.commit()
    click.echo(f"created user {user.email} (id {user.id})")


@users_group.command("promote")
@click.argument("email")
@click.option("--revoke", is_flag=True, help="Take the operator flag away instead.")
@with_appcontext
def users_promote(email: str, revoke: bool):
    """Make a user a platform operator (reviews marketplace uploads), or --revoke it."""
    from kundo.platform.audit.service import record_audit
    from kundo.platform.auth.service import find_user_by_email

    user = find_user_by_email(email)
    if user is None:
        click.secho(f"Error: no user with the e-mail address {email}.", fg="red", err=True)
        sys.exit(1)
    if user.is_operator == (not revoke):
        click.echo(f"{user.email} is {'not ' if revoke else ''}an operator already.")
        return
    user.is_operator = not revoke
    record_audit("user.operator_revoked" if revoke else "user.operator_granted", target=f"user:{user.id}")
    db.session.commit()
    click.echo(f"{user.email} is {'no longer' if revoke else 'now'} a platform operator.")


# ---- mail ---------------------------------------------------------------------------------------


@click.group("mail", cls=KundoGroup)
def mail_group():
    """The local mail outbox (used when MAIL_URL is not set)."""


@mail_group.command("outbox")
@click.option("--limit", default=10, show_default=True)
@click.option("--to", "recipient", default=None, help="Only mail to this address.")
@with_appcontext
def mail_outbox(limit: int, recipient: str | None):
    """Show the newest mails Kundo sent."""
    from kundo.platform.mail.models import OutboxMail

    query = select(OutboxMail).order_by(OutboxMail.id.desc()).limit(limit)
    if recipient:
        query = query.where(OutboxMail.recipient.ilike(recipient))
    mails = db.session.scalars(query).all()
    if not mails:
        click.echo("The outbox is empty.")
    for mail in mails:
        click.echo(f"#{mail.id}  {mail.created_at:%Y-%m-%d %H:%M}  to {mail.recipient}  via {mail.delivered_via}")
        click.echo(f"Subject: {mail.subject}\n\n{mail.body_text}\n" + "-" * 72)
