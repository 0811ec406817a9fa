"""Tests where the live server (or the streaming server) works in another thread while the test writes or reads.

The SQLite test database is in memory with a shared cache, where a connection meeting another's table lock
gets "database table is locked" at once (no busy timeout, unlike the WAL file the product runs on). A call
that met one is simply made again (its transaction was rolled back whole)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def retry_locked(call: Callable[..., T], *args: Any, timeout: float = 30.0, **kwargs: Any) -> T:
    from django.db import OperationalError

    deadline = time.monotonic() + timeout
    while True:
        try:
            return call(*args, **kwargs)
        except OperationalError as exc:
            if "is locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(0.05)
