"""Fan-out on write: exactly once per follower, resumable, reply rules, big accounts pulled at read."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db.models import Count
from django.test import override_settings

from tastemaker.core.pagination import Page
from tastemaker.feeds import services as feeds
from tastemaker.feeds.models import FanoutProgress, TimelineEntry
from tastemaker.feeds.selectors import home_timeline, pulled_author_ids
from tastemaker.social.models import Follow
from tastemaker.social.services import (
    do_block,
    do_create_post,
    do_delete_post,
    do_follow,
    do_reblog,
    do_unfollow,
)

pytestmark = pytest.mark.django_db


def entries_per_viewer(post) -> dict[int, int]:
    rows = TimelineEntry.objects.filter(post=post).values("viewer_id").annotate(n=Count("id"))
    return {r["viewer_id"]: r["n"] for r in rows}


def home_ids(viewer, **page):
    return [p.pk for p in home_timeline(viewer, Page(**{"limit": 40, **page}))]


@pytest.fixture
def author_with_followers(make_user):
    def make(n: int):
        author = make_user()
        followers = [make_user() for _ in range(n)]
        for f in followers:
            do_follow(f, author)
        return author, followers

    return make


def test_fanout_delivers_to_every_follower_exactly_once(author_with_followers, make_user, run_jobs):
    author, followers = author_with_followers(12)
    bystander = make_user()
    with run_jobs():
        post = do_create_post(author, text="hello fans")
    per_viewer = entries_per_viewer(post)
    assert per_viewer == {u.pk: 1 for u in [author, *followers]}
    assert bystander.pk not in per_viewer
    for f in followers:
        assert home_ids(f) == [post.pk]
    assert FanoutProgress.objects.get(post=post).done


def test_rerunning_fanout_is_harmless(author_with_followers):
    author, followers = author_with_followers(7)
    post = do_create_post(author, text="x")  # the after-commit job never runs inside the test transaction
    assert entries_per_viewer(post) == {author.pk: 1}
    assert feeds.fanout_post(post.pk, chunk=2) == 7
    assert feeds.fanout_post(post.pk, chunk=2) == 0  # marked done
    FanoutProgress.objects.filter(post=post).update(cursor=0, done=False)  # progress lost: start over
    assert feeds.fanout_post(post.pk, chunk=3) == 0  # insert-or-ignore: nothing new
    assert entries_per_viewer(post) == {u.pk: 1 for u in [author, *followers]}


def test_fanout_killed_part_way_resumes_exactly_once(author_with_followers):
    author, followers = author_with_followers(10)
    post = do_create_post(author, text="interrupted")
    calls: list[tuple[int, int]] = []

    def killer(lo: int, hi: int) -> None:
        calls.append((lo, hi))
        if len(calls) == 2:
            raise RuntimeError("worker killed")

    with pytest.raises(RuntimeError, match="killed"):
        feeds.fanout_post(post.pk, chunk=3, on_chunk=killer)
    delivered = entries_per_viewer(post)
    ordered = sorted(f.pk for f in followers)
    assert set(delivered) == {author.pk, *ordered[:6]}  # two chunks of three, in follower-id order
    progress = FanoutProgress.objects.get(post=post)
    assert progress.cursor == ordered[5] and not progress.done

    seen: list[tuple[int, int]] = []
    assert feeds.fanout_post(post.pk, chunk=3, on_chunk=lambda lo, hi: seen.append((lo, hi))) == 4
    assert seen[0][0] == ordered[5]  # resumed where it stopped, not from the start
    per_viewer = entries_per_viewer(post)
    assert per_viewer == {u.pk: 1 for u in [author, *followers]}
    assert all(n == 1 for n in per_viewer.values())
    assert FanoutProgress.objects.get(post=post).done


def test_fanout_killed_before_progress_saved_still_exactly_once(author_with_followers):
    author, followers = author_with_followers(8)
    post = do_create_post(author, text="x")

    def killer(lo, hi):
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        feeds.fanout_post(post.pk, chunk=5, on_chunk=killer)
    FanoutProgress.objects.filter(post=post).update(cursor=0)  # as if the progress write was lost
    feeds.fanout_post(post.pk, chunk=5)
    assert entries_per_viewer(post) == {u.pk: 1 for u in [author, *followers]}


def test_replies_reach_only_followers_of_both_and_the_replied_to(make_user, run_jobs):
    author, other = make_user("author"), make_user("other")
    both, only_author, stranger_of_reply = make_user(), make_user(), make_user()
    with run_jobs():
        for f in (both, only_author, other):
            do_follow(f, author)
        do_follow(both, other)
        do_follow(stranger_of_reply, other)
    with run_jobs():  # only the fan-out jobs now (the follows' backfills ran above)
        root = do_create_post(other, text="question")
        reply = do_create_post(author, text="answer", in_reply_to_id=root.pk)
        self_reply = do_create_post(author, text="and more", in_reply_to_id=reply.pk)
    per_viewer = entries_per_viewer(reply)
    assert set(per_viewer) == {author.pk, both.pk, other.pk}  # the person replied to sees it too
    assert only_author.pk not in per_viewer and stranger_of_reply.pk not in per_viewer
    # a reply to oneself (a thread) reaches every follower
    assert set(entries_per_viewer(self_reply)) == {author.pk, both.pk, only_author.pk, other.pk}


def test_reblogs_fan_out_to_the_reposters_followers(make_user, run_jobs):
    a, b, fan_of_b = make_user(), make_user(), make_user()
    with run_jobs():
        do_follow(fan_of_b, b)
        post = do_create_post(a, text="original")
        reblog = do_reblog(b, post)
    assert entries_per_viewer(reblog) == {b.pk: 1, fan_of_b.pk: 1}
    assert TimelineEntry.objects.get(post=reblog, viewer_id=fan_of_b.pk).author_id == b.pk
    assert home_ids(fan_of_b) == [reblog.pk]


def test_fanout_of_deleted_or_suspended_posts_does_nothing(author_with_followers):
    author, followers = author_with_followers(3)
    post = do_create_post(author, text="x")
    post_id = post.pk
    do_delete_post(author, post)
    assert feeds.fanout_post(post_id) == 0
    assert not TimelineEntry.objects.filter(post_id=post_id).exists()
    later = do_create_post(author, text="y")
    author.is_suspended = True
    author.save()
    assert feeds.fanout_post(later.pk) == 0
    assert entries_per_viewer(later) == {author.pk: 1}


@override_settings(FANOUT_THRESHOLD=2)
def test_big_accounts_are_pulled_at_read_time(author_with_followers, make_user, run_jobs):
    big, fans = author_with_followers(3)
    small, small_fans = author_with_followers(1)
    do_follow(fans[0], small)  # two followers: at the threshold, still pushed
    with run_jobs():
        p_big = do_create_post(big, text="from a big account")
        p_small = do_create_post(small, text="from a small account")
    assert entries_per_viewer(p_big) == {big.pk: 1}  # not fanned out
    assert FanoutProgress.objects.get(post=p_big).done
    assert set(entries_per_viewer(p_small)) == {small.pk, fans[0].pk, small_fans[0].pk}
    for f in fans:
        assert pulled_author_ids(f.pk) == [big.pk]
    assert home_ids(fans[0]) == [p_small.pk, p_big.pk]
    assert home_ids(fans[1]) == [p_big.pk]
    assert home_ids(small_fans[0]) == [p_small.pk]
    # backfill after a follow skips big accounts: they are merged at read time anyway
    newcomer = make_user()
    with run_jobs():
        do_follow(newcomer, big)
    assert not TimelineEntry.objects.filter(viewer_id=newcomer.pk).exists()
    assert home_ids(newcomer) == [p_big.pk]
    do_unfollow(newcomer, big)
    assert home_ids(newcomer) == []


@override_settings(FANOUT_THRESHOLD=2)
def test_pulled_replies_follow_the_reply_rule(author_with_followers, make_user, run_jobs):
    big, fans = author_with_followers(3)
    other = make_user()
    viewer = fans[0]
    do_follow(viewer, other)
    root_other = do_create_post(other, text="to other")
    root_stranger = do_create_post(make_user(), text="to a stranger")
    with run_jobs():
        r_other = do_create_post(big, text="reply seen", in_reply_to_id=root_other.pk)
        r_stranger = do_create_post(big, text="reply hidden", in_reply_to_id=root_stranger.pk)
    ids = home_ids(viewer)
    assert r_other.pk in ids and r_stranger.pk not in ids
    assert r_stranger.pk not in home_ids(fans[1])


@override_settings(FANOUT_THRESHOLD=2)
def test_pulled_pages_have_no_gaps_when_replies_are_filtered(author_with_followers, make_user, run_jobs):
    """Filtered pulled posts must not push valid older ones off a page (they would never be shown)."""
    big, fans = author_with_followers(3)
    small = make_user()
    viewer = fans[0]
    do_follow(viewer, small)
    stranger_post = do_create_post(make_user(), text="elsewhere")
    with run_jobs():
        pushed_old = [do_create_post(small, text=f"small {i}") for i in range(2)]
        pulled_valid = do_create_post(big, text="valid big post")
        for i in range(4):
            do_create_post(big, text=f"hidden reply {i}", in_reply_to_id=stranger_post.pk)
    expected = [pulled_valid.pk, pushed_old[1].pk, pushed_old[0].pk]
    assert home_ids(viewer) == expected
    got: list[int] = []
    max_id = None
    for _ in range(10):
        page = home_ids(viewer, limit=2, max_id=max_id)
        if not page:
            break
        got.extend(page)
        max_id = page[-1]
    assert got == expected


@override_settings(FANOUT_THRESHOLD=2)
def test_pulled_reposts_of_hidden_authors_are_skipped(author_with_followers, make_user, run_jobs):
    big, fans = author_with_followers(3)
    viewer = fans[0]
    nuisance = make_user()
    p = do_create_post(nuisance, text="nuisance")
    do_block(viewer, nuisance)
    with run_jobs():
        do_reblog(big, p)
        ok = do_create_post(big, text="fine")
    assert home_ids(viewer) == [ok.pk]
    assert home_ids(viewer, limit=1) == [ok.pk]


def test_deletes_unfollows_and_blocks_remove_entries(make_user, run_jobs):
    a, b, c = make_user(), make_user(), make_user()
    with run_jobs():
        do_follow(a, b)
        do_follow(a, c)
        pb = do_create_post(b, text="b")
        pc = do_create_post(c, text="c")
        pc2 = do_create_post(c, text="c2")
    assert home_ids(a) == [pc2.pk, pc.pk, pb.pk]
    do_delete_post(c, pc2)
    assert home_ids(a) == [pc.pk, pb.pk]
    do_unfollow(a, b)
    assert home_ids(a) == [pc.pk]
    assert not TimelineEntry.objects.filter(viewer_id=a.pk, author_id=b.pk).exists()
    do_block(c, a)
    assert home_ids(a) == []
    assert not TimelineEntry.objects.filter(viewer_id=a.pk).exists()


def test_own_posts_reach_own_home_at_once(make_user):
    a = make_user()
    post = do_create_post(a, text="mine")  # no job has run
    assert home_ids(a) == [post.pk]


def test_follow_count_drives_the_pull_decision(make_user):
    assert not feeds.is_pulled(10_000) and feeds.is_pulled(10_001)
    a, b = make_user(), make_user()
    do_follow(a, b)
    assert pulled_author_ids(a.pk) == []
    assert Follow.objects.count() == 1


def test_backfill_takes_recent_posts_under_the_reply_rule(make_user, run_jobs):
    viewer, author, other = make_user(), make_user(), make_user()
    root = do_create_post(other, text="root")
    old = [do_create_post(author, text=f"p{i}") for i in range(25)]
    hidden_reply = do_create_post(author, text="to other", in_reply_to_id=root.pk)
    assert feeds.backfill(viewer.pk, author.pk) == 20
    got = set(TimelineEntry.objects.filter(viewer_id=viewer.pk).values_list("post_id", flat=True))
    assert hidden_reply.pk not in got
    assert got == {p.pk for p in old[-20:]}  # the filtered reply does not use up one of the 20
    assert feeds.backfill(viewer.pk, author.pk) == 0  # idempotent


# --- the sweep of unfinished fan-outs (issue 10, item 16) -----------------------------------------

def later(minutes: int):
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() + timedelta(minutes=minutes)


def test_sweep_finishes_a_fanout_killed_after_the_first_chunk(author_with_followers):
    author, followers = author_with_followers(10)
    post = do_create_post(author, text="killed mid-job")  # the after-commit job never runs here

    def killer(lo: int, hi: int) -> None:
        raise RuntimeError("consumer killed")

    with pytest.raises(RuntimeError, match="killed"):
        feeds.fanout_post(post.pk, chunk=3, on_chunk=killer)  # first chunk delivered, then killed
    assert len(entries_per_viewer(post)) == 1 + 3
    assert not FanoutProgress.objects.get(post=post).done

    assert feeds.stalled_fanouts(now=later(1)) == []  # not stale yet: a running job may still be at it
    assert feeds.resume_stalled_fanouts(now=later(11)) == 1
    assert entries_per_viewer(post) == {u.pk: 1 for u in [author, *followers]}  # everyone, exactly once
    assert FanoutProgress.objects.get(post=post).done
    assert feeds.resume_stalled_fanouts(now=later(11)) == 0  # done: nothing more to do


def test_sweep_runs_a_fanout_that_never_started(author_with_followers):
    author, followers = author_with_followers(4)
    post = do_create_post(author, text="job lost before it began")
    assert not FanoutProgress.objects.filter(post=post).exists()
    assert feeds.stalled_fanouts(now=later(11)) == [post.pk]
    feeds.resume_stalled_fanouts(now=later(11))
    assert entries_per_viewer(post) == {u.pk: 1 for u in [author, *followers]}


@override_settings(FANOUT_SWEEP_HOURS=1)
def test_sweep_leaves_old_and_finished_posts_alone(author_with_followers):
    author, _followers = author_with_followers(2)
    done = do_create_post(author, text="delivered")
    feeds.fanout_post(done.pk)
    assert feeds.stalled_fanouts(now=later(11)) == []
    stale = do_create_post(author, text="never delivered")
    assert feeds.stalled_fanouts(now=later(11)) == [stale.pk]
    assert feeds.stalled_fanouts(now=later(61)) == []  # outside the window the sweep looks at


def test_sweep_task_runs_every_five_minutes_and_does_the_sweep(author_with_followers):
    from datetime import datetime

    from huey.contrib.djhuey import HUEY

    from tastemaker.feeds.tasks import resume_stalled_fanouts_task

    due = {t.name for t in HUEY.read_periodic(datetime(2030, 1, 1, 12, 5))}
    assert resume_stalled_fanouts_task.task_class.__name__ in due
    author, followers = author_with_followers(2)
    post = do_create_post(author, text="x")
    with mock.patch("django.utils.timezone.now", return_value=later(11)):
        assert resume_stalled_fanouts_task.call_local() == 1
    assert entries_per_viewer(post) == {u.pk: 1 for u in [author, *followers]}


# --- held posts (issue 12): only the author and operators see them; never delivered -----------------

def test_a_held_post_is_not_fanned_out_and_can_be_once_released(author_with_followers, make_user, run_jobs):
    from tastemaker.social.models import Post

    author, followers = author_with_followers(3)
    with run_jobs():
        post = do_create_post(author, text="waiting for review")
        Post.objects.filter(pk=post.pk).update(held=True)  # held before the fan-out job runs
    assert entries_per_viewer(post) == {author.pk: 1}  # the author's own entry only
    assert not FanoutProgress.objects.filter(post=post).exists()  # nothing recorded: a release can deliver it
    assert feeds.stalled_fanouts(now=later(11)) == []  # and the sweep leaves it alone while held
    assert home_ids(author) == [post.pk] and all(home_ids(f) == [] for f in followers)
    Post.objects.filter(pk=post.pk).update(held=False)  # released by an operator
    feeds.fanout_post(post.pk)
    assert entries_per_viewer(post) == {u.pk: 1 for u in [author, *followers]}


def test_a_post_held_after_delivery_leaves_home_timelines(author_with_followers, run_jobs):
    from tastemaker.social.models import Post

    author, followers = author_with_followers(2)
    with run_jobs():
        post = do_create_post(author, text="delivered, then held")
    assert home_ids(followers[0]) == [post.pk]
    Post.objects.filter(pk=post.pk).update(held=True)
    assert home_ids(followers[0]) == [] and home_ids(author) == [post.pk]


def test_backfill_and_rebuild_skip_held_posts(make_user):
    from tastemaker.feeds.management.commands.rebuild_feeds import rebuild_all
    from tastemaker.social.models import Post

    author, fan = make_user(), make_user()
    shown = do_create_post(author, text="fine")
    held = do_create_post(author, text="held")
    Post.objects.filter(pk=held.pk).update(held=True)
    do_follow(fan, author)  # the after-commit backfill does not run here
    feeds.backfill(fan.pk, author.pk)
    assert home_ids(fan) == [shown.pk]
    feeds.rebuild_viewer(fan.pk)
    assert home_ids(fan) == [shown.pk]
    rebuild_all()
    assert set(TimelineEntry.objects.filter(post=held).values_list("viewer_id", flat=True)) == {author.pk}


def test_pulled_accounts_held_posts_stay_out(author_with_followers, make_user, run_jobs):
    from tastemaker.social.models import Post

    with override_settings(FANOUT_THRESHOLD=1):
        big, fans = author_with_followers(2)
        with run_jobs():
            shown = do_create_post(big, text="for everyone")
            held = do_create_post(big, text="not yet")
        Post.objects.filter(pk=held.pk).update(held=True)
        assert pulled_author_ids(fans[0].pk) == [big.pk]
        assert home_ids(fans[0]) == [shown.pk]
