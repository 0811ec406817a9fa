"""Home timeline read: stored entries (push) merged with big accounts' posts (pull).

Which posts show is ``social.visibility``'s rule, rendered to SQL from the same expression as the ORM
filters (``visibility.post_sql``), never written here by hand.

The read is id-first (Stream-Framework style): one query for who the viewer hides and which
followed accounts are pulled, one query that picks the page's post ids from index scans (the
timeline's unique ``(viewer_id, post_id)`` index for pushed entries, ``social_post (author_id, id)``
for pulled accounts), and only then are those ≤ ``limit`` posts loaded (``home_timeline``) or
rendered straight from rows (``api.render``). Raw SQL with bound parameters: the ORM's query
building and model instantiation were most of the cost of this hot path (docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection

from tastemaker.accounts.standing import suspended_sql
from tastemaker.core.pagination import Page, keyset_sql
from tastemaker.social import visibility
from tastemaker.social.models import Post
from tastemaker.social.visibility import Atom, Param, Surface, Viewer

if TYPE_CHECKING:
    from tastemaker.accounts.models import User

# (post id, reblog_of id or None)
PostRef = tuple[int, "int | None"]


def pulled_author_ids(viewer_id: int) -> list[int]:
    """Followed accounts above the fan-out threshold whose posts are merged in at read time (those shown
    to the viewer: not suspended, not hidden)."""
    return viewer_filters(viewer_id).pulled


@dataclass(frozen=True)
class ViewerFilters:
    blocked: set[int]  # accounts blocked either way
    muted: set[int]  # accounts the viewer muted
    pulled: list[int]  # followed accounts above the fan-out threshold, shown (not suspended, not hidden)

    @property
    def hidden(self) -> set[int]:
        return self.blocked | self.muted


def viewer_filters(viewer_id: int) -> ViewerFilters:
    """Whom the viewer's lists hide (``social.visibility.hidden_sql``) and the pulled accounts, in one
    round trip. Pulled = followed accounts above the fan-out threshold that are not suspended (the rule's
    own condition, ``visibility.published_sql``'s author part) and not hidden."""
    hidden_sql, hidden_params = visibility.hidden_sql(viewer_id)
    suspended, suspended_params = suspended_sql("u")
    with connection.cursor() as cur:
        cur.execute(
            hidden_sql + " UNION ALL SELECT 2, f.target_id FROM social_follow f JOIN accounts_user u"
            f" ON u.id = f.target_id WHERE f.follower_id = %s AND u.followers_count > %s AND NOT {suspended}",
            [*hidden_params, viewer_id, settings.FANOUT_THRESHOLD, *suspended_params],
        )
        rows = cur.fetchall()
    blocked = {a for kind, a in rows if kind == 0}
    muted = {a for kind, a in rows if kind == 1}
    pulled = [a for kind, a in rows if kind == 2 and a not in blocked and a not in muted]
    return ViewerFilters(blocked, muted, pulled)


# what the home timeline's query guarantees for every post it reads (not for a repost's original):
# - pushed entries: delivered only to the author's followers (and the author), and removed on unfollow or
#   block (``services.remove_author_from_timeline``), so the viewer follows the author;
# - pulled posts: by accounts the viewer follows that ``viewer_filters`` found shown (not suspended, not
#   blocked either way, not muted, not the viewer).
PUSHED_KNOWN = {Atom.FOLLOWS: True}
PULLED_KNOWN = {Atom.FOLLOWS: True, Atom.SUSPENDED: False, Atom.BLOCKED: False, Atom.MUTED: False,
                Atom.OWN: False}


def home_page_ids_sql(viewer_id: int, page: Page) -> tuple[str, list[Param]]:
    """SQL selecting the ids (column ``id``) of the viewer's home page, with its parameters.

    Pushed and pulled posts are merged, de-duplicated, ordered and cut to ``page.limit`` in SQL, so a
    caller can join whatever it needs for exactly the page's posts in the same statement. The rows come
    in no particular order: order by id (descending, or ascending for a ``min_id`` page).

    Which posts show is ``social.visibility``'s rule for lists (``Surface.LIST``), rendered to SQL by
    ``visibility.post_sql`` with what each arm guarantees (``PUSHED_KNOWN``, ``PULLED_KNOWN``); a
    repost's original is checked with the whole rule."""
    filters = viewer_filters(viewer_id)
    viewer = Viewer(viewer_id)
    key_sql, key_params, order = keyset_sql("e.post_id", page)
    # pushed: the viewer's stored entries
    rule, rule_params = visibility.post_sql(viewer, Surface.LIST, post="p", author="u", blocked=filters.blocked,
                                            muted=filters.muted, known=PUSHED_KNOWN)
    arms = [
        "SELECT e.post_id AS id FROM feeds_timelineentry e JOIN social_post p ON p.id = e.post_id"
        " JOIN accounts_user u ON u.id = p.author_id"
        f" WHERE e.viewer_id = %s AND {rule}" + key_sql + f" ORDER BY e.post_id {order} LIMIT %s"
    ]
    params: list[Param] = [viewer_id, *rule_params, *key_params, page.limit]
    if filters.pulled:
        # pulled: one arm per big account, each an index scan of social_post (author_id, id) cut at the
        # page size, so the cost does not grow with how much those accounts have posted. Replies only
        # when the viewer follows the account replied to (as for push). The filters are in the query,
        # before the LIMIT: filtering after it would drop valid older posts from the page while the
        # cursor moves past them, so they would never be shown.
        key_sql, key_params, order = keyset_sql("p.id", page)
        rule, rule_params = visibility.post_sql(viewer, Surface.LIST, post="p", blocked=filters.blocked,
                                                muted=filters.muted, known=PULLED_KNOWN)
        arm = (
            "SELECT p.id AS id FROM social_post p WHERE p.author_id = %s"
            " AND (p.in_reply_to_account_id IS NULL OR p.in_reply_to_account_id = p.author_id"
            " OR p.in_reply_to_account_id = %s OR p.in_reply_to_account_id IN"
            " (SELECT target_id FROM social_follow WHERE follower_id = %s))"
            f" AND {rule}" + key_sql + f" ORDER BY p.id {order} LIMIT %s"
        )
        for author_id in filters.pulled:
            arms.append(arm)
            params += [author_id, viewer_id, viewer_id, *rule_params, *key_params, page.limit]
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
