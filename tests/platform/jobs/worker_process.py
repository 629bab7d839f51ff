"""A real worker process for the crash tests: Kundo's app and worker, plus the test's consumer.

    python worker_process.py DATABASE_URL TENANT_ID MARKER_DIR QUEUE_PREFIX

The consumer creates a task for every `contact.created` of that tenant. With KUNDO_TEST_SLOW=1
it then writes `MARKER_DIR/acting-<event id>` and sleeps before its transaction can commit, so
the test can SIGKILL the process in the middle of the job. The timer handler `test.wake_up`
creates a task too.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from kundo.crm import create_task
from kundo.platform.events import Consumer, register_consumer
from kundo.platform.jobs import register_timer_handler
from kundo.platform.jobs.worker import BackgroundWorker
from kundo.testing.fixtures import build_app


def main(database_url: str, tenant_id: int, markers: Path, queue_prefix: str) -> None:
    app = build_app(database_url, queue_prefix=queue_prefix)  # the successor must take over the killed one's queue
    slow = os.environ.get("KUNDO_TEST_SLOW") == "1"

    def act(session, event):
        create_task(session, title=f"Crash-test follow-up {event.object_id}")
        session.flush()
        if slow:
            (markers / f"acting-{event.id}").touch()
            time.sleep(60)

    register_consumer(app, Consumer(name="test.crash_follow_up", handle=act, event_types=frozenset({"contact.created"}),
                                    applies_to=lambda tid: tid == tenant_id))
    register_timer_handler(app, "test.wake_up", lambda session, payload, timer: create_task(
        session, title=f"Woke up: {payload['what']}"))
    worker = BackgroundWorker(app, threads=1).start()
    (markers / f"ready-{os.getpid()}").touch()
    try:
        worker.wait()
    finally:
        worker.stop()


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    main(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4])
