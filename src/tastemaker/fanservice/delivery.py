"""Delivering broadcasts: chunks of subscribers in fan-id order, one transaction each, set-based.

Per chunk (fans ``lo < id <= hi`` of the owner's subscriptions), inside one transaction that also moves the
broadcast's resume point (``next_fan_id``):

1. ``INSERT INTO fanservice_inboxitem … SELECT … FROM <eligible subscribers> … ON CONFLICT (message_id,
   recipient_id) DO NOTHING``: one inbox row per fan in the segment who has no row for this message yet and
   has a free daily slot; the row takes the fan's next slot of the UTC day (``slot = max + 1``, unique per
   day and fan). A concurrent delivery that took the same slot first makes the statement fail on that
   index; it runs again in a savepoint (the new maximum is then visible), so the cap holds across workers
   without a lock of our own.
2. If any fan of the chunk's id range is at the cap today (an index range over today's rows, usually
   empty), the fans of the chunk still without a row are over their cap: a ``Deferred`` row each (due
   tomorrow), which ``deliver_deferred`` delivers on a later day through the same statement.

A killed job loses its open chunk's transaction only; the next run starts at ``next_fan_id``. Re-running from
the start is harmless too: the unique (message, recipient) and the ``NOT EXISTS`` insert nothing twice.
Unsubscribing deletes the subscription row, so a scheduled broadcast or a deferred row never reaches a fan
who left. The statement is identical on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tastemaker.accounts.standing import State, standing

from .models import Broadcast, BroadcastStatus, Deferred, InboxItem, SenderDay, Subscription
from .segments import eligible_sql

log = logging.getLogger(__name__)


def utc_today() -> date:
    return timezone.now().astimezone(UTC).date()


def next_day_start(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def claim_sender_slot(owner_id: int, day: date) -> bool:
    """Take one of the owner's ``FANSERVICE_SENDER_DAILY_CAP`` broadcast slots of ``day``: one conditional
    upsert, so two broadcasts started at once cannot both take the last one."""
    table = SenderDay._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (owner_id, day, n) VALUES (%s, %s, 1) "
            f"ON CONFLICT (owner_id, day) DO UPDATE SET n = {table}.n + 1 WHERE {table}.n < %s RETURNING n",
            [owner_id, day, settings.FANSERVICE_SENDER_DAILY_CAP])
        return cursor.fetchone() is not None


def _insert_sql(b: Broadcast, source: str, source_params: list[Any], today: date) -> tuple[str, list[Any]]:
    """The chunk's statement. A fan's slots taken today: an index lookup per fan on (day, recipient, slot)
    (measured: an uncorrelated aggregate joined in instead is planned as a scan of the whole table while its
    statistics say it is empty — minutes for a first broadcast on PostgreSQL). A row this message already
    has is skipped by its unique index (``ON CONFLICT (message_id, recipient_id) DO NOTHING``)."""
    inbox = InboxItem._meta.db_table
    where, params = eligible_sql(b.owner_id, b.segment or {})
    taken = f"(SELECT COALESCE(MAX(i.slot), 0) FROM {inbox} i WHERE i.day = %s AND i.recipient_id = s.fan_id)"
    sql = (f"INSERT INTO {inbox} (recipient_id, message_id, sender_id, broadcast_id, read, created_at, day, slot) "
           f"SELECT s.fan_id, %s, %s, %s, %s, %s, %s, {taken} + 1 "
           f"{where} {source} AND {taken} < %s "
           f"ORDER BY s.fan_id ON CONFLICT (message_id, recipient_id) DO NOTHING")
    return sql, [b.message_id, b.owner_id, b.pk, False, timezone.now(), today, today, *params, *source_params,
                 today, settings.FANSERVICE_FAN_DAILY_CAP]


def _waiting_sql(b: Broadcast, source: str, source_params: list[Any]) -> tuple[str, list[Any]]:
    """``FROM … WHERE …`` of the fans in ``source`` who may receive this broadcast but have no row for it."""
    where, params = eligible_sql(b.owner_id, b.segment or {})
    inbox = InboxItem._meta.db_table
    return (f"{where} {source} AND NOT EXISTS (SELECT 1 FROM {inbox} x WHERE x.message_id = %s "
            f"AND x.recipient_id = s.fan_id)", [*params, *source_params, b.message_id])


def _deliver(b: Broadcast, source: str, source_params: list[Any], today: date) -> int:
    """Insert the inbox rows of the fans in ``source`` who have a free slot today; returns how many.

    Only a row this message already has is skipped silently (``ON CONFLICT (message_id, recipient_id)``); a
    slot a concurrent delivery took first (PostgreSQL: it waits for that transaction, then the unique index
    refuses) fails the statement, which runs again in its savepoint and then sees the slot taken."""
    sql, params = _insert_sql(b, source, source_params, today)
    for attempt in range(20):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, params)
                return int(max(cursor.rowcount, 0))
        except IntegrityError:
            if attempt == 19:
                raise
    return 0


def _someone_at_cap(lo: int, hi: int, today: date) -> bool:
    """Whether any fan with an id in (lo, hi] already has today's last slot: only then can a fan of this
    chunk be over the cap (an index range over today's rows; the deferral pass is skipped otherwise)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {InboxItem._meta.db_table} WHERE day = %s AND recipient_id > %s "
                       f"AND recipient_id <= %s AND slot >= %s LIMIT 1",
                       [today, lo, hi, settings.FANSERVICE_FAN_DAILY_CAP])
        return cursor.fetchone() is not None


def _defer(b: Broadcast, source: str, source_params: list[Any], today: date) -> int:
    """The fans in ``source`` still without a row are over their cap today: defer them to tomorrow."""
    where, params = _waiting_sql(b, source, source_params)
    table = Deferred._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (broadcast_id, fan_id, due) SELECT %s, s.fan_id, %s {where} "
                       f"ON CONFLICT DO NOTHING", [b.pk, today + timedelta(days=1), *params])
        return int(max(cursor.rowcount, 0))


