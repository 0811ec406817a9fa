"""Follows, blocks and mutes: counters, refusals, and what they do to home timelines."""

from __future__ import annotations

import pytest

from tastemaker.core.errors import Forbidden, NotFound, ValidationFailed
from tastemaker.core.pagination import Page
from tastemaker.feeds.models import TimelineEntry
from tastemaker.feeds.selectors import home_timeline
from tastemaker.social.models import Block, Follow, Mute, Notification
from tastemaker.social.selectors import relationships
from tastemaker.social.services import (
    do_block,
    do_create_post,
    do_follow,
    do_mute,
    do_unblock,
    do_unfollow,
    do_unmute,
)

pytestmark = pytest.mark.django_db


def counts(user):
    user.refresh_from_db()
    return user.followers_count, user.following_count


def home_ids(viewer, limit=40):
    return [p.pk for p in home_timeline(viewer, Page(limit=limit))]


def test_follow_and_unfollow_keep_counters(make_user):
    a, b = make_user(), make_user()
    follow = do_follow(a, b)
    assert Follow.objects.filter(follower=a, target=b).count() == 1
    assert counts(a) == (0, 1) and counts(b) == (1, 0)
    assert do_follow(a, b).pk == follow.pk  # following twice is a no-op
    assert counts(a) == (0, 1) and counts(b) == (1, 0)
    assert Notification.objects.filter(recipient=b, actor=a, type="follow").count() == 1
    assert do_unfollow(a, b) is True
    assert counts(a) == (0, 0) and counts(b) == (0, 0)
    assert do_unfollow(a, b) is False  # again: nothing to undo, counters stay at zero
    assert counts(a) == (0, 0) and counts(b) == (0, 0)


def test_cannot_follow_self(make_user):
    a = make_user()
    with pytest.raises(ValidationFailed):
        do_follow(a, a)
    assert not Follow.objects.exists()
    assert counts(a) == (0, 0)


def test_cannot_follow_suspended(make_user):
    a, b = make_user(), make_user(is_suspended=True)
    with pytest.raises(NotFound):
        do_follow(a, b)
    assert not Follow.objects.exists()


@pytest.mark.parametrize("blocker_is_target", [True, False])
def test_blocked_either_way_cannot_follow(make_user, blocker_is_target):
    a, b = make_user(), make_user()
    if blocker_is_target:
        do_block(b, a)
    else:
        do_block(a, b)
    with pytest.raises(Forbidden):
        do_follow(a, b)
    assert not Follow.objects.filter(follower=a, target=b).exists()
    assert counts(b) == (0, 0)


def test_block_removes_follows_both_ways_and_timeline_entries(make_user, run_jobs):
    a, b = make_user(), make_user()
    with run_jobs():
        do_follow(a, b)
        do_follow(b, a)
        pa = do_create_post(a, text="from a")
        pb = do_create_post(b, text="from b")
    assert pb.pk in home_ids(a) and pa.pk in home_ids(b)
    assert counts(a) == (1, 1) and counts(b) == (1, 1)
    do_block(a, b)
    assert not Follow.objects.filter(follower=a, target=b).exists()
    assert not Follow.objects.filter(follower=b, target=a).exists()
    assert counts(a) == (0, 0) and counts(b) == (0, 0)
    assert not TimelineEntry.objects.filter(viewer_id=a.pk, author_id=b.pk).exists()
    assert not TimelineEntry.objects.filter(viewer_id=b.pk, author_id=a.pk).exists()
    assert home_ids(a) == [pa.pk] and home_ids(b) == [pb.pk]
    assert Block.objects.filter(account=a, target=b).count() == 1
    do_block(a, b)  # blocking twice is a no-op
    assert Block.objects.filter(account=a, target=b).count() == 1
    rel = relationships(a, [b.pk])[0]
    assert rel.blocking and not rel.following and not rel.followed_by
    assert relationships(b, [a.pk])[0].blocked_by
    do_unblock(a, b)
    assert not Block.objects.exists()
    do_follow(a, b)  # allowed again
    assert counts(b) == (1, 0)


def test_block_hides_reposts_of_the_blocked_account(make_user, run_jobs):
    a, b, c = make_user(), make_user(), make_user()
    from tastemaker.social.services import do_reblog

    with run_jobs():
        do_follow(a, c)
        pb = do_create_post(b, text="by b")
        reblog = do_reblog(c, pb)
    assert reblog.pk in home_ids(a)
    do_block(a, b)
    assert reblog.pk not in home_ids(a)
    assert home_ids(a) == []


def test_cannot_block_or_mute_self(make_user):
    a = make_user()
    with pytest.raises(ValidationFailed):
        do_block(a, a)
    with pytest.raises(ValidationFailed):
        do_mute(a, a)


def test_mute_hides_from_home_but_keeps_the_follow(make_user, run_jobs):
    a, b = make_user(), make_user()
    with run_jobs():
        do_follow(a, b)
        post = do_create_post(b, text="muted soon")
    assert post.pk in home_ids(a)
    do_mute(a, b)
    do_mute(a, b)
    assert Mute.objects.filter(account=a, target=b).count() == 1
    assert post.pk not in home_ids(a)
    assert Follow.objects.filter(follower=a, target=b).exists()
    assert relationships(a, [b.pk])[0].muting
    with run_jobs():
        later = do_create_post(b, text="still muted")
    assert later.pk not in home_ids(a)
    do_unmute(a, b)
    assert home_ids(a) == [later.pk, post.pk]


def test_unfollow_removes_their_posts_and_reposts_from_home(make_user, run_jobs):
    from tastemaker.social.services import do_reblog

    a, b, c = make_user(), make_user(), make_user()
    with run_jobs():
        do_follow(a, b)
        do_follow(a, c)
        own = do_create_post(a, text="mine")
        pb = do_create_post(b, text="by b")
        pc = do_create_post(c, text="by c")
        rb = do_reblog(b, pc)
    assert set(home_ids(a)) == {own.pk, pb.pk, pc.pk, rb.pk}
    do_unfollow(a, b)
    assert home_ids(a) == [pc.pk, own.pk]


def test_backfill_on_follow(make_user, run_jobs):
    a, b = make_user(), make_user()
    with run_jobs():
        posts = [do_create_post(b, text=f"old {i}") for i in range(3)]
    assert home_ids(a) == []
    with run_jobs():
        do_follow(a, b)
    assert home_ids(a) == [p.pk for p in reversed(posts)]
