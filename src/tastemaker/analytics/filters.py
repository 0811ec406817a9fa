"""Invalid-traffic rules. Each rule is a pure function of what the request (or the service call)
carries, so it is testable on its own; the ingest applies them in this order and records the first
that matches as the event's ``invalid_reason``:

1. ``head``      — a ``HEAD`` request (nobody saw anything);
2. ``prefetch``  — a prefetch / prerender (``Sec-Purpose: prefetch``, ``Purpose: prefetch``,
                   ``X-Moz: prefetch``, ``X-Purpose: preview``);
3. ``bot``       — a known bot, crawler, previewer, monitor or non-browser user agent (the open
                   list shipped in ``data/bots.txt``), an empty user agent, or a bot account;
4. ``self``      — the subject's owner acting on their own post or account;
5. ``duplicate`` — the same viewer, subject and metric again within ``ANALYTICS_DEDUP_SECONDS``
                   (decided by the storage: see ``models.Event``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from .models import Device, InvalidReason

BOTS_FILE = Path(__file__).resolve().parent / "data" / "bots.txt"
PREFETCH_HEADERS = ("HTTP_SEC_PURPOSE", "HTTP_PURPOSE", "HTTP_X_MOZ", "HTTP_X_PURPOSE")


def _patterns(path: Path) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


@lru_cache(maxsize=1)
def bot_regex() -> re.Pattern:
    patterns = _patterns(BOTS_FILE)
    extra = getattr(settings, "ANALYTICS_EXTRA_BOTS_FILE", "")
    if extra:
        patterns += _patterns(Path(extra))
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


@lru_cache(maxsize=4096)
def is_bot_agent(user_agent: str) -> bool:
    ua = (user_agent or "").strip()
    if not ua:
        return True
    return bot_regex().search(ua[:512]) is not None


@lru_cache(maxsize=4096)
def device_class(user_agent: str) -> str:
    ua = (user_agent or "")[:512]
    if not ua:
        return Device.UNKNOWN
    low = ua.lower()
    if not low.startswith("mozilla/"):
        return Device.APP  # native apps and API clients (Tusky, Ivory, …) name themselves
    if "ipad" in low or "tablet" in low or ("android" in low and "mobile" not in low):
        return Device.TABLET
    if "mobi" in low or "iphone" in low or "android" in low:
        return Device.MOBILE
    return Device.DESKTOP


def is_prefetch(meta) -> bool:
    for header in PREFETCH_HEADERS:
        value = (meta.get(header) or "").lower()
        if "prefetch" in value or "prerender" in value or (header == "HTTP_X_PURPOSE" and "preview" in value):
            return True
    return False


def request_reason(request) -> str:
    """The request-level rule that makes every event of this request invalid, or ""."""
    if request.method == "HEAD":
        return InvalidReason.HEAD
    if is_prefetch(request.META):
        return InvalidReason.PREFETCH
    if is_bot_agent(request.META.get("HTTP_USER_AGENT", "")):
        return InvalidReason.BOT
    return ""
