"""Issue 10: log-in limits everywhere a password is checked, tokens that end with the password,
shorter token lifetimes, and the authorised-apps page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tastemaker.accounts import services

PASSWORD = "Corr3ct-Horse-Battery"  # what make_user gives (tests/conftest.py)
NEW_PASSWORD = "Another-Long-Passphrase-9"
OOB = "urn:ietf:wg:oauth:2.0:oob"
pytestmark = pytest.mark.django_db


def _app(scopes="read write"):
    return Client().post("/api/v1/apps", {"client_name": "phone app", "redirect_uris": OOB, "scopes": scopes,
                                          "website": "https://app.example"},
                         content_type="application/json").json()


def _password_grant(app, username, password, scope="read", **extra):
    return Client(**extra).post("/oauth/token", {
        "grant_type": "password", "username": username, "password": password, "scope": scope,
        "client_id": app["client_id"], "client_secret": app["client_secret"]})


def _me(token):
    return Client().get("/api/v1/accounts/verify_credentials", HTTP_AUTHORIZATION=f"Bearer {token}")


# --- 3. log-in limits: admin, web, password grant; per IP and per account ------------------------

def test_admin_login_is_limited_even_for_the_right_password(make_user):
    make_user("opsteam", is_staff=True, is_superuser=True)
    c = Client()
    for _ in range(45):
        c.post("/admin/login/", {"username": "opsteam", "password": "wrong-guess", "next": "/admin/"})
    right = c.post("/admin/login/", {"username": "opsteam", "password": PASSWORD, "next": "/admin/"})
    assert right.status_code == 429
    assert int(right["Retry-After"]) > 0
    assert "Try again in" in right.content.decode()
    assert "_auth_user_id" not in c.session
    assert c.get("/admin/").status_code == 302  # still logged out


def test_admin_login_works_below_the_limit(make_user):
    make_user("opsteam", is_staff=True, is_superuser=True)
    c = Client()
    c.post("/admin/login/", {"username": "opsteam", "password": "wrong-guess", "next": "/admin/"})
    right = c.post("/admin/login/", {"username": "opsteam", "password": PASSWORD, "next": "/admin/"})
    assert right.status_code == 302 and c.get("/admin/").status_code == 200


def test_failed_logins_per_account_count_across_addresses(make_user, settings):
    settings.RATE_LOGIN_ACCOUNT = "5/900"
    make_user("bob")
    for i in range(5):  # five addresses, one failure each: the per-IP limit never trips
        r = Client(REMOTE_ADDR=f"198.51.100.{i + 1}").post(reverse("web:login"),
                                                           {"username": "bob", "password": "nope"})
        assert r.status_code == 400
    web = Client(REMOTE_ADDR="203.0.113.50")
    locked = web.post(reverse("web:login"), {"username": "BOB@example.org", "password": PASSWORD})
    assert locked.status_code == 429 and "Try again in" in locked.content.decode()
    assert "_auth_user_id" not in web.session
    # the OAuth password grant is the same rule, with a JSON error
    app = _app()
    grant = _password_grant(app, "bob", PASSWORD, REMOTE_ADDR="203.0.113.51")
    assert grant.status_code == 429 and "rate limit" in grant.json()["error"] and int(grant["Retry-After"]) > 0
    # another account is not affected
    make_user("carol")
    assert web.post(reverse("web:login"), {"username": "carol", "password": PASSWORD}).status_code == 302


def test_successful_login_clears_the_accounts_failures(make_user, settings):
    settings.RATE_LOGIN_ACCOUNT = "3/900"
    make_user("bob")
    c = Client()
    for _ in range(2):
        assert c.post(reverse("web:login"), {"username": "bob", "password": "nope"}).status_code == 400
    assert c.post(reverse("web:login"), {"username": "bob", "password": PASSWORD}).status_code == 302
    c.post(reverse("web:logout"))
    for _ in range(2):  # would be the 3rd and 4th failure without the reset
        assert c.post(reverse("web:login"), {"username": "bob", "password": "nope"}).status_code == 400
    assert c.post(reverse("web:login"), {"username": "bob", "password": PASSWORD}).status_code == 302


def test_unknown_accounts_are_limited_alike(settings):
    settings.RATE_LOGIN_ACCOUNT = "2/900"
    codes = [Client(REMOTE_ADDR=f"198.51.100.{i}").post(reverse("web:login"),
                                                        {"username": "ghost", "password": "nope"}).status_code
             for i in range(1, 4)]
    assert codes == [400, 400, 429]  # the same answers as for a real account: no enumeration


# --- 5. tokens end with the password; lifetimes; authorised apps ----------------------------

def _token(user, scope="read write", scopes=None):
    app = _app(scopes or scope)
    r = _password_grant(app, user.username, PASSWORD, scope=scope)
    assert r.status_code == 200, r.content
    return app, r.json()


def test_password_change_on_the_web_revokes_tokens_and_other_sessions(make_user):
    user = make_user("alice")
    app, token = _token(user)
    assert _me(token["access_token"]).status_code == 200
    other = Client()
    other.post(reverse("web:login"), {"username": "alice", "password": PASSWORD})
    assert other.get(reverse("web:settings")).status_code == 200
    web = Client()
    web.post(reverse("web:login"), {"username": "alice", "password": PASSWORD})
    r = web.post(reverse("web:password"), {"old_password": PASSWORD, "new_password": NEW_PASSWORD,
                                           "new_password2": NEW_PASSWORD})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert _me(token["access_token"]).status_code == 401
    refreshed = Client().post("/oauth/token", {"grant_type": "refresh_token", "refresh_token": token["refresh_token"],
                                               "client_id": app["client_id"], "client_secret": app["client_secret"]})
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
    assert web.get(reverse("web:settings")).status_code == 200  # this session stays
    assert other.get(reverse("web:settings")).status_code == 302  # the other one is logged out


def test_password_set_by_an_operator_revokes_tokens_too(make_user, client):
    user = make_user("alice")
    _app_, token = _token(user)
    client.force_login(make_user("opsteam", is_staff=True, is_superuser=True))
    r = client.post(reverse("admin:auth_user_password_change", args=[user.pk]),
                    {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert r.status_code == 302, r.content.decode()[:3000]
    assert _me(token["access_token"]).status_code == 401


def test_a_failed_password_change_keeps_the_tokens(make_user):
    user = make_user("alice")
    _app_, token = _token(user)
    with pytest.raises(Exception):  # noqa: B017 - ValidationFailed; the point is what it leaves alone
        services.change_password(user, old_password="wrong", new_password=NEW_PASSWORD)
    assert _me(token["access_token"]).status_code == 200


def test_token_lifetimes_follow_the_scopes(make_user, settings):
    user = make_user("alice")
    _app_, ordinary = _token(user)
    assert ordinary["expires_in"] == settings.TOKEN_LIFETIME == 30 * 24 * 3600
    assert ordinary["refresh_token"]
    app, money = _token(user, scope="read payments")
    assert money["expires_in"] == settings.MONEY_TOKEN_LIFETIME == 3600
    from oauth2_provider.models import get_access_token_model

    row = get_access_token_model().objects.filter(application__client_id=app["client_id"]).get()
    remaining = (row.expires - row.created).total_seconds()
    assert 3590 < remaining < 3610
    # a refresh gives a new short-lived token with the same scopes
    r = Client().post("/oauth/token", {"grant_type": "refresh_token", "refresh_token": money["refresh_token"],
                                       "client_id": app["client_id"], "client_secret": app["client_secret"]})
    assert r.status_code == 200, r.content
    assert r.json()["expires_in"] == 3600 and set(r.json()["scope"].split()) == {"read", "payments"}


def test_authorised_apps_page_lists_and_revokes(make_user):
    user = make_user("alice")
    app, token = _token(user, scope="read write")
    app2, token2 = _token(user, scope="read")
    other_user = make_user("bob")
    _token_other = _password_grant(app, "bob", PASSWORD).json()
    c = Client()
    c.force_login(user)
    page = c.get(reverse("web:apps"))
    assert page.status_code == 200
    body = page.content.decode()
    assert body.count(">Revoke</button>") == 2 and "phone app" in body and "read write" in body and "https://app.example" in body
    from oauth2_provider.models import get_application_model

    app_row = get_application_model().objects.get(client_id=app["client_id"])
    assert reverse("web:revoke_app", args=[app_row.pk]) in body
    assert c.get(reverse("web:revoke_app", args=[app_row.pk])).status_code == 405
    r = c.post(reverse("web:revoke_app", args=[app_row.pk]))
    assert r.status_code == 302 and r["Location"] == reverse("web:apps")
    assert _me(token["access_token"]).status_code == 401
    assert _me(token2["access_token"]).status_code == 200  # the other app keeps its token
    assert _me(_token_other["access_token"]).status_code == 200  # and bob keeps his with the same app
    assert other_user.username == "bob"
    after = c.get(reverse("web:apps")).content.decode()
    assert after.count(">Revoke</button>") == 1 and "can no longer use your account" in after
    assert c.post(reverse("web:revoke_app", args=[987654321])).status_code == 404


def test_authorised_apps_page_needs_login_and_csrf(make_user):
    anonymous = Client()
    assert anonymous.get(reverse("web:apps"))["Location"].startswith(reverse("web:login"))
    r = anonymous.post(reverse("web:revoke_app", args=[1]))
    assert r.status_code == 302 and r["Location"].startswith(reverse("web:login"))
    user = make_user("alice")
    app, token = _token(user)
    from oauth2_provider.models import get_application_model

    app_row = get_application_model().objects.get(client_id=app["client_id"])
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post(reverse("web:revoke_app", args=[app_row.pk])).status_code == 403
    assert _me(token["access_token"]).status_code == 200
