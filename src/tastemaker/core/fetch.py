"""The one guarded fetcher for any URL the server downloads on someone's behalf (product pages, images).

``fetch(url)`` refuses, with a FetchRefused that says why:

- anything but http/https, user:password@ in the link, ports other than 80/443, links over 2,048
  characters, whitespace or control characters anywhere, malformed hosts, IPv4 written in any form
  but four decimal numbers (``2130706433``, ``0x7f.1``, ``0177.0.0.1``, ``127.1``);
- internal host names (``localhost``, ``*.internal``, ``metadata``, single-label names, ...);
- any host with ANY resolved address that is not globally routable: private, loopback, link-local
  (169.254.169.254, the cloud metadata service), CGNAT, multicast, reserved, unspecified,
  documentation, and IPv6 forms that embed such an IPv4 (mapped, compatible, 6to4, NAT64).

It then connects to the very address it checked (a second DNS answer cannot rebind it) with the
original Host header and, for https, SNI and certificate verification against the host name. Redirects
are followed by hand, at most ``FETCH_MAX_REDIRECTS``, each Location going through every check again.
Connect and each read are bounded by ``FETCH_TIMEOUT``; the whole fetch, redirects included, by twice
that (a watchdog shuts the socket, so a server trickling a byte at a time cannot hold a worker). The
body is streamed and refused past ``max_bytes`` (``FETCH_MAX_BYTES``).

Tests reach a loopback fixture server through ``FETCH_TEST_ALLOW`` (exact ``"127.0.0.1:<port>"`` pairs,
set with override_settings only); nothing else is relaxed.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import SplitResult, quote, urljoin, urlsplit

import urllib3
from django.conf import settings
from django.utils.translation import gettext as _
from urllib3.connection import HTTPConnection, HTTPSConnection

from .errors import ValidationFailed

USER_AGENT = "TastemakerBot/0.1 (+product import)"
MAX_URL_LENGTH = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}
ALLOWED_PORTS = frozenset({80, 443})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024

# Host names that reach the cloud metadata service or the machine itself on common platforms. Single-label
# names ("metadata", "instance-data", "intranet") are refused in general: the resolver completes them with
# the local search domains.
INTERNAL_HOSTS = frozenset({
    "localhost", "metadata.google.internal", "metadata.goog", "metadata", "instance-data",
    "instance-data.ec2.internal", "metadata.azure.internal", "metadata.tencentyun.com",
    "metadata.platformequinix.com", "kubernetes.default.svc",
})
INTERNAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".intranet", ".lan",
                     ".corp", ".svc", ".cluster.local", ".in-addr.arpa", ".ip6.arpa")
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")

_FORBIDDEN_CHARS = re.compile(r"[\x00-\x20\x7f\s\\]")  # controls, space, any Unicode whitespace, backslash
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")
_HOST_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchRefused(ValidationFailed):
    """The URL may not be fetched, or fetching it failed; the message says why in words a user follows."""

    def __init__(self, message: str, *, field: str | None = "url"):
        super().__init__(message, field=field)


@dataclass
class FetchResult:
    url: str  # the final URL, after redirects (normalised)
    status: int
    content_type: str  # lower-case, no parameters; "" when the server sent none
    charset: str | None
    body: bytes


@dataclass(frozen=True)
class _Target:
    url: str  # normalised
    scheme: str
    host: str  # lower-case ASCII (punycode), IPv6 without brackets
    port: int
    target: str  # path and query, as sent on the request line
    ip: IPAddress | None  # set when the host is an IP literal
    test_allowed: bool  # the exact host:port is in FETCH_TEST_ALLOW

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


# --- static checks -------------------------------------------------------------------------------


def _legacy_ipv4(host: str) -> tuple[ipaddress.IPv4Address, bool] | None:
    """An IPv4 host as the WHATWG URL parser (and inet_aton) reads it: 1 to 4 parts, each decimal, octal
    (leading 0) or hex (0x). Returns (address, written canonically) or None when the host is a name; a
    host that ends in a number but is no address raises."""
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    if not _NUMERIC_LABEL.match(labels[-1]):
        return None
    invalid = FetchRefused(_("The host %(host)s is not a valid address.") % {"host": host[:80]})
    if len(labels) > 4:
        raise invalid
    parts = []
    for label in labels:
        try:
            if label.startswith("0x"):
                parts.append(int(label[2:] or "0", 16))
            elif len(label) > 1 and label.startswith("0"):
                parts.append(int(label, 8))
            else:
                parts.append(int(label, 10))
        except ValueError:
            raise invalid from None
    *head, last = parts
    if any(p > 255 for p in head) or last >= 256 ** (5 - len(parts)):
        raise invalid
    value = last
    for i, part in enumerate(head):
        value += part << (8 * (3 - i))
    address = ipaddress.IPv4Address(value)
    return address, host == str(address)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in IPV4_COMPATIBLE or any(ip in net for net in NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _is_public(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return False
        embedded = _embedded_ipv4(ip)
        if embedded is not None and not _is_public(embedded):
            return False
        if ip.ipv4_mapped is not None:  # the IPv4 rules decide (Python < 3.13 calls all of ::ffff:0:0/96 private)
            return True
        if ip in IPV4_COMPATIBLE or ip.is_site_local:  # deprecated; never used for real hosts
            return False
    return bool(
        ip.is_global
        and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                 or ip.is_reserved or ip.is_unspecified)
    )


def _address_allowed(ip: IPAddress, test_allowed: bool) -> bool:
    if _is_public(ip):
        return True
    return test_allowed and ip.is_loopback


def _refuse_address() -> FetchRefused:
    return FetchRefused(_("The link points to a private, local or reserved network address; it cannot be fetched."))


def _host_of(parts: SplitResult, netloc: str) -> tuple[str, IPAddress | None]:
    """The host, lower-case ASCII, and the IP address when it is a literal; raises on anything malformed."""
    raw = parts.hostname or ""
    if not raw:
        raise FetchRefused(_("The link has no host name."))
    if "[" in netloc:  # a bracketed IPv6 literal
        if "%" in raw:
            raise FetchRefused(_("IPv6 zone identifiers are not accepted in links."))
        try:
            ip6 = ipaddress.IPv6Address(raw)
        except ValueError:
            raise FetchRefused(_("The host %(host)s is not a valid address.") % {"host": raw[:80]}) from None
        return ip6.compressed, ip6
    try:
        # IDNA maps full-width digits and ideographic dots ("１２７。0。0。1") to ASCII before the checks below
        host = raw.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise FetchRefused(_("The host name %(host)s is not valid.") % {"host": raw[:80]}) from None
    legacy = _legacy_ipv4(host)
    if legacy is not None:
        address, canonical = legacy
        if not canonical:
            raise FetchRefused(
                _("Write an IP address in a link as four decimal numbers, like 93.184.216.34 (not %(host)s).")
                % {"host": host[:80]}
            )
        return str(address), address
    name = host[:-1] if host.endswith(".") else host
    labels = name.split(".")
    if len(name) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise FetchRefused(_("The host name %(host)s is not valid.") % {"host": raw[:80]})
    return name, None


def _check(url: str) -> _Target:
    if not isinstance(url, str) or not url:
        raise FetchRefused(_("The link is empty."))
    if len(url) > MAX_URL_LENGTH:
        raise FetchRefused(_("The link is too long (at most %(n)d characters).") % {"n": MAX_URL_LENGTH})
    if _FORBIDDEN_CHARS.search(url):
        raise FetchRefused(_("The link contains spaces, line breaks or control characters."))
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        netloc = parts.netloc
        if scheme not in DEFAULT_PORTS:
            raise FetchRefused(_("Only http and https links can be fetched."))
        if "@" in netloc or parts.username is not None or parts.password is not None:
            raise FetchRefused(_("Links with a user name or password in them are not accepted."))
        host, ip = _host_of(parts, netloc)
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:  # a port that is not a number or out of range, unbalanced brackets
        raise FetchRefused(_("The link is not a valid web address.")) from None
    host_key = f"[{host}]" if ip is not None and ip.version == 6 else host
    test_allowed = f"{host_key}:{port}" in getattr(settings, "FETCH_TEST_ALLOW", frozenset())
    if port not in ALLOWED_PORTS and not test_allowed:
        raise FetchRefused(_("Only links on the standard web ports (80 and 443) can be fetched."))
    if ip is not None:
        if not _address_allowed(ip, test_allowed):
            raise _refuse_address()
    elif not test_allowed and (
        host in INTERNAL_HOSTS or host.endswith(INTERNAL_SUFFIXES) or "." not in host
    ):
        raise FetchRefused(_("The link points to an internal host name (%(host)s); it cannot be fetched.") % {"host": host})
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    query = quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    target = f"{path}?{query}" if query else path
    authority = host_key if port == DEFAULT_PORTS[scheme] else f"{host_key}:{port}"
    normalised = f"{scheme}://{authority}{target}"
    if len(normalised) > MAX_URL_LENGTH:
        raise FetchRefused(_("The link is too long (at most %(n)d characters).") % {"n": MAX_URL_LENGTH})
    return _Target(normalised, scheme, host, port, target, ip, test_allowed)


def check_public_url(url: str) -> str:
    """Static checks only (no DNS): scheme, credentials, port, host syntax, literal addresses, internal
    names. Returns the URL normalised (lower-case scheme and host, punycode, default port and fragment
    dropped, non-ASCII in path and query percent-encoded); raises FetchRefused."""
    return _check(url).url


# --- resolution and connection ------------------------------------------------------------------


def _resolve(target: _Target) -> list[IPAddress]:
    """Every address of the host, each one checked; an IPv4 first (IPv6-only routes are rarer)."""
    if target.ip is not None:
        return [target.ip]
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise FetchRefused(_("The host %(host)s could not be found.") % {"host": target.host}) from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        try:
            ip = ipaddress.ip_address(sockaddr[0])
        except ValueError:
            raise _refuse_address() from None
        if not _address_allowed(ip, target.test_allowed):
            raise _refuse_address()
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise FetchRefused(_("The host %(host)s could not be found.") % {"host": target.host})
    return sorted(addresses, key=lambda a: a.version)


class _Watchdog:
    """Shuts the connection's socket at the deadline, which ends any blocked connect or read at once."""

    def __init__(self, conn: HTTPConnection, seconds: float) -> None:
        self.conn = conn
        self.fired = False
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        self.fired = True
        sock = getattr(self.conn, "sock", None)
        try:
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._timer.cancel()


