"""The embedded server's list of user processes forgets processes that died unseen."""

import json
import subprocess
import sys

from kundo.platform.embedded import forget_dead_handles


def test_dead_processes_are_dropped_and_live_ones_kept(tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    dead_pid = int(finished.stdout)
    handles = tmp_path / ".handle_pids.json"
    handles.write_text(json.dumps([dead_pid, subprocess.os.getpid()]))

    assert forget_dead_handles(tmp_path) == [dead_pid]
    assert json.loads(handles.read_text()) == [subprocess.os.getpid()]


def test_a_missing_or_broken_list_is_left_alone(tmp_path):
    assert forget_dead_handles(tmp_path) == []
    (tmp_path / ".handle_pids.json").write_text("not json")
    assert forget_dead_handles(tmp_path) == []
