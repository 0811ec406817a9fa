"""Deliveries this process has shown but not yet written (``services.do_record_delivery`` queues them; a
background thread writes them in batches, ``core.batching``). Until they are written, the ad decision
(``selectors._viewer_state``) counts them here, so the frequency caps hold between a page and the write.

The decision reads this map *before* its database query, and the writer forgets a batch only after its
commit, so a delivery is always seen in one place or the other.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import date

_lock = threading.Lock()
# viewer id -> (day, {campaign id: times queued})
_pending: dict[int, tuple[date, dict[int, int]]] = {}


def note(viewer_id: int, day: date, campaign_ids: Iterable[int]) -> None:
    with _lock:
        found = _pending.get(viewer_id)
        if found is None or found[0] != day:
            found = (day, {})
            _pending[viewer_id] = found
        for cid in campaign_ids:
            found[1][cid] = found[1].get(cid, 0) + 1


def forget(viewer_id: int, day: date, campaign_ids: Iterable[int]) -> None:
    with _lock:
        found = _pending.get(viewer_id)
        if found is None or found[0] != day:
            return
        for cid in campaign_ids:
            left = found[1].get(cid, 0) - 1
            if left > 0:
                found[1][cid] = left
            else:
                found[1].pop(cid, None)
        if not found[1]:
            del _pending[viewer_id]


def served(viewer_id: int, day: date) -> set[int]:
    """The campaigns queued for ``viewer_id`` on ``day`` and not yet written."""
    with _lock:
        found = _pending.get(viewer_id)
        return set(found[1]) if found is not None and found[0] == day else set()


def clear() -> None:
    with _lock:
        _pending.clear()
