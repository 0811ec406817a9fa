"""Notification housekeeping, relationship lists and hydration cost."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tastemaker.core.errors import NotFound
from tastemaker.core.pagination import Page
from tastemaker.social.models import Notification
from tastemaker.social.selectors import (
    bookmarked_posts,
    favourited_posts,
    followers,
    following,
    hydrate,
    notifications,
    unread_notifications_count,
)
from tastemaker.social.services import (
    do_bookmark,
    do_clear_notifications,
    do_create_post,
    do_dismiss_notification,
    do_favourite,
    do_follow,
    do_mark_notifications_read,
    do_reblog,
)

pytestmark = pytest.mark.django_db


def test_notification_filters_read_dismiss_clear(make_user):
    me, a, b = make_user(), make_user(), make_user()
    post = do_create_post(me, text="x")
    do_follow(a, me)
    do_favourite(a, post)
    do_follow(b, me)
    assert [n.type for n in notifications(me, Page())] == ["follow", "favourite", "follow"]
    assert [n.actor_id for n in notifications(me, Page(), types=["follow"])] == [b.pk, a.pk]
    assert [n.type for n in notifications(me, Page(), exclude_types=["follow"])] == ["favourite"]
    assert unread_notifications_count(me) == 3
    first = Notification.objects.filter(recipient=me).order_by("id").first()
    assert do_mark_notifications_read(me, up_to_id=first.pk) == 1
    assert unread_notifications_count(me) == 2
    assert do_mark_notifications_read(me) == 2
    assert unread_notifications_count(me) == 0
    do_dismiss_notification(me, first.pk)
    assert Notification.objects.filter(recipient=me).count() == 2
    other = Notification.objects.filter(recipient=me).first()
    with pytest.raises(NotFound):
        do_dismiss_notification(a, other.pk)  # not theirs
    do_clear_notifications(me)
    assert not Notification.objects.filter(recipient=me).exists()


def test_followers_following_lists(make_user):
    star = make_user()
    fans = [make_user() for _ in range(3)]
    for f in fans:
        do_follow(f, star)
    users, first, last = followers(star, Page(limit=2))
    assert [u.pk for u in users] == [fans[2].pk, fans[1].pk]
    users2, _f, _l = followers(star, Page(limit=2, max_id=last))
    assert [u.pk for u in users2] == [fans[0].pk]
    assert [u.pk for u in following(fans[0], Page())[0]] == [star.pk]


def test_bookmark_and_favourite_lists(make_user):
    me, a = make_user(), make_user()
    p1, p2 = do_create_post(a, text="1"), do_create_post(a, text="2")
    do_bookmark(me, p1)
    do_bookmark(me, p2)
    do_favourite(me, p2)
    assert [p.pk for p in bookmarked_posts(me, Page())[0]] == [p2.pk, p1.pk]
    assert [p.pk for p in favourited_posts(me, Page())[0]] == [p2.pk]


def _hydrate_queries(posts, viewer) -> int:
    from tastemaker.social.models import Post

    fresh = list(Post.objects.filter(pk__in=[p.pk for p in posts]))
    with CaptureQueriesContext(connection) as ctx:
        hydrate(fresh, viewer)
        for p in fresh:  # what a template touches
            shown = p.reblog_of if p.reblog_of_id else p
            _ = (p.author.username, shown.author.username, list(shown.media.all()),
                 [t.hashtag.name for t in shown.post_tags.all()], [m.user.username for m in shown.mentions.all()])
    return len(ctx.captured_queries)


def test_hydration_cost_does_not_grow_with_the_page(make_user):
    viewer, a, b = make_user(), make_user("hyd_a"), make_user()
    small = [do_create_post(a, text="#t1 @hyd_a x"), do_reblog(b, do_create_post(a, text="y #t2"))]
    more = [do_create_post(a, text=f"#t{i} hi @hyd_a") for i in range(8)]
    more += [do_reblog(b, do_create_post(a, text=f"r{i} #x{i}")) for i in range(4)]
    do_favourite(viewer, more[0])
    assert _hydrate_queries(small, viewer) == _hydrate_queries(small + more, viewer)


def test_hydrate_viewer_state(make_user):
    viewer, a = make_user(), make_user()
    p1, p2 = do_create_post(a, text="1"), do_create_post(a, text="2")
    do_favourite(viewer, p1)
    do_bookmark(viewer, p2)
    do_reblog(viewer, p2)
    state = hydrate([p1, p2], viewer)
    assert state.favourited == {p1.pk} and state.bookmarked == {p2.pk} and state.reblogged == {p2.pk}
    anon = hydrate([p1, p2], None)
    assert anon.favourited == set() and anon.reblogged == set()
