"""Template helpers for the web UI: post text with links, media URLs, pager URLs."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import npgettext_lazy

from tastemaker.payments.selectors import memo_text
from tastemaker.social.formatting import render_html

register = template.Library()


@register.filter
def post_html(text: str) -> SafeString:
    """Post or bio text as safe HTML: the one renderer the API uses too (social.formatting)."""
    return mark_safe(render_html(text or ""))  # escaped, then linked, then sanitised by nh3


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


# our own unit words for "… ago" (Django's Chinese reads "1 日"; people write "1天前", "3小时前")
AGO_UNITS = {
    "year": npgettext_lazy("ago", "%(num)d year", "%(num)d years", "num"),
    "month": npgettext_lazy("ago", "%(num)d month", "%(num)d months", "num"),
    "week": npgettext_lazy("ago", "%(num)d week", "%(num)d weeks", "num"),
    "day": npgettext_lazy("ago", "%(num)d day", "%(num)d days", "num"),
    "hour": npgettext_lazy("ago", "%(num)d hour", "%(num)d hours", "num"),
    "minute": npgettext_lazy("ago", "%(num)d minute", "%(num)d minutes", "num"),
}


@register.filter
def ago(value) -> str:
    """"just now" under a minute, else "5 minutes ago" / "5分钟前" (Django's timesince, our unit words)."""
    from django.utils import timezone
    from django.utils.timesince import timesince
    from django.utils.translation import gettext

    if not value:
        return ""
    if (timezone.now() - value).total_seconds() < 60:
        return gettext("just now")
    return gettext("%(t)s ago") % {"t": timesince(value, depth=1, time_strings=AGO_UNITS)}


@register.filter
def from_iso(value):
    """An ISO 8601 time kept as text (a moderation evidence snapshot) as a datetime, for ``|date``; the
    text itself when it is not one."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return value


@register.filter(name="memo")
def memo_filter(memo: str) -> str:
    """A ledger memo in the reader's language (payments.selectors.memo_text)."""
    return memo_text(memo or "")

