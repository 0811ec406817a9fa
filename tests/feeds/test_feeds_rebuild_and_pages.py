"""Rebuild equals fan-out, trimming caps timelines, and keyset pages have no gaps or duplicates."""

from __future__ import annotations

import random

import pytest
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tastemaker.core.pagination import Page
from tastemaker.feeds import services as feeds
from tastemaker.feeds.models import TimelineEntry
from tastemaker.feeds.selectors import home_timeline
from tastemaker.social.services import do_create_post, do_follow, do_reblog

pytestmark = pytest.mark.django_db


def entry_set(viewer_id: int) -> set[int]:
    return set(TimelineEntry.objects.filter(viewer_id=viewer_id).values_list("post_id", flat=True))


def build_world(make_user, run_jobs, seed: int, n_users: int = 8, n_posts: int = 40):
    """Random follows first (their backfills run), then random posts, replies and reposts, fanned out."""
    rnd = random.Random(seed)
    users = [make_user() for _ in range(n_users)]
    with run_jobs():
        for a in users:
            for b in rnd.sample(users, k=rnd.randint(0, n_users - 1)):
                if a.pk != b.pk:
                    do_follow(a, b)
    posts = []
    with run_jobs():
        for i in range(n_posts):
            author = rnd.choice(users)
            roll = rnd.random()
            if posts and roll < 0.35:
                parent = rnd.choice([p for p in posts if p.reblog_of_id is None])
                if parent.visibility != "private" or parent.author_id == author.pk:
                    posts.append(do_create_post(author, text=f"reply {i}", in_reply_to_id=parent.pk))
                    continue
            if posts and roll < 0.5:
                original = rnd.choice([p for p in posts if p.reblog_of_id is None])
                if original.author_id != author.pk and original.visibility == "public":
                    posts.append(do_reblog(author, original))
                    continue
            posts.append(do_create_post(author, text=f"post {i}", visibility=rnd.choice(["public", "unlisted", "private"])))
    return users, posts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rebuild_viewer_equals_fanout(make_user, run_jobs, seed):
    users, posts = build_world(make_user, run_jobs, seed)
    fanned = {u.pk: entry_set(u.pk) for u in users}
    assert sum(len(v) for v in fanned.values()) >= len(posts)  # at least everyone's own posts
    for u in users:
        feeds.rebuild_viewer(u.pk)
        assert entry_set(u.pk) == fanned[u.pk], f"viewer {u.pk} differs after rebuild"


def test_rebuild_after_entries_are_lost(make_user, run_jobs):
    users, _posts = build_world(make_user, run_jobs, seed=7)
    expected = {u.pk: entry_set(u.pk) for u in users}
    TimelineEntry.objects.all().delete()
    for u in users:
        feeds.rebuild_viewer(u.pk)
    assert {u.pk: entry_set(u.pk) for u in users} == expected


def test_rebuild_respects_the_cap(make_user, run_jobs):
    a, b = make_user(), make_user()
    with run_jobs():
        do_follow(a, b)
        posts = [do_create_post(b, text=f"p{i}") for i in range(6)]
    assert feeds.rebuild_viewer(a.pk, cap=4) == 4
    assert entry_set(a.pk) == {p.pk for p in posts[-4:]}


def test_trim_viewer_keeps_the_newest(make_user, run_jobs):
    a, b = make_user(), make_user()
    with run_jobs():
        do_follow(a, b)
        posts = [do_create_post(b, text=f"p{i}") for i in range(10)]
    before_b = entry_set(b.pk)
    assert feeds.viewers_over_cap(4) and a.pk in feeds.viewers_over_cap(4)
    assert feeds.trim_viewer(a.pk, cap=4) == 6
    assert entry_set(a.pk) == {p.pk for p in posts[-4:]}
    assert feeds.trim_viewer(a.pk, cap=4) == 0  # already at the cap
    assert entry_set(b.pk) == before_b  # other viewers untouched
    assert feeds.trim_viewer(a.pk, cap=50) == 0


