"""Posts: limits, media, hashtags, mentions, notifications, threads, reposts, likes, bookmarks,
deletion and visibility."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tastemaker.core.errors import Forbidden, NotFound, ValidationFailed
from tastemaker.core.pagination import Page
from tastemaker.feeds.models import TimelineEntry
from tastemaker.social import search
from tastemaker.social.models import Bookmark, Favourite, Hashtag, Media, Mention, Notification, Post, PostTag
from tastemaker.social.selectors import (
    account_timeline,
    can_view,
    get_post,
    public_timeline,
    search_posts,
    tag_timeline,
    thread_context,
)
from tastemaker.social.services import (
    do_bookmark,
    do_create_post,
    do_delete_post,
    do_favourite,
    do_follow,
    do_reblog,
    do_unbookmark,
    do_unfavourite,
    do_unreblog,
    do_upload_media,
)

pytestmark = pytest.mark.django_db


def reload(obj):
    obj.refresh_from_db()
    return obj


def notes(user, kind=None):
    qs = Notification.objects.filter(recipient=user)
    if kind:
        qs = qs.filter(type=kind)
    return list(qs.order_by("id"))


# --- text limit ----------------------------------------------------------------------------

def test_2000_characters_accepted_2001_refused(make_user):
    author = make_user()
    ok = do_create_post(author, text="字" * 2000)
    assert len(reload(ok).text) == 2000
    with pytest.raises(ValidationFailed) as err:
        do_create_post(author, text="a" * 2001)
    assert err.value.field == "status"
    assert Post.objects.count() == 1
    assert reload(author).statuses_count == 1


def test_surrounding_whitespace_does_not_count(make_user):
    post = do_create_post(make_user(), text="  " + "b" * 2000 + "\r\n")
    assert reload(post).text == "b" * 2000


def test_empty_post_refused(make_user):
    with pytest.raises(ValidationFailed):
        do_create_post(make_user(), text="   \n ")
    assert not Post.objects.exists()


@pytest.mark.parametrize("kwargs,field", [({"visibility": "secret"}, "visibility"),
                                          ({"spoiler_text": "s" * 201}, "spoiler_text")])
def test_bad_options_refused(make_user, kwargs, field):
    with pytest.raises(ValidationFailed) as err:
        do_create_post(make_user(), text="hi", **kwargs)
    assert err.value.field == field
    assert not Post.objects.exists()


def test_suspended_author_cannot_post(make_user):
    with pytest.raises(Forbidden):
        do_create_post(make_user(is_suspended=True), text="hi")
    assert not Post.objects.exists()


# --- media ---------------------------------------------------------------------------------

def test_nine_images_accepted_in_order(make_user, png_bytes):
    author = make_user()
    media = [do_upload_media(author, png_bytes(color=(i * 20, 0, 0)), description=f"img {i}") for i in range(9)]
    order = [m.pk for m in reversed(media)]
    post = do_create_post(author, text="", media_ids=order)
    attached = list(Media.objects.filter(post=post).order_by("position"))
    assert [m.pk for m in attached] == order
    assert [m.position for m in attached] == list(range(9))


def test_ten_images_refused_nothing_attached(make_user, png_bytes):
    author = make_user()
    media = [do_upload_media(author, png_bytes()) for _ in range(10)]
    with pytest.raises(ValidationFailed) as err:
        do_create_post(author, text="too many", media_ids=[m.pk for m in media])
    assert err.value.field == "media_ids"
    assert not Post.objects.exists()
    assert Media.objects.filter(post__isnull=False).count() == 0


def test_media_must_be_the_authors_and_unused(make_user, png_bytes):
    author, other = make_user(), make_user()
    theirs = do_upload_media(other, png_bytes())
    with pytest.raises(ValidationFailed):
        do_create_post(author, text="steal", media_ids=[theirs.pk])
    assert reload(theirs).post_id is None
    mine = do_upload_media(author, png_bytes())
    first = do_create_post(author, text="first", media_ids=[mine.pk])
    with pytest.raises(ValidationFailed):
        do_create_post(author, text="reuse", media_ids=[mine.pk])
    assert reload(mine).post_id == first.pk
    with pytest.raises(ValidationFailed):
        do_create_post(author, text="dup", media_ids=[mine.pk, mine.pk])
    with pytest.raises(ValidationFailed):
        do_create_post(author, text="unknown", media_ids=[123456789])
    assert Post.objects.count() == 1


def test_non_numeric_media_id_is_a_validation_error(make_user):
    with pytest.raises(ValidationFailed):
        do_create_post(make_user(), text="x", media_ids=["abc"])
    assert not Post.objects.exists()


def test_failure_inside_the_write_leaves_no_partial_state(make_user, png_bytes, monkeypatch):
    author, friend = make_user(), make_user("friend")
    media = do_upload_media(author, png_bytes())

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(search, "index_post", boom)
    with pytest.raises(RuntimeError):
        do_create_post(author, text="#brandnew hi @friend", media_ids=[media.pk])
    assert not Post.objects.exists()
    assert reload(media).post_id is None
    assert not Hashtag.objects.filter(name="brandnew").exists()
    assert not Notification.objects.filter(recipient=friend).exists()
    assert reload(author).statuses_count == 0
    assert not TimelineEntry.objects.exists()


# --- hashtags, mentions, notifications -----------------------------------------------------

def test_hashtags_and_mentions_are_extracted(make_user):
    author, bob, carol = make_user(), make_user("Bob"), make_user("carol")
    post = do_create_post(author, text="#Beauty 好物 #美妆 #护肤 hi @bob and @CAROL and @nobody")
    names = set(PostTag.objects.filter(post=post).values_list("hashtag__name", flat=True))
    assert names == {"beauty", "美妆", "护肤"}
    assert set(Mention.objects.filter(post=post).values_list("user_id", flat=True)) == {bob.pk, carol.pk}
    assert [n.type for n in notes(bob)] == ["mention"] and notes(carol)[0].post_id == post.pk
    page = tag_timeline(None, "美妆", Page())
    assert [p.pk for p in page] == [post.pk]
    assert [p.pk for p in tag_timeline(None, "#BEAUTY", Page())] == [post.pk]


def test_mention_of_self_and_of_blocker_not_notified(make_user):
    from tastemaker.social.services import do_block

    author, blocker = make_user("author"), make_user("blocker")
    do_block(blocker, author)
    do_create_post(author, text="@author @blocker hi")
    assert notes(author) == [] and notes(blocker) == []
    assert not Mention.objects.exists()


def test_notifications_for_follow_favourite_reblog_mention_reply(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    do_follow(bob, alice)
    post = do_create_post(alice, text="hello")
    do_favourite(bob, post)
    do_reblog(bob, post)
    do_create_post(bob, text="hey @alice")
    reply = do_create_post(bob, text="nice", in_reply_to_id=post.pk)
    kinds = [(n.type, n.actor_id, n.post_id) for n in notes(alice)]
    assert kinds[:3] == [("follow", bob.pk, None), ("favourite", bob.pk, post.pk), ("reblog", bob.pk, post.pk)]
    assert kinds[3][0] == "mention"
    assert kinds[4] == ("mention", bob.pk, reply.pk)  # a reply notifies the author it replies to
    assert len(kinds) == 5
    assert notes(bob) == []  # never about your own actions


def test_muted_actor_does_not_notify(make_user):
    from tastemaker.social.services import do_mute

    alice, bob = make_user(), make_user()
    post = do_create_post(alice, text="x")
    do_mute(alice, bob)
    do_favourite(bob, post)
    assert notes(alice) == []
    assert reload(post).favourites_count == 1


# --- threads -------------------------------------------------------------------------------

def test_replies_thread(make_user):
    a, b, c = make_user(), make_user(), make_user()
    root = do_create_post(a, text="root")
    r1 = do_create_post(b, text="r1", in_reply_to_id=root.pk)
    r2 = do_create_post(a, text="r2", in_reply_to_id=root.pk)
    r11 = do_create_post(c, text="r1.1", in_reply_to_id=r1.pk)
    r111 = do_create_post(a, text="r1.1.1", in_reply_to_id=r11.pk)
    assert reload(root).replies_count == 2 and reload(r1).replies_count == 1
    assert r1.in_reply_to_account_id == a.pk and r11.in_reply_to_account_id == b.pk
    ancestors, descendants = thread_context(None, r11)
    assert [p.pk for p in ancestors] == [root.pk, r1.pk]
    assert [p.pk for p in descendants] == [r111.pk]
    ancestors, descendants = thread_context(None, root)
    assert ancestors == []
    assert {p.pk for p in descendants} == {r1.pk, r2.pk, r11.pk, r111.pk}
    assert [p.pk for p in descendants] == sorted(p.pk for p in descendants)


def test_thread_hides_posts_the_viewer_may_not_see(make_user):
    a, b, viewer = make_user(), make_user(), make_user()
    root = do_create_post(a, text="root")
    secret = do_create_post(b, text="followers only", in_reply_to_id=root.pk, visibility="private")
    under_secret = do_create_post(a, text="below", in_reply_to_id=secret.pk)
    visible = do_create_post(b, text="public reply", in_reply_to_id=root.pk)
    _anc, desc = thread_context(viewer, root)
    assert [p.pk for p in desc] == [visible.pk]
    do_follow(viewer, b)
    _anc, desc = thread_context(viewer, root)
    assert [p.pk for p in desc] == [secret.pk, under_secret.pk, visible.pk]


def test_reply_to_unknown_or_invisible_post_refused(make_user):
    a, b = make_user(), make_user()
    with pytest.raises(NotFound):
        do_create_post(a, text="to nothing", in_reply_to_id=999999999)
    secret = do_create_post(b, text="private", visibility="private")
    with pytest.raises(NotFound):
        do_create_post(a, text="peek", in_reply_to_id=secret.pk)
    assert Post.objects.count() == 1


def test_reply_between_blocked_accounts_refused(make_user):
    from tastemaker.social.services import do_block

    a, b = make_user(), make_user()
    post = do_create_post(a, text="x")
    do_block(b, a)  # b blocks a: neither sees the other's posts (issue 12: blocks hide both ways), no reply
    with pytest.raises(NotFound):
        do_create_post(b, text="reply", in_reply_to_id=post.pk)
    do_block(a, b)  # the other way round, too
    with pytest.raises(NotFound):
        do_create_post(b, text="reply", in_reply_to_id=post.pk)
    assert reload(post).replies_count == 0


# --- reposts, likes, bookmarks -------------------------------------------------------------

def test_reblog_once_and_unreblog(make_user):
    a, b = make_user(), make_user()
    post = do_create_post(a, text="share me")
    first = do_reblog(b, post)
    again = do_reblog(b, post)
    via_reblog = do_reblog(b, first)  # reposting a repost reposts the original
    assert first.pk == again.pk == via_reblog.pk
    assert first.reblog_of_id == post.pk and first.text == ""
    assert reload(post).reblogs_count == 1
    assert Post.objects.filter(reblog_of=post).count() == 1
    assert reload(b).statuses_count == 1
    do_unreblog(b, post)
    assert reload(post).reblogs_count == 0
    assert not Post.objects.filter(reblog_of=post).exists()
    assert reload(b).statuses_count == 0
    do_unreblog(b, post)  # nothing left to undo
    assert reload(post).reblogs_count == 0
    assert do_reblog(b, post).pk != first.pk
    assert reload(post).reblogs_count == 1


def test_private_posts_cannot_be_reblogged(make_user):
    a, b = make_user(), make_user()
    do_follow(b, a)
    post = do_create_post(a, text="friends only", visibility="private")
    with pytest.raises(Forbidden):
        do_reblog(b, post)
    with pytest.raises(Forbidden):
        do_reblog(a, post)
    assert reload(post).reblogs_count == 0


def test_favourite_and_unfavourite(make_user):
    a, b, c = make_user(), make_user(), make_user()
    post = do_create_post(a, text="like me")
    do_favourite(b, post)
    do_favourite(b, post)
    do_favourite(c, post)
    assert reload(post).favourites_count == 2
    assert Favourite.objects.filter(post=post).count() == 2
    reblog = do_reblog(c, post)
    do_unfavourite(c, reblog)  # through the repost: the original is unliked
    do_unfavourite(b, post)
    do_unfavourite(b, post)
    assert reload(post).favourites_count == 0
    assert not Favourite.objects.exists()


def test_favourite_refused_when_blocked_or_invisible(make_user):
    from tastemaker.social.services import do_block

    a, b, c = make_user(), make_user(), make_user()
    post = do_create_post(a, text="x")
    do_block(a, b)
    with pytest.raises(NotFound):
        do_favourite(b, post)
    secret = do_create_post(a, text="x", visibility="private")
    with pytest.raises(NotFound):
        do_favourite(c, secret)
    assert reload(post).favourites_count == 0 and reload(secret).favourites_count == 0


def test_bookmark(make_user):
    a, b = make_user(), make_user()
    post = do_create_post(a, text="save me")
    do_bookmark(b, post)
    do_bookmark(b, post)
    assert Bookmark.objects.filter(user=b, post=post).count() == 1
    do_unbookmark(b, post)
    assert not Bookmark.objects.exists()
    secret = do_create_post(a, text="x", visibility="private")
    with pytest.raises(NotFound):
        do_bookmark(b, secret)
    assert not Bookmark.objects.exists()


# --- delete --------------------------------------------------------------------------------

def test_delete_removes_from_timelines_search_and_counters(make_user, run_jobs):
    a, b, c = make_user(), make_user(), make_user()
    with run_jobs():
        do_follow(b, a)
        do_follow(c, b)
        post = do_create_post(a, text="ephemeral 即将删除 unicorn")
        reblog = do_reblog(b, post)
        reply = do_create_post(b, text="a reply", in_reply_to_id=post.pk)
    do_favourite(c, post)
    assert TimelineEntry.objects.filter(post=post).count() == 2  # a and b
    assert TimelineEntry.objects.filter(post=reblog).count() == 2  # b and c
    assert [p.pk for p in search_posts("unicorn", None)] == [post.pk]
    assert reload(a).statuses_count == 1
    do_delete_post(a, post)
    assert not Post.objects.filter(pk__in=[post.pk, reblog.pk]).exists()
    assert not TimelineEntry.objects.filter(post_id__in=[post.pk, reblog.pk]).exists()
    assert search_posts("unicorn", None) == []
    assert search_posts("删除", None) == []
    assert reload(a).statuses_count == 0
    assert reload(reply).in_reply_to_id is None  # the reply stays, detached
    assert not Favourite.objects.exists()


def test_only_the_author_or_staff_can_delete(make_user):
    a, b, staff = make_user(), make_user(), make_user(is_staff=True)
    post = do_create_post(a, text="x")
    with pytest.raises(NotFound):
        do_delete_post(b, post)
    assert Post.objects.filter(pk=post.pk).exists()
    do_delete_post(staff, post)
    assert not Post.objects.filter(pk=post.pk).exists()


def test_deleting_a_reply_decrements_the_parent(make_user):
    a, b = make_user(), make_user()
    root = do_create_post(a, text="root")
    reply = do_create_post(b, text="reply", in_reply_to_id=root.pk)
    assert reload(root).replies_count == 1
    do_delete_post(b, reply)
    assert reload(root).replies_count == 0


# --- visibility ----------------------------------------------------------------------------

def test_private_visibility_rules(make_user, run_jobs):
    author, follower, stranger, mentioned = make_user(), make_user(), make_user(), make_user("mentioned")
    with run_jobs():
        do_follow(follower, author)
        post = do_create_post(author, text="for my fans @mentioned secretword", visibility="private")
    from django.contrib.auth.models import AnonymousUser

    assert can_view(author, post) and can_view(follower, post) and can_view(mentioned, post)
    assert not can_view(stranger, post) and not can_view(None, post) and not can_view(AnonymousUser(), post)
    assert get_post(stranger, post.pk) is None and get_post(follower, post.pk).pk == post.pk
    assert public_timeline(None, Page()) == []
    assert [p.pk for p in account_timeline(follower, author, Page())] == [post.pk]
    assert account_timeline(stranger, author, Page()) == []
    assert TimelineEntry.objects.filter(post=post, viewer_id=follower.pk).exists()
    assert not TimelineEntry.objects.filter(post=post, viewer_id=stranger.pk).exists()
    assert search_posts("secretword", stranger) == []
    assert [p.pk for p in search_posts("secretword", follower)] == [post.pk]


def test_unlisted_is_visible_but_not_in_public_timeline(make_user):
    author, other = make_user(), make_user()
    post = do_create_post(author, text="quiet", visibility="unlisted")
    loud = do_create_post(author, text="loud")
    assert can_view(other, post) and can_view(None, post)
    assert [p.pk for p in public_timeline(None, Page())] == [loud.pk]
    assert [p.pk for p in account_timeline(None, author, Page())] == [loud.pk, post.pk]


def test_blocked_viewer_cannot_see_the_blockers_posts(make_user):
    from tastemaker.social.services import do_block

    a, b = make_user(), make_user()
    post = do_create_post(a, text="public")
    do_block(a, b)
    assert not can_view(b, post)
    assert get_post(b, post.pk) is None
    assert account_timeline(b, a, Page()) == []
    assert public_timeline(b, Page()) == []


def test_suspended_authors_posts_disappear(make_user):
    a = make_user()
    post = do_create_post(a, text="soon gone")
    a.is_suspended = True
    a.save()
    post = Post.objects.select_related("author").get(pk=post.pk)
    assert not can_view(None, post)
    assert public_timeline(None, Page()) == []


@override_settings(POST_MAX_MEDIA=2)
def test_media_limit_comes_from_settings(make_user, png_bytes):
    author = make_user()
    media = [do_upload_media(author, png_bytes()) for _ in range(3)]
    with pytest.raises(ValidationFailed):
        do_create_post(author, text="x", media_ids=[m.pk for m in media])
    assert do_create_post(author, text="x", media_ids=[m.pk for m in media[:2]]).pk


def test_deleting_an_original_fixes_the_reposters_counts(make_user):
    a, b = make_user(), make_user()
    post = do_create_post(a, text="x")
    do_create_post(b, text="b's own")
    do_reblog(b, post)
    assert reload(b).statuses_count == 2
    do_delete_post(a, post)
    assert reload(b).statuses_count == 1


def test_image_claimed_concurrently_fails_the_second_post_whole(make_user, png_bytes, monkeypatch):
    """Between the checks and the write another request attaches the image: this post must not steal it."""
    from tastemaker.social import services

    author = make_user()
    media = do_upload_media(author, png_bytes())
    rival = do_create_post(author, text="rival")

    def race(*args, **kwargs):  # runs after the media checks, before the write
        Media.objects.filter(pk=media.pk).update(post=rival)

    monkeypatch.setattr(services, "check_and_hit", race)
    with pytest.raises(ValidationFailed):
        do_create_post(author, text="loser #lost", media_ids=[media.pk])
    assert reload(media).post_id == rival.pk
    assert list(Post.objects.values_list("text", flat=True)) == ["rival"]
    assert not Hashtag.objects.filter(name="lost").exists()
    assert reload(author).statuses_count == 1


def test_mentions_match_usernames_whatever_their_case(make_user):
    from tastemaker.social.models import Mention, Notification
    from tastemaker.social.services import do_create_post

    upper, lower, author = make_user("MixedCase"), make_user("plain"), make_user()
    post = do_create_post(author, text="hi @mixedcase and @PLAIN and @nobody")
    assert set(Mention.objects.filter(post=post).values_list("user_id", flat=True)) == {upper.pk, lower.pk}
    assert Notification.objects.filter(post=post, type="mention").count() == 2
