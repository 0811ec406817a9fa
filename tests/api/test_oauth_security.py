"""Issue 10: tokens carry only registered scopes, write actions need write, native-app redirects
(private-use schemes, out-of-band) and PKCE."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client

PASSWORD = "Corr3ct-Horse-Battery"  # what make_user gives (tests/conftest.py)
pytestmark = pytest.mark.django_db


def _app(redirect="urn:ietf:wg:oauth:2.0:oob", scopes="read"):
    return Client().post("/api/v1/apps", {"client_name": "phone app", "redirect_uris": redirect, "scopes": scopes},
                         content_type="application/json")


def _client(app):
    return {"client_id": app["client_id"], "client_secret": app["client_secret"]}


# --- 10. scopes ---------------------------------------------------------------------------------

@pytest.mark.parametrize("asked", ["read write", "write", "read payments", "follow", "read write:statuses"])
def test_password_grant_refuses_scopes_the_app_did_not_register(make_user, asked):
    user = make_user("alice")
    app = _app(scopes="read").json()
    r = Client().post("/oauth/token", {"grant_type": "password", "username": user.username, "password": PASSWORD,
                                       "scope": asked, **_client(app)})
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"


def test_registered_scopes_and_their_granular_children_are_granted(make_user):
    user = make_user("alice")
    app = _app(scopes="read write:statuses").json()
    r = Client().post("/oauth/token", {"grant_type": "password", "username": user.username, "password": PASSWORD,
                                       "scope": "read:accounts write:statuses", **_client(app)})
    assert r.status_code == 200, r.content
    assert set(r.json()["scope"].split()) == {"read:accounts", "write:statuses"}


def test_client_credentials_and_authorize_refuse_unregistered_scopes(make_user):
    app = _app(scopes="read").json()
    cc = Client().post("/oauth/token", {"grant_type": "client_credentials", "scope": "read write", **_client(app)})
    assert cc.status_code == 400 and cc.json()["error"] == "invalid_scope"
    ok = Client().post("/oauth/token", {"grant_type": "client_credentials", "scope": "read", **_client(app)})
    assert ok.status_code == 200 and ok.json()["scope"] == "read"
    c = Client()
    c.force_login(make_user("alice"))
    params = {"client_id": app["client_id"], "redirect_uri": "urn:ietf:wg:oauth:2.0:oob", "response_type": "code",
              "scope": "read write"}
    shown = c.get("/oauth/authorize", params)
    assert shown.status_code == 400 and b"invalid_scope" in shown.content and b"<code>" not in shown.content
    allowed = c.post("/oauth/authorize", {**params, "allow": "Authorize"})
    assert allowed.status_code == 400 and b"<code>" not in allowed.content
    from tastemaker.accounts.bearer import AccessToken

    assert not AccessToken.objects.filter(user__username="alice").exists()


def _read_token(api, user):
    return api(user, scope="read")


def test_a_read_token_cannot_report_events(api, make_user):
    user = make_user("alice")
    body = {"events": [{"type": "impression", "subject_type": "post", "subject_id": "1", "surface": "home"}]}
    r = _read_token(api, user).post("/api/v1/tastemaker/events", body)
    assert r.status_code == 403 and r.json()["error"]
    assert api(user, scope="read write").post("/api/v1/tastemaker/events", body).status_code == 200


def test_a_read_token_cannot_dismiss_suggestions(api, make_user):
    user, other = make_user("alice"), make_user("bob")
    r = _read_token(api, user).delete(f"/api/v1/suggestions/{other.pk}")
    assert r.status_code == 403 and r.json()["error"]
    from tastemaker.discovery.models import SuggestionDismissal

    assert not SuggestionDismissal.objects.exists()
    assert api(user, scope="read write:accounts").delete(f"/api/v1/suggestions/{other.pk}").status_code == 200


def test_a_read_app_token_cannot_register_accounts(make_user):
    from tastemaker.accounts.models import User

    for scopes, expected in (("read", 403), ("read write", 200)):
        app = _app(scopes=scopes).json()
        tok = Client().post("/oauth/token", {"grant_type": "client_credentials", "scope": scopes, **_client(app)})
        token = tok.json()["access_token"]
        name = f"new{expected}"
        r = Client().post("/api/v1/accounts", {"username": name, "email": f"{name}@example.org",
                                               "password": PASSWORD, "agreement": True, "locale": "en"},
                          content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert r.status_code == expected, r.content
        assert User.objects.filter(username=name).exists() == (expected == 200)


def test_getting_media_needs_the_media_scope(api, make_user, png_bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    user = make_user("alice")
    writer = api(user, scope="read write")
    up = writer.client.post("/api/v2/media", {"file": SimpleUploadedFile("a.png", png_bytes(), "image/png")},
                            **writer.headers)
    assert up.status_code in (200, 202), up.content
    media_id = up.json()["id"]
    assert writer.get(f"/api/v1/media/{media_id}").status_code == 200
    r = _read_token(api, user).get(f"/api/v1/media/{media_id}")
    assert r.status_code == 403 and r.json()["error"]


# --- 15. native-app redirects, out-of-band, PKCE --------------------------------------------------

def _authorize(c, app, redirect, **extra):
    params = {"client_id": app["client_id"], "redirect_uri": redirect, "response_type": "code", "scope": "read",
              **extra}
    page = c.get("/oauth/authorize", params)
    allowed = c.post("/oauth/authorize", {**params, "allow": "Authorize"})
    return page, allowed


def test_native_app_redirect_with_a_private_scheme(make_user):
    app = _app("myapp://cb").json()
    c = Client()
    c.force_login(make_user("alice"))
    page, allowed = _authorize(c, app, "myapp://cb", state="xyz")
    assert page.status_code == 200 and b"phone app" in page.content
    assert allowed.status_code == 302 and allowed["Location"].startswith("myapp://cb?")
    query = parse_qs(urlparse(allowed["Location"]).query)
    assert query["state"] == ["xyz"]
    token = Client().post("/oauth/token", {"grant_type": "authorization_code", "code": query["code"][0],
                                           "redirect_uri": "myapp://cb", **_client(app)})
    assert token.status_code == 200 and token.json()["scope"] == "read"


def test_a_private_scheme_works_only_for_the_app_that_registered_it(make_user):
    mine = _app("myapp://cb").json()
    other = _app("https://other.example/cb").json()
    c = Client()
    c.force_login(make_user("alice"))
    _page, allowed = _authorize(c, other, "myapp://cb")
    assert allowed.status_code == 400 and "Location" not in allowed
    _page, wrong_uri = _authorize(c, mine, "myapp://elsewhere")
    assert wrong_uri.status_code == 400 and "Location" not in wrong_uri


@pytest.mark.parametrize("uri", ["javascript://alert(1)", "data:text/html,hi", "file:///etc/passwd",
                                 "vbscript:msgbox", "myapp://cb#frag", "https:nohost", "not a uri"])
def test_dangerous_redirect_uris_are_refused_at_registration(uri):
    r = _app(uri)
    assert r.status_code == 422 and "redirect_uris" in r.json()["error"]


def test_out_of_band_still_shows_the_code(make_user):
    app = _app().json()
    c = Client()
    c.force_login(make_user("alice"))
    _page, shown = _authorize(c, app, "urn:ietf:wg:oauth:2.0:oob")
    assert shown.status_code == 200 and b"<code>" in shown.content


def test_pkce_s256_is_checked(make_user):
    app = _app("myapp://cb").json()
    c = Client()
    c.force_login(make_user("alice"))
    verifier = "v" * 20 + "-verifier-with-enough-entropy-1234567890"
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    codes = []
    for _ in range(2):
        _page, allowed = _authorize(c, app, "myapp://cb", code_challenge=challenge, code_challenge_method="S256")
        codes.append(parse_qs(urlparse(allowed["Location"]).query)["code"][0])
    exchange = {"grant_type": "authorization_code", "redirect_uri": "myapp://cb", **_client(app)}
    wrong = Client().post("/oauth/token", {**exchange, "code": codes[0], "code_verifier": "x" * 43})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    missing = Client().post("/oauth/token", {**exchange, "code": codes[1]})
    assert missing.status_code == 400
    _page, allowed = _authorize(c, app, "myapp://cb", code_challenge=challenge, code_challenge_method="S256")
    code = parse_qs(urlparse(allowed["Location"]).query)["code"][0]
    right = Client().post("/oauth/token", {**exchange, "code": code, "code_verifier": verifier})
    assert right.status_code == 200, right.content
