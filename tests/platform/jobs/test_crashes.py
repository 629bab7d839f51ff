"""A worker killed with SIGKILL mid-job, a restart with timers waiting: nothing is lost or done twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kundo.crm import create_contact
from kundo.crm.tasks.models import Task
from kundo.platform.jobs import schedule_timer
from kundo.tenants.session import TenantScope, tenant_session

WORKER = Path(__file__).with_name("worker_process.py")


@pytest.fixture
def start_worker(database_url, tmp_path):
    processes: list[subprocess.Popen] = []
    queue_prefix = f"kundo-crash-{uuid.uuid4().hex[:8]}"

    def _start(workspace, slow: bool = False) -> subprocess.Popen:
        env = {**os.environ, "KUNDO_TEST_SLOW": "1" if slow else "0", "KUNDO_LOG_JSON": "0"}
        process = subprocess.Popen([sys.executable, str(WORKER), database_url, str(workspace.tenant_id),
                                    str(tmp_path), queue_prefix], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(process)
        wait_for(lambda: (tmp_path / f"ready-{process.pid}").exists() or process.poll() is not None, 60)
        assert process.poll() is None, "the worker process died at start"
        return process

    yield _start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def scope_of(workspace) -> TenantScope:
    return TenantScope(workspace.tenant_id, workspace.slug, workspace.schema_name, workspace.role_name)


def titles(app, workspace, prefix: str) -> list[str]:
    with app.app_context(), tenant_session(scope_of(workspace)) as session:
        return list(session.scalars(select(Task.title).where(Task.title.startswith(prefix))))


def test_a_worker_killed_mid_job_leaves_the_action_to_happen_exactly_once_after_restart(
        app, make_workspace, start_worker, tmp_path):
    workspace = make_workspace()
    with app.app_context(), tenant_session(scope_of(workspace)) as session:
        contact = create_contact(session, first_name="Kim", emails=["kim@example.org"])
    doomed = start_worker(workspace, slow=True)
    assert wait_for(lambda: any(tmp_path.glob("acting-*")), 30), "the job never started"
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait(10)
    assert titles(app, workspace, "Crash-test") == []  # the killed job committed nothing

    successor = start_worker(workspace)
    expected = [f"Crash-test follow-up {contact.id}"]
    # The killed worker's claim lapses after its heartbeat TTL (3 s in tests); then the job runs again.
    assert wait_for(lambda: titles(app, workspace, "Crash-test") == expected, 30)
    time.sleep(2)
    assert titles(app, workspace, "Crash-test") == expected
    successor.send_signal(signal.SIGTERM)
    assert successor.wait(20) == 0


def test_a_delay_survives_a_restart_of_the_worker(app, make_workspace, start_worker):
    workspace = make_workspace()
    first = start_worker(workspace)
    with app.app_context(), tenant_session(scope_of(workspace)) as session:
        now = session.scalar(select(func.now()))
        schedule_timer(session, handler="test.wake_up", due_at=now + timedelta(seconds=4), payload={"what": "Kim"})
    first.send_signal(signal.SIGTERM)
    assert first.wait(20) == 0
    time.sleep(4.5)  # the timer fell due while no worker ran
    start_worker(workspace)
    assert wait_for(lambda: titles(app, workspace, "Woke up") == ["Woke up: Kim"], 30)
