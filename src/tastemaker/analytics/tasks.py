"""Background jobs for analytics (idempotent)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import services


@db_periodic_task(crontab(minute="41", hour="3"))
def prune_events_task() -> int:
    """Daily: drop raw events past ANALYTICS_RAW_RETENTION_DAYS (the counters stay)."""
    return services.do_prune_events()


@db_periodic_task(crontab(minute="*"))
def rollup_task() -> int:
    """Every minute, a safety net: count anything still pending (a worker that died mid-way)."""
    return services.do_rollup(limit=10**12)
