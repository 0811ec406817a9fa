"""Every conversation URL and API operation (issue 14), called by the sender, the recipient, a third party, an
account the sender blocked, and anonymous: participants are served, everyone else gets 404 (401 / the login
page when signed out), and no one else ever sees the message's text."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tastemaker.social import services as social

pytestmark = pytest.mark.django_db
TEXT = "the Axolotl restock is tomorrow"
ROLES = ["sender", "recipient", "third", "blocked", None]


@pytest.fixture
def world(make_user, oauth_app):
    from oauth2_provider.models import get_access_token_model

    alice, bob, carol, dave = (make_user(n) for n in ("alice", "bob", "carol", "dave"))
    social.do_follow(bob, alice)
    social.do_follow(carol, alice)  # a follower of the sender, not a recipient
    social.do_block(alice, dave)
    message = social.do_create_post(alice, text=f"@bob {TEXT}", visibility="direct")

    def token(user):
        return get_access_token_model().objects.create(
            user=user, application=oauth_app, token=secrets.token_urlsafe(24), scope="read write follow push",
            expires=timezone.now() + timedelta(days=1)).token

    return {"sender": alice, "recipient": bob, "third": carol, "blocked": dave, "message": message,
            "cid": message.conversation_id, "token": token}


def _call(world, role, method, path, body=None):
    client, headers = Client(), {}
    user = world[role] if role else None
    if path.startswith("/api/"):
        if user is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {world['token'](user)}"
        if method == "GET":
            return client.get(path, **headers)
        return client.generic(method, path, json.dumps(body or {}), content_type="application/json", **headers)
    if user is not None:
        client.force_login(user)
    if method == "GET":
        return client.get(path)
    return client.post(path, body or {})


# (method, path template, body): every operation that names a conversation or a message
NAMED = [
    ("GET", "/api/v1/statuses/{mid}", None),
    ("GET", "/api/v1/statuses/{mid}/context", None),
    ("POST", "/api/v1/conversations/{cid}/read", None),
    ("POST", "/api/v1/conversations/{cid}/accept", None),
    ("DELETE", "/api/v1/conversations/{cid}", None),
    ("GET", "/posts/{mid}", None),
    ("GET", "/messages/{cid}", None),
    ("POST", "/messages/{cid}", {"text": "a reply"}),
    ("GET", "/messages/{cid}/updates", None),
    ("POST", "/messages/{cid}/read", None),
    ("POST", "/messages/{cid}/accept", None),
    ("POST", "/messages/{cid}/remove", None),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method,template,body", NAMED)
def test_only_participants_reach_a_conversation(world, role, method, template, body):
    path = template.format(mid=world["message"].pk, cid=world["cid"])
    response = _call(world, role, method, path, body)
    assert response.status_code < 500
    content = response.content.decode()
    if role in ("sender", "recipient"):
        assert response.status_code in (200, 302), (role, path, response.status_code, content[:300])
        return
    if role is None and path.startswith("/api/") and "conversations" in path:
        assert response.status_code == 401, (path, response.status_code)
    elif role is None and not path.startswith(("/api/", "/posts/")):
        assert response.status_code == 302 and response["Location"].startswith(reverse(settings.LOGIN_URL))
    else:
        assert response.status_code == 404, (role, path, response.status_code, content[:300])
    assert TEXT not in content


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", ["/api/v1/conversations", "/api/v1/conversations?folder=requests", "/messages",
                                  "/messages?folder=requests"])
def test_lists_show_a_conversation_to_its_participants_only(world, role, path):
    response = _call(world, role, "GET", path)
    content = response.content.decode()
    if role is None:
        assert response.status_code in (401, 302)
    elif role in ("sender", "recipient") and "requests" not in path:
        assert response.status_code == 200 and TEXT in content
    else:
        assert response.status_code == 200 and TEXT not in content and str(world["cid"]) not in content


@pytest.mark.parametrize("path", ["/api/v1/statuses", "/messages/new/@alice"])
def test_a_blocked_account_cannot_write_to_the_one_who_blocked_it(world, path):
    body = {"status": "@alice hi", "visibility": "direct"} if path.startswith("/api/") else {"text": "hi"}
    response = _call(world, "blocked", "POST", path, body)
    assert response.status_code == 403
    assert "blocked" in response.content.decode()


def test_a_participant_blocked_since_cannot_write_on(world):
    social.do_block(world["recipient"], world["sender"])
    response = _call(world, "sender", "POST", f"/messages/{world['cid']}", {"text": "still there?"})
    assert response.status_code == 403 and "blocked" in response.content.decode()
    api = _call(world, "sender", "POST", "/api/v1/statuses",
                {"status": "still?", "visibility": "direct", "in_reply_to_id": str(world["message"].pk)})
    assert api.status_code == 403 and "blocked" in api.json()["error"]
    # the recipient no longer sees the sender's message in the list or the thread
    listed = _call(world, "recipient", "GET", "/api/v1/conversations").json()
    assert listed == []
    assert TEXT not in _call(world, "recipient", "GET", f"/messages/{world['cid']}").content.decode()
