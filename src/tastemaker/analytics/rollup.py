"""Analytics rollup (``do_rollup``): takes every pending event (whoever stored it), aggregates them in
memory, upserts the counters (``INSERT … ON CONFLICT … DO UPDATE SET count = count + excluded.count``) and
deletes those pending rows — in one transaction, so each event is counted exactly once. It runs right
after an ingest: inline (``ANALYTICS_ROLLUP=inline``, the tests) or, by default, in a per-process
background thread that coalesces what arrives within ``ANALYTICS_ROLLUP_INTERVAL_MS``.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction

from tastemaker.core.ids import SEQUENCE_BITS

from .models import Event, Pending, Stat
from .sql import EVENT_COLUMNS, STAT_COLUMNS, STAT_KEY, _chunks, _one_writer, _run

log = logging.getLogger(__name__)


def _upsert_stats(cursor, cells: dict[tuple, list]) -> None:
    """One set-based upsert of every cell of the batch (count added, viewer sketches OR-ed)."""
    if not cells:
        return
    table = Stat._meta.db_table
    rows = [(*key, owner, count, bits) for key, (count, owner, bits) in cells.items()]
    _run(cursor,
         f"INSERT INTO {table} ({', '.join(STAT_COLUMNS)}) VALUES ({', '.join(['%s'] * len(STAT_COLUMNS))}) "
         f"ON CONFLICT ({', '.join(STAT_KEY)}) DO UPDATE SET count = {table}.count + excluded.count, "
         f"viewers = {table}.viewers | excluded.viewers", rows, many=True)


def _cells_for(rows: Iterable[tuple], cells: dict[tuple, list]) -> None:
    """Add stored event rows (EVENT_COLUMNS order) to the counter cells they belong to.

    Events are first grouped (totals by minute; breakdown values by day, with their viewer sketch),
    then each group is spread over its cells: minute, hour, day and lifetime totals; day and lifetime
    breakdowns; lifetime invalid counts by reason.
    """
    totals: dict[tuple, int] = {}
    dims: dict[tuple, list] = {}
    invalid: dict[tuple, int] = {}
    for (eid, stype, sid, owner, metric, vkey, surface, follower, device, language, region, valid, reason,
         _dedup) in rows:
        if not valid:
            key = (stype, sid, owner, metric, reason)
            invalid[key] = invalid.get(key, 0) + 1
            continue
        ts = (eid >> SEQUENCE_BITS) // 1000
        key = (stype, sid, owner, metric, ts - ts % 60)
        totals[key] = totals.get(key, 0) + 1
        day = ts - ts % 86400
        bit = 1 << (zlib.crc32(vkey.encode()) % 63)
        for key in ((stype, sid, owner, metric, day, "surface", surface),
                    (stype, sid, owner, metric, day, "audience", "follower" if follower else "non_follower"),
                    (stype, sid, owner, metric, day, "device", device),
                    (stype, sid, owner, metric, day, "language", language),
                    (stype, sid, owner, metric, day, "region", region)):
            cell = dims.get(key)
            if cell is None:
                dims[key] = [1, bit]
            else:
                cell[0] += 1
                cell[1] |= bit

    def add(key, owner, n, bits):
        cell = cells.get(key)
        if cell is None:
            cells[key] = [n, owner, bits]
        else:
            cell[0] += n
            cell[2] |= bits

    for (stype, sid, owner, metric, minute), n in totals.items():
        add((stype, sid, "m", "", "", metric, minute), owner, n, 0)
        add((stype, sid, "h", "", "", metric, minute - minute % 3600), owner, n, 0)
        add((stype, sid, "d", "", "", metric, minute - minute % 86400), owner, n, 0)
        add((stype, sid, "t", "", "", metric, 0), owner, n, 0)
    for (stype, sid, owner, metric, day, dim, value), (n, bits) in dims.items():
        add((stype, sid, "d", dim, value, metric, day), owner, n, bits)
        add((stype, sid, "t", dim, value, metric, 0), owner, n, bits)
    for (stype, sid, owner, metric, reason), n in invalid.items():
        add((stype, sid, "t", "invalid", reason, metric, 0), owner, n, 0)


def do_rollup(limit: int = 100_000, chunk: int = 20_000) -> int:
    """Count up to ``limit`` pending events into the counters; returns how many. Exactly once: the
    counter upserts and the removal of those pending rows commit together (rollups serialise on
    the database's write lock: SQLite's IMMEDIATE transactions, PostgreSQL's row lock below)."""
    done = 0
    cols = ", ".join(f"e.{c}" for c in EVENT_COLUMNS)
    ptable, etable = Pending._meta.db_table, Event._meta.db_table
    while done < limit:
        with _one_writer(), transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_advisory_xact_lock(7714001)")
            cursor.execute(f"SELECT {cols} FROM {ptable} p JOIN {etable} e ON e.id = p.event_id "
                           "ORDER BY p.event_id LIMIT %s", [min(chunk, limit - done)])
            rows = cursor.fetchall()
            if not rows:
                cursor.execute(f"SELECT event_id FROM {ptable} p WHERE NOT EXISTS "
                               f"(SELECT 1 FROM {etable} e WHERE e.id = p.event_id) LIMIT 1000")
                orphans = [r[0] for r in cursor.fetchall()]  # events deleted before their rollup
                if orphans:
                    cursor.execute(f"DELETE FROM {ptable} WHERE event_id IN ({', '.join(['%s'] * len(orphans))})",
                                   orphans)
                break
            cells: dict[tuple, list] = {}
            _cells_for(rows, cells)
            _upsert_stats(cursor, cells)
            ids = [r[0] for r in rows]
            for part in _chunks(ids, 900):
                cursor.execute(f"DELETE FROM {ptable} WHERE event_id IN ({', '.join(['%s'] * len(part))})", part)
            done += len(rows)
            if len(rows) < chunk:
                break
    return done


IDLE_CLOSE_SECONDS = 1.0


class _Roller:
    """One background thread per process: after an ingest it waits a little (so that what arrives
    meanwhile is counted together), then rolls up everything pending."""

    def __init__(self):
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.pid = None
        self.lock = threading.Lock()

    def kick(self) -> None:
        import os

        with self.lock:
            if self.thread is None or not self.thread.is_alive() or self.pid != os.getpid():
                self.pid = os.getpid()
                self.wake = threading.Event()
                self.thread = threading.Thread(target=self.run, name="analytics-rollup", daemon=True)
                self.thread.start()
        self.wake.set()

    def run(self) -> None:
        from django.db import close_old_connections

        interval = settings.ANALYTICS_ROLLUP_INTERVAL_MS / 1000
        while True:
            if not self.wake.wait(timeout=IDLE_CLOSE_SECONDS):
                connection.close()  # idle: give the database connection back
                self.wake.wait()
            time.sleep(interval)
            self.wake.clear()
            try:
                with _rollup_lock() as mine:
                    if not mine:  # another process is rolling up: come back, in case it just finished
                        self.wake.set()
                        continue
                    if do_rollup() >= 100_000:  # more than one go's worth: come back at once
                        self.wake.set()
            except Exception:  # noqa: BLE001 - logged; the pending rows stay for the next run
                log.exception("analytics rollup failed")
                time.sleep(1)
                self.wake.set()
            finally:
                close_old_connections()


class _rollup_lock:
    """On SQLite, one roller at a time across the processes of this machine (a non-blocking file
    lock): rollers never queue on the database's write lock, whose busy-wait sleeps are coarse.
    PostgreSQL serialises rollups with an advisory lock inside ``do_rollup``."""

    def __enter__(self) -> bool:
        self.fd = None
        if connection.vendor != "sqlite":
            return True
        import fcntl
        import os

        self.fd = os.open(str(settings.DATA_DIR / "analytics-rollup.lock"), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            os.close(self.fd)
            self.fd = None
            return False

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            import fcntl
            import os

            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)


_roller = _Roller()


def schedule_rollup() -> None:
    if settings.ANALYTICS_ROLLUP == "inline":
        do_rollup()
    elif settings.ANALYTICS_ROLLUP == "thread":
        transaction.on_commit(_roller.kick)  # "off": a dedicated process runs `tastemaker rollup-stats`
