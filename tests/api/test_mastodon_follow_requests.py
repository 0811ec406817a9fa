"""Mastodon API: follow requests to locked accounts, and bookmarks / favourites that respect visibility."""

from __future__ import annotations

import pytest

from tastemaker.social import services

pytestmark = pytest.mark.django_db

RELATIONSHIP_KEYS = {"id", "following", "showing_reblogs", "notifying", "languages", "followed_by", "blocking",
                     "blocked_by", "muting", "muting_notifications", "requested", "requested_by",
                     "domain_blocking", "endorsed", "note"}


def ids(response):
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()]


@pytest.fixture
def pair(api, make_user):
    boss, fan = make_user("boss"), make_user("fan")
    b, f = api(boss), api(fan)
    assert b.patch("/api/v1/accounts/update_credentials", {"locked": True}).json()["locked"] is True
    boss.refresh_from_db()
    return boss, fan, b, f


def test_follow_a_locked_account_then_authorize(pair, run_jobs):
    boss, fan, b, f = pair
    secret = b.post("/api/v1/statuses", {"status": "for followers", "visibility": "private"}).json()
    rel = f.post(f"/api/v1/accounts/{boss.pk}/follow").json()
    assert set(rel) == RELATIONSHIP_KEYS
    assert (rel["following"], rel["requested"]) == (False, True)
    assert f.get("/api/v1/accounts/relationships", {"id[]": [boss.pk]}).json()[0]["requested"] is True
    assert b.get("/api/v1/accounts/relationships", {"id[]": [fan.pk]}).json()[0]["requested_by"] is True
    # nothing before approval
    assert f.get(f"/api/v1/statuses/{secret['id']}").status_code == 404
    assert ids(f.get(f"/api/v1/accounts/{boss.pk}/statuses")) == []
    assert ids(f.get("/api/v1/timelines/home")) == []
    # the locked account sees the request: list, count, notification
    assert ids(b.get("/api/v1/follow_requests")) == [str(fan.pk)]
    assert b.get("/api/v1/accounts/verify_credentials").json()["source"]["follow_requests_count"] == 1
    notes = b.get("/api/v1/notifications").json()
    assert [(n["type"], n["account"]["id"]) for n in notes] == [("follow_request", str(fan.pk))]
    assert ids(b.get("/api/v1/notifications", {"types[]": ["follow_request"]})) == [notes[0]["id"]]
    # authorize: returns the relationship from the locked account's side
    with run_jobs():
        rel = b.post(f"/api/v1/follow_requests/{fan.pk}/authorize").json()
    assert set(rel) == RELATIONSHIP_KEYS
    assert (rel["id"], rel["followed_by"], rel["requested_by"]) == (str(fan.pk), True, False)
    assert ids(b.get("/api/v1/follow_requests")) == []
    assert [n["type"] for n in b.get("/api/v1/notifications").json()] == ["follow"]
    rel = f.get("/api/v1/accounts/relationships", {"id[]": [boss.pk]}).json()[0]
    assert (rel["following"], rel["requested"]) == (True, False)
    assert f.get(f"/api/v1/statuses/{secret['id']}").status_code == 200
    assert ids(f.get("/api/v1/timelines/home")) == [secret["id"]]  # backfilled after commit
    # answering twice: 404 with an error message
    again = b.post(f"/api/v1/follow_requests/{fan.pk}/authorize")
    assert again.status_code == 404 and again.json()["error"]


def test_reject_unfollow_cancels_and_errors(pair, api, make_user):
    boss, fan, b, f = pair
    f.post(f"/api/v1/accounts/{boss.pk}/follow")
    rel = b.post(f"/api/v1/follow_requests/{fan.pk}/reject").json()
    assert (rel["followed_by"], rel["requested_by"]) == (False, False)
    assert b.get("/api/v1/notifications").json() == []
    assert f.get("/api/v1/accounts/relationships", {"id[]": [boss.pk]}).json()[0]["requested"] is False
    # unfollow withdraws a pending request
    f.post(f"/api/v1/accounts/{boss.pk}/follow")
    rel = f.post(f"/api/v1/accounts/{boss.pk}/unfollow").json()
    assert (rel["following"], rel["requested"]) == (False, False)
    assert ids(b.get("/api/v1/follow_requests")) == []
    # bad and unknown ids are 404s, never 500s; an account cannot answer another's requests
    for bad in ("nope", "0", "99999999999999"):
        r = b.post(f"/api/v1/follow_requests/{bad}/authorize")
        assert r.status_code == 404 and r.json()["error"]
    f.post(f"/api/v1/accounts/{boss.pk}/follow")
    other = api(make_user("other"))
    assert other.post(f"/api/v1/follow_requests/{fan.pk}/authorize").status_code == 404
    assert other.post(f"/api/v1/follow_requests/{fan.pk}/reject").status_code == 404


