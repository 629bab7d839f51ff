"""`kundo plugins ...`: what the host loaded, and a new plugin from the template.

The group lives here (not in kundo/platform/cli.py) so plugin commands — `list`, `new`,
and the marketplace's `sync` — are added in one place without touching the platform CLI.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from kundo.platform.cli import KundoGroup
from kundo.plugins.marketplace.cli import sync_command


@click.group("plugins", cls=KundoGroup)
def plugins_group():
    """Hubs and apps: list what is loaded, make a new plugin."""


# The marketplace's command: install approved versions (kundo.plugins.marketplace.cli).
plugins_group.add_command(sync_command)


@plugins_group.command("list")
@with_appcontext
def plugins_list():
    """Approved plugins, whether they loaded, and in how many workspaces they are enabled."""
    from sqlalchemy import func, select

    from kundo.platform.db import db
    from kundo.plugins.host import plugin_host
    from kundo.plugins.models import TenantPlugin

    host = plugin_host(current_app)
    counts = dict(db.session.execute(select(TenantPlugin.plugin_id, func.count())
                                     .where(TenantPlugin.state == "enabled").group_by(TenantPlugin.plugin_id)).all())
    if host.safe_mode:
        click.secho("Safe mode (KUNDO_SAFE_MODE): only the first-party hubs are loaded.", fg="yellow")
    click.echo(f"{'ID':<20} {'VERSION':<10} {'SOURCE':<12} {'ENABLED IN':>10}  STATUS")
    for plugin_id, loaded in sorted(host.loaded.items()):
        status = "ok" if loaded.healthy else f"UNHEALTHY: {loaded.error}"
        line = (f"{plugin_id:<20} {loaded.version or '-':<10} {loaded.source:<12} "
                f"{counts.get(plugin_id, 0):>10}  {status}")
        click.secho(line, fg=None if loaded.healthy else "red")


@plugins_group.command("new")
@click.argument("name")
@click.option("--path", "directory", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Folder to create the distribution in.")
@click.option("--publisher", default="Your company", show_default=True)
def plugins_new(name: str, directory: str, publisher: str):
    """Create a working plugin distribution NAME: a page, a table with its migration, and a test."""
    from kundo.plugins.template import TemplateError, render_plugin

    try:
        target = render_plugin(name, Path(directory), publisher=publisher)
    except TemplateError as error:
        click.secho(f"Error: {error}", fg="red", err=True)
        sys.exit(1)
    click.echo(f"created {target}")
    click.echo(f"  install it:   pip install -e {target}")
    click.echo(f"  test it:      pytest {target / 'tests'}")
    click.echo("  Kundo loads it once it is approved (marketplace, then `kundo plugins sync`).")
