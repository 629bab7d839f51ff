"""`kundo plugins sync`: install approved marketplace versions into this environment.

Registered into the `kundo plugins` group (kundo.plugins.cli). Prints one line per
plugin and exits with 1 if any plugin could not be installed, so a deploy script notices.
"""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext


@click.command("sync")
@with_appcontext
def sync_command():
    """Install approved marketplace versions (pip, stored hash) and allow them to load after a restart."""
    from kundo.plugins.marketplace.sync import sync_approved_plugins

    results = sync_approved_plugins()
    if not results:
        click.echo("No approved marketplace plugins.")
        return
    for result in results:
        line = f"{result.plugin_id} {result.version}: {result.outcome}"
        if result.failed:
            click.secho(f"{line} — {result.message}", fg="red", err=True)
        else:
            click.echo(line)
    if any(r.failed for r in results):
        sys.exit(1)
    if any(r.outcome == "installed" for r in results):
        click.echo("Restart Kundo (web and workers) to load the new versions; workspaces then see them.")
