"""The home timeline's fast path (feeds.selectors.home_timeline_refs + api.render) against the
reference rendering (ORM + hydrate + api.serializers.status, validated by ninja as ``Status``, which is
what ``GET /api/v1/statuses/{id}`` still uses), and its query count, caches and token lookup."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from tastemaker.accounts.services import update_profile
from tastemaker.api import render
from tastemaker.promotion.selectors import live_campaigns
from tastemaker.social import services as s


@pytest.fixture(autouse=True)
def _fresh_caches(db, settings):
    render.clear_caches()
    # the ad decision's list of deliverable campaigns (none here), loaded once per PROMOTION_CACHE_SECONDS
    # per process: warm, it adds no query to the home timeline (tests/promotion pins the cold cost)
    settings.PROMOTION_CACHE_SECONDS = 300
    live_campaigns()
    yield
    render.clear_caches()


@pytest.fixture
def client_for(oauth_app):
    from oauth2_provider.models import get_access_token_model

    def make(user, scope="read write follow push", expires_in=timedelta(days=1), app=oauth_app):
        token = get_access_token_model().objects.create(
            user=user, application=app, token=secrets.token_urlsafe(24), scope=scope,
            expires=timezone.now() + expires_in,
        ).token
        client = Client()
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return client

    return make


def _reference(client, item_id: str) -> dict:
    r = client.get(f"/api/v1/statuses/{item_id}")
    assert r.status_code == 200, r.content
    return r.json()


@pytest.fixture
def world(make_user, png_bytes, run_jobs):
    """A viewer following several accounts, with every kind of post the renderer knows about."""
    viewer, alice, bob, carol = (make_user(n) for n in ("viewer", "alice", "bob", "carol"))
    blocked, muted, suspended = make_user("blocked"), make_user("muted"), make_user("suspended")
    update_profile(alice, display_name="Alice 爱丽丝", bio="I like https://example.org and #tea", interests=["tea"],
                   avatar=png_bytes())
    for target in (alice, bob, carol, blocked, muted, suspended):
        s.do_follow(viewer, target)
    with run_jobs():
        m1 = s.do_upload_media(alice, png_bytes((640, 480)), description="a red box")
        m2 = s.do_upload_media(alice, png_bytes((20, 900)))
        media_post = s.do_create_post(alice, text="two pictures #Box @bob @nobody", media_ids=[m1.pk, m2.pk],
                                      sensitive=True, spoiler_text="boxes", language="en")
        root = s.do_create_post(bob, text="中文测试 #茶 hello @alice\n\nsecond paragraph\nline")
        reply = s.do_create_post(alice, text="@bob a reply", in_reply_to_id=root.pk)
        private = s.do_create_post(carol, text="followers only", visibility="private")
        carols = s.do_create_post(carol, text="carol in public")
        s.do_reblog(carol, media_post)
        s.do_reblog(bob, root)
        s.do_favourite(viewer, media_post)
        s.do_bookmark(viewer, root)
        s.do_reblog(viewer, carols)
        s.do_create_post(blocked, text="never shown")
        s.do_create_post(muted, text="never shown either")
        hidden_src = s.do_create_post(make_user("stranger"), text="reposted from a blocked account")
        s.do_create_post(suspended, text="suspended")
    s.do_block(viewer, blocked)
    s.do_mute(viewer, muted)
    with run_jobs():
        s.do_reblog(alice, hidden_src)  # a repost of a hidden account's post is hidden too
    s.do_block(hidden_src.author, viewer)
    suspended.is_suspended = True
    suspended.save()
    return {"viewer": viewer, "alice": alice, "bob": bob, "carol": carol, "media_post": media_post,
            "m1": m1, "root": root, "reply": reply, "private": private}


def test_home_renders_exactly_like_the_reference_serializer(world, client_for):
    c = client_for(world["viewer"])
    for _attempt in ("cold cache", "warm cache"):
        r = c.get("/api/v1/timelines/home", {"limit": 40})
        assert r.status_code == 200
        assert r["Content-Type"].startswith("application/json")
        items = r.json()
        texts = [(i["reblog"] or i)["text"] for i in items]
        assert "never shown" not in texts and "never shown either" not in texts and "suspended" not in texts
        assert "reposted from a blocked account" not in texts
        assert len(items) == 8
        for item in items:
            assert item == _reference(c, item["id"])
    reblogs = {i["reblog"]["text"]: i for i in items if i["reblog"]}
    pics = reblogs["two pictures #Box @bob @nobody"]
    assert pics["reblog"]["favourited"] is True and pics["favourited"] is True
    assert [m["description"] for m in pics["reblog"]["media_attachments"]] == ["a red box", None]
    assert [m["username"] for m in pics["reblog"]["mentions"]] == ["bob"]
    assert reblogs["carol in public"]["reblogged"] is True


def test_page_links_and_keyset_pagination(world, client_for):
    c = client_for(world["viewer"])
    everything = [i["id"] for i in c.get("/api/v1/timelines/home", {"limit": 40}).json()]
    got, url = [], "/api/v1/timelines/home?limit=3"
    while url:
        r = c.get(url)
        page = r.json()
        got += [i["id"] for i in page]
        link = r.get("Link")
        if not page:
            assert link is None
            break
        assert f"max_id={page[-1]['id']}" in link and f"min_id={page[0]['id']}" in link
        url = link.split(";")[0].strip("<>").replace("http://testserver", "")
    assert got == everything
    newer = c.get("/api/v1/timelines/home", {"min_id": everything[3], "limit": 2}).json()
    assert [i["id"] for i in newer] == everything[1:3]
    since = c.get("/api/v1/timelines/home", {"since_id": everything[3], "limit": 2}).json()
    assert [i["id"] for i in since] == everything[:2]


def test_fresh_fields_are_not_cached(world, client_for, make_user):
    c = client_for(world["viewer"])
    c.get("/api/v1/timelines/home")  # fill the caches
    alice, media_post = world["alice"], world["media_post"]
    s.do_update_media(alice, world["m1"], "a blue box")
    update_profile(alice, display_name="Alice II", bio="new bio")
    s.do_favourite(make_user(), media_post)
    s.do_unfavourite(world["viewer"], media_post)
    s.do_delete_post(alice, world["reply"])
    items = c.get("/api/v1/timelines/home", {"limit": 40}).json()
    pics = next(i for i in items if i["reblog"] and i["reblog"]["id"] == str(media_post.pk))["reblog"]
    assert pics["media_attachments"][0]["description"] == "a blue box"
    assert pics["account"]["display_name"] == "Alice II" and "new bio" in pics["account"]["note"]
    assert pics["favourites_count"] == 1 and pics["favourited"] is False
    assert str(world["reply"].pk) not in [i["id"] for i in items]
    for item in items:
        assert item == _reference(c, item["id"])


def test_query_count_is_fixed_cold_and_warm(world, client_for, make_user, run_jobs):
    c = client_for(world["viewer"])
    counts = []
    for limit in (2, 40, 40):  # cold (some posts), cold (the rest), warm
        with CaptureQueriesContext(connection) as ctx:
            assert c.get("/api/v1/timelines/home", {"limit": limit}).status_code == 200
        counts.append(len(ctx.captured_queries))
    # token; hidden/pulled ids; the page's posts with authors (and originals); media/tags/mentions/flags
    assert counts == [4, 4, 4], counts
    empty = client_for(make_user())
    with CaptureQueriesContext(connection) as ctx:
        assert empty.get("/api/v1/timelines/home").json() == []
    assert len(ctx.captured_queries) <= 3


@override_settings(FANOUT_THRESHOLD=1)
def test_pulled_accounts_render_the_same(world, client_for, make_user, run_jobs):
    # alice and bob now count as big accounts (pulled at read time) for followers that follow both
    fan = make_user("fan")
    s.do_follow(make_user(), world["alice"])
    s.do_follow(make_user(), world["bob"])
    with run_jobs():
        s.do_follow(fan, world["alice"])
        s.do_follow(fan, world["bob"])
    c = client_for(fan)
    with CaptureQueriesContext(connection) as ctx:
        items = c.get("/api/v1/timelines/home", {"limit": 40}).json()
    assert len(ctx.captured_queries) == 4
    assert {(i["reblog"] or i)["text"] for i in items} >= {"two pictures #Box @bob @nobody", "中文测试 #茶 hello @alice\n\nsecond paragraph\nline"}
    for item in items:
        assert item == _reference(c, item["id"])


def test_token_lookup_refuses_what_it_should(make_user, client_for):
    user = make_user()
    assert client_for(user).get("/api/v1/timelines/home").status_code == 200
    assert client_for(user, expires_in=timedelta(seconds=-1)).get("/api/v1/timelines/home").status_code == 401
    assert client_for(user, scope="write").get("/api/v1/timelines/home").status_code == 403
    app_only = client_for(None)  # a client-credentials token has no user: not enough for home
    assert app_only.get("/api/v1/timelines/home").status_code == 401
    assert app_only.get("/api/v1/apps/verify_credentials").status_code == 200
    bad = Client()
    bad.defaults["HTTP_AUTHORIZATION"] = "Bearer nope"
    assert bad.get("/api/v1/timelines/home").status_code == 401
    c = client_for(user)
    user.is_suspended = True
    user.save()
    assert c.get("/api/v1/timelines/home").status_code == 401


def test_token_lookup_returns_the_orm_objects(make_user, oauth_app):
    from oauth2_provider.models import get_access_token_model

    from tastemaker.accounts.bearer import active_token as _lookup

    user = make_user(interests=["a", "b"])
    raw = secrets.token_urlsafe(24)
    made = get_access_token_model().objects.create(user=user, application=oauth_app, token=raw, scope="read",
                                                   expires=timezone.now() + timedelta(days=1))
    with CaptureQueriesContext(connection) as ctx:
        row = _lookup(raw)
        assert row.user.interests == ["a", "b"] and row.user.is_active is True
    assert len(ctx.captured_queries) == 1
    assert row.application.name == oauth_app.name == "test app"  # loaded on access
    assert (row.pk, row.expires, row.scope, row.user.pk, row.user.date_joined) == (
        made.pk, made.expires, made.scope, user.pk, user.date_joined)
