"""Untrusted request input: the one place that refuses text no parser, column or renderer can take.

Every request's query string and body pass ``core.middleware.InputGuardMiddleware``, which uses this
module, so API, OAuth, webhooks and web forms all refuse the same things with a 400:

- text that is not valid UTF-8, checked strictly: a stray byte or a UTF-8-encoded surrogate is refused,
  not silently replaced by U+FFFD;
- NUL characters (PostgreSQL cannot store them in text; SQLite would, silently);
- lone UTF-16 surrogates (``"a\\ud800b"`` in JSON decodes to a ``str`` that cannot be encoded back to
  UTF-8: every later database write, ``urlencode`` or JSON render would raise);
- JSON nested deeper than ``MAX_JSON_DEPTH`` (Python's json decoder recurses: fifty thousand ``[`` are a
  RecursionError, not a ValueError). The depth is measured before parsing, without recursion.

A JSON body is parsed once: ``request_json`` keeps the checked value on the request for the API's parser
and the views that read JSON themselves (OAuth token, profile update, web events).
"""

from __future__ import annotations

import json
import re
from io import BytesIO
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _

from .errors import DomainError

MAX_JSON_DEPTH = 32  # Mastodon and Tastemaker bodies are at most four or five levels deep
_UNSET = object()
_CACHE_ATTR = "_tastemaker_json"
_BAD_CHAR_RE = re.compile("[\x00\ud800-\udfff]")
_JSON_STRING_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET_RE = re.compile(r"[^\[\]{}]+")
_JSON_TYPES = ("application/json", "text/plain", "")


class BadInput(DomainError):
    """A request that cannot be read as text (400): bad UTF-8, NUL, a lone surrogate, nesting too deep."""

    status = 400


def _nul() -> BadInput:
    return BadInput(_("The request contains a NUL character, which is not allowed in text."))


def _surrogate() -> BadInput:
    return BadInput(_("The request contains a lone UTF-16 surrogate (such as \\ud800), which is not a character."))


def _not_utf8() -> BadInput:
    return BadInput(_("The request is not valid UTF-8 text."))


def check_text(value: str) -> str:
    """``value`` unchanged if it has neither NUL nor a lone surrogate; else ``BadInput``."""
    found = _BAD_CHAR_RE.search(value)
    if found:
        raise _nul() if found.group() == "\x00" else _surrogate()
    return value


def decode_text(raw: bytes) -> str:
    """Bytes as strict UTF-8 without NUL (surrogates cannot survive a strict decode)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _not_utf8() from None
    return check_text(text)


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON ``text`` nests arrays/objects deeper than ``limit`` (brackets inside strings do not count)."""
    depth = 0
    for ch in _NOT_BRACKET_RE.sub("", _JSON_STRING_RE.sub("", text)):
        if ch in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _check_strings(value: object) -> None:
    """Every key and string in a parsed JSON value, walked without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            check_text(item)
        elif isinstance(item, dict):
            for key, inner in item.items():
                check_text(key)
                stack.append(inner)
        elif isinstance(item, list):
            stack.extend(item)


def loads_json(raw: bytes | str) -> Any:
    """Parse JSON from untrusted bytes: ``BadInput`` (400) for bad UTF-8, NUL, a lone surrogate or nesting
    deeper than ``MAX_JSON_DEPTH``; ``ValueError`` (``json.JSONDecodeError``) for text that is not JSON."""
    text = decode_text(raw) if isinstance(raw, bytes | bytearray) else check_text(raw)
    if json_depth_exceeds(text):
        raise BadInput(_("The JSON body is nested too deeply (at most %(n)d levels).") % {"n": MAX_JSON_DEPTH})
    try:
        value = json.loads(text)
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise BadInput(_("The JSON body is nested too deeply (at most %(n)d levels).")
                       % {"n": MAX_JSON_DEPTH}) from None
    _check_strings(value)
    return value


def is_json_body(request: HttpRequest) -> bool:
    """Bodies that are read as JSON: ``application/json`` and ``*+json``, and ``text/plain`` or no content type
    (the API's parser reads any body that is not a form as JSON)."""
    content_type = (request.content_type or "").lower()
    return content_type in _JSON_TYPES or content_type.endswith("+json")


def request_json(request: HttpRequest) -> Any:
    """The request body as checked JSON, parsed at most once per request (``None`` for an empty body)."""
    cached = getattr(request, _CACHE_ATTR, _UNSET)
    if cached is _UNSET:
        cached = loads_json(request.body) if request.body else None
        setattr(request, _CACHE_ATTR, cached)
    return cached


def _form_encoding(request: HttpRequest) -> str:
    charset = (request.content_params or {}).get("charset", "utf-8")
    try:
        import codecs

        return codecs.lookup(charset).name
    except LookupError:
        return "utf-8"


def _check_percent_encoded(raw: bytes, encoding: str = "utf-8") -> None:
    from urllib.parse import unquote_to_bytes

    decoded = unquote_to_bytes(raw.replace(b"+", b" "))
    if encoding == "utf-8":
        decode_text(decoded)
    else:
        try:
            check_text(decoded.decode(encoding))
        except UnicodeDecodeError:
            raise BadInput(_("The request is not valid %(charset)s text.") % {"charset": encoding}) from None


def check_request(request: HttpRequest) -> None:
    """Refuse (``BadInput``) a request whose path, query string or body carries text that cannot be stored
    or rendered. Binary bodies (images, anything that is not a form, JSON or plain text) are left alone."""
    check_text(request.path)
    query = request.META.get("QUERY_STRING", "")
    if query:
        try:
            raw_query = query.encode("latin-1")  # WSGI: the raw bytes, one per code point
        except UnicodeEncodeError:
            raw_query = query.encode("utf-8", "surrogatepass")
        _check_percent_encoded(raw_query)
    if request.method in ("GET", "HEAD", "OPTIONS") and not request.META.get("CONTENT_LENGTH"):
        return
    content_type = (request.content_type or "").lower()
    if content_type == "application/x-www-form-urlencoded":
        _check_percent_encoded(request.body, _form_encoding(request))
    elif content_type == "multipart/form-data":
        body = request.body  # read once, so handlers can still read the raw body (Django caps its size)
        fields: QueryDict
        files: MultiValueDict[str, UploadedFile]
        if request.method == "POST":
            fields, files = request.POST, request.FILES
        else:  # Django parses forms only for POST: parse a PUT/PATCH form here too, without keeping it
            fields, files = request.parse_file_upload(request.META, BytesIO(body))
        for key, values in fields.lists():
            check_text(key)
            for value in values:
                check_text(value)
        for _key, uploads in files.lists():
            for upload in uploads:
                check_text(upload.name or "")
    elif is_json_body(request):
        if request.body:
            try:
                request_json(request)
            except ValueError:
                pass  # not JSON at all: the handler answers that in its own words
    elif content_type.startswith("text/") and b"\x00" in request.body:
        raise _nul()
