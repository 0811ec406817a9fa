"""Background jobs for ability labels. Idempotent: re-running recomputes the same labels.

- ``label_recent_creators_task`` (every 5 minutes): creators who posted since the last run get their
  labels recomputed — "labels update when a creator posts" without a hook in the social write path.
- ``recompute_all_labels_task`` (nightly): every creator with recent output or an existing label.
- ``label_posts_task``: posts found unlabelled where a request may not classify them (learned interests:
  ``enqueue_label_posts`` after commit), so the next computation finds their labels stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task, on_startup

from tastemaker.accounts.models import User

from . import labeler, selectors, services
from .models import JobCursor

CURSOR = "labels.recent"


@on_startup()
def warm_up_labeler() -> None:
    """The consumer loads the labeler's model when it starts (in the background), not in its first job."""
    labeler.warm_up()


def recompute_user(user_id: int) -> int:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return 0
    return len(services.do_recompute_labels(user))


@db_task(retries=2, retry_delay=10)
def recompute_labels_task(user_id: int) -> int:
    return recompute_user(user_id)


def enqueue_recompute(user_id: int) -> None:
    """Recompute one creator's labels after the current transaction commits."""
    transaction.on_commit(lambda: recompute_labels_task(user_id))


@db_task(retries=2, retry_delay=10)
def label_posts_task(post_ids: list[int]) -> int:
    """Label posts nobody labelled yet (e.g. posts someone engaged with, for their learned interests):
    the model's cost is paid here, not in the request that noticed them."""
    return services.do_label_post_ids(post_ids)


def enqueue_label_posts(post_ids: Iterable[int]) -> None:
    """Label these posts in a job after the current transaction commits (nothing to do: nothing queued)."""
    ids = sorted({int(i) for i in post_ids})
    if ids:
        transaction.on_commit(lambda: label_posts_task(ids))


def label_recent_creators() -> int:
    now = timezone.now()
    cursor = JobCursor.objects.filter(pk=CURSOR).first()
    since = cursor.value if cursor else now - timedelta(days=1)
    done = 0
    for uid in selectors.creators_posted_since(since - timedelta(seconds=5)):  # small overlap: idempotent
        done += 1
        recompute_user(uid)
    JobCursor.objects.update_or_create(pk=CURSOR, defaults={"value": now})
    return done


@db_periodic_task(crontab(minute="*/5"))
@lock_task("experts-label-recent")
def label_recent_creators_task() -> int:
    return label_recent_creators()


def recompute_all() -> int:
    done = 0
    for uid in selectors.recent_creator_ids():
        recompute_user(uid)
        done += 1
    return done


@db_periodic_task(crontab(hour="3", minute="15"))
@lock_task("experts-recompute-all")
def recompute_all_labels_task() -> int:
    return recompute_all()
