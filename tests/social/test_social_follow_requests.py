"""Locked accounts: a follow becomes a request, and a request gives nothing until it is approved.

Also the one visibility rule (``social.selectors.visible_to``) on lists that used to bypass it:
bookmarks and likes of a followers-only post leave the lists when the viewer may no longer read it."""

from __future__ import annotations

import pytest

from tastemaker.accounts.services import update_profile
from tastemaker.core.errors import Forbidden, NotFound
from tastemaker.core.pagination import Page
from tastemaker.feeds.selectors import home_timeline
from tastemaker.social.models import Follow, FollowRequest, Notification
from tastemaker.social.selectors import (
    account_timeline,
    bookmarked_posts,
    can_view,
    favourited_posts,
    follow_requests,
    follow_requests_count,
    get_post,
    relationships,
    search_posts,
    thread_context,
)
from tastemaker.social.services import (
    do_authorize_follow_request,
    do_block,
    do_bookmark,
    do_create_post,
    do_favourite,
    do_follow,
    do_reject_follow_request,
    do_unblock,
    do_unfollow,
)

pytestmark = pytest.mark.django_db


def counts(user):
    user.refresh_from_db()
    return user.followers_count, user.following_count


def kinds(recipient):
    return sorted(Notification.objects.filter(recipient=recipient).values_list("type", flat=True))


@pytest.fixture
def locked(make_user):
    return make_user("lockedacct", locked=True)


def test_following_a_locked_account_makes_a_request_and_grants_nothing(make_user, locked, run_jobs):
    fan = make_user("fan")
    secret = do_create_post(locked, text="followers only zebra", visibility="private")
    public = do_create_post(locked, text="public zebra")
    reply = do_create_post(locked, text="private reply zebra", visibility="private", in_reply_to_id=public.pk)
    with run_jobs():
        result = do_follow(fan, locked)
    assert isinstance(result, FollowRequest)
    assert not Follow.objects.filter(follower=fan, target=locked).exists()
    assert counts(locked) == (0, 0) and counts(fan) == (0, 0)
    rel = relationships(fan, [locked.pk])[0]
    assert (rel.following, rel.requested) == (False, True)
    assert relationships(locked, [fan.pk])[0].requested_by is True
    assert kinds(locked) == ["follow_request"]
    # asking again changes nothing (no second request or notification)
    assert do_follow(fan, locked).pk == result.pk
    assert FollowRequest.objects.count() == 1 and kinds(locked) == ["follow_request"]
    # no access anywhere: the post, the profile, the thread, search, the home feed
    assert not can_view(fan, secret) and get_post(fan, secret.pk) is None
    assert [p.pk for p in account_timeline(fan, locked, Page())] == [public.pk]
    assert thread_context(fan, public)[1] == [] and not can_view(fan, reply)
    assert [p.pk for p in search_posts("zebra", fan)] == [public.pk]
    assert [p.pk for p in home_timeline(fan, Page())] == []
    do_authorize_follow_request(locked, fan)
    assert thread_context(fan, public)[1] == [reply]
    assert [p.pk for p in search_posts("zebra", fan)] == [reply.pk, public.pk, secret.pk]


def test_authorize_makes_an_ordinary_follow_with_backfill(make_user, locked, run_jobs):
    fan = make_user("fan")
    secret = do_create_post(locked, text="followers only", visibility="private")
    do_follow(fan, locked)
    with run_jobs():
        follow = do_authorize_follow_request(locked, fan)
    assert Follow.objects.filter(pk=follow.pk, follower=fan, target=locked).exists()
    assert not FollowRequest.objects.exists()
    assert counts(locked) == (1, 0) and counts(fan) == (0, 1)
    # the request notification is replaced by a follow notification
    assert kinds(locked) == ["follow"]
    assert can_view(fan, secret)
    assert [p.pk for p in account_timeline(fan, locked, Page())] == [secret.pk]
    assert [p.pk for p in home_timeline(fan, Page())] == [secret.pk]  # backfilled after commit
    rel = relationships(fan, [locked.pk])[0]
    assert (rel.following, rel.requested) == (True, False)
    # nothing left to authorise
    with pytest.raises(NotFound):
        do_authorize_follow_request(locked, fan)


def test_reject_and_withdraw(make_user, locked):
    fan, other = make_user("fan"), make_user("other")
    do_follow(fan, locked)
    do_follow(other, locked)
    assert follow_requests_count(locked) == 2
    assert [u.pk for u in follow_requests(locked, Page())[0]] == [other.pk, fan.pk]  # newest first
    do_reject_follow_request(locked, fan)
    assert not Follow.objects.exists()
    assert list(FollowRequest.objects.values_list("follower_id", flat=True)) == [other.pk]
    with pytest.raises(NotFound):
        do_reject_follow_request(locked, fan)
    # unfollow withdraws a pending request (and its notification)
    assert do_unfollow(other, locked) is True
    assert not FollowRequest.objects.exists() and kinds(locked) == []
    assert counts(locked) == (0, 0)
    # a request can only be answered by the account asked
    do_follow(fan, locked)
    with pytest.raises(NotFound):
        do_authorize_follow_request(other, fan)


