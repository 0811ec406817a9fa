"""``tastemaker rebuild-feeds``: rebuild home timelines from the source tables (follows + posts).

Set-based: one ``INSERT … SELECT`` per batch of viewers (in viewer-id order), ranked with a window
function so each timeline keeps only its newest ``TIMELINE_CAP`` entries. It keeps the delivery rules
of ``feeds.services`` (push only for accounts at or below ``FANOUT_THRESHOLD`` — bigger ones are merged
at read time; a reply reaches a follower only if the follower also follows the account replied to, or
is that account; a post always reaches its author's own timeline; another account's post only when
published: not held, author not suspended, ``social.visibility.published_sql``).

Works on SQLite and PostgreSQL (window functions: SQLite ≥ 3.25).
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from tqdm import tqdm

from tastemaker.accounts.models import User
from tastemaker.feeds.services import TABLE, _reply_filter
from tastemaker.social.visibility import messages_sql, published_sql

DEFAULT_BATCH = 2_000


def _rebuild_sql(cap: int, threshold: int, where_viewer_own: str, where_viewer_follow: str) -> str:
    return (
        f"INSERT INTO {TABLE} (viewer_id, post_id, author_id) "
        "SELECT r.viewer_id, r.post_id, r.author_id FROM ("
        "  SELECT c.viewer_id, c.post_id, c.author_id, "
        "         ROW_NUMBER() OVER (PARTITION BY c.viewer_id ORDER BY c.post_id DESC) AS rn "
        "  FROM ("
        "    SELECT p.author_id AS viewer_id, p.id AS post_id, p.author_id AS author_id "
        f"   FROM social_post p WHERE {where_viewer_own.format(col='p.author_id')} AND NOT ({messages_sql('p')[0]}) "
        "    UNION ALL "
        "    SELECT f.follower_id, p.id, p.author_id FROM social_follow f "
        "    JOIN accounts_user u ON u.id = f.target_id "
        "    JOIN social_post p ON p.author_id = f.target_id "
        f"   WHERE {where_viewer_follow.format(col='f.follower_id')} AND u.followers_count <= {int(threshold)} "
        f"   AND {_reply_filter('p', 'f.follower_id')} AND {published_sql('p', 'u')[0]}"
        "  ) c"
        f") r WHERE r.rn <= {int(cap)} "
        "ON CONFLICT (viewer_id, post_id) DO NOTHING"
    )


def rebuild_range(lo: int, hi: int, *, cap: int | None = None) -> int:
    """Rebuild the timelines of every viewer with ``lo <= id <= hi``; returns rows inserted."""
    cap = cap or settings.TIMELINE_CAP
    where = "{col} BETWEEN %s AND %s"
    sql = _rebuild_sql(cap, settings.FANOUT_THRESHOLD, where, where)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"DELETE FROM {TABLE} WHERE viewer_id BETWEEN %s AND %s", [lo, hi])
        cur.execute(sql, [lo, hi, *messages_sql("p")[1], lo, hi, *published_sql("p", "u")[1]])
        return max(cur.rowcount, 0)


def rebuild_viewers(viewer_ids: list[int], *, cap: int | None = None, batch: int = DEFAULT_BATCH,
                    progress: bool = False, desc: str = "timelines") -> int:
    """Rebuild the given viewers' timelines (any ids; batched by id ranges of the sorted list).

    Viewers inside a batch's id range who are *not* in ``viewer_ids`` are never touched: a batch
    spans only consecutive ids of the sorted list, and the statement is restricted to that range,
    so it is exact when ``viewer_ids`` is every user; for a subset, ranges are split at gaps.
    """
    ids = sorted(set(viewer_ids))
    if not ids:
        return 0
    total = 0
    all_ids = None
    if len(ids) != User.objects.count():
        # a subset: a range must not cover a user outside it, so split on users not in the set
        all_ids = list(User.objects.order_by("pk").values_list("pk", flat=True))
    ranges = _ranges(ids, all_ids, batch)
    with tqdm(total=len(ids), desc=desc, unit="user", disable=not progress, leave=True) as bar:
        for lo, hi, n in ranges:
            total += rebuild_range(lo, hi, cap=cap)
            bar.update(n)
    return total


def _ranges(ids: list[int], all_ids: list[int] | None, batch: int) -> list[tuple[int, int, int]]:
    wanted = set(ids)
    seq = all_ids if all_ids is not None else ids
    out: list[tuple[int, int, int]] = []
    start = None
    prev = None
    n = 0
    for uid in seq:
        if uid in wanted:
            if start is None:
                start, n = uid, 0
            prev = uid
            n += 1
            if n >= batch:
                out.append((start, prev, n))
                start = None
        elif start is not None:
            out.append((start, prev, n))
            start = None
    if start is not None:
        out.append((start, prev, n))
    return out


def rebuild_all(*, cap: int | None = None, batch: int = DEFAULT_BATCH, progress: bool = False) -> int:
    ids = list(User.objects.order_by("pk").values_list("pk", flat=True))
    total = 0
    with tqdm(total=len(ids), desc="timelines", unit="user", disable=not progress, leave=True) as bar:
        for i in range(0, len(ids), batch):
            chunk = ids[i: i + batch]
            total += rebuild_range(chunk[0], chunk[-1], cap=cap)
            bar.update(len(chunk))
    return total


class Command(BaseCommand):
    help = "Rebuild home timelines from follows and posts (all users, or one with --user), trimmed to TIMELINE_CAP."

    def add_arguments(self, parser):
        parser.add_argument("--user", help="rebuild only this account's home timeline (username)")
        parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="viewers per statement")
        parser.add_argument("--cap", type=int, default=None, help="entries kept per timeline (default TIMELINE_CAP)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, user=None, batch=DEFAULT_BATCH, cap=None, no_progress=False, **options):
        cap = cap or settings.TIMELINE_CAP
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        if user:
            account = User.objects.filter(username__iexact=user.lstrip("@")).first()
            if account is None:
                raise CommandError(f"No account named {user!r}.")
            inserted = rebuild_range(account.pk, account.pk, cap=cap)
            self.stdout.write(f"Rebuilt @{account.username}'s home timeline: {inserted} entries.")
            return
        inserted = rebuild_all(cap=cap, batch=batch, progress=not no_progress)
        self.stdout.write(f"Rebuilt every home timeline: {inserted} entries (cap {cap} each).")