def _connect(target: _Target, address: IPAddress, timeout: float) -> HTTPConnection:
    if target.scheme == "https":
        # connect to the checked address; SNI and the certificate check use the host name
        return HTTPSConnection(
            str(address), target.port, timeout=timeout, server_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
        )
    return HTTPConnection(str(address), target.port, timeout=timeout)


def _media_type(header: str | None) -> tuple[str, str | None]:
    if not header:
        return "", None
    media, *params = header.split(";")
    charset = None
    for param in params:
        key, _eq, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'").lower() or None
    return media.strip().lower(), charset


def _too_large(max_bytes: int) -> FetchRefused:
    if max_bytes >= 1024 * 1024:
        size = f"{max_bytes / (1024 * 1024):g} MB"
    else:
        size = f"{max(1, max_bytes // 1024)} KB"
    return FetchRefused(_("The page is too large (at most %(size)s).") % {"size": size})


def _one_hop(target: _Target, *, accept: str, max_bytes: int, allowed_types: tuple[str, ...] | None,
             deadline: float) -> FetchResult | str:
    """One request; returns the FetchResult, or the location (a str) it redirects to."""
    timeout = float(settings.FETCH_TIMEOUT)
    addresses = _resolve(target)
    headers = {
        "Host": target.host_header, "User-Agent": USER_AGENT, "Accept": accept,
        "Accept-Encoding": "identity", "Connection": "close",
    }
    last_error: Exception | None = None
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchRefused(_("The page did not answer in time."))
        conn = _connect(target, address, min(timeout, remaining))
        watchdog = _Watchdog(conn, remaining)
        try:
            with watchdog:
                try:
                    conn.connect()
                except (ssl.SSLError, ssl.CertificateError):
                    raise
                except (OSError, urllib3.exceptions.HTTPError) as exc:
                    if watchdog.fired:
                        raise
                    last_error = exc  # this address is unreachable: try the next one
                    continue
                return _exchange(conn, target, headers, max_bytes, allowed_types, deadline, watchdog)
        except FetchRefused:
            raise
        except (ssl.SSLError, ssl.CertificateError, urllib3.exceptions.SSLError):
            if watchdog.fired:
                raise FetchRefused(_("The page did not answer in time.")) from None
            raise FetchRefused(
                _("The secure connection to %(host)s could not be verified.") % {"host": target.host}
            ) from None
        except (TimeoutError, urllib3.exceptions.TimeoutError):
            raise FetchRefused(_("The page did not answer in time.")) from None
        except (OSError, http.client.HTTPException, urllib3.exceptions.HTTPError):
            if watchdog.fired:
                raise FetchRefused(_("The page did not answer in time.")) from None
            raise FetchRefused(_("The page could not be loaded from %(host)s.") % {"host": target.host}) from None
        finally:
            conn.close()
    # urllib3's NewConnectionError (refused, unreachable) subclasses its ConnectTimeoutError
    timed_out = isinstance(last_error, TimeoutError | urllib3.exceptions.TimeoutError) and not isinstance(
        last_error, urllib3.exceptions.NewConnectionError
    )
    if timed_out:
        raise FetchRefused(_("The page did not answer in time."))
    raise FetchRefused(_("%(host)s could not be reached.") % {"host": target.host})


