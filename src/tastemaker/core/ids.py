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

SEQUENCE_BITS = 16
_lock = threading.Lock()
_last_ms = 0
_seq = 0


def now_ms() -> int:
    return int(time.time() * 1000)


def new_id(at_ms: int | None = None) -> int:
    """A unique, time-ordered id. Unique across processes thanks to a random sequence start."""
    global _last_ms, _seq
    with _lock:
        ms = at_ms if at_ms is not None else now_ms()
        if at_ms is None and ms <= _last_ms:
            ms = _last_ms
            _seq = (_seq + 1) & 0xFFFF
            if _seq == 0:  # 65,536 ids in one millisecond: borrow the next one
                ms += 1
        elif at_ms is None:
            _seq = random.SystemRandom().randrange(0, 0xFFFF) ^ (os.getpid() & 0xFF)
        else:
            _seq = random.randrange(0, 0xFFFF)
        if at_ms is None:
            _last_ms = ms
        return (ms << SEQUENCE_BITS) | _seq


def id_floor(at: datetime) -> int:
    """The smallest id made at or after ``at`` (for "since" queries)."""
    return int(at.timestamp() * 1000) << SEQUENCE_BITS


def id_to_ms(value: int) -> int:
    return value >> SEQUENCE_BITS
