"""Push and pull paths, measured in-process against the benchmark dataset."""

from __future__ import annotations

import statistics
import time

from bench_dataset import BASE_MS, CELEB, user_id
from django.db import connection, transaction
from django.test.utils import override_settings

TABLE = "feeds_timelineentry"


def _clean_post(post_id: int) -> None:
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"DELETE FROM {TABLE} WHERE post_id = %s", [post_id])
        cur.execute("DELETE FROM feeds_fanoutprogress WHERE post_id = %s", [post_id])
        cur.execute("DELETE FROM social_post_fts WHERE rowid = %s", [post_id])
        cur.execute("DELETE FROM social_posttag WHERE post_id = %s", [post_id])
        cur.execute("DELETE FROM social_post WHERE id = %s", [post_id])


def push_path(info: dict, repeats: int = 3, log=print) -> dict:
    """Fan-out of one post to every follower of the celebrity (all other accounts) with
    ``feeds.services.fanout_post`` vs one raw ``INSERT … SELECT`` of the same rows."""
    from tastemaker.feeds.services import fanout_post
    from tastemaker.social.models import Post

    n_users = info["users"]
    celeb = user_id(CELEB)
    fanout_times, raw_times, rows = [], [], 0
    for r in range(repeats):
        # reference: the same 100,000 rows from a recursive CTE of constants, one statement, one commit
        post = Post.objects.create(author_id=celeb, text=f"bench raw insert {r}")
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {TABLE} (viewer_id, post_id, author_id) "
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < %s) "
                "SELECT (%s + i) << 16, %s, %s FROM n",
                [n_users, BASE_MS, post.pk, celeb],
            )
            raw_rows = cur.rowcount
        raw_times.append(time.perf_counter() - t0)
        _clean_post(post.pk)

        # the push path: the real fan-out, threshold lifted so the celebrity is pushed, not pulled
        post = Post.objects.create(author_id=celeb, text=f"bench fan-out {r}")
        with override_settings(FANOUT_THRESHOLD=10**12):
            t0 = time.perf_counter()
            rows = fanout_post(post.pk)
            fanout_times.append(time.perf_counter() - t0)
        _clean_post(post.pk)
        log(f"  push run {r + 1}: fan-out {fanout_times[-1]:.3f} s ({rows} rows), "
            f"raw insert {raw_times[-1]:.3f} s ({raw_rows} rows)")
    fan, raw = statistics.median(fanout_times), statistics.median(raw_times)
    return {"fanout_s": fan, "raw_insert_s": raw, "rows": rows, "ratio": fan / raw,
            "fanout_runs": fanout_times, "raw_runs": raw_times}


def pull_path(info: dict, viewer_id: int, repeats: int = 3, reads: int = 30, log=print) -> dict:
    """A post by the celebrity (above FANOUT_THRESHOLD: merged at read time) — time from
    ``do_create_post`` until it is on a follower's home page, vs the same read without it."""
    from django.conf import settings

    from tastemaker.accounts.models import User
    from tastemaker.core.pagination import Page
    from tastemaker.core.text import search_text
    from tastemaker.feeds.selectors import home_timeline
    from tastemaker.social.services import do_create_post

    celeb = User.objects.get(pk=user_id(CELEB))
    viewer = User.objects.get(pk=viewer_id)
    assert celeb.followers_count > settings.FANOUT_THRESHOLD, "the celebrity must be above the fan-out threshold"
    search_text("预热 warm-up")  # load jieba's dictionary before timing
    for _ in range(3):
        home_timeline(viewer, Page(limit=20))
    read_times = []
    for _ in range(reads):
        t0 = time.perf_counter()
        home_timeline(viewer, Page(limit=20))
        read_times.append(time.perf_counter() - t0)
    visible, creates, polls = [], [], []
    for r in range(repeats):
        t0 = time.perf_counter()
        post = do_create_post(celeb, text=f"新品上架 new drop #{r} #bench")
        t1 = time.perf_counter()
        n = 0
        while True:
            n += 1
            ids = [p.pk for p in home_timeline(viewer, Page(limit=20))]
            if post.pk in ids:
                break
            if time.perf_counter() - t0 > 30:
                raise RuntimeError("the post did not reach the follower's home page within 30 s")
        t2 = time.perf_counter()
        visible.append(t2 - t0)
        creates.append(t1 - t0)
        polls.append(n)
        _clean_post(post.pk)
        User.objects.filter(pk=celeb.pk).update(statuses_count=info["posts_per_user"])
        log(f"  pull run {r + 1}: visible after {visible[-1] * 1000:.1f} ms "
            f"(create {creates[-1] * 1000:.1f} ms, {n} read(s))")
    ref = statistics.median(read_times)
    vis = statistics.median(visible)
    return {"visible_s": vis, "create_s": statistics.median(creates), "read_s": ref,
            "read_p95_s": sorted(read_times)[int(0.95 * (len(read_times) - 1))], "ratio": vis / ref,
            "reads_until_visible": polls}


def profile_fanout(info: dict, path) -> None:
    """pyinstrument profile of one fan-out (if pyinstrument is installed)."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        return
    from tastemaker.feeds.services import fanout_post
    from tastemaker.social.models import Post

    post = Post.objects.create(author_id=user_id(CELEB), text="bench profile")
    with override_settings(FANOUT_THRESHOLD=10**12):
        prof = Profiler(interval=0.0005)
        prof.start()
        fanout_post(post.pk)
        prof.stop()
    _clean_post(post.pk)
    path.write_text(prof.output_text(unicode=True, color=False))
