"""Writing off the request path: a per-process queue that a background thread writes in batches.

Used where a request must answer about as fast as a trivial endpoint but leaves a record behind: click-outs
(``showcase.clicks``) and promoted deliveries (``promotion.deliveries``). A request appends to the queue and
returns; the thread wakes every ``interval`` seconds (or at once when ``wake_at`` items wait) and hands what
has queued to ``write`` in one call, retried twice, then logged. The trade-off: a process killed with
SIGKILL loses its last interval's items; a normal stop writes them (atexit). A forked child starts with an
empty queue (the parent's items are the parent's to write).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.db import close_old_connections, connection

log = logging.getLogger(__name__)
T = TypeVar("T")


class BatchWriter(Generic[T]):
    """A queue of ``T`` written by ``write(batch)`` from one background thread per process."""

    def __init__(self, name: str, write: Callable[[list[T]], object], interval: Callable[[], float], *,
                 wake_at: int = 500, after: Callable[[list[T]], object] | None = None) -> None:
        self.name = name
        self.write = write
        self.interval = interval  # seconds, read each round (a setting may change it in tests)
        self.wake_at = wake_at
        self.after = after  # called with each batch once written (or given up on)
        self.lock = threading.Lock()
        self.queue: list[T] = []
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.pid: int | None = None
        self.waiting = 0.0  # the interval the thread is waiting out now
        atexit.register(self._flush_at_exit)

    def add(self, *items: T) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive() or self.pid != os.getpid():
                if self.pid is not None and self.pid != os.getpid():
                    self.queue = []  # a forked child: the parent's queue is the parent's to write
                self.pid = os.getpid()
                self.wake = threading.Event()
                self.thread = threading.Thread(target=self.run, name=self.name, daemon=True)
                self.thread.start()
            self.queue.extend(items)
            if len(self.queue) >= self.wake_at or self.interval() < self.waiting:
                self.wake.set()  # many waiting, or the interval was shortened (a setting changed) meanwhile

    def take(self) -> list[T]:
        with self.lock:
            batch, self.queue = self.queue, []
        return batch

    def flush(self) -> int:
        """Write what is queued now (the thread, tests and shutdown). Returns the items written."""
        batch = self.take()
        if not batch:
            return 0
        try:
            for attempt in range(3):
                try:
                    self.write(batch)
                    return len(batch)
                except Exception:  # noqa: BLE001 - retried, then logged: the request it came from has answered
                    if attempt == 2:
                        log.exception("%s: could not write %d items", self.name, len(batch))
                    time.sleep(0.05 * (attempt + 1))
            return 0
        finally:
            if self.after is not None:
                self.after(batch)

    def run(self) -> None:
        while True:
            interval = self.waiting = self.interval()
            self.wake.wait(timeout=interval)
            self.wake.clear()
            if not self.queue:
                if connection.connection is not None:
                    time.sleep(interval)
                    if not self.queue:
                        connection.close()  # idle: give the database connection back
                continue
            try:
                self.flush()
            finally:
                close_old_connections()

    def _flush_at_exit(self) -> None:
        if self.queue and self.pid == os.getpid():
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - nothing more to do at exit
                log.exception("%s: items lost at exit", self.name)
