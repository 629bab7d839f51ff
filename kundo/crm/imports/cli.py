"""`kundo crm import`, `kundo crm import-resume` and `kundo crm sort-indexes`.

The import runs in the foreground with a progress bar. Failed rows are written next
to the file as FILE.errors.csv and the command exits with 1, so scripts notice.
`sort-indexes` builds the custom-property sort indexes that jobs normally build (for
properties made before those jobs existed, or after a job was dead-lettered).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext


@click.group("crm")
def crm_group():
    """CRM data: import contacts and companies, sort indexes of custom properties."""


def _scope_or_exit(slug: str):
    from kundo.tenants.resolution import find_tenant
    from kundo.tenants.session import TenantScope

    tenant = find_tenant(slug)
    if tenant is None:
        click.secho(f"No workspace “{slug}”. `kundo tenants list` shows them all.", fg="red", err=True)
        sys.exit(1)
    return TenantScope.of(tenant)


def _load_mapping(raw: str) -> dict:
    source = Path(raw)
    text = source.read_text(encoding="utf-8") if source.is_file() else raw
    try:
        mapping = json.loads(text)
    except ValueError as error:
        raise click.BadParameter(f"not JSON ({error}). Pass {{\"Column\": \"field\"}} or a path to a JSON file.",
                                 param_hint="--mapping") from error
    if not isinstance(mapping, dict):
        raise click.BadParameter("must be a JSON object {\"Column\": \"field\"}.", param_hint="--mapping")
    return mapping


@crm_group.command("import")
@click.option("--workspace", "slug", required=True, help="The workspace's address (slug).")
@click.option("--type", "object_type", required=True, type=click.Choice(["contacts", "companies"]),
              help="What the rows are.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mapping", "mapping_json", default=None,
              help='JSON {"Column": "field"} or a path to a JSON file; fields as in the API.')
@click.option("--auto", is_flag=True, help="Use the suggested mapping.")
@click.option("--on-duplicate", type=click.Choice(["update", "skip"]), default="skip", show_default=True,
              help="What to do with rows whose e-mail (contacts) or domain (companies) exists.")
@click.option("--dry-run", is_flag=True, help="Check and count everything, write nothing.")
@click.option("--batch-size", default=5000, show_default=True, type=click.IntRange(min=1), hidden=True)
@with_appcontext
def import_command(slug, object_type, file: Path, mapping_json, auto, on_duplicate, dry_run, batch_size):
    """Import contacts or companies from a CSV FILE into a workspace."""
    from kundo.crm.imports.csvfile import CsvFileError, detect_layout
    from kundo.crm.imports.mapping import MappingError, normalized_object_type, suggest_mapping
    from kundo.crm.imports.runner import run_import
    from kundo.crm.imports.service import ImportRunError
    from kundo.crm.properties.service import definitions_for
    from kundo.tenants.session import tenant_session

    if mapping_json is not None and auto:
        raise click.UsageError("Pass either --mapping or --auto, not both.")
    scope = _scope_or_exit(slug)
    content = file.read_bytes()
    kind = normalized_object_type(object_type)
    mapping = _load_mapping(mapping_json) if mapping_json is not None else None
    try:
        layout = detect_layout(content, max_bytes=max(len(content), 1))
    except CsvFileError as error:
        click.secho(f"Error: {error}", fg="red", err=True)
        sys.exit(1)
    if mapping is None and not auto:
        with tenant_session(scope) as session:
            suggestion = suggest_mapping(layout.headers, kind, definitions_for(session, kind))
        click.echo("Suggested mapping (pass it with --mapping, edited as needed, or use --auto):")
        click.echo(json.dumps(suggestion, ensure_ascii=False, indent=2))
        sys.exit(2)
    with click.progressbar(length=layout.row_count, label=f"{file.name} ({layout.row_count} rows)",
                           file=sys.stderr) as bar:
        position = {"done": 0}

        def advance(processed: int, _total: int) -> None:
            bar.update(processed - position["done"])
            position["done"] = processed

        try:
            run = run_import(scope, content, object_type=kind, filename=file.name, mapping=mapping,
                             on_duplicate=on_duplicate, dry_run=dry_run, max_bytes=max(len(content), 1),
                             batch_size=batch_size, on_progress=advance)
        except MappingError as error:
            details = "".join(f"\n  {header}: {message}" for header, message in error.errors.items())
            click.secho(f"Error: {error}{details}", fg="red", err=True)
            sys.exit(1)
        except (CsvFileError, ImportRunError) as error:
            click.secho(f"Error: {error}", fg="red", err=True)
            sys.exit(1)
    _summarize(run, file)


@crm_group.command("import-resume")
@click.option("--workspace", "slug", required=True, help="The workspace's address (slug).")
@click.argument("run_id", type=int)
@with_appcontext
def import_resume_command(slug, run_id):
    """Continue an import run that stopped part-way (crash or restart)."""
    from kundo.crm.imports.runner import resume_import
    from kundo.crm.imports.service import ImportRunError

    scope = _scope_or_exit(slug)
    try:
        run = resume_import(scope, run_id)
    except ImportRunError as error:
        click.secho(f"Error: {error}", fg="red", err=True)
        sys.exit(1)
    _summarize(run, Path(run.filename))


@crm_group.command("sort-indexes")
@click.option("--workspace", "slug", default=None, help="One workspace's address (slug); all when omitted.")
@with_appcontext
def sort_indexes_command(slug):
    """Build missing custom-property sort indexes and drop those of deleted properties."""
    from kundo.crm.lists.sort_indexes import sync_all_sort_indexes
    from kundo.platform.db import db
    from kundo.platform.jobs.scopes import active_scopes

    scopes = [_scope_or_exit(slug)] if slug else active_scopes()
    db.session.remove()  # CONCURRENTLY waits for open transactions; this command's own must not be one
    for scope in scopes:
        outcomes = sync_all_sort_indexes(scope)
        built = sum(outcome == "built" for outcome in outcomes.values())
        click.echo(f"{scope.slug}: {built} sort indexes in place, {len(outcomes) - built} dropped or not needed.")


def _summarize(run, file: Path) -> None:
    from kundo.crm.imports.service import error_report_download

    verb = "would be" if run.dry_run else "were"
    click.echo(f"{'Dry run' if run.dry_run else 'Import'} #{run.id}: {run.processed_rows} of {run.total_rows} rows — "
               f"{run.created_count} {verb} created, {run.updated_count} {verb} updated, "
               f"{run.skipped_count} {verb} skipped, {run.failed_count} failed.")
    if run.failed_count:
        report = file.with_name(f"{file.name}.errors.csv")
        report.write_bytes(error_report_download(run))
        click.secho(f"{run.failed_count} rows failed; the rows and reasons are in {report}", fg="red", err=True)
        sys.exit(1)
