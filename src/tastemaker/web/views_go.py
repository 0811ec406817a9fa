"""``/go/<token>``: the tracked click-out. It records the click (events pipeline, invalid-traffic filter) and
answers 302 to the purchase link stored and validated when the card was made — never to anything taken from
the request — with the click id and UTM parameters appended."""

from __future__ import annotations

import re
import time

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from tastemaker.analytics.filters import device_class, request_reason
from tastemaker.showcase.services import LinkTarget, do_click_out, link_target

from .visitors import set_visitor, viewer_fields

_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{8,32}$")
_CACHE: dict[str, tuple[float, LinkTarget | None]] = {}
_CACHE_SECONDS = 60.0
_CACHE_MAX = 50_000


def _target(token: str) -> LinkTarget | None:
    """Links never change once made, but whether they may be followed does: ``link_target`` answers None
    for a suspended author's links and for a store that is not approved (pending, rejected, suspended).
    Cached per process for ``_CACHE_SECONDS`` (60 s): after a store is rejected or suspended, or an author
    suspended, each process may still redirect its links for up to a minute, then answers 404."""
    now = time.monotonic()
    hit = _CACHE.get(token)
    if hit is not None and hit[0] > now:
        return hit[1]
    target = link_target(token)
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[token] = (now + _CACHE_SECONDS, target)
    return target


@require_safe
def go(request, token: str):
    target = _target(token) if _TOKEN_RE.match(token) else None
    if target is None:
        response = render(request, "404.html", {"message": _("This purchase link does not exist (any more).")},
                          status=404)  # the site's own page, with a way back, not a line of plain text
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response
    viewer = viewer_fields(request)
    click = do_click_out(target, viewer_id=viewer.get("viewer_id"), visitor=viewer.get("visitor", ""),
                         reason=request_reason(request), device=device_class(request.META.get("HTTP_USER_AGENT", "")),
                         language=viewer.get("language", get_language() or ""))
    # a HEAD is answered the same way but its click is invalid (request_reason), as is a bot's or a prefetch.
    # The location is the stored, validated URL with our parameters (precomputed around the click id).
    response = HttpResponse(status=302)
    response["Location"] = target.location(click.id)
    response["Cache-Control"] = "no-store"  # every click is counted: never served from a cache
    response["Referrer-Policy"] = "no-referrer-when-downgrade"
    response["X-Robots-Tag"] = "noindex, nofollow"
    set_visitor(request, response)
    return response
