"""Reads for verticals, ability labels, badges, the expert directory and expert eligibility."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from django.apps import apps
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tastemaker.accounts.models import User
from tastemaker.accounts.standing import State, standing, suspended_q
from tastemaker.social.models import Post, Visibility
from tastemaker.social.visibility import AccountReach, ViewerLike, accounts_q

from .labeler import is_chinese, ready_labeler
from .models import AbilityLabel, ExpertApplication, ExpertBadge, LabelAppeal, Status, Vertical


def verticals(active_only: bool = True) -> list[Vertical]:
    qs = Vertical.objects.all()
    if active_only:
        qs = qs.filter(active=True)
    return list(qs)


def vertical_by_slug(slug: str) -> Vertical | None:
    if not isinstance(slug, str) or len(slug) > 32:
        return None
    return Vertical.objects.filter(slug=slug.strip().lower(), active=True).first()


def verticals_by_slug(slugs: Iterable[object]) -> list[Vertical]:
    slugs = [s.strip().lower() for s in slugs if isinstance(s, str) and 0 < len(s.strip()) <= 32]
    return list(Vertical.objects.filter(slug__in=slugs, active=True)) if slugs else []


def visible_labels(user_or_id: User | int, limit: int | None = None, min_score: float | None = None) -> list[AbilityLabel]:
    """The labels shown on a profile: strongest first, above the display threshold, not removed on appeal."""
    uid = cast(int, getattr(user_or_id, "pk", user_or_id))  # a User's pk, or the id itself
    min_score = settings.LABEL_MIN_SCORE if min_score is None else min_score
    qs = (AbilityLabel.objects.filter(user_id=uid, suppressed=False, score__gte=min_score, vertical__active=True)
          .select_related("vertical").order_by("-score"))
    return list(qs[: limit or settings.LABEL_SHOWN])


def all_labels(user: User) -> list[AbilityLabel]:
    """Every label of a creator, including weak and removed ones (the creator's own view)."""
    return list(AbilityLabel.objects.filter(user=user).select_related("vertical").order_by("-score"))


def badges(user_or_id: User | int) -> list[ExpertBadge]:
    uid = cast(int, getattr(user_or_id, "pk", user_or_id))  # a User's pk, or the id itself
    return list(ExpertBadge.objects.filter(user_id=uid, vertical__active=True).select_related("vertical"))


def badge_map(user_ids: Iterable[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for uid, slug in ExpertBadge.objects.filter(user_id__in=list(user_ids)).values_list("user_id", "vertical__slug"):
        out.setdefault(uid, []).append(slug)
    return out


def directory(vertical: Vertical, viewer: ViewerLike = None, *, limit: int = 20, offset: int = 0) -> list[AbilityLabel]:
    """Creators in a vertical ranked by ability (badged experts first at equal score), as ``viewer`` may find
    them (``social.visibility.accounts_q``: not suspended, not hidden from the viewer, not limited)."""
    qs = (AbilityLabel.objects.filter(vertical=vertical, suppressed=False, score__gte=settings.LABEL_MIN_SCORE)
          .filter(accounts_q(viewer, AccountReach.DISCOVERY, "user__"))
          .select_related("user").order_by("-score", "user_id"))
    return list(qs[offset: offset + limit])


def terms_for_display(label: AbilityLabel, language: str | None = None, limit: int = 5) -> list[str]:
    """The terms that earned a label, in the language shown (the active one by default): a Chinese page
    shows the Chinese terms, an English page the others; the other language's only when there are none."""
    language = (language or get_language() or "en").lower()
    terms = [t for t in (label.terms or []) if isinstance(t, str)]
    chinese = [t for t in terms if is_chinese(t)]
    other = [t for t in terms if not is_chinese(t)]
    mine, theirs = (chinese, other) if language.startswith("zh") else (other, chinese)
    return (mine or theirs)[:limit]


def reason_text(label: AbilityLabel) -> str:
    """A label's reason for people: what share of recent posts, what terms, how consistently."""
    parts = [_("%(n)d of recent posts are about %(v)s (%(p)d%%)")
             % {"n": label.post_count, "v": label.vertical.name, "p": round(label.share * 100)}]
    terms = terms_for_display(label)
    if terms:
        comma = "、" if (get_language() or "").lower().startswith("zh") else ", "  # Chinese lists use 、
        parts.append(_("often mentions %(terms)s") % {"terms": comma.join(terms)})
    parts.append(_("posted about it in %(p)d%% of recent weeks") % {"p": round(label.consistency * 100)})
    return "; ".join(parts)


@dataclass
class SamplePost:
    """A post that earned a label, as shown beside it: its id (for the link) and the start of its text."""

    id: int
    snippet: str


SNIPPET_CHARS = 80


def sample_posts(labels: Iterable[AbilityLabel]) -> dict[int, list[SamplePost]]:
    """label id -> the posts that earned it (public or unlisted, still there), as text snippets; one query."""
    labels = list(labels)
    wanted: dict[int, list[int]] = {}
    for label in labels:
        wanted[label.pk] = [int(i) for i in (label.sample_post_ids or []) if str(i).isdigit()]
    ids = {i for found in wanted.values() for i in found}
    texts = dict(Post.objects.filter(pk__in=ids, visibility__in=[Visibility.PUBLIC, Visibility.UNLISTED])
                 .exclude(text="").values_list("pk", "text")) if ids else {}
    return {label_id: [SamplePost(i, Truncator(" ".join(texts[i].split())).chars(SNIPPET_CHARS))
                       for i in found if i in texts]
            for label_id, found in wanted.items()}


# --- classifying a text in a request: never waits for the model -----------------------------

@dataclass
class Classification:
    """``ready`` is False while the labeler is still loading (then nothing else is known); ``vertical`` is
    None when the text is about none of the verticals (confidence below ``LABEL_MIN_CONFIDENCE``)."""

    ready: bool
    vertical: str | None = None
    confidence: float = 0.0
    scores: dict[str, float] | None = None
    terms: list[str] | None = None


def classify(text: str) -> Classification:
    lab = ready_labeler()
    if lab is None:
        return Classification(ready=False)
    pred = lab.predict(text)
    vertical = pred.vertical if pred.confidence >= settings.LABEL_MIN_CONFIDENCE else None
    return Classification(True, vertical, round(pred.confidence, 4), pred.scores, pred.terms if vertical else [])


def vertical_for_text(text: str) -> Vertical | None:
    """The active vertical a text is about, or None (about none of them, or the labeler still loading)."""
    found = classify(text)
    return Vertical.objects.filter(slug=found.vertical, active=True).first() if found.vertical else None


# --- engagement hook ------------------------------------------------------------------------

def impressions_for(post_ids: list[int]) -> dict[int, int]:
    """Impressions per post, from the events/analytics app (issue 3) when it is installed.

    Ability labels use engagement *per impression* for posts with impressions (the analytics app's
    all-time ``Stat`` counters, or ``analytics.selectors.impressions_by_post`` if it provides one), and
    interactions per post for the others.
    """
    if not post_ids or not apps.is_installed("tastemaker.analytics"):
        return {}
    try:
        from tastemaker.analytics import selectors as analytics

        if hasattr(analytics, "impressions_by_post"):
            return dict(analytics.impressions_by_post(post_ids))
        # the analytics app's all-time counters: one row per post and metric (valid events only)
        from tastemaker.analytics.models import Stat

        rows = Stat.objects.filter(subject_type="post", subject_id__in=list(post_ids), granularity="t",
                                   dimension="", value="", bucket=0, metric="impression")
        return {sid: n for sid, n in rows.values_list("subject_id", "count") if n > 0}
    except Exception:  # analytics must never break labelling
        return {}


# --- expert status --------------------------------------------------------------------------

@dataclass
class Requirement:
    name: str
    met: bool
    detail: str


def eligibility(user: User, vertical: Vertical) -> list[Requirement]:
    label = AbilityLabel.objects.filter(user=user, vertical=vertical).first()
    score = label.score if label and not label.suppressed else 0.0
    age_days = (timezone.now() - user.date_joined).days
    return [
        Requirement("score", score >= settings.EXPERT_MIN_SCORE,
                    _("Ability score in %(v)s: %(s)d (needs %(m)d)")
                    % {"v": vertical.name, "s": round(score), "m": settings.EXPERT_MIN_SCORE}),
        Requirement("followers", user.followers_count >= settings.EXPERT_MIN_FOLLOWERS,
                    _("Followers: %(n)d (needs %(m)d)")
                    % {"n": user.followers_count, "m": settings.EXPERT_MIN_FOLLOWERS}),
        Requirement("standing", standing(user).state != State.SUSPENDED
                    and age_days >= settings.EXPERT_MIN_ACCOUNT_DAYS,
                    _("Account in good standing and at least %(d)d days old") % {"d": settings.EXPERT_MIN_ACCOUNT_DAYS}),
    ]


def pending_appeals(user: User) -> list[LabelAppeal]:
    return list(LabelAppeal.objects.filter(user=user).select_related("vertical").order_by("-id")[:20])


def applications(user: User) -> list[ExpertApplication]:
    return list(ExpertApplication.objects.filter(user=user).select_related("vertical").order_by("-id")[:20])


def creators_posted_since(since: datetime) -> list[int]:
    return list(User.objects.filter(last_status_at__gt=since).exclude(suspended_q())
                .values_list("pk", flat=True))


def recent_creator_ids(days: int | None = None) -> list[int]:
    since = timezone.now() - timedelta(days=days or settings.LABEL_WINDOW_DAYS)
    return list(User.objects.filter(Q(last_status_at__gte=since) | Q(ability_labels__isnull=False))
                .values_list("pk", flat=True).distinct().order_by("pk"))


def has_pending(model: type[LabelAppeal] | type[ExpertApplication], user: User, vertical: Vertical) -> bool:
    return model.objects.filter(user=user, vertical=vertical, status=Status.PENDING).exists()
