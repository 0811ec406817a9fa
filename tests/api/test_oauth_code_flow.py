"""The authorization-code flow, as Mastodon apps use it: authorize in the browser, exchange the code."""

import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _app(client, redirect):
    return client.post("/api/v1/apps", {"client_name": "phone app", "redirect_uris": redirect,
                                        "scopes": "read write"}, content_type="application/json").json()


def test_authorization_code_flow_with_redirect(make_user):
    user = make_user("alice")
    c = Client()
    app = _app(c, "https://app.example/callback")
    params = {"client_id": app["client_id"], "redirect_uri": "https://app.example/callback",
              "response_type": "code", "scope": "read write"}
    # not logged in: sent to the log-in page first
    first = c.get("/oauth/authorize", params)
    assert first.status_code == 302 and "/login" in first["Location"]
    c.force_login(user)
    page = c.get("/oauth/authorize", params)
    assert page.status_code == 200 and app["client_id"].encode() in page.content
    allowed = c.post("/oauth/authorize", {**params, "allow": "Authorize", "redirect_uri": params["redirect_uri"]})
    assert allowed.status_code == 302 and allowed["Location"].startswith("https://app.example/callback")
    code = parse_qs(urlparse(allowed["Location"]).query)["code"][0]
    token = Client().post("/oauth/token", {"grant_type": "authorization_code", "code": code,
                                           "redirect_uri": params["redirect_uri"], "client_id": app["client_id"],
                                           "client_secret": app["client_secret"]})
    assert token.status_code == 200, token.content
    access = token.json()["access_token"]
    me = Client().get("/api/v1/accounts/verify_credentials", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert me.json()["username"] == "alice"
    # a code works once
    again = Client().post("/oauth/token", {"grant_type": "authorization_code", "code": code,
                                           "redirect_uri": params["redirect_uri"], "client_id": app["client_id"],
                                           "client_secret": app["client_secret"]})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_authorization_code_flow_out_of_band(make_user):
    user = make_user("bob")
    c = Client()
    app = _app(c, "urn:ietf:wg:oauth:2.0:oob")
    c.force_login(user)
    params = {"client_id": app["client_id"], "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
              "response_type": "code", "scope": "read"}
    shown = c.post("/oauth/authorize", {**params, "allow": "Authorize"})
    assert shown.status_code == 200
    code = re.search(rb"<code>([^<]+)</code>", shown.content)
    assert code, shown.content[:2000]
    value = code.group(1).decode()
    token = Client().post("/oauth/token", {"grant_type": "authorization_code", "code": value,
                                           "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
                                           "client_id": app["client_id"], "client_secret": app["client_secret"]})
    assert token.status_code == 200, token.content
    assert token.json()["scope"] == "read"


def test_unknown_client_is_refused(make_user):
    c = Client()
    c.force_login(make_user("carol"))
    r = c.get("/oauth/authorize", {"client_id": "nope", "redirect_uri": "https://x.example/cb",
                                   "response_type": "code"})
    assert r.status_code in (200, 400) and b"client" in r.content.lower()
    assert "Location" not in r.headers
