"""The rules that run by themselves when a post or reply is written (issue 12): anti-flooding (刷屏) and the
spam filter. ``services.do_create_post`` calls ``check_post``; the arithmetic is trust's (``trust.flood``:
SimHash; ``trust.spam``: the keyword-line filter), the queries over the author's own recent posts are here.

- The same or a near-same text (SimHash distance ≤ ``RULES_DUPLICATE_DISTANCE``) by the same author in the same
  place (top level, or a reply to the same post) within ``RULES_DUPLICATE_WINDOW`` → 429, kind "flooding".
- The same or a near-same reply to more than ``RULES_REPLY_REPEAT`` different posts → 429, "mass_reply".
- A burst: ``RULES_BURST`` posts in its window and ``RULES_BURST_FACTOR`` × the account's median posts per
  active hour over the last week → 429, "flooding".
- More than ``RULES_MENTIONS_MAX`` accounts mentioned in one post → 422; more than ``RULES_MENTIONS_WINDOW``
  distinct accounts across recent posts (not counting the authors replied to) → 429; kind "mass_mention".
- A spam keyword line (``trust.spam.check_text``) → the post is saved *held* (not fanned out; seen by its author
  and operators), ``social.post_held`` is called; kind "spam" or "keyword_stuffing". (Profile fields: the
  same filter in ``accounts.services.update_profile``, refused with a 422.)

Only the author's recent posts are read, newest first on the ``(author_id, id)`` index (ids are time-ordered:
a window is an id range), at most ``SCAN`` rows. Every offence calls ``social.rule_offence`` — once per account
and kind within ``RULES_OFFENCE_ONCE_SECONDS`` — before the refusal is raised. ``RULES_ENABLED`` off skips it
all (no fingerprint either).
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from tastemaker.accounts.models import User
from tastemaker.core.errors import RateLimited, ValidationFailed
from tastemaker.core.ids import SEQUENCE_BITS, id_floor
from tastemaker.trust import flood, spam
from tastemaker.trust.ratelimit import first_in, parse_spec

from . import hooks
from .models import Mention, Post

SCAN = 200  # the author's recent posts read at most (newest first)
HISTORY = 7 * 24 * 3600  # how far back the account's normal hourly rate is taken from
HISTORY_ROWS = 5000
KINDS = ("flooding", "mass_mention", "mass_reply", "spam", "keyword_stuffing")


@dataclass(frozen=True)
class PostCheck:
    """What the rules decided for a post that may be written: its fingerprint, and the spam verdict (a spam
    one means: save it held)."""

    fingerprint: int | None
    verdict: spam.Verdict | None

    @property
    def held(self) -> bool:
        return bool(self.verdict and self.verdict.spam)


def enabled() -> bool:
    return bool(settings.RULES_ENABLED)


def offence(user: User, kind: str, detail: str, text: str, now: float | None = None) -> bool:
    """Report an offence through ``social.rule_offence``, once per account and kind within
    ``RULES_OFFENCE_ONCE_SECONDS`` (a flood of refused posts is one offence). True if it was reported."""
    if kind not in KINDS:
        raise ValueError(f"unknown offence kind {kind!r}")
    if not first_in(f"offence:{kind}", user.pk, settings.RULES_OFFENCE_ONCE_SECONDS, now):
        return False
    hooks.rule_offence(user=user, kind=kind, detail=detail[:200], text=text[:2000])
    return True


def _floor(now: float, seconds: int) -> int:
    return id_floor(datetime.fromtimestamp(now - seconds, tz=UTC))


def _retry(first_id: int, window: int, now: float) -> int:
    """Seconds until the post ``first_id`` leaves a window of ``window`` seconds."""
    return int((first_id >> SEQUENCE_BITS) / 1000 + window - now) + 1


def check_post(author: User, text: str, *, parent_id: int | None, mentions: Sequence[str],
               mentioned_ids: Sequence[int] = (), tokens: Sequence[str] | None = None,
               now: float | None = None) -> PostCheck:
    """Apply the rules to a post or reply about to be written by ``author`` (raises ``RateLimited`` or
    ``ValidationFailed`` when it is refused; see the module doc). ``mentions``: the names in the text;
    ``mentioned_ids``: the accounts they resolve to; ``tokens``: the text's search tokens (segmented once)."""
    if not enabled():
        return PostCheck(None, None)
    now = time.time() if now is None else now
    fingerprint = flood.simhash(text, tokens) if text else None
    if len(mentions) > settings.RULES_MENTIONS_MAX:
        offence(author, "mass_mention", f"{len(mentions)} accounts mentioned in one post", text, now)
        raise ValidationFailed(_("A post can mention at most %(n)d accounts (this one mentions %(m)d): mass "
                                 "mentions are not allowed.") % {"n": settings.RULES_MENTIONS_MAX,
                                                                 "m": len(mentions)}, field="status")
    burst_count, burst_window = parse_spec(settings.RULES_BURST)
    reply_count, reply_window = parse_spec(settings.RULES_REPLY_REPEAT)
    window = max(settings.RULES_DUPLICATE_WINDOW, burst_window, reply_window)
    recent = _recent(author.pk, _floor(now, window))
    _check_burst(author, text, recent, burst_count, burst_window, now)
    if fingerprint is not None and len(flood.content(text)) >= settings.RULES_DUPLICATE_MIN_CHARS:
        _check_repeats(author, text, fingerprint, parent_id, recent, reply_count, reply_window, now)
    if mentioned_ids:
        _check_mention_window(author, text, mentioned_ids, now)
    verdict = spam.check_text(text) if text else None
    if verdict is not None and verdict.spam:
        offence(author, verdict.kind, verdict.summary(), text, now)
    return PostCheck(fingerprint, verdict)


