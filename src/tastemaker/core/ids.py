"""Time-ordered 64-bit ids (snowflakes): milliseconds since the epoch << 16 | sequence.

Newest-first is then a primary-key index scan, and an id tells when its row was made,
which is what keyset pagination (max_id / since_id / min_id) relies on.
"""

from __future__ import annotations

import os
import random
import threading
import time
from datetime import datetime

from .errors import NotFound

SEQUENCE_BITS = 16  # low 16 bits: 6 bits of process (worker) id, then a 10-bit per-millisecond counter
WORKER_BITS = 6
COUNTER_BITS = SEQUENCE_BITS - WORKER_BITS
COUNTER_MAX = (1 << COUNTER_BITS) - 1
_lock = threading.Lock()
_last_ms = 0
_seq = 0


def now_ms() -> int:
    return int(time.time() * 1000)


def _worker() -> int:
    """This process's slot. Web workers and job consumers are started one after another, so their
    pids differ in the low bits: two live processes never draw from the same id space unless 64+
    processes run at once (read after fork, so every forked worker gets its own)."""
    return os.getpid() & ((1 << WORKER_BITS) - 1)


def new_id(at_ms: int | None = None) -> int:
    """A unique, time-ordered id: milliseconds << 16 | worker << 10 | counter.

    Strictly increasing within a process (1,024 ids per millisecond, then it borrows the next one,
    and a clock stepping back never makes it reuse or go back). ``at_ms`` makes a back-dated id for
    bulk loads (demo data, benchmarks), with a random low part.
    """
    global _last_ms, _seq
    if at_ms is not None:
        return (at_ms << SEQUENCE_BITS) | random.randrange(0, 1 << SEQUENCE_BITS)
    with _lock:
        ms = now_ms()
        if ms <= _last_ms:
            ms = _last_ms
            _seq += 1
            if _seq > COUNTER_MAX:  # 1,024 ids in one millisecond: borrow the next one
                ms += 1
                _seq = 0
        else:
            _seq = 0
        _last_ms = ms
        return (ms << SEQUENCE_BITS) | (_worker() << COUNTER_BITS) | _seq


MAX_ID = 2**63 - 1


def parse_id(value: object) -> int | None:
    """An id from a URL or query string: a decimal that fits a signed 64-bit column, or None."""
    text = str(value)
    if not (text.isascii() and text.isdigit()) or len(text) > 19:  # refuses "", signs, spaces, full-width digits
        return None
    number = int(text)
    return number if number <= MAX_ID else None


def id_floor(at: datetime) -> int:
    """The smallest id made at or after ``at`` (for "since" queries)."""
    return int(at.timestamp() * 1000) << SEQUENCE_BITS


def id_to_ms(value: int) -> int:
    return value >> SEQUENCE_BITS


def id_or_404(value: object, message: str = "Record not found") -> int:
    """An id from a URL (``parse_id``), or NotFound (404) with ``message``: a malformed id is a record that does
    not exist, never a 500 or a 422."""
    number = parse_id(value) if value is not None else None
    if number is None:
        raise NotFound(message)
    return number
