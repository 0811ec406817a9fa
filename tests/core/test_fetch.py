"""core.fetch: the guard in front of every URL the server fetches. Real sockets, a real loopback server
(tests/fetchserver.py), no mocks. None of these tests touch the database."""

from __future__ import annotations

import ipaddress
import time

import pytest
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from fetchserver import FixtureServer, free_port
from tastemaker.core.errors import ValidationFailed
from tastemaker.core.fetch import FetchRefused, FetchResult, _check, _resolve, check_public_url, fetch

INTERNAL = [
    "http://127.0.0.1/",
    "http://127.0.0.1:80/",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://app.localhost/",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.1/",
    "http://0177.0.0.1/",
    "http://0177.0.0.01/",
    "http://127.0.0.1./",
    "http://１２７。０。０。１/",  # full-width digits, ideographic dots
    "http://0.0.0.0/",
    "http://0/",
    "http://[::1]/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::127.0.0.1]/",
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "http://[2002:a00:1::]/",  # 6to4 of 10.0.0.1
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "https://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://192.0.2.1/",  # documentation
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://metadata/",
    "http://instance-data/",
    "http://anything.internal/",
    "http://printer.local/",
    "http://intranet/",
]


@pytest.mark.parametrize("url", INTERNAL)
def test_internal_addresses_are_refused(url):
    with pytest.raises(FetchRefused) as err:
        check_public_url(url)
    assert err.value.message
    with pytest.raises(FetchRefused):
        fetch(url)  # the same checks run before any connection


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "Only http and https"),
        ("gopher://example.com/_x", "Only http and https"),
        ("ftp://example.com/a", "Only http and https"),
        ("data:text/html,<h1>x</h1>", "Only http and https"),
        ("javascript:alert(1)", "Only http and https"),
        ("//example.com/a", "Only http and https"),
        ("http://user:pass@example.com/", "user name or password"),
        ("http://user@example.com/", "user name or password"),
        ("http://example.com@127.0.0.1/", "user name or password"),
        ("http://example.com\\@127.0.0.1/", "control characters"),
        ("http://example.com/\r\nX-Injected: 1", "control characters"),
        ("http://example.com/a\nb", "control characters"),
        ("http://example.com/a b", "control characters"),
        ("http://example.com/\x00", "control characters"),
        ("http://exa mple.com/", "control characters"),
        ("http://example.com:8080/", "standard web ports"),
        ("http://example.com:22/", "standard web ports"),
        ("http://example.com:99999/", "not a valid web address"),
        ("http:///path", "no host name"),
        ("http://exa_mple..com/", "not valid"),
        ("http://example.123/", "not a valid address"),
        ("http://1.2.3.4.5/", "not a valid address"),
        ("http://256.1.1.1/", "not a valid address"),
        ("http://[fe80::1%25eth0]/", "zone"),
        ("http://example.com/" + "a" * 2100, "too long"),
        ("", "empty"),
    ],
)
def test_malformed_or_forbidden_links_are_refused_with_a_reason(url, reason):
    with pytest.raises(FetchRefused) as err:
        check_public_url(url)
    assert reason in err.value.message
    assert err.value.field == "url"
    assert isinstance(err.value, ValidationFailed)  # the HTTP layers turn it into a 422


def test_non_canonical_public_ipv4_is_refused_too():
    # 134744072 is 8.8.8.8: an address written in any other form than a.b.c.d is refused, public or not
    with pytest.raises(FetchRefused, match="four decimal numbers"):
        check_public_url("http://134744072/")
    assert check_public_url("http://8.8.8.8/") == "http://8.8.8.8/"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Shop.Example.COM/p/1?x=1#reviews", "http://shop.example.com/p/1?x=1"),
        ("https://example.com:443", "https://example.com/"),
        ("http://example.com:443/", "http://example.com:443/"),
        ("https://例子.中国/商品?名=茶", "https://xn--fsqu00a.xn--fiqs8s/%E5%95%86%E5%93%81?%E5%90%8D=%E8%8C%B6"),
        ("https://[2606:4700::1111]/", "https://[2606:4700::1111]/"),
        ("http://example.com/a%20b", "http://example.com/a%20b"),
    ],
)
def test_public_links_are_normalised(url, expected):
    assert check_public_url(url) == expected


