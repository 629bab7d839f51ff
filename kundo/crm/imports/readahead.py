"""Reading the next batches of a file while the database writes the current one.

Why a thread: reading cells is Python work and writing a batch is mostly PostgreSQL
work in another process. Overlapping the two keeps both cores of a small server
busy, which is what brings 100,000 contacts under the 15-second budget. Reading
never touches the database, so the thread needs no session; it does translate
messages, so it runs in the app context and locale of the caller.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack

from flask import current_app, has_app_context
from flask_babel import force_locale, get_locale

from kundo.crm.imports.rows import ReadRecord, RecordReader


class ReadAhead:
    """Iterates lists of read records, produced by a thread at most `depth` batches ahead.

    Use it as a context manager: leaving stops the thread, also when the consumer
    stops early (a batch limit, an error).
    """

    def __init__(self, reader: RecordReader, records: Iterator[tuple[int, list[str]]], batch_size: int,
                 depth: int = 2, prepare: Callable[[ReadRecord], ReadRecord] | None = None):
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        app = current_app._get_current_object() if has_app_context() else None
        locale = str(get_locale() or "en") if app else None
        self._prepare = prepare or (lambda record: record)
        self._thread = threading.Thread(target=self._produce, args=(reader, records, batch_size, app, locale),
                                        name="kundo-import-reader", daemon=True)
        self._thread.start()

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __iter__(self) -> Iterator[list[ReadRecord]]:
        return self

    def __next__(self) -> list[ReadRecord]:
        item = self._queue.get()
        if isinstance(item, BaseException):
            raise item
        if not item:
            raise StopIteration
        return item

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def _produce(self, reader, records, batch_size, app, locale) -> None:
        with ExitStack() as stack:
            if app is not None:
                stack.enter_context(app.app_context())
                stack.enter_context(force_locale(locale))
            try:
                while not self._stop.is_set():
                    batch = [self._prepare(reader.read(number, cells))
                             for number, cells in itertools.islice(records, batch_size)]
                    self._put(batch)
                    if not batch:
                        return
            except Exception as error:  # handed to the consumer, which raises it in its own thread
                self._put(error)

    def _put(self, item) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