def test_trim_all(make_user, run_jobs):
    a, b, c = make_user(), make_user(), make_user()
    with run_jobs():
        do_follow(a, c)
        do_follow(b, c)
        [do_create_post(c, text=f"p{i}") for i in range(5)]
    assert feeds.trim_all(cap=3) == 2 * 2 + 2  # a, b and c each lose 2
    assert feeds.viewers_over_cap(3) == []
    assert {len(entry_set(u.pk)) for u in (a, b, c)} == {3}


@override_settings(TIMELINE_CAP=3)
def test_trim_uses_the_setting_by_default(make_user):
    a = make_user()
    for i in range(5):
        do_create_post(a, text=f"p{i}")
    feeds.trim_viewer(a.pk)
    assert len(entry_set(a.pk)) == 3


# --- keyset pagination over the home timeline ----------------------------------------------

def walk_down(viewer, limit):
    out, max_id = [], None
    for _ in range(500):
        page = [p.pk for p in home_timeline(viewer, Page(limit=limit, max_id=max_id))]
        assert page == sorted(page, reverse=True)
        if not page:
            return out
        out.extend(page)
        max_id = page[-1]
    raise AssertionError("did not terminate")


def walk_up(viewer, limit):
    out, min_id = [], 0
    for _ in range(500):
        page = [p.pk for p in home_timeline(viewer, Page(limit=limit, min_id=min_id))]
        assert page == sorted(page, reverse=True)  # each page is still newest first
        if not page:
            return out
        out.extend(reversed(page))
        min_id = page[0]
    raise AssertionError("did not terminate")


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(
    n_pushed=st.integers(0, 12),
    n_pulled=st.integers(0, 12),
    hidden_replies=st.integers(0, 6),
    limit=st.integers(1, 7),
    order_seed=st.integers(0, 2**16),
)
def test_home_pages_have_no_gaps_or_duplicates(make_user, run_jobs, n_pushed, n_pulled, hidden_replies, limit,
                                               order_seed):
    with override_settings(FANOUT_THRESHOLD=2), transaction.atomic():
        viewer, small, big, stranger = make_user(), make_user(), make_user(), make_user()
        with run_jobs():
            do_follow(viewer, small)
            do_follow(viewer, big)
            for _ in range(2):
                do_follow(make_user(), big)  # big now has 3 followers: pulled at read time
        elsewhere = do_create_post(stranger, text="elsewhere")
        kinds = ["push"] * n_pushed + ["pull"] * n_pulled + ["hidden"] * hidden_replies + ["own"] * 2
        random.Random(order_seed).shuffle(kinds)
        expected = []
        with run_jobs():
            for kind in kinds:
                if kind == "push":
                    expected.append(do_create_post(small, text="s").pk)
                elif kind == "pull":
                    expected.append(do_create_post(big, text="b").pk)
                elif kind == "own":
                    expected.append(do_create_post(viewer, text="v").pk)
                else:
                    do_create_post(big, text="r", in_reply_to_id=elsewhere.pk)
        expected.sort(reverse=True)
        assert walk_down(viewer, limit) == expected
        assert walk_up(viewer, limit) == sorted(expected)
        if len(expected) > 2:
            middle = expected[len(expected) // 2]
            newer = [p.pk for p in home_timeline(viewer, Page(limit=40, since_id=middle))]
            assert newer == [i for i in expected if i > middle]
        transaction.set_rollback(True)


def test_rebuild_keeps_own_replies_to_accounts_not_followed(make_user, run_jobs):
    viewer, stranger = make_user(), make_user()
    root = do_create_post(stranger, text="root")
    reply = do_create_post(viewer, text="my reply", in_reply_to_id=root.pk)
    assert entry_set(viewer.pk) == {reply.pk}
    feeds.rebuild_viewer(viewer.pk)
    assert entry_set(viewer.pk) == {reply.pk}
