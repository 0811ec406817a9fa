"""Background jobs for discovery: learned interests of users who engaged recently (every 15 minutes)
and of everyone active in the learning window (nightly). Idempotent."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from tastemaker.accounts.models import User
from tastemaker.core.ids import id_floor
from tastemaker.experts.models import JobCursor
from tastemaker.social.models import Bookmark, Favourite, Follow, Post

from . import services
from .selectors import LEARN_WINDOW_DAYS

CURSOR = "interests.recent"


def engaged_since(since) -> set[int]:
    floor = id_floor(since)
    ids = set(Favourite.objects.filter(id__gte=floor).values_list("user_id", flat=True).distinct())
    ids |= set(Bookmark.objects.filter(id__gte=floor).values_list("user_id", flat=True).distinct())
    ids |= set(Post.objects.filter(id__gte=floor).values_list("author_id", flat=True).distinct())
    ids |= set(Follow.objects.filter(created_at__gte=since).values_list("follower_id", flat=True).distinct())
    return ids


def learn(user_ids) -> int:
    done = 0
    for user in User.objects.filter(pk__in=list(user_ids), is_active=True).iterator():
        services.do_recompute_learned_interests(user)
        done += 1
    return done


def learn_recent() -> int:
    now = timezone.now()
    cursor = JobCursor.objects.filter(pk=CURSOR).first()
    since = (cursor.value if cursor else now - timedelta(days=1)) - timedelta(seconds=5)
    done = learn(engaged_since(since))
    JobCursor.objects.update_or_create(pk=CURSOR, defaults={"value": now})
    return done


@db_periodic_task(crontab(minute="*/15"))
@lock_task("discovery-learn-recent")
def learn_recent_interests_task() -> int:
    return learn_recent()


@db_periodic_task(crontab(hour="3", minute="45"))
@lock_task("discovery-learn-all")
def learn_all_interests_task() -> int:
    return learn(engaged_since(timezone.now() - timedelta(days=LEARN_WINDOW_DAYS)))
