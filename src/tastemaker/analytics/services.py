"""Analytics write paths: ingest a batch of events (filter, store raw, update counters), record the
server-side events after commit, prune raw events, rebuild the counters.

One batch is one transaction: the raw rows and the counter upserts commit together, so a report
reads an event as soon as ``do_record_events`` returns (freshness), and a crash loses nothing
half-counted. Every statement is set-based (a few per batch, whatever its size).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from tastemaker.core.ids import SEQUENCE_BITS, new_id, now_ms

from .models import Event, InvalidReason, Metric, PruneMark, Stat, StatViewer, SubjectType, Surface

log = logging.getLogger(__name__)

# metrics a repeat of which (same viewer, subject, metric, window) is invalid traffic; follows are
# state changes (gained / lost must net to the real follower count), so they are never de-duplicated
DEDUP_METRICS = frozenset(m for m in Metric.values if m not in (Metric.FOLLOW_GAINED, Metric.FOLLOW_LOST))
# what a client (web page or API app) may report; the rest are recorded by the services themselves
CLIENT_METRICS = (Metric.IMPRESSION, Metric.READ, Metric.LINK_CLICK)
CLIENT_SUBJECTS = (SubjectType.POST, SubjectType.ACCOUNT)
DIMENSIONS = ("surface", "audience", "device", "language", "region")
TOTAL_GRANULARITIES = (("m", 60), ("h", 3600), ("d", 86400))
BREAKDOWN_GRANULARITIES = (("d", 86400),)  # plus "t" (lifetime)
_LANG_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
_REGION_RE = re.compile(r"^[A-Za-z0-9-]{2,16}$")
EVENT_COLUMNS = ("id", "subject_type", "subject_id", "owner_id", "metric", "viewer_key", "surface", "follower",
                 "device", "language", "region", "valid", "invalid_reason", "slot")


@dataclass
class EventIn:
    metric: str
    subject_type: str
    subject_id: int
    surface: str = Surface.UNKNOWN
    viewer_id: int | None = None
    visitor: str = ""  # anonymous visitor id (cookie), when there is no account
    reason: str = ""  # an invalid reason already decided from the request (head, prefetch, bot)
    device: str = "unknown"
    language: str = ""  # for anonymous viewers: the request's language
    owner_id: int | None = None  # resolved from the subject when None
    at_ms: int | None = None  # event time; now when None (tests and tools pass their own)


@dataclass
class IngestResult:
    accepted: int = 0
    valid: int = 0
    invalid: int = 0
    rejected: int = 0  # unknown subjects: not stored

    def as_dict(self) -> dict:
        return {"accepted": self.accepted, "valid": self.valid, "invalid": self.invalid, "rejected": self.rejected}


def threshold() -> int:
    return settings.ANALYTICS_MIN_VIEWERS


def normalise_language(value: str) -> str:
    value = (value or "").strip().lower().replace("_", "-")[:10]
    return value if _LANG_RE.match(value) else "unknown"


def normalise_region(value: str) -> str:
    value = (value or "").strip()[:16]
    return value.upper() if _REGION_RE.match(value) else "unknown"


# --- resolving subjects and viewers (one query each per batch) ------------------------------

def _owners(events: list[EventIn]) -> dict[tuple[str, int], int]:
    from tastemaker.accounts.models import User
    from tastemaker.social.models import Post

    owners: dict[tuple[str, int], int] = {}
    post_ids, account_ids = set(), set()
    for e in events:
        if e.owner_id is not None:
            owners[(e.subject_type, e.subject_id)] = e.owner_id
        elif e.subject_type == SubjectType.POST:
            post_ids.add(e.subject_id)
        elif e.subject_type == SubjectType.ACCOUNT:
            account_ids.add(e.subject_id)
    if post_ids:
        for pid, author in Post.objects.filter(pk__in=post_ids, reblog_of__isnull=True).values_list("pk", "author_id"):
            owners[(SubjectType.POST, pid)] = author
    if account_ids:
        for uid in User.objects.filter(pk__in=account_ids, is_active=True).values_list("pk", flat=True):
            owners[(SubjectType.ACCOUNT, uid)] = uid
    return owners


def _viewers(viewer_ids: set[int]) -> dict[int, tuple[str, str, bool]]:
    from tastemaker.accounts.models import User

    if not viewer_ids:
        return {}
    rows = User.objects.filter(pk__in=viewer_ids).values_list("pk", "language", "bot", "audience_profile__region")
    return {pk: (normalise_language(lang), normalise_region(region or ""), bool(bot))
            for pk, lang, bot, region in rows}


def _follows(viewer_ids: set[int], owner_ids: set[int]) -> set[tuple[int, int]]:
    from tastemaker.social.models import Follow

    if not viewer_ids or not owner_ids:
        return set()
    if len(viewer_ids) * len(owner_ids) <= 1:
        v, o = next(iter(viewer_ids)), next(iter(owner_ids))
        return {(v, o)} if Follow.objects.filter(follower_id=v, target_id=o).exists() else set()
    return set(Follow.objects.filter(follower_id__in=viewer_ids, target_id__in=owner_ids)
               .values_list("follower_id", "target_id"))


# --- SQL helpers ----------------------------------------------------------------------------

def _values_sql(n_rows: int, n_cols: int) -> str:
    row = "(" + ", ".join(["%s"] * n_cols) + ")"
    return ", ".join([row] * n_rows)


def _chunks(seq: list, size: int) -> Iterable[list]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def _insert_events(cursor, rows: list[tuple], returning: bool) -> set[int]:
    """Insert raw rows; with ``returning``, ignore dedup conflicts and return the ids stored."""
    cols = ", ".join(EVENT_COLUMNS)
    table = Event._meta.db_table
    if not returning:
        cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(EVENT_COLUMNS))})", rows)
        return set()
    kept: set[int] = set()
    per = max(1, 30_000 // len(EVENT_COLUMNS))
    for chunk in _chunks(rows, per):
        cursor.execute(
            f"INSERT INTO {table} ({cols}) VALUES {_values_sql(len(chunk), len(EVENT_COLUMNS))} "
            "ON CONFLICT (subject_type, subject_id, metric, viewer_key, slot) DO NOTHING RETURNING id",
            [v for r in chunk for v in r])
        kept.update(r[0] for r in cursor.fetchall())
    return kept


STAT_KEY = ("subject_type", "subject_id", "granularity", "dimension", "value", "metric", "bucket")


def _upsert_stats(cursor, cells: dict[tuple, list]) -> None:
    """One set-based upsert for totals, one (returning ids) for breakdown cells, then viewer keys."""
    table = Stat._meta.db_table
    cols = ", ".join((*STAT_KEY, "owner_id", "count", "viewers"))
    conflict = ", ".join(STAT_KEY)
    totals, dims = [], []
    for key, (count, owner, keys) in cells.items():
        (dims if keys is not None else totals).append((*key, owner, count, 0))
    update = f"ON CONFLICT ({conflict}) DO UPDATE SET count = {table}.count + excluded.count"
    if totals:
        cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * 10)}) {update}", totals)
    if not dims:
        return
    limit = threshold()
    open_cells: dict[int, tuple] = {}  # stat id -> key, for cells still under the threshold
    for chunk in _chunks(dims, 3000):
        cursor.execute(f"INSERT INTO {table} ({cols}) VALUES {_values_sql(len(chunk), 10)} {update} "
                       f"RETURNING id, viewers, {conflict}", [v for r in chunk for v in r])
        for stat_id, viewers, *key in cursor.fetchall():
            if viewers < limit:
                open_cells[stat_id] = tuple(key)
    if not open_cells:
        return
    pairs = [(stat_id, vk) for stat_id, key in open_cells.items() for vk in cells[key][2]]
    added: dict[int, int] = defaultdict(int)
    vtable = StatViewer._meta.db_table
    for chunk in _chunks(pairs, 10_000):
        cursor.execute(f"INSERT INTO {vtable} (stat_id, viewer_key) VALUES {_values_sql(len(chunk), 2)} "
                       "ON CONFLICT (stat_id, viewer_key) DO NOTHING RETURNING stat_id", [v for p in chunk for v in p])
        for (stat_id,) in cursor.fetchall():
            added[stat_id] += 1
    if added:
        cursor.executemany(f"UPDATE {table} SET viewers = CASE WHEN viewers + %s > %s THEN %s ELSE viewers + %s END "
                           "WHERE id = %s", [(n, limit, limit, n, sid) for sid, n in added.items()])


def _cells_for(rows: Iterable[tuple], cells: dict[tuple, list]) -> None:
    """Add stored event rows (EVENT_COLUMNS order) to the counter cells they belong to."""
    for (eid, stype, sid, owner, metric, vkey, surface, follower, device, language, region, valid, reason,
         _slot) in rows:
        if not valid:
            key = (stype, sid, "t", "invalid", reason, metric, 0)
            cell = cells.get(key)
            if cell is None:
                cells[key] = [1, owner, None]
            else:
                cell[0] += 1
            continue
        ts = (eid >> SEQUENCE_BITS) // 1000
        for gran, size in TOTAL_GRANULARITIES:
            key = (stype, sid, gran, "", "", metric, ts - ts % size)
            cell = cells.get(key)
            if cell is None:
                cells[key] = [1, owner, None]
            else:
                cell[0] += 1
        key = (stype, sid, "t", "", "", metric, 0)
        cell = cells.get(key)
        if cell is None:
            cells[key] = [1, owner, None]
        else:
            cell[0] += 1
        values = (surface, "follower" if follower else "non_follower", device, language, region)
        day = ts - ts % 86400
        for gran, bucket in (("d", day), ("t", 0)):
            for dim, value in zip(DIMENSIONS, values, strict=True):
                key = (stype, sid, gran, dim, value, metric, bucket)
                cell = cells.get(key)
                if cell is None:
                    cells[key] = [1, owner, {vkey}]
                else:
                    cell[0] += 1
                    if len(cell[2]) < 64:  # enough candidates to fill the threshold; bounded memory
                        cell[2].add(vkey)


# --- ingest ---------------------------------------------------------------------------------

def do_record_events(events: list[EventIn]) -> IngestResult:
    """Filter, store and count a batch of events in one transaction. Unknown subjects are rejected."""
    result = IngestResult()
    if not events:
        return result
    owners = _owners(events)
    viewer_ids = {e.viewer_id for e in events if e.viewer_id is not None}
    profiles = _viewers(viewer_ids)
    follows = _follows(viewer_ids, set(owners.values()))
    window = settings.ANALYTICS_DEDUP_SECONDS
    candidates: list[tuple] = []
    invalid: list[list] = []
    clock = now_ms()
    for e in events:
        owner = owners.get((e.subject_type, e.subject_id))
        if owner is None or e.metric not in Metric.values:
            result.rejected += 1
            continue
        reason = e.reason
        if e.viewer_id is not None:
            language, region, is_bot = profiles.get(e.viewer_id, ("unknown", "unknown", False))
            vkey = f"u{e.viewer_id}"
            if is_bot and not reason:
                reason = InvalidReason.BOT
            if e.viewer_id == owner and not reason:
                reason = InvalidReason.SELF
        else:
            language, region = normalise_language(e.language), "unknown"
            vkey = "v" + (e.visitor or "anonymous")[:39]
        at = e.at_ms if e.at_ms is not None else clock
        eid = new_id(at) if e.at_ms is not None else new_id()
        follower = e.viewer_id is not None and (e.viewer_id, owner) in follows
        if e.metric == Metric.FOLLOW_LOST:
            follower = True  # they were one until this event
        slot = (at // 1000) // window if (not reason and e.metric in DEDUP_METRICS) else None
        row = [eid, e.subject_type, e.subject_id, owner, e.metric, vkey, e.surface or Surface.UNKNOWN, follower,
               e.device or "unknown", language, region, not reason, reason, slot]
        if reason:
            invalid.append(row)
        else:
            candidates.append(tuple(row))
    with transaction.atomic(), connection.cursor() as cursor:
        stored = _insert_events(cursor, candidates, returning=True) if candidates else set()
        valid_rows = [r for r in candidates if r[0] in stored]
        for r in candidates:
            if r[0] not in stored:  # a repeat inside the window (or inside this batch)
                invalid.append([*r[:11], False, InvalidReason.DUPLICATE, None])
        invalid_rows = [tuple(r) for r in invalid]
        if invalid_rows:
            _insert_events(cursor, invalid_rows, returning=False)
        cells: dict[tuple, list] = {}
        _cells_for(valid_rows, cells)
        _cells_for(invalid_rows, cells)
        _upsert_stats(cursor, cells)
    result.valid = len(valid_rows)
    result.invalid = len(invalid_rows)
    result.accepted = result.valid + result.invalid
    return result


def record_server_event(metric: str, subject_type: str, subject_id: int, viewer_id: int,
                        owner_id: int | None = None, surface: str = Surface.UNKNOWN) -> None:
    """A like, repost, reply or follow recorded by the service that made it (called after commit).

    Never raises: analytics must not break the action that was already committed.
    """
    try:
        do_record_events([EventIn(metric=metric, subject_type=subject_type, subject_id=subject_id,
                                  viewer_id=viewer_id, owner_id=owner_id, surface=surface)])
    except Exception:  # noqa: BLE001 - logged; the user's action already succeeded
        log.exception("could not record %s event on %s %s", metric, subject_type, subject_id)


def after_commit(metric: str, subject_type: str, subject_id: int, viewer_id: int, owner_id: int | None = None):
    """Schedule ``record_server_event`` for when the current transaction commits."""
    transaction.on_commit(lambda: record_server_event(metric, subject_type, subject_id, viewer_id, owner_id))


# --- housekeeping ---------------------------------------------------------------------------

def do_prune_events(older_than_days: int | None = None, batch: int = 50_000) -> int:
    """Delete raw events older than the retention; the counters stay as they are."""
    days = settings.ANALYTICS_RAW_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = (now_ms() - days * 86_400_000) << SEQUENCE_BITS
    total = 0
    while True:
        with transaction.atomic():
            ids = list(Event.objects.filter(pk__lt=cutoff).order_by("pk").values_list("pk", flat=True)[:batch])
            if not ids:
                break
            total += Event.objects.filter(pk__in=ids).delete()[0]
    if total:
        mark, _ = PruneMark.objects.get_or_create(pk=1)
        if cutoff > mark.before_id:
            PruneMark.objects.filter(pk=1).update(before_id=cutoff)
    return total


def do_rebuild_stats(batch: int = 20_000, progress=None) -> int:
    """Recompute every counter from the raw events, in id order, with the ingest's own counting.

    Runs in one transaction (ingest waits meanwhile); returns the number of events read.
    """
    done = 0
    with transaction.atomic(), connection.cursor() as cursor:
        StatViewer.objects.all().delete()
        Stat.objects.all().delete()
        last = -1
        cols = ", ".join(EVENT_COLUMNS)
        while True:
            cursor.execute(f"SELECT {cols} FROM {Event._meta.db_table} WHERE id > %s ORDER BY id LIMIT %s",
                           [last, batch])
            rows = cursor.fetchall()
            if not rows:
                break
            last = rows[-1][0]
            cells: dict[tuple, list] = {}
            _cells_for([(*r[:7], bool(r[7]), *r[8:11], bool(r[11]), *r[12:]) for r in rows], cells)
            _upsert_stats(cursor, cells)
            done += len(rows)
            if progress:
                progress(len(rows))
    return done