def test_follow_requests_scopes_auth_and_pagination(pair, api, make_user):
    boss, _fan, b, _f = pair
    fans = [make_user(f"fan{i}") for i in range(3)]
    for user in fans:
        services.do_follow(user, boss)
    page = b.get("/api/v1/follow_requests", {"limit": 2})
    assert ids(page) == [str(fans[2].pk), str(fans[1].pk)]
    link = page.headers["Link"]
    assert 'rel="next"' in link and 'rel="prev"' in link
    next_url = link.split(";")[0].strip("<>")
    rest = b.get(next_url.split("testserver")[-1])
    assert ids(rest) == [str(fans[0].pk)]
    # anonymous: 401; a token without the scope: 403
    assert api().get("/api/v1/follow_requests").status_code == 401
    assert api().post(f"/api/v1/follow_requests/{fans[0].pk}/authorize").status_code == 401
    reader = api(boss, scope="read:statuses")
    assert reader.get("/api/v1/follow_requests").status_code == 403
    writer = api(boss, scope="read")
    assert writer.post(f"/api/v1/follow_requests/{fans[0].pk}/authorize").status_code == 403
    assert api(boss, scope="read:follows").get("/api/v1/follow_requests").status_code == 200
    assert api(boss, scope="write:follows").post(f"/api/v1/follow_requests/{fans[0].pk}/reject").status_code == 200


def test_unlocking_accepts_pending_requests(pair, run_jobs):
    boss, fan, b, f = pair
    f.post(f"/api/v1/accounts/{boss.pk}/follow")
    with run_jobs():
        assert b.patch("/api/v1/accounts/update_credentials", {"locked": False}).json()["locked"] is False
    assert f.get("/api/v1/accounts/relationships", {"id[]": [boss.pk]}).json()[0]["following"] is True
    assert b.get("/api/v1/accounts/verify_credentials").json()["followers_count"] == 1


def test_a_block_removes_requests_both_ways(pair):
    boss, fan, b, f = pair
    f.post(f"/api/v1/accounts/{boss.pk}/follow")
    b.post(f"/api/v1/accounts/{fan.pk}/block")
    assert ids(b.get("/api/v1/follow_requests")) == []
    assert f.get("/api/v1/accounts/relationships", {"id[]": [boss.pk]}).json()[0]["requested"] is False


def test_openapi_declares_the_follow_request_endpoints(api):
    spec = api().get("/api/openapi.json").json()["paths"]
    assert {"401", "403"} <= set(spec["/api/v1/follow_requests"]["get"]["responses"])
    for action in ("authorize", "reject"):
        responses = spec[f"/api/v1/follow_requests/{{account_id}}/{action}"]["post"]["responses"]
        assert {"200", "401", "403", "404"} <= set(responses)


# --- bookmarks and favourites use the visibility rule -----------------------------------------

@pytest.fixture
def marked(api, make_user):
    author, reader = make_user("author"), make_user("reader")
    a, r = api(author), api(reader)
    r.post(f"/api/v1/accounts/{author.pk}/follow")
    secret = a.post("/api/v1/statuses", {"status": "members only", "visibility": "private"}).json()
    public = a.post("/api/v1/statuses", {"status": "everyone"}).json()
    for status in (secret, public):
        assert r.post(f"/api/v1/statuses/{status['id']}/bookmark").status_code == 200
        assert r.post(f"/api/v1/statuses/{status['id']}/favourite").status_code == 200
    assert ids(r.get("/api/v1/bookmarks")) == [public["id"], secret["id"]]
    assert ids(r.get("/api/v1/favourites")) == [public["id"], secret["id"]]
    return author, reader, a, r, secret, public


def lists(r):
    return ids(r.get("/api/v1/bookmarks")), ids(r.get("/api/v1/favourites"))


def test_bookmarks_and_favourites_after_unfollow(marked):
    author, _reader, _a, r, _secret, public = marked
    r.post(f"/api/v1/accounts/{author.pk}/unfollow")
    assert lists(r) == ([public["id"]], [public["id"]])
    assert "members only" not in (r.get("/api/v1/bookmarks").content + r.get("/api/v1/favourites").content).decode()


def test_bookmarks_and_favourites_after_being_blocked(marked):
    _author, reader, a, r, _secret, _public = marked
    a.post(f"/api/v1/accounts/{reader.pk}/block")
    assert lists(r) == ([], [])


def test_bookmarks_and_favourites_after_blocking(marked):
    author, _reader, _a, r, _secret, public = marked
    r.post(f"/api/v1/accounts/{author.pk}/block")
    assert lists(r) == ([], [])  # issue 12, one rule: a block either way hides every post of the other account
    r.post(f"/api/v1/accounts/{author.pk}/unblock")
    assert lists(r) == ([public["id"]], [public["id"]])  # no longer a follower: the public one only