@pytest.mark.parametrize("host", ["127.0.0.1", "2130706433", "0x7f.1", "0177.0.0.1", "127.1", "::ffff:127.0.0.1"])
def test_every_resolved_address_is_checked(host):
    """getaddrinfo reads these as 127.0.0.1; the resolution check catches them even past the static one."""
    target = _check("http://example.com/")
    bypass = type(target)(target.url, "http", host, 80, "/", None, False)
    with pytest.raises(FetchRefused, match="private, local or reserved"):
        _resolve(bypass)


# --- hypothesis: internal IPv4 in any spelling -----------------------------------------------------

INTERNAL_NETS = [ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10", "0.0.0.0/8",
)]


@st.composite
def internal_ipv4_links(draw):
    net = draw(st.sampled_from(INTERNAL_NETS))
    value = draw(st.integers(int(net.network_address), int(net.broadcast_address)))
    ip = ipaddress.IPv4Address(value)
    form = draw(st.sampled_from(["dotted", "decimal", "hex", "octal", "hex-dotted", "short"]))
    host = {
        "dotted": str(ip),
        "decimal": str(value),
        "hex": hex(value),
        "octal": ".".join(f"0{int(o):o}" for o in str(ip).split(".")),
        "hex-dotted": ".".join(hex(int(o)) for o in str(ip).split(".")),
        "short": f"{value >> 24}.{value & 0xFFFFFF}",
    }[form]
    return f"http://{host}/"


@settings(max_examples=300, deadline=None)
@given(internal_ipv4_links())
def test_internal_ipv4_in_any_form_is_refused(url):
    with pytest.raises(FetchRefused):
        check_public_url(url)


# --- against a real server on loopback --------------------------------------------------------------


def test_a_good_fetch(fixture_server):
    fixture_server.respond("/p", "<html><title>茶</title></html>", content_type="text/html; Charset=GBK")
    result = fetch(fixture_server.url("/p?id=1"))
    assert result == FetchResult(fixture_server.url("/p?id=1"), 200, "text/html", "gbk",
                                 "<html><title>茶</title></html>".encode())
    sent = fixture_server.requests[-1]
    assert sent.path == "/p?id=1"
    assert sent.headers["host"] == fixture_server.host_port
    assert sent.headers["user-agent"] == "TastemakerBot/0.1 (+product import)"
    assert sent.headers["accept"] == "text/html,application/xhtml+xml"
    assert "cookie" not in sent.headers


def test_allowance_is_exact_host_and_port(fixture_server):
    fixture_server.respond("/p", "<p>ok</p>")
    assert fetch(fixture_server.url("/p")).status == 200
    for url in (f"http://127.0.0.1:{free_port()}/p", f"http://localhost:{fixture_server.port}/p",
                f"http://127.0.0.2:{fixture_server.port}/p", "http://127.0.0.1/p", f"http://[::1]:{fixture_server.port}/p"):
        with pytest.raises(FetchRefused):
            fetch(url)


def test_without_the_allowance_the_fixture_server_is_refused():
    with FixtureServer() as server:
        server.respond("/p", "<p>ok</p>")
        with pytest.raises(FetchRefused, match="standard web ports"):
            fetch(server.url("/p"))
    assert server.requests == []


def test_redirects_are_followed_and_rechecked(fixture_server):
    fixture_server.respond("/final", "<p>here</p>")
    fixture_server.redirect("/b", "/final", status=301)
    fixture_server.redirect("/a", fixture_server.url("/b"), status=307)
    result = fetch(fixture_server.url("/a"))
    assert result.url == fixture_server.url("/final")
    assert result.body == b"<p>here</p>"
    assert [r.path for r in fixture_server.requests] == ["/a", "/b", "/final"]


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/iam/", "private, local or reserved"),
        ("http://[::ffff:169.254.169.254]/", "private, local or reserved"),
        ("http://metadata.google.internal/computeMetadata/v1/", "internal host name"),
        ("file:///etc/passwd", "Only http and https"),
        ("gopher://127.0.0.1:6379/_FLUSHALL", "Only http and https"),
        ("ftp://example.com/", "Only http and https"),
        ("data:text/html,hi", "Only http and https"),
        ("javascript:alert(1)", "Only http and https"),
        ("http://2130706433/", "four decimal numbers"),
    ],
)
def test_redirects_to_forbidden_places_are_refused(fixture_server, location, reason):
    fixture_server.redirect("/go", location)
    with pytest.raises(FetchRefused, match=reason):
        fetch(fixture_server.url("/go"))