def _exchange(conn: HTTPConnection, target: _Target, headers: dict[str, str], max_bytes: int,
              allowed_types: tuple[str, ...] | None, deadline: float, watchdog: _Watchdog) -> FetchResult | str:
    conn.request("GET", target.target, headers=headers, preload_content=False, decode_content=True)
    response = conn.getresponse()
    if response.status in REDIRECT_STATUSES and response.headers.get("Location"):
        return str(response.headers["Location"])
    if not 200 <= response.status < 300:
        raise FetchRefused(_("The page answered with HTTP status %(status)d.") % {"status": response.status})
    content_type, charset = _media_type(response.headers.get("Content-Type"))
    if allowed_types is not None and content_type not in allowed_types:
        raise FetchRefused(
            _("The page is of type %(type)s; expected %(expected)s.")
            % {"type": content_type or _("unknown"), "expected": ", ".join(allowed_types)}
        )
    declared = (response.headers.get("Content-Length") or "").strip()
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    body = bytearray()
    while chunk := response.read1(CHUNK):
        body += chunk
        if len(body) > max_bytes:
            raise _too_large(max_bytes)
        if time.monotonic() > deadline:
            raise FetchRefused(_("The page did not answer in time."))
    if watchdog.fired:  # the socket was shut at the deadline: what arrived is cut short
        raise FetchRefused(_("The page did not answer in time."))
    return FetchResult(target.url, response.status, content_type, charset, bytes(body))


def fetch(
    url: str,
    *,
    accept: str = "text/html,application/xhtml+xml",
    max_bytes: int | None = None,
    allowed_types: tuple[str, ...] | None = None,
) -> FetchResult:
    """GET ``url`` through every check in this module; raises FetchRefused with the reason."""
    max_bytes = settings.FETCH_MAX_BYTES if max_bytes is None else max_bytes
    allowed = tuple(t.lower() for t in allowed_types) if allowed_types is not None else None
    deadline = time.monotonic() + 2 * float(settings.FETCH_TIMEOUT)
    target = _check(url)
    for _hop in range(settings.FETCH_MAX_REDIRECTS + 1):
        hop = _one_hop(target, accept=accept, max_bytes=max_bytes, allowed_types=allowed, deadline=deadline)
        if isinstance(hop, FetchResult):
            return hop
        try:
            location = urljoin(target.url, hop.strip())
        except ValueError:
            raise FetchRefused(_("The page redirected to an invalid address.")) from None
        target = _check(location)
    raise FetchRefused(_("The page redirected too many times (at most %(n)d).") % {"n": settings.FETCH_MAX_REDIRECTS})
