"""Running jobs: dramatiq's worker threads plus the relay, in one process.

`kundo worker` runs this in the foreground until SIGTERM/Ctrl-C; `kundo serve` runs it in
the background of the web process, which is how `make run` gets web and worker together.
A worker with the relay also sends the app's periodic jobs (kundo.platform.jobs.periodic).
"""

from __future__ import annotations

import logging
import threading

import dramatiq
from flask import Flask

from kundo.platform.jobs import jobs_of
from kundo.platform.jobs.periodic import PeriodicSender, periodic_jobs
from kundo.platform.jobs.relay import Relay

log = logging.getLogger(__name__)


class BackgroundWorker:
    """dramatiq worker threads, the relay thread and (with the relay) the periodic-jobs thread for one app."""

    def __init__(self, app: Flask, *, threads: int = 4, relay: bool = True) -> None:
        self.app = app
        self.threads = threads
        self.with_relay = relay
        self.stop_event = threading.Event()
        self.relay = Relay(app)
        self._worker: dramatiq.Worker | None = None
        self._relay_thread: threading.Thread | None = None
        self._periodic_thread: threading.Thread | None = None

    def start(self) -> BackgroundWorker:
        broker = jobs_of(self.app).broker
        self._worker = dramatiq.Worker(broker, worker_threads=self.threads, worker_timeout=200)
        self._worker.start()
        if self.with_relay:
            self._relay_thread = threading.Thread(target=self.relay.run, args=(self.stop_event,),
                                                  name="kundo-relay", daemon=True)
            self._relay_thread.start()
            if periodic_jobs(self.app):
                self._periodic_thread = threading.Thread(target=PeriodicSender(self.app).run,
                                                         args=(self.stop_event,), name="kundo-periodic", daemon=True)
                self._periodic_thread.start()
        log.info("worker started", extra={"threads": self.threads, "relay": self.with_relay})
        return self

    def stop(self, timeout_ms: int = 10_000) -> None:
        self.stop_event.set()
        if self._relay_thread is not None:
            self._relay_thread.join(timeout_ms / 1000)
        if self._periodic_thread is not None:
            self._periodic_thread.join(timeout_ms / 1000)
        if self._worker is not None:
            self._worker.stop(timeout=timeout_ms)
            self._worker = None
        jobs_of(self.app).close()
        log.info("worker stopped")

    def wait(self) -> None:
        """Block until stop() is called (from a signal handler, say)."""
        while not self.stop_event.wait(0.5):
            pass