def _owner_suspended(b: Broadcast) -> bool:
    return standing(b.owner).state == State.SUSPENDED


def start(broadcast_id: int) -> bool:
    """A due scheduled broadcast starts sending if its owner has a sender slot left today; otherwise it
    waits for the next day (its ``scheduled_at`` moves to the next UTC midnight). True if it is sending."""
    with transaction.atomic():
        b = Broadcast.objects.select_for_update().select_related("owner").filter(pk=broadcast_id).first()
        if b is None:
            return False
        if b.status != BroadcastStatus.SCHEDULED or b.scheduled_at > timezone.now():
            return b.status == BroadcastStatus.SENDING
        if _owner_suspended(b):
            b.status, b.cancelled_reason = BroadcastStatus.CANCELLED, "owner suspended"
            b.save(update_fields=["status", "cancelled_reason"])
            return False
        today = utc_today()
        if not claim_sender_slot(b.owner_id, today):
            b.scheduled_at = next_day_start(today)
            b.save(update_fields=["scheduled_at"])
            return False
        b.status, b.send_day, b.started_at = BroadcastStatus.SENDING, today, timezone.now()
        b.save(update_fields=["status", "send_day", "started_at"])
        return True


def deliver_next_chunk(broadcast_id: int) -> bool:
    """Deliver the next chunk of a sending broadcast in one transaction; True while there is more."""
    with transaction.atomic():
        b = Broadcast.objects.select_for_update().select_related("owner").filter(pk=broadcast_id).first()
        if b is None or b.status != BroadcastStatus.SENDING:
            return False
        if _owner_suspended(b):
            b.status, b.cancelled_reason = BroadcastStatus.CANCELLED, "owner suspended"
            b.save(update_fields=["status", "cancelled_reason"])
            return False
        subs = Subscription._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX(fan_id) FROM (SELECT fan_id FROM {subs} WHERE owner_id = %s AND fan_id > %s "
                           f"ORDER BY fan_id LIMIT %s) t", [b.owner_id, b.next_fan_id, settings.FANSERVICE_CHUNK])
            hi = cursor.fetchone()[0]
        if hi is None:
            b.status, b.finished_at = BroadcastStatus.SENT, timezone.now()
            b.save(update_fields=["status", "finished_at"])
            return False
        today = utc_today()
        source, params = "AND s.fan_id > %s AND s.fan_id <= %s", [b.next_fan_id, hi]
        delivered = _deliver(b, source, params, today)
        deferred = _defer(b, source, params, today) if _someone_at_cap(b.next_fan_id, hi, today) else 0
        b.next_fan_id = hi
        b.delivered += delivered
        b.deferred += deferred
        b.save(update_fields=["next_fan_id", "delivered", "deferred"])
        return True


def deliver(broadcast_id: int) -> None:
    """Start (if due) and deliver a broadcast to the end, chunk by chunk."""
    if not start(broadcast_id):
        return
    while deliver_next_chunk(broadcast_id):
        pass


def deliver_deferred(today: date | None = None) -> int:
    """Deliver the deferred rows due by ``today`` (per broadcast, in one transaction each): fans with a free
    slot get their row, the rest wait one more day; fans who left (unsubscribed, blocked, suspended) are
    dropped from the queue. Returns how many were delivered."""
    today = today or utc_today()
    table = Deferred._meta.db_table
    total = 0
    ids = list(Deferred.objects.filter(due__lte=today).values_list("broadcast_id", flat=True).distinct())
    for broadcast_id in ids:
        with transaction.atomic():
            b = Broadcast.objects.select_for_update().select_related("owner").filter(pk=broadcast_id).first()
            if b is None:
                continue
            source = f"AND s.fan_id IN (SELECT d.fan_id FROM {table} d WHERE d.broadcast_id = %s AND d.due <= %s)"
            params = [b.pk, today]
            delivered = 0 if (b.status == BroadcastStatus.CANCELLED or _owner_suspended(b)) else _deliver(
                b, source, params, today)
            where, wparams = _waiting_sql(b, source, params)
            with connection.cursor() as cursor:
                # still waiting and still eligible: tomorrow; everyone else leaves the queue
                cursor.execute(f"UPDATE {table} SET due = %s WHERE broadcast_id = %s AND due <= %s "
                               f"AND fan_id IN (SELECT s.fan_id {where})",
                               [today + timedelta(days=1), b.pk, today, *wparams])
                if b.status == BroadcastStatus.CANCELLED or _owner_suspended(b):
                    cursor.execute(f"DELETE FROM {table} WHERE broadcast_id = %s", [b.pk])
                else:
                    cursor.execute(f"DELETE FROM {table} WHERE broadcast_id = %s AND due <= %s", [b.pk, today])
            left = Deferred.objects.filter(broadcast_id=b.pk).count()
            Broadcast.objects.filter(pk=b.pk).update(delivered=b.delivered + delivered, deferred=left)
            total += delivered
    return total


def run_due() -> int:
    """The periodic sweep: start due broadcasts, finish sending ones (a killed job's), deliver deferred rows."""
    now = timezone.now()
    for broadcast_id in Broadcast.objects.filter(status=BroadcastStatus.SCHEDULED, scheduled_at__lte=now
                                                 ).values_list("pk", flat=True):
        start(broadcast_id)
    sending = list(Broadcast.objects.filter(status=BroadcastStatus.SENDING).values_list("pk", flat=True))
    for broadcast_id in sending:
        while deliver_next_chunk(broadcast_id):
            pass
    return len(sending) + deliver_deferred()
