"""Property tests for unreadable input (issue 10, items 8 and 12): hypothesis puts lone surrogates and NUL
anywhere in JSON and form bodies, in every encoding a client could send them (``\\ud800`` escapes,
UTF-8-encoded surrogates, raw bytes), and nests JSON to any depth, against a handful of endpoints of every
kind (ninja, the profile update that parses its own body, OAuth, the web pages' events). Every one must be a
400 ``{"error": …}`` and store nothing; readable text must never be refused. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from urllib.parse import quote_from_bytes

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tastemaker.core.safeinput import MAX_JSON_DEPTH, BadInput, loads_json

pytestmark = pytest.mark.django_db
RUN = settings(max_examples=30, deadline=None, derandomize=True, database=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

LONE = st.one_of(st.integers(0xD800, 0xDFFF).map(chr), st.just("\x00"))
# text with one unreadable character somewhere (st.text never yields surrogates on its own)
UNREADABLE = st.tuples(st.text(max_size=12), LONE, st.text(max_size=12)).map("".join)


def _json_bytes(value, raw: bool) -> bytes:
    """JSON as a client could send it: escaped (``\\ud800``, ``\\u0000``), or with the characters themselves
    in UTF-8 (a surrogate then becomes the three bytes a strict decoder refuses)."""
    if raw:
        return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return json.dumps(value).encode()


ENDPOINTS = {
    "statuses": ("post", "/api/v1/statuses", lambda s: {"status": s}),
    "update_credentials": ("patch", "/api/v1/accounts/update_credentials", lambda s: {"display_name": s}),
    "interests": ("put", "/api/v1/tastemaker/interests", lambda s: {"verticals": ["beauty", s]}),
    "events": ("post", "/api/v1/tastemaker/events", lambda s: {"events": [{"type": "impression", "subject_id": s}]}),
    "oauth_token": ("post", "/oauth/token", lambda s: {"grant_type": "password", "username": s, "password": "x"}),
    "web_events": ("post", "/events", lambda s: {"events": [{"type": "impression", "subject_id": "1", "surface": s}]}),
}


@pytest.fixture
def token(make_user, token_for):
    return token_for(make_user("prop"))


def _call(method, path, body: bytes, content_type: str, token: str):
    client = Client()
    return getattr(client, method)(path, body, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {token}")


def _stored_nothing(user_pk) -> bool:
    from tastemaker.accounts.models import User
    from tastemaker.analytics.models import Event
    from tastemaker.social.models import Post

    user = User.objects.get(pk=user_pk)
    return not Post.objects.exists() and not Event.objects.exists() and user.display_name in ("", "prop")


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_unreadable_text_in_json_is_a_400(endpoint, token):
    from oauth2_provider.models import get_access_token_model

    method, path, shape = ENDPOINTS[endpoint]
    user_pk = get_access_token_model().objects.get(token=token).user_id

    # the web pages' endpoint answers JSON to JSON; a text/plain request there gets a plain-text 400
    types = ["application/json"] if path == "/events" else ["application/json", "text/plain"]

    @RUN
    @given(bad=UNREADABLE, raw=st.booleans(), content_type=st.sampled_from(types))
    def check(bad, raw, content_type):
        r = _call(method, path, _json_bytes(shape(bad), raw), content_type, token)
        assert r.status_code == 400, (r.status_code, r.content[:200])
        assert r.json()["error"]
        assert _stored_nothing(user_pk)

    check()


@pytest.mark.parametrize("endpoint", ["statuses", "update_credentials", "oauth_token"])
def test_unreadable_text_in_forms_is_a_400(endpoint, token):
    method, path, shape = ENDPOINTS[endpoint]

    @RUN
    @given(bad=UNREADABLE, extra=st.sampled_from([b"", b"\xff", b"\xc3"]))
    def check(bad, extra):
        fields = shape(bad)
        body = "&".join(f"{k}={quote_from_bytes(v.encode('utf-8', 'surrogatepass') + extra)}"
                        for k, v in fields.items()).encode()
        r = _call(method, path, body, "application/x-www-form-urlencoded", token)
        assert r.status_code == 400 and r.json()["error"], (r.status_code, r.content[:200])

    check()


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_json_nested_beyond_the_limit_is_a_400(endpoint, token):
    method, path, _shape = ENDPOINTS[endpoint]

    @RUN
    @given(depth=st.one_of(st.integers(MAX_JSON_DEPTH + 1, 200), st.integers(200, 60_000)),
           opener=st.sampled_from(["[", '{"a":', '[{"b":']), closed=st.booleans())
    def check(depth, opener, closed):
        closer = {"[": "]", '{"a":': "}", '[{"b":': "}]"}[opener]
        text = opener * depth + "1" + (closer * depth if closed else "")
        r = _call(method, path, text.encode(), "application/json", token)
        assert r.status_code == 400 and r.json()["error"], (r.status_code, r.content[:200])

    check()


READABLE = st.text(st.characters(exclude_characters="\x00"))  # st.text has no surrogates; NUL excluded


@RUN
@given(value=st.recursive(st.none() | st.booleans() | st.integers() | READABLE,
                          lambda inner: st.lists(inner, max_size=4) | st.dictionaries(READABLE, inner, max_size=4),
                          max_leaves=20))
def test_readable_json_parses_unchanged(value):
    assert loads_json(json.dumps(value).encode()) == value
    assert loads_json(json.dumps(value, ensure_ascii=False).encode()) == value


@RUN
@given(bad=UNREADABLE, where=st.sampled_from(["value", "key", "list"]), depth=st.integers(0, 10))
def test_unreadable_text_anywhere_in_json_is_bad_input(bad, where, depth):
    value = {"value": {"x": bad}, "key": {bad: 1}, "list": [1, [2, bad]]}[where]
    for _ in range(depth):
        value = [value] if depth % 2 else {"k": value}
    with pytest.raises(BadInput):
        loads_json(json.dumps(value).encode())


@RUN
@given(depth=st.integers(1, MAX_JSON_DEPTH), strings=st.text(alphabet="[]{}\"\\", max_size=10))
def test_brackets_inside_strings_do_not_count_towards_depth(depth, strings):
    value: object = strings
    for _ in range(depth):
        value = [value]
    assert loads_json(json.dumps(value)) == value
