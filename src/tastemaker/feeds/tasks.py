"""Background jobs for feeds. Each is idempotent: safe to retry, re-run or resume."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

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
