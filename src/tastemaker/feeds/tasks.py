"""Background jobs for feeds. Each is idempotent: safe to retry, re-run or resume."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from . import services


@db_task(retries=3, retry_delay=5)
def fanout_task(post_id: int) -> int:
    return services.fanout_post(post_id)


@db_task(retries=3, retry_delay=5)
def backfill_task(viewer_id: int, author_id: int) -> int:
    return services.backfill(viewer_id, author_id)


@db_periodic_task(crontab(minute="17"))
def trim_timelines_task() -> int:
    return services.trim_all()


@db_periodic_task(crontab(minute="*/5"))
@lock_task("feeds-resume-stalled-fanouts")
def resume_stalled_fanouts_task() -> int:
    """A fan-out lost with a consumer killed mid-job (or before it began) is finished here."""
    return services.resume_stalled_fanouts()
