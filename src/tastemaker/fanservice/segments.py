"""Segments of an owner's subscribers, from data the platform already has, as one SQL condition.

A segment is a dict (stored on the broadcast, sent by the API and the compose form); every key narrows it
(AND); ``{}`` is every subscriber:

* ``verticals``: [slug] — the fan has one of these interests (picked or learned, not hidden; discovery);
* ``active_days``: n — the fan signed in or posted in the last n days;
* ``engaged_days``: n — the fan liked, reposted or replied to one of the owner's posts in the last n days;
* ``clicked``: true — the fan clicked out on one of the owner's Showcase cards (a valid click-out);
* ``bought``: true — the fan bought through one of the owner's links (an attributed, not voided order);
* ``languages``: [code] — the fan's language; ``regions``: [code] — the fan's audience region (analytics).

``eligible_sql`` renders the segment plus the rules every delivery obeys (subscribed to this owner, not
suspended, no block either way) over ``fanservice_subscription AS s`` joined to the fan's user row ``u``:
the audience preview counts it, the delivery job inserts from it, so they never disagree.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from tastemaker.accounts.models import User
from tastemaker.accounts.standing import suspended_sql
from tastemaker.analytics.models import AudienceProfile
from tastemaker.core.errors import ValidationFailed
from tastemaker.core.ids import id_floor
from tastemaker.discovery.models import UserInterest
from tastemaker.experts.models import Vertical
from tastemaker.showcase.models import ClickOut, Commission, CommissionStatus
from tastemaker.social.models import Favourite, Post
from tastemaker.social.visibility import blocked_ids_sql

from .models import Subscription

KEYS = ("verticals", "active_days", "engaged_days", "clicked", "bought", "languages", "regions")
MAX_DAYS = 365
_REGION_RE = re.compile(r"^[A-Za-z0-9-]{2,16}$")


def _days(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise ValidationFailed(_("%(key)s must be a whole number of days from 1 to %(max)d.")
                               % {"key": key, "max": MAX_DAYS}, field=key)
    days = int(value)
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(_("%(key)s must be a whole number of days from 1 to %(max)d.")
                               % {"key": key, "max": MAX_DAYS}, field=key)
    return days


def _strings(value: Any, key: str) -> list[str]:
    if isinstance(value, str):
        value = [v for v in re.split(r"[,\s]+", value) if v]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or len(value) > 20:
        raise ValidationFailed(_("%(key)s must be a list of at most 20 codes.") % {"key": key}, field=key)
    return sorted({v.strip() for v in value if v.strip()})


def clean_segment(raw: Any) -> dict[str, Any]:
    """A segment from user input (API JSON or the compose form), checked; ValidationFailed names the field."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise ValidationFailed(_("segment must be an object."), field="segment")
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise ValidationFailed(_("Unknown segment field %(key)s (allowed: %(allowed)s).")
                               % {"key": unknown[0], "allowed": ", ".join(KEYS)}, field=unknown[0])
    out: dict[str, Any] = {}
    for key in ("active_days", "engaged_days"):
        if raw.get(key) not in (None, "", 0):
            out[key] = _days(raw[key], key)
    for key in ("clicked", "bought"):
        value = raw.get(key)
        if value not in (None, False, "", "0", "off", "false"):
            if value not in (True, "1", "on", "true"):
                raise ValidationFailed(_("%(key)s must be true or false.") % {"key": key}, field=key)
            out[key] = True
    if raw.get("verticals"):
        slugs = _strings(raw["verticals"], "verticals")
        known = set(Vertical.objects.filter(slug__in=slugs, active=True).values_list("slug", flat=True))
        missing = [s for s in slugs if s not in known]
        if missing:
            raise ValidationFailed(_("Unknown vertical %(slug)s.") % {"slug": missing[0]}, field="verticals")
        out["verticals"] = slugs
    if raw.get("languages"):
        codes = _strings(raw["languages"], "languages")
        allowed = {c for c, _name in settings.LANGUAGES}
        wrong = [c for c in codes if c not in allowed]
        if wrong:
            raise ValidationFailed(_("Unknown language %(code)s (allowed: %(allowed)s).")
                                   % {"code": wrong[0], "allowed": ", ".join(sorted(allowed))}, field="languages")
        out["languages"] = codes
    if raw.get("regions"):
        codes = [c.upper() for c in _strings(raw["regions"], "regions")]
        wrong = [c for c in codes if not _REGION_RE.match(c)]
        if wrong:
            raise ValidationFailed(_("A region is a code such as CN-31 or US-CA, not %(code)s.") % {"code": wrong[0]},
                                   field="regions")
        out["regions"] = codes
    return out