def test_a_block_removes_requests_both_ways(make_user, locked):
    fan = make_user("fan", locked=True)
    do_follow(fan, locked)
    do_follow(locked, fan)
    assert FollowRequest.objects.count() == 2
    do_block(locked, fan)
    assert not FollowRequest.objects.exists()
    assert "follow_request" not in kinds(locked) + kinds(fan)
    with pytest.raises(Forbidden):
        do_follow(fan, locked)
    do_unblock(locked, fan)
    assert isinstance(do_follow(fan, locked), FollowRequest)


def test_unlocking_approves_the_waiting_requests(make_user, locked, run_jobs):
    fans = [make_user(f"fan{i}") for i in range(3)]
    for fan in fans:
        do_follow(fan, locked)
    with run_jobs():
        update_profile(locked, locked=False)
    assert not FollowRequest.objects.exists()
    assert set(Follow.objects.filter(target=locked).values_list("follower_id", flat=True)) == {f.pk for f in fans}
    assert counts(locked) == (3, 0)
    # an unlocked account is followed at once
    late = make_user("late")
    assert isinstance(do_follow(late, locked), Follow)


def test_following_unlocked_then_locked_keeps_existing_followers(make_user, locked):
    fan = make_user("fan")
    update_profile(locked, locked=False)
    do_follow(fan, locked)
    update_profile(locked, locked=True)
    secret = do_create_post(locked, text="x", visibility="private")
    assert can_view(fan, secret)  # locking is about new followers


# --- bookmarks and likes go through the visibility rule ---------------------------------------

@pytest.fixture
def marked(make_user):
    author, reader = make_user("author"), make_user("reader")
    do_follow(reader, author)
    secret = do_create_post(author, text="followers only", visibility="private")
    public = do_create_post(author, text="public")
    for post in (secret, public):
        do_bookmark(reader, post)
        do_favourite(reader, post)
    assert [p.pk for p in bookmarked_posts(reader, Page())[0]] == [public.pk, secret.pk]
    assert [p.pk for p in favourited_posts(reader, Page())[0]] == [public.pk, secret.pk]
    return author, reader, secret, public


def listed(reader):
    return ([p.pk for p in bookmarked_posts(reader, Page())[0]], [p.pk for p in favourited_posts(reader, Page())[0]])


def test_unfollowing_hides_followers_only_bookmarks_and_likes(marked):
    author, reader, secret, public = marked
    do_unfollow(reader, author)
    assert listed(reader) == ([public.pk], [public.pk])
    do_follow(reader, author)  # may read it again: back in the lists
    assert listed(reader) == ([public.pk, secret.pk], [public.pk, secret.pk])


def test_being_blocked_hides_bookmarks_and_likes(marked):
    author, reader, _secret, _public = marked
    do_block(author, reader)
    assert listed(reader) == ([], [])


def test_blocking_the_author_hides_followers_only_bookmarks_and_likes(marked):
    author, reader, _secret, public = marked
    do_block(reader, author)
    # issue 12, one rule: a block either way hides every post of the other account, public ones too
    assert listed(reader) == ([], [])
    do_unblock(reader, author)
    assert listed(reader) == ([public.pk], [public.pk])  # no longer following: the public one comes back


def test_list_pages_stay_full_when_some_rows_are_hidden(make_user):
    author, reader = make_user(), make_user()
    do_follow(reader, author)
    posts = []
    for i in range(6):
        posts.append(do_create_post(author, text=f"p{i}", visibility="private" if i % 2 else "public"))
        do_bookmark(reader, posts[-1])
    do_unfollow(reader, author)
    page, _first, last = bookmarked_posts(reader, Page(limit=2))
    assert [p.pk for p in page] == [posts[4].pk, posts[2].pk]
    more, _first, _last = bookmarked_posts(reader, Page(limit=2, max_id=last))
    assert [p.pk for p in more] == [posts[0].pk]


def test_the_rule_agrees_for_one_post_and_for_lists(make_user):
    """can_view and the account timeline are the same rule: mentions, self, suspended, staff (issue 12:
    operators see every post opened directly, a profile included)."""
    author, mentioned, stranger = make_user("au"), make_user("men"), make_user()
    staff = make_user(is_staff=True)
    post = do_create_post(author, text="@men secret", visibility="private")
    for viewer, expected in ((author, True), (mentioned, True), (stranger, False), (None, False), (staff, True)):
        assert can_view(viewer, post) is expected
        assert (post.pk in [p.pk for p in account_timeline(viewer, author, Page())]) is expected
    author.is_suspended = True
    author.save()
    assert [can_view(v, post) for v in (author, mentioned, staff)] == [False, False, True]
