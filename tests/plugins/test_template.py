"""`kundo plugins new` makes a distribution that installs with pip and passes its own test."""

from __future__ import annotations

import os
import subprocess
import sys

from kundo.plugins.cli import plugins_new


def test_new_plugin_installs_and_its_test_passes(tmp_path, database_admin_url):
    from click.testing import CliRunner

    result = CliRunner().invoke(plugins_new, ["Acme Notes", "--path", str(tmp_path), "--publisher", "Acme"])
    assert result.exit_code == 0, result.output
    target = tmp_path / "kundo-acme-notes"
    assert (target / "pyproject.toml").is_file() and (target / "kundo_acme_notes" / "kundo_plugin.json").is_file()
    assert 'acme_notes = "kundo_acme_notes.plugin:AcmeNotesPlugin"' in (target / "pyproject.toml").read_text()

    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--no-build-isolation", "--no-deps", "-e", str(target)], check=True,
                   capture_output=True, text=True)
    try:
        # The same PostgreSQL server (embedded or not); the plugin's suite makes its own database there.
        env = {**os.environ, "DATABASE_URL": database_admin_url}
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(target / "tests")],
                             cwd=target, env=env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
        assert "1 passed" in run.stdout
    finally:
        subprocess.run([*pip, "uninstall", "-y", "kundo-acme-notes"], check=True, capture_output=True)


def test_new_refuses_bad_names_and_existing_folders(tmp_path):
    from click.testing import CliRunner

    runner = CliRunner()
    assert runner.invoke(plugins_new, ["9", "--path", str(tmp_path)]).exit_code == 1
    reserved = runner.invoke(plugins_new, ["sales", "--path", str(tmp_path)])
    assert reserved.exit_code == 1 and "reserved" in reserved.output
    assert runner.invoke(plugins_new, ["notes", "--path", str(tmp_path)]).exit_code == 0
    again = runner.invoke(plugins_new, ["notes", "--path", str(tmp_path)])
    assert again.exit_code == 1 and "exists already" in again.output
