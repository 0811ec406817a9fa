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
    from tastemaker.showcase.cards import do_create_showcase_post

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
    response = client.get(f"/go/{bad}")
    assert response.status_code == 404
    page = response.content.decode()  # the site's 404 page, styled, with the reason and a way back
    assert "<html" in page and "This purchase link does not exist (any more)." in page and 'href="/"' in page


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


@pytest.mark.parametrize("decision", ["reject", "suspend", "pending"])
def test_go_stops_for_a_store_no_longer_approved(client, token, operator, store, monkeypatch, decision):
    """A rejected, suspended or pending store's links 404; each process's cache of targets lasts 60 s."""
    import time as _time

    from tastemaker.showcase.clicks import link_target
    from tastemaker.showcase.models import StoreStatus
    from tastemaker.showcase.stores import do_decide_store
    from tastemaker.web import views_go

    assert client.get(f"/go/{token}", HTTP_USER_AGENT=BROWSER_UA).status_code == 302
    if decision == "reject":
        do_decide_store(operator, store, approve=False, note="counterfeits")
    else:
        store.status = StoreStatus.SUSPENDED if decision == "suspend" else StoreStatus.PENDING
        store.save(update_fields=["status"])
    assert link_target(token) is None
    later = _time.monotonic() + views_go._CACHE_SECONDS + 1
    monkeypatch.setattr(views_go.time, "monotonic", lambda: later)
    response = client.get(f"/go/{token}", HTTP_USER_AGENT=BROWSER_UA)
    assert response.status_code == 404 and "Location" not in response
    assert ClickOut.objects.count() == 1
    do_decide_store(operator, store, approve=True)
    assert link_target(token) is not None


# --- visitor ids --------------------------------------------------------------------------------

def test_visitor_ids_are_128_bit_hex_and_distinct():
    from tastemaker.web.visitors import new_visitor_id

    ids = [new_visitor_id() for _ in range(20_000)]
    assert all(len(v) == 32 and all(c in "0123456789abcdef" for c in v) for v in ids)
    assert len(set(ids)) == len(ids)


def _untemper(y: int) -> int:
    """The Mersenne Twister's state word behind one of its 32-bit outputs (the tempering undone)."""
    y ^= y >> 18
    y ^= (y << 15) & 0xEFC60000
    x = y
    for _ in range(4):
        x = y ^ ((x << 7) & 0x9D2C5680)
    y = x & 0xFFFFFFFF
    x = y
    for _ in range(2):
        x = y ^ (x >> 11)
    return x & 0xFFFFFFFF


def test_visitor_ids_cannot_be_predicted_from_earlier_ones():
    """Attribution keys on the visitor: 156 ids seen must not reveal the next (they do for a Mersenne Twister)."""
    import random

    from tastemaker.web.visitors import new_visitor_id

    words = []
    for _ in range(156):  # 156 × 128 bits = the generator's 624 words of state
        value = int(new_visitor_id(), 16)
        words.extend((value >> (32 * i)) & 0xFFFFFFFF for i in range(4))  # getrandbits fills low words first
    clone = random.Random()
    clone.setstate((3, tuple(_untemper(w) for w in words) + (624,), None))
    predicted = [f"{clone.getrandbits(128):032x}" for _ in range(3)]
    assert [new_visitor_id() for _ in range(3)] != predicted


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_visitor_ids_differ_after_a_fork():
    """A forked worker draws its own secret: it never repeats the ids its parent (or a sibling) hands out."""
    import os

    from tastemaker.web.visitors import new_visitor_id

    new_visitor_id()  # the parent's generator exists before the fork
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no database, no pytest; just the ids
        try:
            os.close(read)
            os.write(write, ",".join(new_visitor_id() for _ in range(3)).encode())
        finally:
            os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 4096):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    child = b"".join(chunks).decode().split(",")
    parent = [new_visitor_id() for _ in range(3)]
    assert len(child) == 3 and all(len(v) == 32 for v in child)
    assert not set(child) & set(parent)


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
