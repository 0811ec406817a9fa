"""Promotion reads: the ad decision for a home page and suggestions, campaign lists and reports, the review
queue, the audience estimate and the reconcile check."""

from __future__ import annotations

import threading
import time

_lock = threading.Lock()
_cache: dict[str, object] = {}


def forget_active() -> None:
    """Drop this process's cached list of deliverable campaigns (a campaign started, paused or ended)."""
    with _lock:
        _cache.clear()
    _cache["at"] = time.monotonic() - 10**9
