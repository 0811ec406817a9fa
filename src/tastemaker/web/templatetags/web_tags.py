"""Template helpers for the web UI: post text with links, media URLs, pager URLs."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from tastemaker.core.text import HASHTAG_RE, MENTION_RE

register = template.Library()


def _links(text: str):
    """(start, end, html) for every hashtag and mention, in order, without overlaps."""
    found = []
    for match in HASHTAG_RE.finditer(text):
        tag = match.group(1)
        found.append((match.start(1) - 1, match.end(1),
                      format_html('<a class="tag" href="{}">#{}</a>', reverse("web:tag", args=[tag.lower()]), tag)))
    for match in MENTION_RE.finditer(text):
        name = match.group(1)
        found.append((match.start(1) - 1, match.end(1),
                      format_html('<a class="mention" href="{}">@{}</a>',
                                  reverse("web:profile", args=[name]), name)))
    found.sort(key=lambda item: item[0])
    kept, last_end = [], -1
    for start, end, html in found:
        if start >= last_end:
            kept.append((start, end, html))
            last_end = end
    return kept


@register.filter
def post_html(text: str) -> SafeString:
    """Escape user text, link #hashtags and @mentions, keep line breaks.

    Links are found on the raw text and every other piece is escaped on its own, so an escaped
    entity such as ``&#x27;`` can never be mistaken for a hashtag.
    """
    text = text or ""
    out: list[str] = []
    pos = 0
    for start, end, html in _links(text):
        out.append(escape(text[pos:start]))
        out.append(html)
        pos = end
    out.append(escape(text[pos:]))
    paragraphs = "".join(out).split("\n\n")
    return mark_safe("".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in paragraphs if p.strip()))


@register.filter
def media_url(path: str) -> str:
    return f"{settings.MEDIA_URL}{path}" if path else ""


@register.simple_tag(takes_context=True)
def page_url(context, **changes) -> str:
    """The current URL with query parameters changed (None drops one): pager links keep ``q`` etc."""
    request = context["request"]
    params = {k: v for k, v in request.GET.items() if k not in {"max_id", "min_id", "since_id"}}
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    query = urlencode(params)
    return f"{request.path}?{query}" if query else request.path


@register.filter
def ago(value) -> str:
    """"just now" under a minute, else "5 minutes ago" (Django's translated timesince)."""
    from django.utils import timezone
    from django.utils.timesince import timesince
    from django.utils.translation import gettext

    if not value:
        return ""
    if (timezone.now() - value).total_seconds() < 60:
        return gettext("just now")
    return gettext("%(t)s ago") % {"t": timesince(value, depth=1)}