def test_redirect_to_another_loopback_port_is_refused(fixture_server):
    with FixtureServer() as other:
        other.respond("/secret", "secret")
        fixture_server.redirect("/go", other.url("/secret"))
        with pytest.raises(FetchRefused, match="standard web ports"):
            fetch(fixture_server.url("/go"))
    assert other.requests == []


def test_too_many_redirects(fixture_server):
    for i in range(5):
        fixture_server.redirect(f"/r{i}", f"/r{i + 1}")
    fixture_server.respond("/r5", "<p>end</p>")
    with pytest.raises(FetchRefused, match="too many times"):
        fetch(fixture_server.url("/r0"))
    assert len(fixture_server.requests) == 4  # the first request and FETCH_MAX_REDIRECTS (3) more
    with override_settings(FETCH_MAX_REDIRECTS=5):
        assert fetch(fixture_server.url("/r0")).body == b"<p>end</p>"


def test_a_redirect_loop_ends(fixture_server):
    fixture_server.redirect("/loop", "/loop")
    with pytest.raises(FetchRefused, match="too many times"):
        fetch(fixture_server.url("/loop"))


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "chunked"])
def test_oversized_body_is_refused(fixture_server, declare_length):
    fixture_server.huge("/big", 3 * 1024 * 1024, declare_length=declare_length)
    with pytest.raises(FetchRefused, match="too large"):
        fetch(fixture_server.url("/big"))
    fixture_server.huge("/small", 10_000, declare_length=declare_length)
    with pytest.raises(FetchRefused, match=r"too large \(at most 9 KB\)"):
        fetch(fixture_server.url("/small"), max_bytes=9_999)
    assert len(fetch(fixture_server.url("/small"), max_bytes=10_000).body) == 10_000


def test_wrong_content_type_is_refused(fixture_server):
    fixture_server.respond("/img", b"\x89PNG...", content_type="image/png")
    fixture_server.respond("/none", b"<p>x</p>", content_type=None)
    allowed = ("text/html", "application/xhtml+xml")
    with pytest.raises(FetchRefused, match="type image/png"):
        fetch(fixture_server.url("/img"), allowed_types=allowed)
    with pytest.raises(FetchRefused, match="type unknown"):
        fetch(fixture_server.url("/none"), allowed_types=allowed)
    assert fetch(fixture_server.url("/img"), accept="image/*", allowed_types=("image/png",)).body == b"\x89PNG..."


@pytest.mark.parametrize("status", [404, 500, 204])
def test_error_statuses_are_refused_with_the_status(fixture_server, status):
    fixture_server.respond("/x", "<p>no</p>", status=status)
    if status == 204:
        assert fetch(fixture_server.url("/x")).status == 204
        return
    with pytest.raises(FetchRefused, match=f"HTTP status {status}"):
        fetch(fixture_server.url("/x"))


def test_a_missing_file_is_404(fixture_server):
    fixture_server.not_found("/gone")
    with pytest.raises(FetchRefused, match="HTTP status 404"):
        fetch(fixture_server.url("/gone"))


@override_settings(FETCH_TIMEOUT=1)
def test_a_silent_server_times_out(fixture_server):
    fixture_server.slow("/slow", delay=3)
    started = time.monotonic()
    with pytest.raises(FetchRefused, match="did not answer in time"):
        fetch(fixture_server.url("/slow"))
    assert time.monotonic() - started < 2


@override_settings(FETCH_TIMEOUT=1)
def test_a_trickling_server_hits_the_overall_deadline(fixture_server):
    # a byte every 0.2 s: no single read times out, the whole fetch does (deadline = 2 x FETCH_TIMEOUT)
    fixture_server.slow("/trickle", delay=4, trickle=True)
    started = time.monotonic()
    with pytest.raises(FetchRefused, match="did not answer in time"):
        fetch(fixture_server.url("/trickle"))
    assert time.monotonic() - started < 3


def test_nothing_listening_is_a_clear_refusal():
    port = free_port()
    with override_settings(FETCH_TEST_ALLOW=frozenset({f"127.0.0.1:{port}"})):
        with pytest.raises(FetchRefused, match="could not be reached"):
            fetch(f"http://127.0.0.1:{port}/")
