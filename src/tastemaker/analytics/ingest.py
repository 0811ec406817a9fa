"""Analytics ingest (the request path, ``do_record_events``): filters, de-duplication by the unique
``dedup`` index, the raw rows and one ``Pending`` row per stored event, in one transaction. Once it returns
the events are durable: nothing accepted is ever lost. The counters are the rollup's (``rollup.py``).

Also the server-side events (likes, reposts, replies, follows, conversions), recorded after commit and
never allowed to break the action (``after_commit``, ``record_server_event``).
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from tastemaker.accounts.models import User
from tastemaker.core.ids import SEQUENCE_BITS, new_id, now_ms
from tastemaker.core.languages import language_tag
from tastemaker.social.visibility import AccountReach, Viewer, accounts_q, visible_authors_many
from tastemaker.social.visibility import Surface as SeeSurface

from .models import Event, InvalidReason, Metric, Pending, SubjectType, Surface
from .rollup import schedule_rollup
from .sql import EVENT_COLUMNS, _chunks, _one_writer, _run, _values_sql

log = logging.getLogger(__name__)

METRICS = frozenset(Metric.values)
# metrics a repeat of which (same viewer, subject, metric, window) is invalid traffic; follows are
# state changes (gained / lost must net to the real follower count), so they are never de-duplicated
# conversions are de-duplicated upstream (a store's order is counted once), so they are not either
DEDUP_METRICS = frozenset(m for m in Metric.values
                          if m not in (Metric.FOLLOW_GAINED, Metric.FOLLOW_LOST, Metric.CONVERSION))
# what a client (web page or API app) may report; the rest are recorded by the services themselves
CLIENT_METRICS = (Metric.IMPRESSION, Metric.READ, Metric.LINK_CLICK)
CLIENT_SUBJECTS = (SubjectType.POST, SubjectType.ACCOUNT)
DIMENSIONS = ("surface", "audience", "device", "language", "region")
TOTAL_GRANULARITIES = (("m", 60), ("h", 3600), ("d", 86400))
_REGION_RE = re.compile(r"^[A-Za-z0-9-]{2,16}$")


def viewer_bit(viewer_key: str) -> int:
    """The one bit (of 63) a viewer sets in a cell's distinct-viewer sketch."""
    return 1 << (zlib.crc32(viewer_key.encode()) % 63)


