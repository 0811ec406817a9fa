"""Bad input is a 4xx ``{"error": …}``, never a 500, and writes nothing (issue 10, items 8, 12 and 15):
every case the outside review reported — lone surrogates in JSON on eight endpoints, 50,000 nested ``[``,
impossible webhook dates — plus NUL bytes in ``text/plain`` JSON and in multipart forms, undecodable UTF-8
in forms and query strings, and ``visibility: "direct"`` without a recipient. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

pytestmark = pytest.mark.django_db

SURROGATE = '"a\\ud800b"'  # JSON text: a lone high surrogate between two letters
DEEP = "[" * 50_000
STORE_SCOPES = "read write follow push stores"


@pytest.fixture
def world(make_user, token_for, oauth_app, png_bytes, store_and_secrets):
    """A user with a token, an app token, an uploaded image and a partner store with its keys."""
    from oauth2_provider.models import get_access_token_model

    from tastemaker.social.services import do_upload_media

    user = make_user("fuzzed")
    app_token = get_access_token_model().objects.create(user=None, application=oauth_app, token="app-token-1",
                                                        scope="read write follow", expires="2099-01-01T00:00:00Z")
    return {"user": user, "token": token_for(user, STORE_SCOPES), "app_token": app_token.token,
            "media": do_upload_media(user, png_bytes()).pk, "store": store_and_secrets[0],
            "store_key": store_and_secrets[1].api_key, "client_id": oauth_app.client_id}


def _json(value: str, **fields) -> str:
    """A JSON object text with ``fields`` and the raw JSON text ``value`` under "bad"."""
    return json.dumps(fields)[:-1] + (", " if fields else "") + f'"bad": {value}}}'


def _send(method, path, body, content_type="application/json", token=None, **extra):
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return getattr(client, method)(path, body, content_type=content_type, **headers, **extra)


def _surrogate_cases(w):
    """Each endpoint with its JSON body, the lone surrogate where ``@@`` is."""
    yield "statuses", ("post", "/api/v1/statuses", '{"status": @@}', "application/json", w["token"])
    yield "update_credentials", ("patch", "/api/v1/accounts/update_credentials", '{"display_name": @@}',
                                 "application/json", w["token"])
    yield "media", ("put", f"/api/v1/media/{w['media']}", '{"description": @@}', "application/json", w["token"])
    yield "interests", ("put", "/api/v1/tastemaker/interests", '{"verticals": [@@]}', "application/json",
                        w["token"])
    yield "register", ("post", "/api/v1/accounts",
                       '{"username": @@, "email": "x@example.org", "password": "Corr3ct-Horse-Battery", '
                       '"agreement": true}', "application/json", w["app_token"])
    yield "catalog", ("post", "/api/v1/showcase/catalog",
                      '{"items": [{"external_id": "c1", "title": @@, "url": "https://shop.example.com/p/1", '
                      '"price": 100, "currency": "CNY", "stock": 1}]}', "application/json", w["store_key"])
    yield "store_create", ("post", "/api/v1/tastemaker/showcase/stores",
                           '{"name": @@, "domains": ["brand.example.com"]}', "application/json", w["token"])
    yield "oauth_token", ("post", "/oauth/token",
                          '{"grant_type": "password", "username": @@, "password": "x", "client_id": "CLIENT"}'
                          .replace("CLIENT", w["client_id"]), "application/json", None)


def _other_cases(w):
    yield "deep_update_credentials", ("patch", "/api/v1/accounts/update_credentials", DEEP, "application/json",
                                      w["token"])
    yield "deep_objects_statuses", ("post", "/api/v1/statuses", '{"a":' * 50_000, "application/json", w["token"])
    yield "deep_oauth_token", ("post", "/oauth/token", DEEP, "application/json", None)
    yield "nul_text_plain_statuses", ("post", "/api/v1/statuses", '{"status": "a\\u0000b"}', "text/plain",
                                      w["token"])
    yield "nul_raw_text_plain_statuses", ("post", "/api/v1/statuses", '{"status": "a\x00b"}', "text/plain",
                                          w["token"])
    yield "surrogate_key_statuses", ("post", "/api/v1/statuses", '{"st\\udc00atus": "x"}', "application/json",
                                     w["token"])
    yield "nul_multipart_update_credentials", (
        "patch", "/api/v1/accounts/update_credentials", encode_multipart(BOUNDARY, {"display_name": "a\x00b"}),
        MULTIPART_CONTENT, w["token"])
    # (the test client encodes a dict as multipart for POST; a PATCH body is sent as given)
    yield "nul_multipart_statuses", ("post", "/api/v1/statuses", {"status": "a\x00b"},
                                     MULTIPART_CONTENT, w["token"])
    yield "encoded_surrogate_form_statuses", ("post", "/api/v1/statuses", "status=a%ED%A0%80b",
                                              "application/x-www-form-urlencoded", w["token"])
    yield "bad_utf8_form_oauth_token", ("post", "/oauth/token", "grant_type=password&username=a%FFb&password=x",
                                        "application/x-www-form-urlencoded", None)
    yield "bad_utf8_json_statuses", ("post", "/api/v1/statuses", b'{"status": "a\xffb"}', "application/json",
                                     w["token"])


CASE_IDS = ["statuses", "update_credentials", "media", "interests", "register", "catalog", "store_create",
            "oauth_token", "deep_update_credentials", "deep_objects_statuses", "deep_oauth_token",
            "nul_text_plain_statuses", "nul_raw_text_plain_statuses", "surrogate_key_statuses",
            "nul_multipart_update_credentials", "nul_multipart_statuses", "encoded_surrogate_form_statuses",
            "bad_utf8_form_oauth_token", "bad_utf8_json_statuses"]


@pytest.mark.parametrize("case", CASE_IDS)
def test_bad_body_is_a_400_with_an_error_and_writes_nothing(world, case):
    from tastemaker.accounts.models import User
    from tastemaker.showcase.models import Offer, PartnerStore
    from tastemaker.social.models import Media, Post

    surrogates = {name: (m, p, b.replace("@@", SURROGATE), *rest) for name, (m, p, b, *rest) in _surrogate_cases(world)}
    method, path, body, content_type, token = (surrogates | dict(_other_cases(world)))[case]
    before = (Post.objects.count(), User.objects.count(), PartnerStore.objects.count(), Offer.objects.count())
    r = _send(method, path, body, content_type, token)
    assert r.status_code == 400, (r.status_code, r.content[:300])
    error = r.json()["error"]
    assert isinstance(error, str) and error
    assert before == (Post.objects.count(), User.objects.count(), PartnerStore.objects.count(),
                      Offer.objects.count())
    user = User.objects.get(pk=world["user"].pk)
    assert "\x00" not in user.display_name and "b" not in user.display_name
    assert Media.objects.get(pk=world["media"]).description == ""


def test_nul_and_bad_utf8_in_query_strings_are_refused(world):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {world['token']}"}
    for query in ("q=a%00b", "q=a%FFb", "q=a%ED%A0%80b"):
        r = Client().get(f"/api/v2/search?{query}", **auth)
        assert r.status_code == 400 and r.json()["error"], query
    page = Client().get("/search?q=a%00b")
    assert page.status_code == 400 and page["Content-Type"].startswith("text/plain")


def test_web_form_with_nul_or_bad_utf8_is_a_plain_400(make_user):
    client = Client()
    client.force_login(make_user("writer"))
    for body in ("text=a%00b", "text=a%FFb"):
        r = client.post("/compose", body, content_type="application/x-www-form-urlencoded")
        assert r.status_code == 400 and r["Content-Type"].startswith("text/plain")
    from tastemaker.social.models import Post

    assert not Post.objects.exists()


# --- signed webhooks with impossible dates (the signature is genuine: the dates are what is wrong) ----------

@pytest.mark.parametrize("occurred_at", ["2026-13-45T99:99:99", "9999-12-31T23:59Z", "0001-01-02",
                                         "1999-12-31T23:59:59Z", "2026-02-30T10:00:00Z", 10**20, -(10**12), 1e308,
                                         "x" * 5000, "+002026-05-01T00:00:00Z"])
def test_webhook_with_an_impossible_date_is_a_422_and_writes_nothing(world, signer, occurred_at):
    from tastemaker.showcase.models import Order, OrderEvent

    store = world["store"]
    body, headers = signer.deliver("order.paid", {"order_id": "A-1", "amount": 2000, "currency": "CNY",
                                                  "occurred_at": occurred_at})
    r = Client().post(f"/api/v1/showcase/stores/{store.pk}/webhooks", body, content_type="application/json",
                      headers=headers)
    assert r.status_code == 422, (r.status_code, r.content[:300])
    assert "occurred_at" in r.json()["error"]
    assert not Order.objects.exists() and not OrderEvent.objects.exists()


def test_webhook_accepts_real_dates(world, signer):
    from datetime import UTC, datetime

    from tastemaker.showcase.models import OrderEvent

    store = world["store"]
    for n, when in enumerate(("2025-05-01T12:30:00Z", "2025-05-01T20:30:00+08:00", "2025-05-01", 1746102600)):
        body, headers = signer.deliver("order.paid", {"order_id": f"A-{n}", "amount": 2000, "currency": "CNY",
                                                      "occurred_at": when})
        r = Client().post(f"/api/v1/showcase/stores/{store.pk}/webhooks", body, content_type="application/json",
                          headers=headers)
        assert r.status_code == 200, r.content
    times = [e.occurred_at for e in OrderEvent.objects.order_by("order__external_id")]
    assert times[0] == times[1] == datetime(2025, 5, 1, 12, 30, tzinfo=UTC)
    assert times[2] == datetime(2025, 5, 1, tzinfo=UTC)


@pytest.mark.parametrize("body", [f'{{"type": "order.paid", "data": {{"order_id": {SURROGATE}}}}}',
                                  '{"type": "order.paid", "data": {"order_id": "a\\u0000"}}', DEEP])
def test_signed_webhook_with_bad_text_is_a_400(world, signer, body):
    from tastemaker.showcase.models import OrderEvent

    store = world["store"]
    raw, headers = signer.deliver("order.paid", {}, body=body)
    r = Client().post(f"/api/v1/showcase/stores/{store.pk}/webhooks", raw, content_type="application/json",
                      headers=headers)
    assert r.status_code == 400 and r.json()["error"]
    assert not OrderEvent.objects.exists()


# --- Mastodon's visibility "direct" (issue 10, item 15; issue 14): a message with no recipient is a clear 422 ----

def test_direct_visibility_is_a_clear_422(world):
    from tastemaker.social.models import Post

    r = _send("post", "/api/v1/statuses", json.dumps({"status": "psst", "visibility": "direct"}),
              token=world["token"])
    assert r.status_code == 422
    assert r.json()["error"].startswith("A direct message needs a recipient") and r.json()["field"] == "status"
    form = _send("post", "/api/v1/statuses", "status=psst&visibility=direct", "application/x-www-form-urlencoded",
                 world["token"])
    assert form.status_code == 422 and "recipient" in form.json()["error"]
    assert not Post.objects.exists()
