"""Events only on posts the viewer may see (issue 10, item 11): an event on a post the viewer cannot see is
refused exactly like one on a post that does not exist (same answer, nothing stored, nothing counted), for
apps (API), signed-in pages and anonymous visitors. The batch rule is the same as ``can_view``."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tastemaker.analytics.models import Event, Stat

from .conftest import BROWSER_UA

pytestmark = pytest.mark.django_db
EVENTS = "/api/v1/tastemaker/events"
MISSING = "999999999999"


@pytest.fixture
def hidden_posts(make_user):
    """An author's posts a plain viewer may not see, by every reason of the rule, plus one public post."""
    from tastemaker.social import services as social

    author, blocker, banned = make_user("writer"), make_user("blocker"), make_user("banned")
    viewer = make_user("viewer")
    social.do_block(blocker, viewer)
    posts = {
        "private": social.do_create_post(author, text="followers only", visibility="private"),
        "blocked": social.do_create_post(blocker, text="public, but the author blocked the viewer"),
        "suspended": social.do_create_post(banned, text="author suspended later"),
    }
    banned.is_suspended = True
    banned.save(update_fields=["is_suspended"])
    public = social.do_create_post(author, text="public")
    return viewer, author, posts, public


def _api_events(api, user, subject_ids):
    client = api(user)
    return client.client.post(
        EVENTS, {"events": [{"type": "impression", "subject_id": str(sid), "surface": "home"} for sid in subject_ids]},
        content_type="application/json", HTTP_USER_AGENT="Tusky/26.1 Android/14", **client.headers)


def _counted(post_id) -> int:
    return Event.objects.filter(subject_id=post_id).count() + Stat.objects.filter(subject_id=post_id).count()


@pytest.mark.parametrize("reason", ["private", "blocked", "suspended"])
def test_api_refuses_events_on_posts_the_viewer_cannot_see_like_missing_ones(api, hidden_posts, reason):
    viewer, _author, posts, _public = hidden_posts
    hidden = posts[reason]
    on_hidden = _api_events(api, viewer, [hidden.pk])
    on_missing = _api_events(api, viewer, [MISSING])
    assert on_hidden.status_code == on_missing.status_code == 200
    assert on_hidden.json() == on_missing.json() == {"accepted": 0, "valid": 0, "invalid": 0, "rejected": 1}
    assert _counted(hidden.pk) == 0


def test_api_counts_what_the_viewer_may_see(api, make_user, hidden_posts):
    from tastemaker.social import services as social

    viewer, author, posts, public = hidden_posts
    r = _api_events(api, viewer, [public.pk, posts["private"].pk])
    assert r.json() == {"accepted": 1, "valid": 1, "invalid": 0, "rejected": 1}
    social.do_follow(viewer, author)  # now a follower: the private post is visible
    r = _api_events(api, viewer, [posts["private"].pk])
    assert r.json() == {"accepted": 1, "valid": 1, "invalid": 0, "rejected": 0}
    # a mentioned account sees a private post without following
    mentioned = make_user("mentioned")
    to_them = social.do_create_post(author, text="hi @mentioned", visibility="private")
    assert _api_events(api, mentioned, [to_them.pk]).json()["rejected"] == 0
    assert _api_events(api, make_user("stranger"), [to_them.pk]).json()["rejected"] == 1


def _web_events(client, subject_ids):
    body = {"events": [{"type": "impression", "subject_id": str(s), "surface": "home"} for s in subject_ids]}
    return client.post("/events", json.dumps(body), content_type="application/json", HTTP_USER_AGENT=BROWSER_UA)


def test_web_anonymous_and_signed_in_events_refuse_invisible_posts(make_user, hidden_posts):
    viewer, _author, posts, public = hidden_posts
    anonymous = Client()
    expected = {"accepted": 0, "valid": 0, "invalid": 0, "rejected": 1}
    assert _web_events(anonymous, [posts["private"].pk]).json() == expected
    assert _web_events(anonymous, [posts["suspended"].pk]).json() == expected
    assert _web_events(anonymous, [MISSING]).json() == expected
    assert _web_events(anonymous, [public.pk]).json()["valid"] == 1
    signed_in = Client()
    signed_in.force_login(viewer)
    assert _web_events(signed_in, [posts["blocked"].pk]).json() == expected
    assert _counted(posts["private"].pk) == _counted(posts["blocked"].pk) == _counted(posts["suspended"].pk) == 0


def test_batch_visibility_agrees_with_can_view(make_user, hidden_posts, django_assert_max_num_queries):
    """``visibility.visible_authors`` is ``can_view`` for a batch: pinned on every case, in one query."""
    from tastemaker.social import services as social
    from tastemaker.social.models import Post
    from tastemaker.social.selectors import can_view
    from tastemaker.social.visibility import Viewer, visible_authors

    viewer, author, posts, public = hidden_posts
    staff = make_user("moderator", is_staff=True)
    own = social.do_create_post(viewer, text="mine", visibility="private")
    mentioned = social.do_create_post(author, text="hey @viewer", visibility="private")
    follower = make_user("follower")
    social.do_follow(follower, author)
    ids = [p.pk for p in (*posts.values(), public, own, mentioned)] + [int(MISSING)]
    for who in (None, viewer, staff, follower, author):
        with django_assert_max_num_queries(1):
            batch = visible_authors(Viewer(who.pk if who else None, bool(who and who.is_staff)), ids)
        one_by_one = {p.pk: p.author_id for p in Post.objects.filter(pk__in=ids).select_related("author")
                      if can_view(who, p)}
        assert batch == one_by_one, who
    assert public.pk in visible_authors(None, ids) and posts["private"].pk not in visible_authors(None, ids)
