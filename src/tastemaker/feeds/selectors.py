"""Home timeline read: stored entries (push) merged with big accounts' posts (pull).

The read is id-first (Stream-Framework style): one query for who the viewer hides and which
followed accounts are pulled, one query that picks the page's post ids from index scans (the
timeline's unique ``(viewer_id, post_id)`` index for pushed entries, ``social_post (author_id, id)``
for pulled accounts), and only then are those ≤ ``limit`` posts loaded (``home_timeline``) or
rendered straight from rows (``api.render``). Raw SQL with bound parameters: the ORM's query
building and model instantiation were most of the cost of this hot path (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection

from tastemaker.core.pagination import Page
from tastemaker.social.models import Post

if TYPE_CHECKING:
    from tastemaker.accounts.models import User

# (post id, reblog_of id or None)
PostRef = tuple[int, "int | None"]


def pulled_author_ids(viewer_id: int) -> list[int]:
    """Followed accounts above the fan-out threshold: their posts are merged in at read time."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT f.target_id FROM social_follow f JOIN accounts_user u ON u.id = f.target_id"
            " WHERE f.follower_id = %s AND u.followers_count > %s",
            [viewer_id, settings.FANOUT_THRESHOLD],
        )
        return [row[0] for row in cur.fetchall()]


def viewer_filters(viewer_id: int) -> tuple[set[int], list[int]]:
    """(hidden author ids, pulled author ids) in one round trip.

    Hidden = blocked either way or muted (as ``social.selectors.hidden_author_ids``); pulled = followed
    accounts above the fan-out threshold, not suspended and not hidden."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT 0, target_id FROM social_block WHERE account_id = %s"
            " UNION ALL SELECT 0, account_id FROM social_block WHERE target_id = %s"
            " UNION ALL SELECT 0, target_id FROM social_mute WHERE account_id = %s"
            " UNION ALL SELECT 1, f.target_id FROM social_follow f JOIN accounts_user u ON u.id = f.target_id"
            " WHERE f.follower_id = %s AND u.followers_count > %s AND u.is_suspended = %s",
            [viewer_id, viewer_id, viewer_id, viewer_id, settings.FANOUT_THRESHOLD, False],
        )
        rows = cur.fetchall()
    hidden = {a for kind, a in rows if kind == 0}
    big = [a for kind, a in rows if kind == 1 and a not in hidden]
    return hidden, big


def _in(ids: Iterable[int]) -> tuple[str, list[int]]:
    ids = list(ids)
    return ", ".join(["%s"] * len(ids)), ids


def _keyset(column: str, page: Page) -> tuple[str, list[int], str]:
    where, params = "", []
    if page.max_id is not None:
        where += f" AND {column} < %s"
        params.append(page.max_id)
    if page.since_id is not None:
        where += f" AND {column} > %s"
        params.append(page.since_id)
    if page.min_id is not None:
        where += f" AND {column} > %s"
        params.append(page.min_id)
    order = "ASC" if page.min_id is not None else "DESC"
    return where, params, order


def home_page_ids_sql(viewer_id: int, page: Page) -> tuple[str, list[int]]:
    """SQL selecting the ids (column ``id``) of the viewer's home page, with its parameters.

    Pushed and pulled posts are merged, de-duplicated, ordered and cut to ``page.limit`` in SQL, so a
    caller can join whatever it needs for exactly the page's posts in the same statement. The rows come
    in no particular order: order by id (descending, or ascending for a ``min_id`` page)."""
    hidden, big = viewer_filters(viewer_id)
    key_sql, key_params, order = _keyset("e.post_id", page)
    hidden_sql, hidden_params = _in(hidden)
    # pushed: the viewer's stored entries (author not suspended, nothing from or reposted from a hidden account)
    # (an entry's author_id is its post's author: the post itself is only read to check a repost's original)
    arms = [
        "SELECT e.post_id AS id FROM feeds_timelineentry e JOIN accounts_user u ON u.id = e.author_id"
        + (" JOIN social_post p ON p.id = e.post_id LEFT JOIN social_post o ON o.id = p.reblog_of_id"
           if hidden else "")
        + " WHERE e.viewer_id = %s AND u.is_suspended = %s"
        + (f" AND e.author_id NOT IN ({hidden_sql})"
           f" AND (o.author_id IS NULL OR o.author_id NOT IN ({hidden_sql}))" if hidden else "")
        + key_sql + f" ORDER BY e.post_id {order} LIMIT %s"
    ]
    params: list[int] = [viewer_id, False, *hidden_params, *hidden_params, *key_params, page.limit]
    if big:
        # pulled: one arm per big account, each an index scan of social_post (author_id, id) cut at the
        # page size, so the cost does not grow with how much those accounts have posted. Replies only
        # when the viewer follows the account replied to (as for push). The filters are in the query,
        # before the LIMIT: filtering after it would drop valid older posts from the page while the
        # cursor moves past them, so they would never be shown.
        key_sql, key_params, order = _keyset("p.id", page)
        arm = (
            "SELECT p.id AS id FROM social_post p"
            + (" LEFT JOIN social_post o ON o.id = p.reblog_of_id" if hidden else "")
            + " WHERE p.author_id = %s"
            " AND (p.in_reply_to_account_id IS NULL OR p.in_reply_to_account_id = p.author_id"
            " OR p.in_reply_to_account_id = %s OR p.in_reply_to_account_id IN"
            " (SELECT target_id FROM social_follow WHERE follower_id = %s))"
            + (f" AND (o.author_id IS NULL OR o.author_id NOT IN ({hidden_sql}))" if hidden else "")
            + key_sql + f" ORDER BY p.id {order} LIMIT %s"
        )
        for author_id in big:
            arms.append(arm)
            params += [author_id, viewer_id, viewer_id, *hidden_params, *key_params, page.limit]
    if len(arms) == 1:
        return arms[0], params
    # each arm keeps its own ORDER BY/LIMIT (an index scan); UNION de-duplicates a post both pushed and pulled
    merged = " UNION ".join(f"SELECT id FROM ({a}) arm{n}" for n, a in enumerate(arms))
    return f"SELECT id FROM ({merged}) merged ORDER BY id {order} LIMIT %s", [*params, page.limit]


def home_timeline_refs(viewer_id: int, page: Page) -> list[PostRef]:
    """The page's ``(post id, reblog_of id)`` pairs, newest first, without loading the posts."""
    ids_sql, params = home_page_ids_sql(viewer_id, page)
    order = "ASC" if page.min_id is not None else "DESC"
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT p.id, p.reblog_of_id FROM ({ids_sql}) page JOIN social_post p ON p.id = page.id"
            f" ORDER BY p.id {order}",
            params,
        )
        rows: list[PostRef] = cur.fetchall()
    if page.min_id is not None:
        rows.reverse()  # min_id pages are the oldest ``limit`` above min_id, returned newest first
    return rows


def home_timeline(viewer: User, page: Page) -> list[Post]:
    refs = home_timeline_refs(viewer.pk, page)
    if not refs:
        return []
    found = Post.objects.select_related("author", "reblog_of__author").in_bulk([r[0] for r in refs])
    return [found[i] for i, _ in refs if i in found]