# one plain statement on the (author_id, id) index, as every post is written (the ORM would spend more building
# the query than the database spends answering it)
_RECENT_SQL = (f"SELECT id, fingerprint, in_reply_to_id FROM {Post._meta.db_table} "
               "WHERE author_id = %s AND id >= %s AND reblog_of_id IS NULL ORDER BY id DESC LIMIT %s")


def _recent(author_id: int, floor: int) -> list[tuple[int, int | None, int | None]]:
    """The author's posts and replies since the id ``floor``, newest first, at most ``SCAN``."""
    with connection.cursor() as cursor:
        cursor.execute(_RECENT_SQL, [author_id, floor, SCAN])
        return [(int(pk), fp, reply_to) for pk, fp, reply_to in cursor.fetchall()]


def _check_burst(author: User, text: str, recent: Sequence[tuple[int, int | None, int | None]], limit: int,
                 window: int, now: float) -> None:
    floor = _floor(now, window)
    in_window = [pk for pk, _f, _r in recent if pk >= floor]
    if len(in_window) < limit:
        return
    # far above its own normal rate? the median of its posts per active hour over the last week, this hour
    # excluded (a new account has none: any burst is far above it)
    hour_ms = 3_600_000
    this_hour = int(now * 1000) // hour_ms
    ids = Post.objects.filter(author_id=author.pk, id__gte=_floor(now, HISTORY), id__lt=id_floor(
        datetime.fromtimestamp(this_hour * 3600, tz=UTC))).order_by("-id").values_list("id", flat=True)
    hours = Counter((pk >> SEQUENCE_BITS) // hour_ms for pk in ids[:HISTORY_ROWS])
    median = statistics.median(hours.values()) if hours else 0
    if len(in_window) < settings.RULES_BURST_FACTOR * median:
        return
    offence(author, "flooding", f"{len(in_window)} posts in {window} s (usual: {median:g} an hour)", text, now)
    raise RateLimited(_("You are posting much faster than usual (%(n)d posts in %(s)d seconds): slow down, "
                        "flooding (刷屏) is not allowed.") % {"n": len(in_window), "s": window},
                      retry_after=_retry(min(in_window), window, now))


def _check_repeats(author: User, text: str, fingerprint: int, parent_id: int | None,
                   recent: Sequence[tuple[int, int | None, int | None]], reply_limit: int, reply_window: int,
                   now: float) -> None:
    distance = settings.RULES_DUPLICATE_DISTANCE
    dup_floor = _floor(now, settings.RULES_DUPLICATE_WINDOW)
    reply_floor = _floor(now, reply_window)
    for pk, other, reply_to in recent:
        if pk >= dup_floor and reply_to == parent_id and flood.near_duplicate(fingerprint, other, distance):
            offence(author, "flooding", "the same text posted again", text, now)
            raise RateLimited(_("You already posted this (or nearly this) a moment ago: repeating a post "
                                "(刷屏) is not allowed. Change it or wait."),
                              retry_after=_retry(pk, settings.RULES_DUPLICATE_WINDOW, now))
    if parent_id is None:
        return
    same = [(pk, reply_to) for pk, other, reply_to in recent
            if pk >= reply_floor and reply_to is not None and reply_to != parent_id
            and flood.near_duplicate(fingerprint, other, distance)]
    parents = len({reply_to for _pk, reply_to in same})
    if parents >= reply_limit:
        offence(author, "mass_reply", f"the same reply to {parents + 1} posts", text, now)
        raise RateLimited(_("You sent the same reply to %(n)d posts already: mass identical replies are not "
                            "allowed. Write this one differently or wait.") % {"n": parents},
                          retry_after=_retry(min(pk for pk, _r in same), reply_window, now))


# the accounts named in the author's recent posts; a reply's mention of the author replied to is not counted
# (a creator answering thirty commenters is not mass-mentioning). Plain SQL for the same reason as _RECENT_SQL.
_MENTIONED_SQL = (f"SELECT DISTINCT m.user_id FROM {Mention._meta.db_table} m "
                  f"JOIN {Post._meta.db_table} p ON p.id = m.post_id "
                  "WHERE p.author_id = %s AND p.id >= %s "
                  "AND (p.in_reply_to_account_id IS NULL OR m.user_id <> p.in_reply_to_account_id) LIMIT %s")


def _check_mention_window(author: User, text: str, mentioned_ids: Sequence[int], now: float) -> None:
    limit, window = parse_spec(settings.RULES_MENTIONS_WINDOW)
    floor = _floor(now, window)
    with connection.cursor() as cursor:
        cursor.execute(_MENTIONED_SQL, [author.pk, floor, limit + 1])
        earlier = {int(uid) for (uid,) in cursor.fetchall()}
    total = len(earlier | set(mentioned_ids))
    if total <= limit:
        return
    first = (Mention.objects.filter(post__author_id=author.pk, post_id__gte=floor).order_by("post_id")
             .values_list("post_id", flat=True).first()) or id_floor(datetime.fromtimestamp(now, tz=UTC))
    offence(author, "mass_mention", f"{total} accounts mentioned in {window} s", text, now)
    raise RateLimited(_("You mentioned %(n)d different accounts recently: mass mentions are not allowed. "
                        "Wait before mentioning more.") % {"n": total}, retry_after=_retry(first, window, now))