def dedup_key(subject_type: str, subject_id: int, metric: str, viewer_key: str, slot: int) -> int:
    digest = hashlib.blake2b(f"{subject_type}:{subject_id}:{metric}:{viewer_key}:{slot}".encode(),
                             digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


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


def normalise_region(value: str) -> str:
    value = (value or "").strip()[:16]
    return value.upper() if _REGION_RE.match(value) else "unknown"


# --- resolving subjects and viewers (one query each per batch) ------------------------------

def _owner_key(e: EventIn) -> tuple[str, int, int | None]:
    return (e.subject_type, e.subject_id, e.viewer_id)


def _owners(events: list[EventIn], staff: set[int]) -> dict[tuple[str, int, int | None], int]:
    """The owner of each event's subject *as its viewer may see it*: a post the viewer cannot see (private,
    blocked, suspended author: ``social.visibility``'s rule) is absent exactly like a post that does
    not exist, so it is rejected the same way and the answer reveals nothing. Events whose owner the server
    already knows (likes, follows, click-outs: the action itself was checked) are not looked up."""
    owners: dict[tuple[str, int, int | None], int] = {}
    post_ids: dict[int | None, set[int]] = {}  # per viewer (None: signed out)
    account_ids: set[int] = set()
    for e in events:
        if e.owner_id is not None:
            owners[_owner_key(e)] = e.owner_id
        elif e.subject_type == SubjectType.POST:
            post_ids.setdefault(e.viewer_id, set()).add(e.subject_id)
        elif e.subject_type == SubjectType.ACCOUNT:
            account_ids.add(e.subject_id)
    if post_ids:
        # PROFILE: a direct message is never the subject of an event (no report or export counts it)
        seen = visible_authors_many([(Viewer(viewer_id, viewer_id in staff), ids) for viewer_id, ids in post_ids.items()],
                                    SeeSurface.PROFILE, originals_only=True)
        for viewer_id, visible in seen.items():
            for pid, author in visible.items():
                owners[(SubjectType.POST, pid, viewer_id)] = author
    if account_ids:
        found = set(User.objects.filter(pk__in=account_ids).filter(accounts_q(reach=AccountReach.LISTED))
                    .values_list("pk", flat=True))
        for e in events:
            if e.owner_id is None and e.subject_type == SubjectType.ACCOUNT and e.subject_id in found:
                owners[_owner_key(e)] = e.subject_id
    return owners


def _viewers(viewer_ids: set[int]) -> tuple[dict[int, tuple[str, str, bool]], set[int]]:
    """Each viewer's (language, region, is a bot), and which viewers are staff."""
    if not viewer_ids:
        return {}, set()
    rows = User.objects.filter(pk__in=viewer_ids).values_list("pk", "language", "bot", "audience_profile__region",
                                                              "is_staff")
    return ({pk: (language_tag(lang), normalise_region(region or ""), bool(bot))
             for pk, lang, bot, region, _staff in rows},
            {pk for pk, *_rest, is_staff in rows if is_staff})


def _follows(pairs: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which (viewer, owner) pairs of the batch are follows: one indexed probe per pair."""
    if not pairs:
        return set()
    found: set[tuple[int, int]] = set()
    pairs_list = list(pairs)
    with connection.cursor() as cursor:
        for chunk in _chunks(pairs_list, 400):
            cursor.execute(
                "SELECT follower_id, target_id FROM social_follow WHERE "
                + " OR ".join(["(follower_id = %s AND target_id = %s)"] * len(chunk)),
                [v for pair in chunk for v in pair])
            found.update((a, b) for a, b in cursor.fetchall())
    return found


def _insert_events(cursor, rows: list[tuple], returning: bool) -> set[int]:
    """Insert raw rows; with ``returning``, ignore dedup conflicts and return the ids stored."""
    cols = ", ".join(EVENT_COLUMNS)
    table = Event._meta.db_table
    if not returning:
        _run(cursor, f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(EVENT_COLUMNS))})", rows,
             many=True)
        return set()
    kept: set[int] = set()
    per = max(1, 30_000 // len(EVENT_COLUMNS))
    for chunk in _chunks(rows, per):
        cur = _run(cursor, f"INSERT INTO {table} ({cols}) VALUES {_values_sql(len(chunk), len(EVENT_COLUMNS))} "
                   "ON CONFLICT (dedup) DO NOTHING RETURNING id", [v for r in chunk for v in r])
        kept.update(r[0] for r in cur.fetchall())
    return kept


def _store(candidates: list[tuple], invalid: list[list]) -> tuple[list[tuple], list[tuple]]:
    """One transaction: valid candidates (repeats become invalid ``duplicate`` rows), invalid rows,
    and a pending row for each."""
    invalid = list(invalid)
    with _one_writer(), transaction.atomic(), connection.cursor() as cursor:
        stored = _insert_events(cursor, candidates, returning=True) if candidates else set()
        valid_rows = [r for r in candidates if r[0] in stored]
        for r in candidates:
            if r[0] not in stored:  # a repeat inside the window (or inside this batch)
                invalid.append([*r[:11], False, InvalidReason.DUPLICATE, None])
        invalid_rows = [tuple(r) for r in invalid]
        if invalid_rows:
            _insert_events(cursor, invalid_rows, returning=False)
        ids = [(r[0],) for r in valid_rows] + [(r[0],) for r in invalid_rows]
        if ids:
            _run(cursor, f"INSERT INTO {Pending._meta.db_table} (event_id) VALUES (%s)", ids, many=True)
    return valid_rows, invalid_rows


def do_record_events(events: list[EventIn], outcomes: list | None = None) -> IngestResult:
    """Filter, store and count a batch of events in one transaction. Unknown subjects, and posts the viewer
    may not see, are rejected alike.

    With ``outcomes`` (a list), one ``(event_id, valid, invalid_reason)`` per input event is appended, in
    order (``None`` for a rejected one): a click-out uses it as its click id and validity.
    """
    result = IngestResult()
    if not events:
        return result
    viewer_ids = {e.viewer_id for e in events if e.viewer_id is not None}
    profiles, staff = _viewers(viewer_ids)
    owners = _owners(events, staff)
    pairs = set()
    for e in events:
        if e.viewer_id is not None:
            owner = owners.get(_owner_key(e))
            if owner is not None and owner != e.viewer_id:
                pairs.add((e.viewer_id, owner))
    follows = _follows(pairs)
    window = settings.ANALYTICS_DEDUP_SECONDS
    candidates: list[tuple] = []
    invalid: list[list] = []
    clock = now_ms()
    order: list[tuple[str, int] | None] = []
    for e in events:
        owner = owners.get(_owner_key(e))
        if owner is None or e.metric not in METRICS:
            result.rejected += 1
            order.append(None)
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
            language, region = language_tag(e.language), "unknown"
            vkey = "v" + (e.visitor or "anonymous")[:39]
        at = e.at_ms if e.at_ms is not None else clock
        eid = new_id(at) if e.at_ms is not None else new_id()
        follower = e.viewer_id is not None and (e.viewer_id, owner) in follows
        if e.metric == Metric.FOLLOW_LOST:
            follower = True  # they were one until this event
        dedup = (dedup_key(e.subject_type, e.subject_id, e.metric, vkey, (at // 1000) // window)
                 if (not reason and e.metric in DEDUP_METRICS) else None)
        row = [eid, e.subject_type, e.subject_id, owner, e.metric, vkey, e.surface or Surface.UNKNOWN, follower,
               e.device or "unknown", language, region, not reason, reason, dedup]
        if reason:
            order.append(("i", len(invalid)))
            invalid.append(row)
        else:
            order.append(("c", len(candidates)))
            candidates.append(tuple(row))
    for attempt in range(4):
        try:
            valid_rows, invalid_rows = _store(candidates, invalid)
            break
        except (IntegrityError, sqlite3.IntegrityError):
            # two ids made in the same millisecond by two processes can collide (16 random bits):
            # the whole batch was rolled back; give every row a fresh id of the same millisecond
            if attempt == 3:
                raise
            candidates = [(new_id(r[0] >> SEQUENCE_BITS), *r[1:]) for r in candidates]
            invalid = [[new_id(r[0] >> SEQUENCE_BITS), *r[1:]] for r in invalid]
    if valid_rows or invalid_rows:
        schedule_rollup()
    if outcomes is not None:
        stored_valid = {r[0] for r in valid_rows}
        for slot in order:
            if slot is None:
                outcomes.append(None)
            elif slot[0] == "i":
                row = invalid[slot[1]]
                outcomes.append((row[0], False, row[12]))
            else:
                row = candidates[slot[1]]
                kept = row[0] in stored_valid
                outcomes.append((row[0], kept, "" if kept else InvalidReason.DUPLICATE))
    result.valid = len(valid_rows)
    result.invalid = len(invalid_rows)
    result.accepted = result.valid + result.invalid
    return result


def record_server_event(metric: str, subject_type: str, subject_id: int, viewer_id: int | None,
                        owner_id: int | None = None, surface: str = Surface.UNKNOWN, visitor: str = "") -> None:
    """A like, repost, reply or follow recorded by the service that made it (called after commit); an
    anonymous viewer is known by ``visitor`` instead of ``viewer_id``.

    Never raises: analytics must not break the action that was already committed.
    """
    try:
        do_record_events([EventIn(metric=metric, subject_type=subject_type, subject_id=subject_id,
                                  viewer_id=viewer_id, visitor=visitor, owner_id=owner_id, surface=surface)])
    except Exception:  # noqa: BLE001 - logged; the user's action already succeeded
        log.exception("could not record %s event on %s %s", metric, subject_type, subject_id)


def after_commit(metric: str, subject_type: str, subject_id: int, viewer_id: int, owner_id: int | None = None):
    """Schedule ``record_server_event`` for when the current transaction commits."""
    transaction.on_commit(lambda: record_server_event(metric, subject_type, subject_id, viewer_id, owner_id))


def after_commit_event(metric: str, subject_type: str, subject_id: int, *, owner_id: int, viewer_key: str,
                       surface: str = Surface.UNKNOWN) -> None:
    """Like ``after_commit`` for a viewer known by its key ("u<account>" or "v<visitor>"): a conversion
    reported by a store belongs to whoever clicked out, signed in or not."""
    viewer_id = int(viewer_key[1:]) if viewer_key.startswith("u") and viewer_key[1:].isdigit() else None
    visitor = viewer_key[1:] if viewer_id is None else ""
    transaction.on_commit(lambda: record_server_event(metric, subject_type, subject_id, viewer_id, owner_id,
                                                      surface, visitor))
