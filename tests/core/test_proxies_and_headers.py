"""Issue 10: the client's address behind trusted proxies (9), and the security headers (13)."""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from tastemaker.core.proxies import client_ip

PASSWORD = "Corr3ct-Horse-Battery"  # what make_user gives (tests/conftest.py)
PROXIES = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "2001:db8::/32"))
SRC = Path(__file__).resolve().parents[2] / "src"


def _request(remote, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(("remote", "forwarded", "expected"), [
    ("203.0.113.7", None, "203.0.113.7"),  # no proxy
    ("203.0.113.7", "198.51.100.1", "203.0.113.7"),  # spoofed by an untrusted peer: ignored
    ("10.0.0.2", "198.51.100.1", "198.51.100.1"),  # through our proxy
    ("10.0.0.2", "1.1.1.1, 198.51.100.1", "198.51.100.1"),  # the client's own header is left of it
    ("10.0.0.2", "198.51.100.1, 10.0.0.9", "198.51.100.1"),  # two trusted hops
    ("10.0.0.2", "198.51.100.1:4711", "198.51.100.1"),  # with a port
    ("2001:db8::5", "[2001:db8:ffff::1]:443, 2001:db8::6", "2001:db8:ffff::1"),  # all IPv6, trusted range
    ("::ffff:10.0.0.2", "198.51.100.1", "198.51.100.1"),  # IPv4-mapped peer
    ("10.0.0.2", "garbage, 198.51.100.1", "198.51.100.1"),
    ("10.0.0.2", "198.51.100.1, garbage", "10.0.0.2"),  # a broken hop: stop at the proxy, never trust it
    ("10.0.0.2", "", "10.0.0.2"),
    ("10.0.0.2", "10.0.0.3", "10.0.0.3"),  # only proxies: the furthest one
])
def test_client_ip(remote, forwarded, expected):
    with override_settings(TRUSTED_PROXIES=PROXIES):
        assert client_ip(_request(remote, forwarded)) == expected


def test_client_ip_without_trusted_proxies_is_the_peer():
    with override_settings(TRUSTED_PROXIES=()):
        assert client_ip(_request("10.0.0.2", "198.51.100.1")) == "10.0.0.2"


@pytest.mark.django_db
def test_login_limit_is_per_client_behind_the_proxy(make_user, settings):
    """The review's case: behind the proxy one client used to lock everyone out of /login."""
    settings.TRUSTED_PROXIES = PROXIES
    settings.RATE_LOGIN_IP = "3/300"
    settings.RATE_LOGIN_ACCOUNT = "100/900"
    make_user("bob")
    attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.66")
    for _ in range(3):
        assert attacker.post(reverse("web:login"), {"username": "bob", "password": "nope"}).status_code == 400
    assert attacker.post(reverse("web:login"), {"username": "bob", "password": "nope"}).status_code == 429
    # forging X-Forwarded-For through the proxy does not help: the proxy appends the real address
    forged = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.1, 198.51.100.66")
    assert forged.post(reverse("web:login"), {"username": "bob", "password": "nope"}).status_code == 429
    victim = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert victim.post(reverse("web:login"), {"username": "bob", "password": PASSWORD}).status_code == 302


@pytest.mark.django_db
def test_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(make_user, settings):
    settings.TRUSTED_PROXIES = PROXIES
    settings.RATE_LOGIN_IP = "2/300"
    settings.RATE_LOGIN_ACCOUNT = "100/900"
    make_user("bob")
    codes = [Client(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").post(
        reverse("web:login"), {"username": "bob", "password": "nope"}).status_code for i in range(3)]
    assert codes == [400, 400, 429]  # one peer, however many addresses it claims


def test_forwarded_headers_are_dropped_unless_from_a_trusted_proxy(settings):
    from tastemaker.core.middleware import ProxyHeadersMiddleware

    seen = {}

    def view(request):
        seen.update(xff=request.META.get("HTTP_X_FORWARDED_FOR"), secure=request.is_secure())
        return None

    settings.TRUSTED_PROXIES = PROXIES
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    middleware = ProxyHeadersMiddleware(view)
    middleware(RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="1.2.3.4",
                                    HTTP_X_FORWARDED_PROTO="https"))
    assert seen == {"xff": None, "secure": False}
    middleware(RequestFactory().get("/", REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="1.2.3.4",
                                    HTTP_X_FORWARDED_PROTO="https"))
    assert seen == {"xff": "1.2.3.4", "secure": True}


