"""``/api/v1/conversations`` and direct statuses (issue 14): Mastodon's Conversation shape, the requests folder
with accept and decline, the refusals as ``{"error": …}`` with their status, and the who-can-message-me setting
through ``update_credentials``."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_conversation_shape_and_the_requests_folder(api, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    a, b = api(alice), api(bob)
    sent = a.post("/api/v1/statuses", {"status": "@bob hello from a stranger", "visibility": "direct"})
    assert sent.status_code == 200 and sent.json()["visibility"] == "direct"
    assert b.get("/api/v1/conversations").json() == []  # Bob does not follow Alice: a request
    requests = b.get("/api/v1/conversations", {"folder": "requests"}).json()
    assert len(requests) == 1
    item = requests[0]
    assert set(item) >= {"id", "unread", "accounts", "last_status"}
    assert item["unread"] is True and [x["acct"] for x in item["accounts"]] == ["alice"]
    assert item["last_status"]["id"] == sent.json()["id"] and item["tastemaker_folder"] == "requests"
    accepted = b.post(f"/api/v1/conversations/{item['id']}/accept")
    assert accepted.status_code == 200 and accepted.json()["tastemaker_folder"] == "inbox"
    assert [c["id"] for c in b.get("/api/v1/conversations").json()] == [item["id"]]
    # an inbox conversation is removed, not declined
    declined = b.post(f"/api/v1/conversations/{item['id']}/decline")
    assert declined.status_code == 422 and "error" in declined.json()
    assert b.get("/api/v1/conversations", {"folder": "martians"}).status_code == 422


def test_decline_and_the_sender_sees_nothing_of_it(api, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    a, b = api(alice), api(bob)
    a.post("/api/v1/statuses", {"status": "@bob buy my stuff", "visibility": "direct"})
    cid = b.get("/api/v1/conversations", {"folder": "requests"}).json()[0]["id"]
    assert b.post(f"/api/v1/conversations/{cid}/decline").json() == {}
    assert b.get("/api/v1/conversations", {"folder": "requests"}).json() == []
    mine = a.get("/api/v1/conversations").json()  # the sender's own view is unchanged
    assert [c["id"] for c in mine] == [cid] and mine[0]["unread"] is False


def test_refusals_are_clear(api, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    make_user("shy", messages_from="nobody")
    a = api(alice)
    refused = a.post("/api/v1/statuses", {"status": "@shy hi", "visibility": "direct"})
    assert refused.status_code == 403 and refused.json()["error"] == "@shy does not accept direct messages."
    api(bob).post(f"/api/v1/accounts/{alice.pk}/block")
    blocked = a.post("/api/v1/statuses", {"status": "@bob hi", "visibility": "direct"})
    assert blocked.status_code == 403 and "blocked" in blocked.json()["error"]
    assert a.post("/api/v1/conversations/12345/read").status_code == 404
    assert a.post("/api/v1/conversations/not-an-id/read").status_code == 404
    assert api(alice, scope="read").post("/api/v1/conversations/12345/read").status_code == 403


def test_the_setting_through_update_credentials(api, make_user):
    alice = make_user("alice")
    a = api(alice)
    assert a.get("/api/v1/accounts/verify_credentials").json()["tastemaker_messages_from"] == "everyone"
    changed = a.patch("/api/v1/accounts/update_credentials", {"tastemaker_messages_from": "following"})
    assert changed.status_code == 200 and changed.json()["tastemaker_messages_from"] == "following"
    alice.refresh_from_db()
    assert alice.messages_from == "following"
    bad = a.patch("/api/v1/accounts/update_credentials", {"tastemaker_messages_from": "martians"})
    assert bad.status_code == 422 and bad.json()["field"] == "messages_from"
