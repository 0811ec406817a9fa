"""Home-feed delivery: fan-out on write in bulk chunks, pull at read time for big accounts.

Every write here is ``INSERT … SELECT … ON CONFLICT DO NOTHING`` against the unique
(viewer, post) constraint, so re-running or resuming any of it never duplicates an entry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper
from django.utils import timezone

from tastemaker.accounts.models import User
from tastemaker.core.ids import id_floor
from tastemaker.social.models import Post
from tastemaker.social.visibility import messages_sql, published_q, published_sql

from .models import FanoutProgress, TimelineEntry

MAX_ID = 2**63 - 1
log = logging.getLogger(__name__)
TABLE = "feeds_timelineentry"


def _reply_filter(alias: str, viewer_expr: str) -> str:
    """SQL: a reply is delivered only to viewers who also follow the account replied to (or it's a self-reply)."""
    return (
        f"({alias}.in_reply_to_account_id IS NULL OR {alias}.in_reply_to_account_id = {alias}.author_id "
        f"OR {alias}.in_reply_to_account_id = {viewer_expr} OR EXISTS (SELECT 1 FROM social_follow g "
        f"WHERE g.follower_id = {viewer_expr} AND g.target_id = {alias}.in_reply_to_account_id))"
    )


def insert_own_entry(post: Post) -> None:
    """A post always reaches its author's own home timeline, at once."""
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {TABLE} (viewer_id, post_id, author_id) VALUES (%s, %s, %s) "
            "ON CONFLICT (viewer_id, post_id) DO NOTHING",
            [post.author_id, post.pk, post.author_id],
        )


def is_pulled(author_followers: int) -> bool:
    return author_followers > settings.FANOUT_THRESHOLD


def fanout_post(post_id: int, *, chunk: int | None = None,
                on_chunk: Callable[[int, int], None] | None = None) -> int:
    """Deliver a post to its author's followers, chunk by chunk in follower-id order.

    Progress is stored after each chunk (``FanoutProgress``), so a job killed part-way resumes
    where it stopped; and because inserts ignore existing rows, starting over is harmless too.
    Returns the number of rows inserted by this run.
    """
    chunk = chunk or settings.FANOUT_CHUNK
    row = Post.objects.select_related("author").filter(pk=post_id).annotate(
        published=ExpressionWrapper(published_q(), output_field=BooleanField())).values(
        "author_id", "author__followers_count", "held", "published", "in_reply_to_account_id"
    ).first()
    if row is None:
        return 0  # deleted before delivery: nothing to do
    if row["held"]:
        # held for review (social.visibility: its author and operators only): not delivered, and no progress
        # row, so releasing it can fan it out later (stalled_fanouts leaves held posts alone)
        return 0
    progress, _created = FanoutProgress.objects.get_or_create(post_id=post_id)
    if progress.done:
        return 0
    if not row["published"] or is_pulled(row["author__followers_count"]):
        FanoutProgress.objects.filter(post_id=post_id).update(done=True)
        return 0
    author_id = row["author_id"]
    is_reply = row["in_reply_to_account_id"] not in (None, author_id)
    cursor_id = progress.cursor
    inserted = 0
    with connection.cursor() as cur:
        while True:
            cur.execute(
                "SELECT follower_id FROM social_follow WHERE target_id = %s AND follower_id > %s "
                "ORDER BY follower_id LIMIT 1 OFFSET %s",
                [author_id, cursor_id, chunk - 1],
            )
            found = cur.fetchone()
            upper = found[0] if found else MAX_ID
            reply_sql = ""
            params: list[int | None] = [post_id, author_id, author_id, cursor_id, upper]
            if is_reply:  # same rule as _reply_filter: the account replied to sees it too
                reply_sql = (" AND (f.follower_id = %s OR EXISTS (SELECT 1 FROM social_follow g "
                             "WHERE g.follower_id = f.follower_id AND g.target_id = %s))")
                params += [row["in_reply_to_account_id"], row["in_reply_to_account_id"]]
            with transaction.atomic():
                cur.execute(
                    f"INSERT INTO {TABLE} (viewer_id, post_id, author_id) "
                    "SELECT f.follower_id, %s, %s FROM social_follow f "
                    "WHERE f.target_id = %s AND f.follower_id > %s AND f.follower_id <= %s" + reply_sql +
                    " ON CONFLICT (viewer_id, post_id) DO NOTHING",
                    params,
                )
                inserted += max(cast(int, cur.rowcount), 0)
                FanoutProgress.objects.filter(post_id=post_id).update(cursor=upper, done=found is None)
            if on_chunk is not None:
                on_chunk(cursor_id, upper)
            cursor_id = upper
            if found is None:
                break
    return inserted


