"""Sliding-window rate limits kept in the database, so every web worker and job sees the same counts.

A window is split into 30 slices; a hit adds one to the current slice by upsert; the limit is
checked against the sum of the slices still inside the window. Over the limit raises
``RateLimited`` with the seconds until enough slices age out (the ``Retry-After``).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.utils.translation import gettext as _

from tastemaker.core.errors import RateLimited
from tastemaker.core.proxies import client_ip as client_ip  # the limits' caller-facing helper, re-exported

from .models import RateBucket

SLICES = 30


def parse_spec(spec: str) -> tuple[int, int]:
    count, _, seconds = spec.partition("/")
    return int(count), int(seconds)


def _setting(name: str) -> tuple[int, int]:
    return parse_spec(getattr(settings, name))


def _window(setting_name: str, now: float | None) -> tuple[int, int, int, float, int, int]:
    """The limit and window of a setting, the slice size, the time, and the current and first slices
    still inside the window."""
    limit, window = _setting(setting_name)
    now = time.time() if now is None else now
    size = max(1, window // SLICES)
    current = int(now // size)
    return limit, window, size, now, current, current - (window // size) + 1


def check_and_hit(scope: str, ident: str | int, setting_name: str, now: float | None = None) -> None:
    """Count one action of ``ident`` in ``scope``; raise RateLimited (nothing counted) when over.

    Atomic: the action is counted first (an UPDATE that returns the slice's new count; concurrent ones on
    the same slice wait for each other's row lock) and the total is read after it, so two requests at the
    limit cannot both pass; the one over it takes its count back and is refused."""
    limit, window, size, now, current, first = _window(setting_name, now)
    key = f"{scope}:{ident}"
    with transaction.atomic():
        mine, new_slice = _increment_returning(key, current)
        earlier = list(RateBucket.objects.filter(key=key, bucket__gte=first, bucket__lt=current)
                       .order_by("bucket").values_list("bucket", "count"))
        total = mine + sum(c for _b, c in earlier)
        if total > limit:
            RateBucket.objects.filter(key=key, bucket=current).update(count=F("count") - 1)
            _refuse(limit, window, size, now, current, [*earlier, (current, mine - 1)], total - 1)
        if new_slice:  # a new slice: drop the ones that left the window
            RateBucket.objects.filter(key=key, bucket__lt=first).delete()


def _refuse(limit: int, window: int, size: int, now: float, current: int, rows: list[tuple[int, int]],
            total: int) -> None:
    """Raise RateLimited with the seconds until enough of the oldest slices leave the window."""
    excess = total - limit + 1
    freed = 0
    wait_until = current + 1
    for bucket, count in rows:
        freed += count
        if freed >= excess:
            wait_until = bucket + (window // size)
            break
    retry = int(wait_until * size - now) + 1
    raise RateLimited(_("rate limit reached (%(limit)d per %(window)s).") % {
        "limit": limit, "window": _human(window)}, retry_after=retry)


def check(scope: str, ident: str | int, setting_name: str, now: float | None = None) -> tuple[str, int, int]:
    """Raise RateLimited when ``ident`` is at its limit in ``scope``, counting nothing.

    For limits that count only some outcomes (failed log-ins): ``check`` first, ``hit`` after a failure."""
    limit, window, size, now, current, first = _window(setting_name, now)
    key = f"{scope}:{ident}"
    rows = list(
        RateBucket.objects.filter(key=key, bucket__gte=first).order_by("bucket").values_list("bucket", "count")
    )
    total = sum(c for _b, c in rows)
    if total >= limit:
        _refuse(limit, window, size, now, current, rows, total)
    return key, current, first


def hit(scope: str, ident: str | int, setting_name: str, now: float | None = None) -> None:
    """Count one action without checking (the check came before, see ``check``)."""
    _limit, window = _setting(setting_name)
    now = time.time() if now is None else now
    size = max(1, window // SLICES)
    current = int(now // size)
    key = f"{scope}:{ident}"
    if _increment(key, current):
        RateBucket.objects.filter(key=key, bucket__lt=current - (window // size) + 1).delete()


def reset(scope: str, ident: str | int) -> None:
    """Forget every counted action of ``ident`` in ``scope`` (a successful log-in clears its failures)."""
    RateBucket.objects.filter(key=f"{scope}:{ident}").delete()


def _increment_returning(key: str, bucket: int) -> tuple[int, bool]:
    """Add one to a slice; (its count after, whether the slice is new)."""
    q = connection.ops.quote_name
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {q(RateBucket._meta.db_table)} SET {q('count')} = {q('count')} + 1"
                    f" WHERE {q('key')} = %s AND {q('bucket')} = %s RETURNING {q('count')}", [key, bucket])
        row = cur.fetchone()
    if row is not None:
        return int(row[0]), False
    if _increment(key, bucket):
        return 1, True
    return int(RateBucket.objects.filter(key=key, bucket=bucket).values_list("count", flat=True).get()), False


def first_in(scope: str, ident: str | int, seconds: int, now: float | None = None) -> bool:
    """Count one event of ``ident`` in ``scope``; True if it is the first in the current period of ``seconds``
    (periods are fixed slices of the clock): "count this once per period", shared by every worker."""
    now = time.time() if now is None else now
    key = f"{scope}:{ident}"
    current = int(now // max(1, seconds))
    if _increment(key, current):
        RateBucket.objects.filter(key=key, bucket__lt=current).delete()
        return True
    return False


def _increment(key: str, bucket: int) -> bool:
    if RateBucket.objects.filter(key=key, bucket=bucket).update(count=F("count") + 1):
        return False
    try:
        with transaction.atomic():
            RateBucket.objects.create(key=key, bucket=bucket, count=1)
        return True
    except IntegrityError:
        RateBucket.objects.filter(key=key, bucket=bucket).update(count=F("count") + 1)
        return False


def used(scope: str, ident: str | int, setting_name: str) -> int:
    _limit, window = _setting(setting_name)
    size = max(1, window // SLICES)
    first = int(time.time() // size) - (window // size) + 1
    return RateBucket.objects.filter(key=f"{scope}:{ident}", bucket__gte=first).aggregate(n=Sum("count"))["n"] or 0


def _human(seconds: int) -> str:
    if seconds % 3600 == 0:
        return _("%d h") % (seconds // 3600)
    if seconds % 60 == 0:
        return _("%d min") % (seconds // 60)
    return _("%d s") % seconds
