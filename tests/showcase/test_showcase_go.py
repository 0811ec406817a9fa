"""/go/<token>: records the click-out and redirects only to the stored link; a corpus of open-redirect
payloads is refused when the card is made and never reflected by /go."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tastemaker.core.errors import ValidationFailed
from tastemaker.showcase.links import check_purchase_url, normalise_domain
from tastemaker.showcase.models import ClickOut

pytestmark = pytest.mark.django_db
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"
DOMAINS = ["shop.example.com"]

REDIRECT_PAYLOADS = [
    "//evil.example/", "///evil.example", "https://evil.example/", "https:evil.example", "https:/evil.example",
    "https://shop.example.com@evil.example/", "https://shop.example.com:@evil.example",
    "https://user:pw@shop.example.com/", "https://shop.example.com.evil.example/",
    "https://evilshop.example.com.evil.example/", "https://evil.example/shop.example.com",
    "https://evil.example?shop.example.com", "https://evil.example#shop.example.com",
    "https://evil.example\\.shop.example.com", "https:\\\\evil.example", "/\\evil.example", "\\\\evil.example",
    "javascript:alert(1)", "JavaScript://shop.example.com/%0aalert(1)", "data:text/html,<script>x</script>",
    "vbscript:msgbox", "file:///etc/passwd", "ftp://shop.example.com/", "http://shop.example.com%2f@evil.example",
    "https://shop.example.com%252f@evil.example", "https://shop%2eexample%2ecom/", "https://%73hop.example.com/",
    "https://shop.example.com:8080/", "https://shop.example.com:443/", "https://shop.example.com:/",
    "https://shop.example.com/\r\nSet-Cookie: x=1", "https://shop.example.com/%0d%0aLocation:%20https://evil",
    "https://shop.example.com/\nx", "https://shop.example.com/\tx", " https://shop.example.com/",
    "https://shop.example.com/ x", "https://127.0.0.1/", "https://2130706433/", "https://[::1]/",
    "https://ѕhop.example.com/", "https://shop.example.com\u3002evil.example/", "https://shop.example.com\x00.evil/",
    "https://evil.example\u2044shop.example.com", "", "   ", "https://", "http://",
]


@pytest.mark.parametrize("url", REDIRECT_PAYLOADS)
def test_redirect_payloads_refused_at_creation(url):
    with pytest.raises(ValidationFailed):
        check_purchase_url(url, DOMAINS)


@pytest.mark.parametrize("url", ["https://shop.example.com/p/1", "http://shop.example.com/p/1?a=b&c=d",
                                 "https://m.shop.example.com/item/9", "https://SHOP.example.com/p"])
def test_store_links_accepted(url):
    assert urlsplit(check_purchase_url(url, DOMAINS)).hostname.endswith("shop.example.com")


@pytest.mark.parametrize("value", ["*.shop.com", "127.0.0.1", "shop", "https://", "a b.com", "shop.com:80", "x@y.com",
                                   "-bad.com", "1.2.3.4"])
def test_bad_store_domains_refused(value):
    with pytest.raises(ValidationFailed):
        normalise_domain(value)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80))
def test_any_accepted_url_stays_on_the_store(text):
    for url in (text, "https://" + text, "https://shop.example.com" + text, "https://shop.example.com/" + text):
        try:
            clean = check_purchase_url(url, DOMAINS)
        except ValidationFailed:
            continue
        parts = urlsplit(clean)
        assert parts.scheme in ("http", "https")
        assert parts.hostname == "shop.example.com" or parts.hostname.endswith(".shop.example.com")
        assert "@" not in parts.netloc and parts.port is None
        assert not any(c in clean for c in "\r\n\t \x00\\")


def test_card_creation_refuses_payloads(make_user, card_input, store):
    from tastemaker.showcase.services import do_create_showcase_post

    author = make_user()
    for url in REDIRECT_PAYLOADS[:12]:
        with pytest.raises(ValidationFailed):
            do_create_showcase_post(author, text="x", card=card_input(author, url=url))


@pytest.fixture
def token(make_user, showcase_post):
    post = showcase_post(make_user("expert"))
    return post.card.links.get(primary=True).token


def test_go_redirects_to_the_stored_url_with_click_and_utm(client, token):
    response = client.get(f"/go/{token}", HTTP_USER_AGENT=BROWSER_UA)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "shop.example.com", "/p/cream-1")
    query = parse_qs(location.query)
    click = ClickOut.objects.get()
    assert query["tm_click"] == [str(click.pk)] and query["utm_source"] == ["tastemaker"]
    assert query["utm_medium"] == ["showcase"] and click.valid
    assert response.cookies["tm_vid"].value and click.viewer_key == "v" + response.cookies["tm_vid"].value


@pytest.mark.parametrize("extra", [
    "?next=https://evil.example", "?url=//evil.example&redirect=https://evil.example",
    "?tm_click=1&utm_source=evil", "/../../evil", "?%0d%0aSet-Cookie:x=1",
])
def test_go_never_reflects_the_request(client, token, extra):
    response = client.get(f"/go/{token}{extra}", HTTP_USER_AGENT=BROWSER_UA, HTTP_REFERER="https://evil.example/",
                          HTTP_HOST="testserver")
    if response.status_code == 302:
        location = response["Location"]
        assert urlsplit(location).netloc == "shop.example.com"
        assert "evil" not in location and "\r" not in location and "\n" not in location
        assert parse_qs(urlsplit(location).query)["utm_source"] == ["tastemaker"]
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("bad", ["nope", "x" * 40, "%0d%0a", "'; DROP TABLE x;--", "........"])
def test_unknown_tokens_404(client, bad):
    assert client.get(f"/go/{bad}").status_code == 404


def test_bot_prefetch_and_head_clicks_are_invalid(client, token):
    client.get(f"/go/{token}", HTTP_USER_AGENT="curl/8.0")
    client.get(f"/go/{token}", HTTP_USER_AGENT=BROWSER_UA, HTTP_SEC_PURPOSE="prefetch")
    client.head(f"/go/{token}", HTTP_USER_AGENT=BROWSER_UA)
    assert sorted(ClickOut.objects.values_list("invalid_reason", flat=True)) == ["bot", "head", "prefetch"]
    assert client.post(f"/go/{token}").status_code == 405


def test_signed_in_click_counts_for_the_viewer(client, token, make_user):
    fan = make_user("fan")
    client.force_login(fan)
    client.get(f"/go/{token}", HTTP_USER_AGENT=BROWSER_UA)
    client.get(f"/go/{token}", HTTP_USER_AGENT=BROWSER_UA)
    assert list(ClickOut.objects.order_by("id").values_list("viewer_key", "valid", "invalid_reason")) == [
        (f"u{fan.pk}", True, ""), (f"u{fan.pk}", False, "duplicate")]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_%./\\:@?&=#\r\n", max_size=30))
def test_go_location_is_always_the_store(client, token, junk):
    response = client.get(f"/go/{token}", {"u": junk}, HTTP_USER_AGENT=BROWSER_UA)
    assert response.status_code == 302
    assert urlsplit(response["Location"]).netloc == "shop.example.com"
    assert "\r" not in response["Location"] and "\n" not in response["Location"]


@pytest.mark.django_db(transaction=True)
def test_queued_clicks_are_written_by_the_background_writer(client, make_user, showcase_post, settings):
    """Production mode: /go answers at once and the click is written a few milliseconds later."""
    import time as _time

    from tastemaker.showcase.clicks import _writer

    token = showcase_post(make_user("expert2")).card.links.get(primary=True).token
    settings.SHOWCASE_CLICKS = "thread"
    settings.SHOWCASE_CLICK_INTERVAL_MS = 20
    responses = [client.get(f"/go/{token}", HTTP_USER_AGENT=BROWSER_UA) for _ in range(5)]
    ids = {int(parse_qs(urlsplit(r["Location"]).query)["tm_click"][0]) for r in responses}
    assert len(ids) == 5
    deadline = _time.monotonic() + 5
    while ClickOut.objects.filter(pk__in=ids).count() < 5 and _time.monotonic() < deadline:
        _time.sleep(0.05)
    rows = list(ClickOut.objects.filter(pk__in=ids).values_list("valid", "invalid_reason"))
    assert sorted(rows) == [(False, "duplicate")] * 4 + [(True, "")]  # one visitor cookie: repeats are invalid
    assert not _writer.queue