def stalled_fanouts(now: datetime | None = None, limit: int = 200) -> list[int]:
    """Posts whose fan-out should have finished but hasn't: made between ``FANOUT_SWEEP_HOURS`` and
    ``FANOUT_STALE_MINUTES`` ago, with a progress row not done, or none at all (the job was lost
    before it started). Post ids are time-ordered, so the window is a primary-key range."""
    now = now or timezone.now()
    low = id_floor(now - timedelta(hours=settings.FANOUT_SWEEP_HOURS))
    high = id_floor(now - timedelta(minutes=settings.FANOUT_STALE_MINUTES))
    with connection.cursor() as cur:
        cur.execute(
            "SELECT p.id FROM social_post p LEFT JOIN feeds_fanoutprogress f ON f.post_id = p.id "
            "WHERE p.id >= %s AND p.id < %s AND (f.post_id IS NULL OR f.done = %s) AND p.held = %s "
            "ORDER BY p.id LIMIT %s",
            [low, high, False, False, limit],
        )
        return [r[0] for r in cur.fetchall()]


def resume_stalled_fanouts(now: datetime | None = None, limit: int = 200) -> int:
    """Finish the fan-outs a killed job left unfinished (or never began), here and now rather than
    through the queue, so a backlog is not doubled. Safe beside a still-running job: every insert
    ignores existing rows. Returns the number of posts resumed."""
    posts = stalled_fanouts(now, limit)
    for post_id in posts:
        log.warning("resuming the unfinished fan-out of post %s", post_id)
        fanout_post(post_id)
    return len(posts)


def backfill(viewer_id: int, author_id: int, count: int = 20) -> int:
    """After a follow: put the account's recent posts into the follower's home timeline at once."""
    author = User.objects.filter(pk=author_id).values("followers_count").first()
    if author is None or is_pulled(author["followers_count"]):
        return 0  # big accounts are merged at read time anyway
    published, published_params = published_sql("p", "u")  # social.visibility: not held, author not suspended
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {TABLE} (viewer_id, post_id, author_id) "
            f"SELECT %s, p.id, p.author_id FROM (SELECT p.id, p.author_id FROM social_post p "
            f"JOIN accounts_user u ON u.id = p.author_id WHERE p.author_id = %s "
            f"AND {_reply_filter('p', '%s')} AND {published} ORDER BY p.id DESC LIMIT %s) AS p WHERE 1 = 1 "
            "ON CONFLICT (viewer_id, post_id) DO NOTHING",
            [viewer_id, author_id, viewer_id, viewer_id, *published_params, count],
        )
        return max(cast(int, cur.rowcount), 0)


def remove_author_from_timeline(viewer_id: int, author_id: int) -> int:
    """Unfollow / block: the account's posts and reposts leave the viewer's home timeline."""
    deleted, _rows = TimelineEntry.objects.filter(viewer_id=viewer_id, author_id=author_id).delete()
    return deleted


def rebuild_viewer(viewer_id: int, cap: int | None = None) -> int:
    """Rebuild one home timeline from the source tables (follows + posts), newest ``cap`` posts."""
    cap = cap or settings.TIMELINE_CAP
    published, published_params = published_sql("p", "u")  # social.visibility: not held, author not suspended
    message, message_params = messages_sql("p")  # one's own direct messages are no home-timeline entries
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"DELETE FROM {TABLE} WHERE viewer_id = %s", [viewer_id])
        cur.execute(
            f"INSERT INTO {TABLE} (viewer_id, post_id, author_id) "
            "SELECT %s, p.id, p.author_id FROM (SELECT p.id, p.author_id FROM social_post p "
            "JOIN accounts_user u ON u.id = p.author_id "
            # own posts always (as insert_own_entry does), followed accounts' published ones under the reply rule
            f"WHERE ((p.author_id = %s AND NOT ({message})) OR (u.followers_count <= %s AND p.author_id IN "
            "(SELECT target_id FROM social_follow WHERE follower_id = %s) "
            f"AND {_reply_filter('p', '%s')} AND {published})) ORDER BY p.id DESC LIMIT %s) AS p WHERE 1 = 1 "
            "ON CONFLICT (viewer_id, post_id) DO NOTHING",
            [viewer_id, viewer_id, *message_params, settings.FANOUT_THRESHOLD, viewer_id, viewer_id, viewer_id,
             *published_params, cap],
        )
        return max(cast(int, cur.rowcount), 0)


def trim_viewer(viewer_id: int, cap: int | None = None) -> int:
    cap = cap or settings.TIMELINE_CAP
    with connection.cursor() as cur:
        cur.execute(
            f"DELETE FROM {TABLE} WHERE viewer_id = %s AND post_id < (SELECT post_id FROM {TABLE} "
            "WHERE viewer_id = %s ORDER BY post_id DESC LIMIT 1 OFFSET %s)",
            [viewer_id, viewer_id, cap - 1],
        )
        return max(cast(int, cur.rowcount), 0)


def viewers_over_cap(cap: int | None = None) -> list[int]:
    cap = cap or settings.TIMELINE_CAP
    with connection.cursor() as cur:
        cur.execute(f"SELECT viewer_id FROM {TABLE} GROUP BY viewer_id HAVING COUNT(*) > %s", [cap])
        return [r[0] for r in cur.fetchall()]


def trim_all(cap: int | None = None) -> int:
    return sum(trim_viewer(v, cap) for v in viewers_over_cap(cap))
