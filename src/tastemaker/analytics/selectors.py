"""Report reads: totals, series and breakdowns from the counters (never from the raw events, so a
report costs the same for a post with ten events or ten million), and the access rule."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.utils.translation import gettext as _

from tastemaker.accounts.models import User
from tastemaker.core.errors import NotFound, ValidationFailed
from tastemaker.social.models import Post
from tastemaker.social.visibility import messages_q

from .ingest import DIMENSIONS
from .models import InvalidReason, Metric, Stat, SubjectType

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

POST_METRICS = (Metric.IMPRESSION, Metric.READ, Metric.LIKE, Metric.REPOST, Metric.REPLY, Metric.LINK_CLICK,
                Metric.CLICK_OUT, Metric.FOLLOW_GAINED)
ACCOUNT_METRICS = (Metric.FOLLOW_GAINED, Metric.FOLLOW_LOST)
GRANULARITIES = {"minute": ("m", 60, 60), "hour": ("h", 3600, 48), "day": ("d", 86400, 30)}  # code, size, default n
MAX_BUCKETS = 1440
SUPPRESSED = "<5"  # with the default ANALYTICS_MIN_VIEWERS


def can_read_report(user: User | AnonymousUser | None, owner_id: int) -> bool:
    return bool(user and user.is_authenticated and (user.pk == owner_id or user.is_staff))


def post_for_report(user: User | AnonymousUser | None, post_id: str | int, *, light: bool = False) -> Post:
    """The post whose report ``user`` may read; NotFound for anyone else (no existence leak).
    ``light``: only id, author_id and text (what a report needs), one small query."""
    try:
        post_id = int(post_id)
    except (TypeError, ValueError):
        raise NotFound(_("Post not found.")) from None
    qs = Post.objects.filter(pk=post_id, reblog_of__isnull=True).exclude(messages_q())  # a message has no report
    post = qs.only("id", "author_id", "text").first() if light else qs.select_related("author").first()
    if post is None or not can_read_report(user, post.author_id):
        raise NotFound(_("Post not found."))
    return post


def account_for_report(user: User | AnonymousUser | None, account_id: str | int) -> User:
    try:
        account_id = int(account_id)
    except (TypeError, ValueError):
        raise NotFound(_("Account not found.")) from None
    account = User.objects.filter(pk=account_id).first()
    if account is None or not can_read_report(user, account.pk):
        raise NotFound(_("Account not found."))
    return account


@dataclass
class Series:
    granularity: str
    buckets: list[int]  # bucket starts, epoch seconds
    values: dict[str, list[int]] = field(default_factory=dict)


def window(granularity: str, points: int | None = None, until: int | None = None) -> tuple[str, int, int, int]:
    if granularity not in GRANULARITIES:
        raise ValidationFailed(_("granularity must be minute, hour or day."), field="granularity")
    code, size, default = GRANULARITIES[granularity]
    n = default if points is None else points
    if n < 1 or n > MAX_BUCKETS:
        raise ValidationFailed(_("points must be between 1 and %(n)d.") % {"n": MAX_BUCKETS}, field="points")
    end = int(time.time() if until is None else until)
    last = end - end % size
    return code, size, last - (n - 1) * size, last


def totals(subject_type: str, subject_id: int) -> dict[str, int]:
    rows = Stat.objects.filter(subject_type=subject_type, subject_id=subject_id, granularity="t", dimension="",
                               value="", bucket=0).values_list("metric", "count")
    return dict(rows)


def invalid_totals(subject_type: str, subject_id: int) -> dict[str, int]:
    rows = (Stat.objects.filter(subject_type=subject_type, subject_id=subject_id, granularity="t",
                                dimension="invalid", bucket=0)
            .values("value").annotate(n=Sum("count")).values_list("value", "n"))
    out = {reason: 0 for reason in InvalidReason.values}
    out.update(dict(rows))
    return out


def series(subject_type: str, subject_id: int, metrics: Sequence[str], granularity: str = "hour", points: int | None = None,
           until: int | None = None) -> Series:
    code, size, first, last = window(granularity, points, until)
    buckets = list(range(first, last + 1, size))
    values = {m: [0] * len(buckets) for m in metrics}
    rows = Stat.objects.filter(subject_type=subject_type, subject_id=subject_id, granularity=code, dimension="",
                               value="", metric__in=list(metrics), bucket__gte=first, bucket__lte=last
                               ).values_list("metric", "bucket", "count")
    for metric, bucket, count in rows:
        values[metric][(bucket - first) // size] = count
    return Series(granularity, buckets, values)


def distinct_at_least(sketch: int) -> int:
    """A lower bound of a cell's distinct viewers: the bits set in its sketch (see models.Stat)."""
    return int(sketch).bit_count()


