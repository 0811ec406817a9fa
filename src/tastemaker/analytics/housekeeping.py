"""Analytics housekeeping: prune raw events past their retention, rebuild the counters from the raw events
with the rollup's own counting."""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction

from tastemaker.core.ids import SEQUENCE_BITS, now_ms

from .models import Event, Pending, PruneMark, Stat
from .rollup import do_rollup


def do_prune_events(older_than_days: int | None = None, batch: int = 50_000) -> int:
    """Delete raw events older than the retention; the counters stay as they are."""
    days = settings.ANALYTICS_RAW_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = (now_ms() - days * 86_400_000) << SEQUENCE_BITS
    total = 0
    while True:
        with transaction.atomic():
            pending = Pending.objects.filter(event_id__lt=cutoff).values("event_id")
            ids = list(Event.objects.filter(pk__lt=cutoff).exclude(pk__in=pending).order_by("pk")
                       .values_list("pk", flat=True)[:batch])
            if not ids:
                break
            total += Event.objects.filter(pk__in=ids).delete()[0]
    if total:
        mark, _ = PruneMark.objects.get_or_create(pk=1)
        if cutoff > mark.before_id:
            PruneMark.objects.filter(pk=1).update(before_id=cutoff)
    return total


def do_rebuild_stats(batch: int = 20_000, progress=None) -> int:
    """Recompute every counter from the raw events with the rollup's own counting: drop the counters,
    queue every stored event, roll them all up. One transaction (ingest waits meanwhile); returns
    the number of events counted."""
    with transaction.atomic(), connection.cursor() as cursor:
        Stat.objects.all().delete()
        cursor.execute(f"DELETE FROM {Pending._meta.db_table}")
        cursor.execute(f"INSERT INTO {Pending._meta.db_table} (event_id) SELECT id FROM {Event._meta.db_table}")
        done = 0
        while True:
            n = do_rollup(limit=batch, chunk=batch)
            if not n:
                break
            done += n
            if progress:
                progress(n)
    return done
