"""The app's job system: the registry of jobs and the lazily built broker.

Jobs are plain functions registered on the app (`register_job`); the dramatiq actors that
carry them are declared when the broker is first needed, so creating an app opens no
connection and imports nothing of the broker's. Every job runs inside an app context; a
tenant job's first argument is the tenant id, which the dead-letter recorder reads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dramatiq

if TYPE_CHECKING:
    from flask import Flask

    from kundo.platform.config import Settings


@dataclass(frozen=True)
class JobSpec:
    name: str
    function: Callable[..., Any]
    tenant: bool = True
    queue: str = "default"
    max_retries: int | None = None


class JobSystem:
    def __init__(self, app: Flask, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.specs: dict[str, JobSpec] = {}
        self._actors: dict[str, dramatiq.Actor] = {}
        self._broker: dramatiq.Broker | None = None
        self._lock = threading.Lock()

    def register(self, spec: JobSpec) -> None:
        if spec.name in self.specs:
            raise ValueError(f"a job named {spec.name!r} is already registered")
        self.specs[spec.name] = spec
        if self._broker is not None:
            self._declare(spec)

    def is_tenant_job(self, name: str) -> bool:
        spec = self.specs.get(name)
        return bool(spec and spec.tenant)

    @property
    def broker(self) -> dramatiq.Broker:
        with self._lock:
            if self._broker is None:
                from kundo.platform.jobs.broker import build_broker

                self._broker = build_broker(self.app, self.settings)
                for spec in self.specs.values():
                    self._declare(spec)
            return self._broker

    @property
    def started(self) -> bool:
        return self._broker is not None

    def _declare(self, spec: JobSpec) -> None:
        app = self.app

        def run_in_app_context(*args: Any) -> Any:
            with app.app_context():
                return spec.function(*args)

        run_in_app_context.__name__ = spec.name
        options: dict[str, Any] = {}
        if spec.max_retries is not None:
            options["max_retries"] = spec.max_retries
        self._actors[spec.name] = dramatiq.Actor(
            run_in_app_context, broker=self._broker, actor_name=spec.name,
            queue_name=f"{self.settings.queue_prefix}-{spec.queue}",
            priority=0, options=options,
        )

    def send(self, name: str, *args: Any, delay_ms: int | None = None) -> dramatiq.Message:
        """Enqueue job `name`; prefer events and timers when the job must commit with a change."""
        self.broker  # noqa: B018 - declares the actors
        return self._actors[name].send_with_options(args=args, delay=delay_ms)

    def close(self) -> None:
        with self._lock:
            if self._broker is not None:
                self._broker.close()
                self._broker = None
                self._actors.clear()
