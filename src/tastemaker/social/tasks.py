"""Background jobs for posts and media. Idempotent: safe to retry or run twice."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from . import media


@db_periodic_task(crontab(minute="23"))
@lock_task("social-sweep-unattached-media")
def sweep_unattached_media_task() -> int:
    """Uploads never attached to a post (or card) are deleted, with their files, after MEDIA_UNATTACHED_HOURS."""
    return media.sweep_unattached_media()
