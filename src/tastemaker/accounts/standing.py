"""An account's standing and the feature gates: the one place that answers "is this account in good
standing, and may it do X?" (issue 12).

- ``standing(user)`` → ``Standing``: state (active / limited / suspended), credit score and band.
- ``gate(user, feature)`` → ``Gate``: allowed or not, and if not, why and what restores access.
- ``require(user, feature)`` raises ``Forbidden`` with that message (services call it).
- ``limited_q(prefix)`` / ``suspended_q(prefix)`` are the same "limited" and "suspended" rules as queryset
  filters on accounts, and ``limited_sql`` / ``suspended_sql`` as SQL (for the visibility rule in
  ``social.visibility``), so a list, the timeline SQL and a single check never disagree.

The thresholds are settings (``TASTEMAKER_CREDIT_*``), read here only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tastemaker.core.errors import Forbidden

from .models import User

CREDIT_START = 80  # every account's score at sign-up (the model field's default)
CREDIT_MAX = 100


class State(StrEnum):
    ACTIVE = "active"
    LIMITED = "limited"  # posts reach followers only; out of discovery and promotion; no messages to strangers
    SUSPENDED = "suspended"


class Feature(StrEnum):
    POST = "post"  # write posts, replies, reposts, likes
    PUBLIC_REACH = "public_reach"  # posts seen beyond followers (public timelines, discovery, search)
    SHOWCASE = "showcase"  # publish Showcase cards
    EXPERTS = "experts"  # Expert Connect
    PROMOTION = "promotion"  # buy paid promotion
    MESSAGE_STRANGERS = "message_strangers"  # direct messages to accounts that do not follow you


BANDS = (  # lowest score of each band, best first
    (90, "excellent", gettext_lazy("excellent")),
    (75, "good", gettext_lazy("good")),
    (60, "fair", gettext_lazy("fair")),
    (40, "poor", gettext_lazy("poor")),
    (0, "bad", gettext_lazy("bad")),
)


@dataclass(frozen=True)
class Standing:
    state: State
    score: int
    band: str  # excellent / good / fair / poor / bad
    band_label: str
    limited_by_operator: bool

    @property
    def active(self) -> bool:
        return self.state == State.ACTIVE


@dataclass(frozen=True)
class Gate:
    allowed: bool
    reason: str = ""  # why not, in the user's language
    restore: str = ""  # what gives access back


def band(score: int) -> tuple[str, str]:
    for low, code, label in BANDS:
        if score >= low:
            return code, str(label)
    return BANDS[-1][1], str(BANDS[-1][2])


def score_limited(score: int) -> bool:
    return score < settings.CREDIT_LIMITED_BELOW


def standing(user: User) -> Standing:
    """The account's standing, from the fields on the row (no query)."""
    score = int(user.credit_score)
    code, label = band(score)
    if user.is_suspended or not user.is_active or score <= 0:
        state = State.SUSPENDED
    elif user.is_limited or score_limited(score):
        state = State.LIMITED
    else:
        state = State.ACTIVE
    return Standing(state, score, code, label, bool(user.is_limited))


def suspended_q(prefix: str = "") -> Q:
    """Accounts that are suspended (``standing``'s SUSPENDED: suspended by an operator, deactivated, or a
    credit score of 0), as a filter on users (``prefix`` reaches the user from another model)."""
    return (Q(**{f"{prefix}is_suspended": True}) | Q(**{f"{prefix}is_active": False})
            | Q(**{f"{prefix}credit_score__lte": 0}))


def suspended_sql(alias: str) -> tuple[str, list[bool | int]]:
    """``suspended_q`` as a SQL condition on the users table under ``alias`` (for raw timeline SQL)."""
    return (f"({alias}.is_suspended = %s OR {alias}.is_active = %s OR {alias}.credit_score <= %s)", [True, False, 0])


def limited_q(prefix: str = "") -> Q:
    """Accounts whose reach is limited (by an operator or a low score), as a filter on users (``prefix``
    reaches the user from another model, e.g. ``"author__"``). Suspension is separate (``is_suspended``)."""
    return Q(**{f"{prefix}is_limited": True}) | Q(**{f"{prefix}credit_score__lt": settings.CREDIT_LIMITED_BELOW})


def limited_sql(alias: str) -> tuple[str, list[bool | int]]:
    """``limited_q`` as a SQL condition on the users table under ``alias`` (for raw timeline SQL)."""
    return (f"({alias}.is_limited = %s OR {alias}.credit_score < %s)", [True, settings.CREDIT_LIMITED_BELOW])


def minimum_score(feature: Feature) -> int:
    return {
        Feature.SHOWCASE: settings.CREDIT_SHOWCASE_MIN,
        Feature.EXPERTS: settings.CREDIT_EXPERTS_MIN,
        Feature.PROMOTION: settings.CREDIT_PROMOTION_MIN,
        Feature.MESSAGE_STRANGERS: settings.CREDIT_LIMITED_BELOW,
        Feature.PUBLIC_REACH: settings.CREDIT_LIMITED_BELOW,
        Feature.POST: 1,
    }[feature]


def feature_name(feature: Feature) -> str:
    return {
        Feature.POST: _("posting"),
        Feature.PUBLIC_REACH: _("reaching people who do not follow you"),
        Feature.SHOWCASE: _("Showcase product cards"),
        Feature.EXPERTS: _("Expert Connect"),
        Feature.PROMOTION: _("paid promotion"),
        Feature.MESSAGE_STRANGERS: _("messages to people who do not follow you"),
    }[feature]


def gate(user: User, feature: Feature | str) -> Gate:
    """May ``user`` use ``feature``? The one gate every service asks."""
    feature = Feature(feature)
    s = standing(user)
    name = feature_name(feature)
    if s.state == State.SUSPENDED:
        return Gate(False, _("This account is suspended, so %(feature)s is not available.") % {"feature": name},
                    _("You can appeal the suspension from your credit page."))
    if s.limited_by_operator and feature in (Feature.PUBLIC_REACH, Feature.MESSAGE_STRANGERS, Feature.PROMOTION,
                                             Feature.SHOWCASE, Feature.EXPERTS):
        return Gate(False, _("This account is limited by a moderator, so %(feature)s is not available.")
                    % {"feature": name},
                    _("You can appeal the limit from your credit page."))
    minimum = minimum_score(feature)
    if s.score < minimum:
        return Gate(False, _("%(feature)s needs a credit score of at least %(min)d; yours is %(score)d.")
                    % {"feature": name[:1].upper() + name[1:], "min": minimum, "score": s.score},
                    _("Your score rises by %(n)d each week without a violation, and an appeal that succeeds "
                      "gives back what the action took.") % {"n": settings.CREDIT_WEEKLY_RESTORE})
    return Gate(True)


def require(user: User, feature: Feature | str) -> None:
    """``gate`` for a service: raise ``Forbidden`` saying why and what restores access."""
    g = gate(user, feature)
    if not g.allowed:
        raise Forbidden(f"{g.reason} {g.restore}".strip())