def _cell(count: int, sketch: int) -> dict[str, Any]:
    limit = settings.ANALYTICS_MIN_VIEWERS
    shown = distinct_at_least(sketch) >= limit
    return {"count": count if shown else None, "display": f"{count:,}" if shown else f"<{limit}"}


def breakdowns(subject_type: str, subject_id: int, days: int | None = None) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """{metric: {dimension: [{value, count|None, display}]}}, lifetime or over the last ``days`` days
    (day sketches OR-ed together, so a viewer seen on several days counts once).

    A cell with fewer distinct viewers than ANALYTICS_MIN_VIEWERS shows as "<5".
    """
    qs = Stat.objects.filter(subject_type=subject_type, subject_id=subject_id, dimension__in=DIMENSIONS)
    if days is None:
        rows: Iterable[tuple[str, str, str, int, int]] = qs.filter(granularity="t", bucket=0).values_list("metric", "dimension", "value", "count", "viewers")
    else:
        if days < 1 or days > 3660:
            raise ValidationFailed(_("days must be between 1 and 3660."), field="days")
        now = int(time.time())
        first = now - now % 86400 - (days - 1) * 86400
        merged: dict[tuple[str, str, str], list[int]] = {}
        for metric, dimension, value, count, sketch in qs.filter(granularity="d", bucket__gte=first).values_list(
                "metric", "dimension", "value", "count", "viewers"):
            cell = merged.setdefault((metric, dimension, value), [0, 0])
            cell[0] += count
            cell[1] |= sketch
        rows = [(*key, count, sketch) for key, (count, sketch) in merged.items()]
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for metric, dimension, value, count, sketch in rows:
        out.setdefault(metric, {}).setdefault(dimension, []).append({"value": value, **_cell(count, sketch)})
    for dims in out.values():
        for cells in dims.values():
            cells.sort(key=lambda c: (c["count"] is None, -(c["count"] or 0), c["value"]))
    return out


