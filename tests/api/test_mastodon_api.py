"""The Mastodon client API through Django's test client: shapes, rules, errors, query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tastemaker.social.models import Media, Post

PASSWORD = "Corr3ct-Horse-Battery"  # what make_user gives (tests/conftest.py)

pytestmark = pytest.mark.django_db


def test_health_and_instance(api):
    c = api()
    assert c.get("/api/health").json() == {"status": "ok"}
    v1 = c.get("/api/v1/instance").json()
    assert v1["version"].startswith("4.3.0")
    assert v1["configuration"]["statuses"]["max_characters"] == 2000
    v2 = c.get("/api/v2/instance").json()
    assert v2["api_versions"]["mastodon"] == 2
    assert v2["configuration"]["statuses"]["max_media_attachments"] == 9


def test_create_app_and_password_grant(api, make_user):
    user = make_user("alice")
    c = api()
    app = c.post("/api/v1/apps", {"client_name": "mine", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                                  "scopes": "read write"}).json()
    assert app["client_id"] and app["client_secret"]
    tok = c.client.post("/oauth/token", {"grant_type": "password", "username": user.email,
                                         "password": "Corr3ct-Horse-Battery", "client_id": app["client_id"],
                                         "client_secret": app["client_secret"], "scope": "read write"})
    assert tok.status_code == 200, tok.content
    body = tok.json()
    assert body["scope"] == "read write" and body["token_type"] == "Bearer" and body["created_at"] > 0
    me = c.client.get("/api/v1/accounts/verify_credentials", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert me.json()["username"] == "alice"
    bad = c.client.post("/oauth/token", {"grant_type": "password", "username": user.email, "password": "nope",
                                         "client_id": app["client_id"], "client_secret": app["client_secret"]})
    assert bad.status_code in (400, 401) and "error" in bad.json()
    revoked = c.client.post("/oauth/revoke", {"token": body["access_token"], "client_id": app["client_id"],
                                              "client_secret": app["client_secret"]})
    assert revoked.status_code == 200
    again = c.client.get("/api/v1/accounts/verify_credentials", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert again.status_code == 401 and again.json()["error"]


def test_app_validation(api):
    c = api()
    r = c.post("/api/v1/apps", {"client_name": "x"})
    assert r.status_code == 422 and "redirect_uris" in r.json()["error"]
    r = c.post("/api/v1/apps", {"client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "admin"})
    assert r.status_code == 422 and "scope" in r.json()["error"]


def test_register_needs_app_token_and_valid_input(api, oauth_app, token_for):
    from oauth2_provider.models import get_access_token_model

    c = api()
    assert c.post("/api/v1/accounts", {"username": "x", "email": "x@example.org", "password": "pw"}).status_code == 401
    app_token = get_access_token_model().objects.create(
        user=None, application=oauth_app, token="apptoken123", scope="read write follow",
        expires="2099-01-01T00:00:00Z")
    ac = api()
    ac.headers = {"HTTP_AUTHORIZATION": f"Bearer {app_token.token}"}
    bad = ac.post("/api/v1/accounts", {"username": "bad name", "email": "x@example.org",
                                       "password": "Corr3ct-Horse-Battery", "agreement": True})
    assert bad.status_code == 422 and bad.json()["field"] == "username"
    noagree = ac.post("/api/v1/accounts", {"username": "newbie", "email": "x@example.org",
                                           "password": "Corr3ct-Horse-Battery"})
    assert noagree.status_code == 422
    ok = ac.post("/api/v1/accounts", {"username": "newbie", "email": "x@example.org",
                                      "password": "Corr3ct-Horse-Battery", "agreement": True, "locale": "zh-CN"})
    assert ok.status_code == 200, ok.content
    token = ok.json()["access_token"]
    me = api()
    me.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    data = me.get("/api/v1/accounts/verify_credentials").json()
    assert data["username"] == "newbie" and data["source"]["language"] == "zh-hans"


def test_post_rules_and_errors(api, make_user, png_bytes):
    user = make_user()
    c = api(user)
    assert c.post("/api/v1/statuses", {"status": "x" * 2000}).status_code == 200
    too_long = c.post("/api/v1/statuses", {"status": "x" * 2001})
    assert too_long.status_code == 422 and "2000" in too_long.json()["error"]
    assert c.post("/api/v1/statuses", {"status": ""}).status_code == 422
    assert c.post("/api/v1/statuses", {"status": "hi", "visibility": "direct"}).status_code == 422  # no recipient
    assert c.post("/api/v1/statuses", {"status": "hi", "media_ids": ["999"]}).status_code == 422
    assert c.post("/api/v1/statuses", {"status": "hi", "in_reply_to_id": "12345"}).status_code == 404
    malformed = c.client.post("/api/v1/statuses", b"{not json", content_type="application/json", **c.headers)
    assert 400 <= malformed.status_code < 500
    assert Post.objects.filter(author=user).count() == 1


def test_media_upload_and_post_with_images(api, make_user, png_bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    user = make_user()
    c = api(user)
    ids = []
    for i in range(10):
        r = c.client.post("/api/v2/media", {"file": SimpleUploadedFile(f"a{i}.png", png_bytes(), "image/png"),
                                            "description": f"pic {i}"}, **c.headers)
        assert r.status_code == 200, r.content
        ids.append(r.json()["id"])
    assert r.json()["type"] == "image" and r.json()["meta"]["original"]["width"] == 64
    ten = c.post("/api/v1/statuses", {"status": "ten", "media_ids": ids})
    assert ten.status_code == 422 and "9" in ten.json()["error"]
    nine = c.post("/api/v1/statuses", {"status": "nine", "media_ids": ids[:9]})
    assert nine.status_code == 200 and len(nine.json()["media_attachments"]) == 9
    bad = c.client.post("/api/v2/media", {"file": SimpleUploadedFile("x.png", b"not an image", "image/png")},
                        **c.headers)
    assert bad.status_code == 422 and bad.json()["error"]
    other = api(make_user())
    stolen = other.post("/api/v1/statuses", {"status": "mine now", "media_ids": [ids[9]]})
    assert stolen.status_code == 422
    assert Media.objects.filter(post__isnull=False).count() == 9


def test_form_encoded_bodies_like_mastodon_py(api, make_user):
    c = api(make_user())
    r = c.post("/api/v1/statuses", {"status": "from a form", "sensitive": "1", "spoiler_text": "cw"}, json=False)
    assert r.status_code == 200 and r.json()["sensitive"] is True and r.json()["spoiler_text"] == "cw"


def test_follow_home_timeline_pagination_and_links(api, make_user, run_jobs):
    alice, bob = make_user("alice"), make_user("bob")
    a, b = api(alice), api(bob)
    rel = b.post(f"/api/v1/accounts/{alice.pk}/follow").json()
    assert rel["following"] is True
    with run_jobs():
        for i in range(25):
            assert a.post("/api/v1/statuses", {"status": f"post {i}"}).status_code == 200
    page1 = b.get("/api/v1/timelines/home", {"limit": 20})
    assert page1.status_code == 200
    items = page1.json()
    assert [s["content"] for s in items[:2]] == ["<p>post 24</p>", "<p>post 23</p>"]
    assert len(items) == 20
    link = page1.headers["Link"]
    assert f"max_id={items[-1]['id']}" in link and 'rel="next"' in link
    page2 = b.get("/api/v1/timelines/home", {"limit": 20, "max_id": items[-1]["id"]}).json()
    assert len(page2) == 5 and page2[0]["content"] == "<p>post 4</p>"
    newer = b.get("/api/v1/timelines/home", {"min_id": items[1]["id"]}).json()
    assert [s["content"] for s in newer] == ["<p>post 24</p>"]
    since = b.get("/api/v1/timelines/home", {"since_id": items[2]["id"]}).json()
    assert len(since) == 2
    assert b.get("/api/v1/timelines/home", {"max_id": "abc"}).status_code == 422
    # unfollow takes alice's posts out
    b.post(f"/api/v1/accounts/{alice.pk}/unfollow")
    assert b.get("/api/v1/timelines/home").json() == []


def test_home_timeline_query_count_does_not_grow_with_page_size(api, make_user, run_jobs, png_bytes, settings):
    from tastemaker.social import services

    settings.RATE_MEDIA = "100/300"  # forty uploads by one account

    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    services.do_follow(bob, alice)
    services.do_follow(bob, carol)
    with run_jobs():
        for i in range(40):
            m = services.do_upload_media(alice, png_bytes())
            p = services.do_create_post(alice, text=f"#tag{i % 3} hello @carol {i}", media_ids=[m.pk])
            if i % 4 == 0:
                services.do_reblog(carol, p)
                services.do_favourite(bob, p)
    c = api(bob)
    c.get("/api/v1/timelines/home", {"limit": 1})  # per-process caches (the deliverable campaigns) filled once
    counts = {}
    for limit in (5, 40):
        with CaptureQueriesContext(connection) as ctx:
            r = c.get("/api/v1/timelines/home", {"limit": limit})
        assert r.status_code == 200 and len(r.json()) == limit
        counts[limit] = len(ctx.captured_queries)
    assert counts[5] == counts[40], counts
    assert counts[40] <= 4, counts  # token, hidden+pulled ids, the page's posts, media+tags+mentions+flags


def test_status_actions_and_context(api, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    a, b = api(alice), api(bob)
    root = a.post("/api/v1/statuses", {"status": "root #Coffee"}).json()
    reply = b.post("/api/v1/statuses", {"status": "@alice nice", "in_reply_to_id": root["id"]}).json()
    assert reply["in_reply_to_id"] == root["id"] and reply["mentions"][0]["username"] == "alice"
    ctx = a.get(f"/api/v1/statuses/{root['id']}/context").json()
    assert [d["id"] for d in ctx["descendants"]] == [reply["id"]]
    ctx2 = a.get(f"/api/v1/statuses/{reply['id']}/context").json()
    assert [d["id"] for d in ctx2["ancestors"]] == [root["id"]]
    fav = b.post(f"/api/v1/statuses/{root['id']}/favourite").json()
    assert fav["favourited"] is True and fav["favourites_count"] == 1
    rb = b.post(f"/api/v1/statuses/{root['id']}/reblog").json()
    assert rb["reblog"]["id"] == root["id"] and rb["reblogged"] is True
    assert b.post(f"/api/v1/statuses/{root['id']}/reblog").json()["id"] == rb["id"]  # once only
    bm = b.post(f"/api/v1/statuses/{root['id']}/bookmark").json()
    assert bm["bookmarked"] is True
    assert [s["id"] for s in b.get("/api/v1/bookmarks").json()] == [root["id"]]
    tag = api().get("/api/v1/timelines/tag/coffee").json()
    assert [s["id"] for s in tag] == [root["id"]]
    notes = a.get("/api/v1/notifications").json()
    assert {n["type"] for n in notes} == {"mention", "favourite", "reblog"}
    # only the author can delete
    assert b.delete(f"/api/v1/statuses/{root['id']}").status_code == 404
    assert a.delete(f"/api/v1/statuses/{root['id']}").status_code == 200
    assert a.get(f"/api/v1/statuses/{root['id']}").status_code == 404
    assert a.get("/api/v1/statuses/notanumber").status_code == 404
    assert a.get("/api/v1/statuses/99999999999999999999999").status_code == 404


def test_block_mute_relationships(api, make_user, run_jobs):
    alice, bob = make_user("alice"), make_user("bob")
    a, b = api(alice), api(bob)
    b.post(f"/api/v1/accounts/{alice.pk}/follow")
    with run_jobs():
        a.post("/api/v1/statuses", {"status": "hello"})
    assert len(b.get("/api/v1/timelines/home").json()) == 1
    b.post(f"/api/v1/accounts/{alice.pk}/mute")
    assert b.get("/api/v1/timelines/home").json() == []
    rels = b.get("/api/v1/accounts/relationships", {"id[]": [alice.pk]}).json()
    assert rels[0]["muting"] is True and rels[0]["following"] is True
    b.post(f"/api/v1/accounts/{alice.pk}/unmute")
    a.post(f"/api/v1/accounts/{bob.pk}/block")
    rel = b.get("/api/v1/accounts/relationships", {"id[]": [alice.pk]}).json()[0]
    assert rel["following"] is False and rel["blocked_by"] is True
    refused = b.post(f"/api/v1/accounts/{alice.pk}/follow")
    assert refused.status_code == 403 and refused.json()["error"]
    assert b.post(f"/api/v1/accounts/{bob.pk}/follow").status_code == 422  # yourself


def test_scopes_are_enforced(api, make_user):
    reader = api(make_user(), scope="read")
    r = reader.post("/api/v1/statuses", {"status": "hi"})
    assert r.status_code == 403 and "scope" in r.json()["error"]
    assert reader.get("/api/v1/timelines/home").status_code == 200


def test_lookup_search_and_update_credentials(api, make_user, png_bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test.client import encode_multipart

    alice = make_user("alice", display_name="Alice 小红")
    c = api(alice)
    assert c.get("/api/v1/accounts/lookup", {"acct": "ALICE"}).json()["id"] == str(alice.pk)
    assert c.get("/api/v1/accounts/lookup", {"acct": "nobody"}).status_code == 404
    c.post("/api/v1/statuses", {"status": "今天推荐一款口红 lipstick"})
    found = c.get("/api/v2/search", {"q": "口红"}).json()
    assert len(found["statuses"]) == 1
    assert c.get("/api/v2/search", {"q": "alic", "type": "accounts"}).json()["accounts"][0]["username"] == "alice"
    assert c.get("/api/v2/search", {"q": "x", "type": "bogus"}).status_code == 422
    body = encode_multipart("BoUnDaRy", {"display_name": "Alice W", "note": "Beauty <b>expert</b>",
                                         "source[language]": "zh-hans",
                                         "avatar": SimpleUploadedFile("a.png", png_bytes(), "image/png")})
    r = c.client.patch("/api/v1/accounts/update_credentials", body,
                       content_type="multipart/form-data; boundary=BoUnDaRy", **c.headers)
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["display_name"] == "Alice W" and "&lt;b&gt;" in data["note"]
    assert data["source"]["language"] == "zh-hans" and "/media/" in data["avatar"]
    too_long = c.patch("/api/v1/accounts/update_credentials", {"display_name": "x" * 61})
    assert too_long.status_code == 422
    alice.refresh_from_db()
    assert alice.display_name == "Alice W"


def test_rate_limit_on_posting_gives_429_with_retry_after(api, make_user, settings):
    settings.RATE_POST = "2/10800"
    c = api(make_user())
    assert c.post("/api/v1/statuses", {"status": "1"}).status_code == 200
    assert c.post("/api/v1/statuses", {"status": "2"}).status_code == 200
    r = c.post("/api/v1/statuses", {"status": "3"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0 and r.json()["error"]
    assert Post.objects.count() == 2


def test_login_rate_limit_per_ip(api, make_user, settings):
    # the limit counts password checks (accounts.backends): the client must authenticate to get one
    settings.RATE_LOGIN_IP = "3/300"
    user = make_user()
    c = api()
    app = c.post("/api/v1/apps", {"client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                                  "scopes": "read"}).json()
    client = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    codes = [c.client.post("/oauth/token", {"grant_type": "password", "username": user.email, "password": "x",
                                            **client}).status_code for _ in range(3)]
    right = c.client.post("/oauth/token", {"grant_type": "password", "username": user.email,
                                           "password": PASSWORD, **client})
    assert codes == [400, 400, 400]
    assert right.status_code == 429 and int(right["Retry-After"]) > 0 and "rate limit" in right.json()["error"]


def test_openapi_schema_declares_errors(api):
    spec = api().get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    op = spec["paths"]["/api/v1/statuses"]["post"]
    assert {"401", "422", "429"} <= set(op["responses"])


def test_media_uploads_are_limited_and_bombs_refused_from_the_header(api, make_user, png_bytes, png_bomb, settings):
    """Issue 10, item 6: a 6300 × 6300 RGBA PNG is refused before decoding; uploads count per user, refused
    ones too, on every path that takes an image (media and profile pictures alike)."""
    import time

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test.client import encode_multipart

    settings.RATE_MEDIA = "3/300"
    c = api(make_user())
    start = time.perf_counter()
    bomb = c.client.post("/api/v2/media", {"file": SimpleUploadedFile("b.png", png_bomb(6300, 6300), "image/png")},
                         **c.headers)
    assert time.perf_counter() - start < 2
    assert bomb.status_code == 422 and "too many pixels" in bomb.json()["error"]
    ok = c.client.post("/api/v2/media", {"file": SimpleUploadedFile("a.png", png_bytes(), "image/png")}, **c.headers)
    assert ok.status_code == 200

    def set_avatar():
        body = encode_multipart("BoUnDaRy", {"avatar": SimpleUploadedFile("a.png", png_bytes(), "image/png")})
        return c.client.patch("/api/v1/accounts/update_credentials", body,
                              content_type="multipart/form-data; boundary=BoUnDaRy", **c.headers)

    assert set_avatar().status_code == 200  # the third image of the window
    for limited in (set_avatar(), *(c.client.post(path, {"file": SimpleUploadedFile("a.png", png_bytes(), "image/png")},
                                                  **c.headers) for path in ("/api/v2/media", "/api/v1/media"))):
        assert limited.status_code == 429 and limited.json()["error"] and int(limited["Retry-After"]) >= 1
    assert Media.objects.count() == 1
    assert c.get("/api/v1/instance").json()["configuration"]["media_attachments"]["image_matrix_limit"] == 4096 * 4096


def test_instance_counts_are_cached(api, make_user):
    """Mastodon apps call /api/v1/instance often: its two COUNT(*) run once per five minutes, not per call."""
    make_user("counted")
    first = api().get("/api/v1/instance").json()["stats"]
    assert first["user_count"] >= 1
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        again = api().get("/api/v1/instance").json()["stats"]
    assert again == first
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