# --- settings at start-up -------------------------------------------------------------------------

def _settings(env: dict, expr: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TASTEMAKER_")}
    environ.update({"PYTHONPATH": str(SRC), "TASTEMAKER_SECRET_KEY": "x" * 50,
                    "TASTEMAKER_DATA_DIR": os.environ.get("TASTEMAKER_DATA_DIR", "/tmp"), **env})
    return subprocess.run([sys.executable, "-c", f"import tastemaker.settings as s; print(tuple([{expr}]))"],
                          env=environ, capture_output=True, text=True, timeout=60)


def test_a_bad_trusted_proxy_stops_the_start():
    bad = _settings({"TASTEMAKER_TRUSTED_PROXIES": "10.0.0.1, 10.0.0.0/33"}, "s.TRUSTED_PROXIES")
    assert bad.returncode != 0 and "TASTEMAKER_TRUSTED_PROXIES" in bad.stderr and "10.0.0.0/33" in bad.stderr
    good = _settings({"TASTEMAKER_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8,2001:db8::/32"},
                     "[str(n) for n in s.TRUSTED_PROXIES], s.SECURE_PROXY_SSL_HEADER")
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip() == "(['127.0.0.1/32', '10.0.0.0/8', '2001:db8::/32'], " \
                                  "('HTTP_X_FORWARDED_PROTO', 'https'))"


def test_a_bad_login_rate_stops_the_start():
    bad = _settings({"TASTEMAKER_RATE_LOGIN_ACCOUNT": "ten per minute"}, "s.RATE_LOGIN_ACCOUNT")
    assert bad.returncode != 0 and "TASTEMAKER_RATE_LOGIN_ACCOUNT" in bad.stderr and "count/seconds" in bad.stderr


def test_https_turns_on_hsts_and_secure_cookies():
    expr = ("s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
            "getattr(s, 'SECURE_PROXY_SSL_HEADER', None)")
    off = _settings({}, expr)
    assert off.returncode == 0, off.stderr
    assert off.stdout.strip() == "(0, False, False, None)"
    on = _settings({"TASTEMAKER_HTTPS": "true"}, expr)
    assert on.stdout.strip() == "(31536000, True, True, None)"  # no proxy configured: X-Forwarded-Proto ignored


@pytest.mark.django_db
def test_hsts_is_sent_over_https(settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    r = Client().get("/public", secure=True)
    assert r["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in Client().get("/public")


# --- CSP -------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_pages_carry_the_security_headers(make_user):
    c = Client()
    c.force_login(make_user("alice"))
    for path in ("/public", "/settings", "/settings/apps", "/admin/login/", "/api/v1/instance"):
        r = c.get(path)
        csp = r["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert r["X-Content-Type-Options"] == "nosniff" and r["Referrer-Policy"] == "same-origin"
        assert r["X-Frame-Options"] == "DENY"


TEMPLATE_DIRS = [SRC / "tastemaker"]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
STYLE = re.compile(r"<style\b|\sstyle\s*=|\shx-on[:-]|javascript:", re.I)


def test_no_template_has_inline_script_handlers_or_styles():
    """What the CSP forbids must not be in the pages (it would silently stop working)."""
    found = []
    for path in sorted(p for d in TEMPLATE_DIRS for p in d.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, HANDLER, STYLE):
            for match in pattern.finditer(text):
                found.append(f"{path.relative_to(SRC)}: {match.group(0)!r}")
    assert not found, "\n".join(found)
