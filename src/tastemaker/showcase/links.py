"""Purchase links: validated once, at creation, against a partner store's domains; the click-out redirect
only ever sends to what was stored here (ARCHITECTURE.md: "a click-out redirect only ever goes to a URL stored
and validated at creation")."""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from django.utils.translation import gettext as _

from tastemaker.core.errors import ValidationFailed

MAX_URL = 2048
# a host label: letters, digits and hyphens (IDNs arrive as punycode after idna encoding)
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# anything that could split a header, hide a host or change how a browser parses the URL
_FORBIDDEN_RE = re.compile(r"[\x00-\x20\x7f\\<>\"'`{}|^]")
_PERCENT_HOST_RE = re.compile(r"%[0-9a-fA-F]{2}")
_ENCODED_CONTROL_RE = re.compile(r"%(?:[01][0-9a-f]|7f)", re.IGNORECASE)  # %0d%0a and friends, even encoded
_IPV4_LIKE_RE = re.compile(r"^[0-9.]+$|^0x", re.IGNORECASE)


def normalise_domain(value: str) -> str:
    """A store domain as operators type it ("Shop.Example.com", "https://shop.example.com/") to a bare,
    lower-case, punycode host name; refuses IP addresses, ports, paths and wildcards."""
    raw = (value or "").strip().lower()
    if raw.startswith(("http://", "https://")):
        raw = urlsplit(raw).hostname or ""
    raw = raw.rstrip(".")
    if not raw or len(raw) > 253 or "/" in raw or ":" in raw or "@" in raw or "*" in raw:
        raise ValidationFailed(_("%(value)s is not a domain name (like shop.example.com).") % {"value": value[:80]},
                               field="domains")
    try:
        host = raw.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValidationFailed(_("%(value)s is not a domain name (like shop.example.com).") % {"value": value[:80]},
                               field="domains") from None
    labels = host.split(".")
    if len(labels) < 2 or not all(_LABEL_RE.match(label) for label in labels) or _IPV4_LIKE_RE.match(host) \
            or labels[-1].isdigit():
        raise ValidationFailed(_("%(value)s is not a domain name (like shop.example.com).") % {"value": value[:80]},
                               field="domains")
    return host


def host_matches(host: str, domains: list[str]) -> bool:
    """The host is one of the domains or a subdomain of one (label boundary: "evilshop.com" ≠ "shop.com")."""
    return any(host == d or host.endswith("." + d) for d in domains)


def parse_purchase_url(url: str, *, field: str = "url") -> tuple[str, str]:
    """A purchase link's shape, checked once: ``(normalised URL, host)`` if it is an absolute http(s) URL on a
    plain domain; else a 422 that says why.

    Refuses what open-redirect and header-injection payloads rely on: other schemes, scheme-relative and
    backslash tricks, user-info ("shop.com@evil.com"), control characters and CR/LF (raw or encoded in the
    host), ports, and IP literals. Which store the host belongs to is ``check_purchase_url``'s question.
    """
    text = url if isinstance(url, str) else ""
    if not text.strip():
        raise ValidationFailed(_("A purchase link is required."), field=field)
    if len(text) > MAX_URL:
        raise ValidationFailed(_("The purchase link is too long (at most %(n)d characters).") % {"n": MAX_URL},
                               field=field)
    if _FORBIDDEN_RE.search(text) or _ENCODED_CONTROL_RE.search(text):
        raise ValidationFailed(_("The purchase link contains spaces, control characters or characters not "
                                 "allowed in a link."), field=field)
    try:
        parts = urlsplit(text)
    except ValueError:  # "Invalid IPv6 URL" and other unparseable forms
        raise ValidationFailed(_("The purchase link's address is not a plain store domain."), field=field) from None
    if parts.scheme.lower() not in ("http", "https") or not text.lower().startswith(("http://", "https://")):
        raise ValidationFailed(_("The purchase link must start with https:// or http://."), field=field)
    netloc = parts.netloc
    if not netloc or "@" in netloc or _PERCENT_HOST_RE.search(netloc):
        raise ValidationFailed(_("The purchase link's address is not a plain store domain."), field=field)
    if ":" in netloc or not _port_ok(parts) or parts.port is not None:
        raise ValidationFailed(_("The purchase link must not name a port."), field=field)
    try:
        host = normalise_domain(parts.hostname or "")
    except ValidationFailed:
        raise ValidationFailed(_("The purchase link's address is not a plain store domain."), field=field) from None
    # rebuild from the parsed parts: what is stored is exactly what was checked
    path = quote(parts.path or "/", safe="/%:@!$&()*+,;=-._~")
    query = quote(parts.query, safe="/%:@!$&()*+,;=-._~?")
    return urlunsplit((parts.scheme.lower(), host, path, query, "")), host


def check_purchase_url(url: str, domains: list[str], *, field: str = "url") -> str:
    """The URL, normalised, if ``parse_purchase_url`` accepts it and its host is one of ``domains`` or a
    subdomain of one (so a host that merely contains a store domain is refused); else a 422."""
    clean, host = parse_purchase_url(url, field=field)
    if not host_matches(host, domains):
        raise ValidationFailed(
            _("The purchase link must go to the partner store (%(domains)s), not to %(host)s.")
            % {"domains": ", ".join(domains) or "-", "host": host}, field=field)
    return clean


def _port_ok(parts) -> bool:
    """True when the port part parses (then it must be absent); a malformed port counts as present."""
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    return True


def new_token() -> str:
    return secrets.token_urlsafe(12)  # 16 characters, 96 bits


def with_click(url: str, click_id: int, *, post_id: int, creator: str) -> str:
    """The stored URL plus the click id and UTM parameters (existing query parameters kept, ours replace
    theirs of the same name)."""
    parts = urlsplit(url)
    ours = {"tm_click": str(click_id), "utm_source": "tastemaker", "utm_medium": "showcase",
            "utm_campaign": str(post_id), "utm_content": creator}
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ours]
    query.extend(ours.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