def _post_rows(subject_type: str, subject_id: int, code: str, first: int, last: int,
               metrics: Sequence[str]) -> list[tuple[Any, ...]]:
    """Every counter row a post's report needs, in one indexed statement (lifetime totals, invalid
    and breakdown rows; the series range): the report costs the same for ten events or ten million."""
    table = Stat._meta.db_table
    marks = ", ".join(["%s"] * len(metrics))
    sql = (f"SELECT granularity, dimension, value, metric, bucket, count, viewers FROM {table} "
           "WHERE subject_type = %s AND subject_id = %s AND granularity = 't' AND bucket = 0 "
           "UNION ALL "
           f"SELECT granularity, dimension, value, metric, bucket, count, viewers FROM {table} "
           "WHERE subject_type = %s AND subject_id = %s AND granularity = %s AND dimension = '' AND value = '' "
           f"AND metric IN ({marks}) AND bucket >= %s AND bucket <= %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [subject_type, subject_id, subject_type, subject_id, code, *metrics, first, last])
        return cast("list[tuple[Any, ...]]", cursor.fetchall())


def post_report(post: Post, granularity: str = "hour", points: int | None = None, days: int | None = None
                ) -> dict[str, Any]:
    code, size, first, last = window(granularity, points)
    buckets = list(range(first, last + 1, size))
    totals_ = dict.fromkeys(POST_METRICS, 0)
    invalid = dict.fromkeys(InvalidReason.values, 0)
    values: dict[str, list[int]] = {m: [0] * len(buckets) for m in POST_METRICS}
    cells: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for gran, dimension, value, metric, bucket, count, sketch in _post_rows(
            SubjectType.POST, post.pk, code, first, last, POST_METRICS):
        if gran != "t":
            values[metric][(bucket - first) // size] = count
        elif dimension == "":
            if metric in totals_:
                totals_[metric] = count
        elif dimension == "invalid":
            invalid[value] = invalid.get(value, 0) + count
        elif days is None:
            cells.setdefault(metric, {}).setdefault(dimension, []).append({"value": value, **_cell(count, sketch)})
    if days is None:
        for dims in cells.values():
            for row in dims.values():
                row.sort(key=lambda c: (c["count"] is None, -(c["count"] or 0), c["value"]))
    else:
        cells = breakdowns(SubjectType.POST, post.pk, days=days)
    return {
        "subject_type": "post", "subject_id": post.pk, "owner_id": post.author_id,
        "totals": totals_, "invalid": invalid, "series": Series(granularity, buckets, values), "breakdowns": cells,
    }


def account_report(account: User, granularity: str = "day", points: int | None = None, days: int | None = None,
                   top: int = 10) -> dict[str, Any]:
    subject = (SubjectType.ACCOUNT, account.pk)
    follow_totals = totals(*subject)
    gained, lost = follow_totals.get(Metric.FOLLOW_GAINED, 0), follow_totals.get(Metric.FOLLOW_LOST, 0)
    follow_series = series(*subject, ACCOUNT_METRICS, granularity, points)
    # every post of the account, summed (the counters carry the owner: one grouped scan)
    post_totals = dict(Stat.objects.filter(owner_id=account.pk, subject_type=SubjectType.POST, granularity="t",
                                           dimension="", bucket=0).values("metric").annotate(n=Sum("count"))
                       .values_list("metric", "n"))
    code, size, first, last = window(granularity, points)
    post_series = Series(granularity, follow_series.buckets, {m: [0] * len(follow_series.buckets)
                                                              for m in POST_METRICS})
    for metric, bucket, n in (Stat.objects.filter(owner_id=account.pk, subject_type=SubjectType.POST,
                                                  granularity=code, dimension="", metric__in=POST_METRICS,
                                                  bucket__gte=first, bucket__lte=last)
                              .values("metric", "bucket").annotate(n=Sum("count"))
                              .values_list("metric", "bucket", "n")):
        post_series.values[metric][(bucket - first) // size] = n
    ranked = list(Stat.objects.filter(owner_id=account.pk, subject_type=SubjectType.POST, granularity="t",
                                      dimension="", metric=Metric.IMPRESSION, bucket=0)
                  .order_by("-count", "-subject_id").values_list("subject_id", "count")[:top])
    posts = Post.objects.in_bulk([pid for pid, _n in ranked])
    top_posts = [{"id": pid, "impressions": n, "text": posts[pid].text[:140], "created_at": posts[pid].created_at}
                 for pid, n in ranked if pid in posts]
    return {
        "account_id": account.pk, "followers_count": account.followers_count,
        "follows_gained": gained, "follows_lost": lost, "net_follows": gained - lost,
        "follow_series": follow_series, "post_totals": {m: post_totals.get(m, 0) for m in POST_METRICS},
        "post_series": post_series, "top_posts": top_posts,
        "breakdowns": breakdowns(*subject, days=days),
        "invalid": invalid_totals(*subject),
    }