def _t(model: Any) -> str:
    return str(model._meta.db_table)


def eligible_sql(owner_id: int, segment: dict[str, Any], join: str = "",
                 join_params: list[Any] | None = None) -> tuple[str, list[Any]]:
    """``FROM … WHERE …`` (aliases ``s`` for the subscription, ``u`` for the fan) selecting this owner's
    subscribers who may receive a message now and are in the segment (``join``: more tables for the caller)."""
    suspended, sparams = suspended_sql("u")
    blocked, bparams = blocked_ids_sql(owner_id)
    # the owner's blocks either way: one uncorrelated list (read once per statement, by index)
    sql = [f"FROM {_t(Subscription)} s JOIN {_t(User)} u ON u.id = s.fan_id {join} "
           f"WHERE s.owner_id = %s AND NOT {suspended}",
           f"AND s.fan_id NOT IN ({blocked})"]
    params: list[Any] = [*(join_params or []), owner_id, *sparams, *bparams]
    now = timezone.now()
    if segment.get("verticals"):
        marks = ", ".join(["%s"] * len(segment["verticals"]))
        sql.append(f"AND EXISTS (SELECT 1 FROM {_t(UserInterest)} i JOIN {_t(Vertical)} v ON v.id = i.vertical_id "
                   f"WHERE i.user_id = s.fan_id AND i.hidden = %s AND (i.picked = %s OR i.learned_weight > 0) "
                   f"AND v.slug IN ({marks}))")
        params += [False, True, *segment["verticals"]]
    if segment.get("active_days"):
        since = now - timedelta(days=segment["active_days"])
        sql.append(f"AND (u.last_login >= %s OR EXISTS (SELECT 1 FROM {_t(Post)} p WHERE p.author_id = s.fan_id "
                   f"AND p.id >= %s))")
        params += [since, id_floor(since)]
    if segment.get("engaged_days"):
        floor = id_floor(now - timedelta(days=segment["engaged_days"]))
        post = _t(Post)
        sql.append(f"AND (EXISTS (SELECT 1 FROM {_t(Favourite)} f JOIN {post} fp ON fp.id = f.post_id "
                   f"WHERE f.user_id = s.fan_id AND fp.author_id = s.owner_id AND f.id >= %s) "
                   f"OR EXISTS (SELECT 1 FROM {post} r WHERE r.author_id = s.fan_id "
                   f"AND r.in_reply_to_account_id = s.owner_id AND r.id >= %s) "
                   f"OR EXISTS (SELECT 1 FROM {post} rb JOIN {post} ro ON ro.id = rb.reblog_of_id "
                   f"WHERE rb.author_id = s.fan_id AND ro.author_id = s.owner_id AND rb.id >= %s))")
        params += [floor, floor, floor]
    if segment.get("clicked"):
        sql.append(f"AND s.fan_id IN (SELECT CAST(SUBSTR(c.viewer_key, 2) AS BIGINT) FROM {_t(ClickOut)} c "
                   f"WHERE c.creator_id = %s AND c.valid = %s AND c.viewer_key LIKE %s)")
        params += [owner_id, True, "u%"]
    if segment.get("bought"):
        sql.append(f"AND s.fan_id IN (SELECT CAST(SUBSTR(c.viewer_key, 2) AS BIGINT) FROM {_t(Commission)} m "
                   f"JOIN {_t(ClickOut)} c ON c.id = m.click_id WHERE m.creator_id = %s AND m.status <> %s "
                   f"AND c.viewer_key LIKE %s)")
        params += [owner_id, CommissionStatus.VOIDED, "u%"]
    if segment.get("languages"):
        sql.append(f"AND u.language IN ({', '.join(['%s'] * len(segment['languages']))})")
        params += segment["languages"]
    if segment.get("regions"):
        marks = ", ".join(["%s"] * len(segment["regions"]))
        sql.append(f"AND EXISTS (SELECT 1 FROM {_t(AudienceProfile)} a WHERE a.user_id = s.fan_id "
                   f"AND a.region IN ({marks}))")
        params += segment["regions"]
    return " ".join(sql), params
