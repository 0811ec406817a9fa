"""Writes for ability labels, appeals, expert applications and badges (``do_*``)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tastemaker.accounts.models import User
from tastemaker.accounts.standing import Feature, State, require, standing
from tastemaker.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tastemaker.social.models import Post, Visibility
from tastemaker.social.visibility import published_q

from . import labeler as labeler_mod
from .models import (
    AbilityLabel,
    ExpertApplication,
    ExpertBadge,
    LabelAppeal,
    PostLabel,
    Status,
    Vertical,
)
from .selectors import eligibility, has_pending, impressions_for

# score = 100 x volume x (W_SHARE x share + W_ENGAGEMENT x engagement + W_CONSISTENCY x consistency)
W_SHARE, W_ENGAGEMENT, W_CONSISTENCY = 0.5, 0.3, 0.2
FULL_VOLUME_POSTS = 5  # fewer posts in a vertical than this scale the score down proportionally
ENGAGEMENT_HALF = 5.0  # interactions per post at which engagement is 0.5 (without impression data)
RATE_HALF = 0.03  # interactions per impression at which engagement is 0.5 (with impression data)
CONSISTENCY_WEEKS = 8


TERMS_PER_POST = 8
TERMS_PER_LANGUAGE = 6  # an ability label keeps this many terms of each language (the UI shows its own)


def label_posts(rows: Sequence[Mapping[str, Any]], *, wait: bool = True) -> dict[int, PostLabel]:
    """Labels for posts (dicts with id, author_id, text): cached ones reused, the rest classified now.

    ``wait=False`` is for request paths: if the labeler is not loaded yet, nothing waits for it and the
    posts not labelled before are left out (unlabelled, and not cached as such: a later call labels them)."""
    if not rows:
        return {}
    model = labeler_mod.model_version()
    ids = [r["id"] for r in rows]
    existing = {pl.post_id: pl for pl in PostLabel.objects.filter(post_id__in=ids, model=model)}
    todo = [r for r in rows if r["id"] not in existing]
    if not todo:
        return existing
    lab = labeler_mod.get_labeler() if wait else labeler_mod.ready_labeler()
    if lab is None:
        return existing
    by_slug = {v.slug: v for v in Vertical.objects.all()}
    fresh = []
    for row, pred in zip(todo, lab.label_many([r["text"] for r in todo], n_terms=TERMS_PER_POST), strict=True):
        vertical = by_slug.get(pred.vertical) if pred.confidence >= settings.LABEL_MIN_CONFIDENCE else None
        fresh.append(PostLabel(post_id=row["id"], author_id=row["author_id"], vertical=vertical,
                               confidence=pred.confidence, terms=pred.terms if vertical else [], model=model))
    PostLabel.objects.filter(post_id__in=[p.post_id for p in fresh]).delete()  # stale model versions
    PostLabel.objects.bulk_create(fresh, ignore_conflicts=True)
    existing.update({p.post_id: p for p in fresh})
    return existing


def do_label_post_ids(post_ids: Iterable[int]) -> int:
    """Label the posts (by id) that have no label from the current model yet, waiting for the model: for
    jobs (``tasks.label_posts_task``), never a request. Posts without text are left out. Returns how many
    posts were classified now."""
    ids = sorted({int(i) for i in post_ids})
    if not ids:
        return 0
    done = set(PostLabel.objects.filter(post_id__in=ids, model=labeler_mod.model_version())
               .values_list("post_id", flat=True))
    rows = list(Post.objects.filter(pk__in=[i for i in ids if i not in done]).exclude(text="")
                .values("id", "author_id", "text"))
    label_posts(rows)
    return len(rows)


def label_terms(post_terms: Iterable[Iterable[str]]) -> list[str]:
    """An ability label's terms from its posts' terms: the most frequent ones of each language (Chinese
    first), so a Chinese page and an English one each have their own (``selectors.terms_for_display``)."""
    counts = Counter(t for terms in post_terms for t in terms)
    chinese = [t for t, _c in counts.most_common() if labeler_mod.is_chinese(t)][:TERMS_PER_LANGUAGE]
    other = [t for t, _c in counts.most_common() if not labeler_mod.is_chinese(t)][:TERMS_PER_LANGUAGE]
    return chinese + other


def _engagement(posts: Sequence[Mapping[str, Any]], impressions: dict[int, int]) -> float:
    rates, per_post = [], []
    for p in posts:
        interactions = p["favourites_count"] + 2 * p["reblogs_count"] + p["replies_count"]
        seen = impressions.get(p["id"])
        if seen:
            rates.append(interactions / seen)
        else:
            per_post.append(interactions)
    parts = []
    if rates:
        r = sum(rates) / len(rates)
        parts.append((len(rates), r / (r + RATE_HALF)))
    if per_post:
        e = sum(per_post) / len(per_post)
        parts.append((len(per_post), e / (e + ENGAGEMENT_HALF)))
    total = sum(n for n, _v in parts)
    return sum(n * v for n, v in parts) / total if total else 0.0


@transaction.atomic
def do_recompute_labels(user: User) -> list[AbilityLabel]:
    """Recompute a creator's ability labels from their recent public output. Idempotent."""
    now = timezone.now()
    since = now - timedelta(days=settings.LABEL_WINDOW_DAYS)
    posts = list(
        # public output: public and unlisted posts, not held for review (social.visibility.published_q)
        Post.objects.filter(author=user, reblog_of__isnull=True, created_at__gte=since,
                            visibility__in=[Visibility.PUBLIC, Visibility.UNLISTED])
        .filter(published_q()).exclude(text="").order_by("-id")
        .values("id", "author_id", "text", "created_at", "favourites_count", "reblogs_count", "replies_count")
        [: settings.LABEL_MAX_POSTS]
    )
    labels = label_posts(posts) if posts and standing(user).state != State.SUSPENDED else {}
    groups: dict[int, list[Mapping[str, Any]]] = {}
    for p in posts:
        pl = labels.get(p["id"])
        if pl is not None and pl.vertical_id:
            groups.setdefault(pl.vertical_id, []).append(p)
    impressions = impressions_for([p["id"] for p in posts]) if groups else {}
    week_of: Callable[[datetime], int] = lambda dt: (now - dt).days // 7  # noqa: E731
    current = {lab.vertical_id: lab for lab in AbilityLabel.objects.filter(user=user).select_for_update()}
    kept: list[AbilityLabel] = []
    for vertical_id, vposts in groups.items():
        n = len(vposts)
        share = n / len(posts)
        volume = min(1.0, n / FULL_VOLUME_POSTS)
        engagement = _engagement(vposts, impressions)
        weeks = {week_of(p["created_at"]) for p in vposts if week_of(p["created_at"]) < CONSISTENCY_WEEKS}
        consistency = len(weeks) / CONSISTENCY_WEEKS
        score = round(100 * volume * (W_SHARE * share + W_ENGAGEMENT * engagement + W_CONSISTENCY * consistency), 1)
        best = sorted(vposts, key=lambda p: (labels[p["id"]].confidence
                                            * math.log2(2 + p["favourites_count"] + 2 * p["reblogs_count"]
                                                        + p["replies_count"])), reverse=True)
        fields = {"score": score, "share": round(share, 4), "engagement": round(engagement, 4),
                  "consistency": round(consistency, 4), "post_count": n,
                  "sample_post_ids": [str(p["id"]) for p in best[:3]],
                  "terms": label_terms(labels[p["id"]].terms for p in vposts), "computed_at": now}
        label = current.pop(vertical_id, None)
        if label is None:
            label = AbilityLabel(user=user, vertical_id=vertical_id, previous_score=0.0, changed_at=now, **fields)
            label.save()
        else:
            if abs(label.score - score) >= 1:
                label.previous_score = label.score
                label.changed_at = now
            for key, value in fields.items():
                setattr(label, key, value)
            label.save()
        kept.append(label)
    for stale in current.values():  # no longer earned; a label removed on appeal stays removed
        if stale.suppressed:
            stale.score, stale.post_count, stale.computed_at = 0.0, 0, now
            stale.save(update_fields=["score", "post_count", "computed_at"])
        else:
            stale.delete()
    kept.sort(key=lambda lab: -lab.score)
    return kept


def ensure_default_verticals() -> int:
    """Create any missing default vertical (the data migration does this on a new database; a test
    database flushed by a transactional test case needs it again). Never changes existing ones."""
    import importlib

    defaults = importlib.import_module("tastemaker.experts.migrations.0002_default_verticals").DEFAULTS
    created = 0
    for position, (slug, en, zh) in enumerate(defaults):
        created += Vertical.objects.get_or_create(slug=slug, defaults={"name_en": en, "name_zh": zh,
                                                                       "position": position})[1]
    return created


# --- appeals --------------------------------------------------------------------------------

def do_appeal_label(user: User, vertical: Vertical, message: str, kind: str = "remove") -> LabelAppeal:
    message = (message or "").strip()
    if not message:
        raise ValidationFailed(_("Tell the operators why the label is wrong."), field="message")
    if len(message) > 1000:
        raise ValidationFailed(_("An appeal has at most 1,000 characters."), field="message")
    if kind not in {"remove", "missing"}:
        raise ValidationFailed(_("An appeal is about a wrong label or a missing one."), field="kind")
    label = AbilityLabel.objects.filter(user=user, vertical=vertical).first()
    if kind == "remove" and label is None:
        raise NotFound(_("You have no label in this vertical."))
    if has_pending(LabelAppeal, user, vertical):
        raise Conflict(_("You already have an open appeal for this vertical."))
    try:
        with transaction.atomic():
            return LabelAppeal.objects.create(user=user, vertical=vertical, label=label, kind=kind, message=message)
    except IntegrityError:
        raise Conflict(_("You already have an open appeal for this vertical.")) from None


@transaction.atomic
def do_review_appeal(operator: User, appeal: LabelAppeal, *, accept: bool, note: str = "") -> LabelAppeal:
    if not operator.is_staff:
        raise Forbidden(_("Only operators review appeals."))
    appeal = LabelAppeal.objects.select_for_update().get(pk=appeal.pk)
    if appeal.status != Status.PENDING:
        return appeal
    appeal.decide(operator, accept, note)
    if accept and appeal.kind == "remove":
        AbilityLabel.objects.filter(user_id=appeal.user_id, vertical_id=appeal.vertical_id).update(suppressed=True)
        ExpertBadge.objects.filter(user_id=appeal.user_id, vertical_id=appeal.vertical_id).delete()
    return appeal


def do_restore_label(operator: User, label: AbilityLabel) -> None:
    if not operator.is_staff:
        raise Forbidden(_("Only operators restore labels."))
    AbilityLabel.objects.filter(pk=label.pk).update(suppressed=False)


# --- expert status --------------------------------------------------------------------------

def do_apply_for_expert(user: User, vertical: Vertical, statement: str = "") -> ExpertApplication:
    require(user, Feature.EXPERTS)  # the credit gate (CREDIT_EXPERTS_MIN): refused with why and what restores it
    statement = (statement or "").strip()
    if len(statement) > 1000:
        raise ValidationFailed(_("A statement has at most 1,000 characters."), field="statement")
    if ExpertBadge.objects.filter(user=user, vertical=vertical).exists():
        raise Conflict(_("You are already an expert in this vertical."))
    unmet = [r.detail for r in eligibility(user, vertical) if not r.met]
    if unmet:
        raise ValidationFailed(_("Not yet eligible: %(why)s.") % {"why": "; ".join(unmet)}, field="vertical")
    if has_pending(ExpertApplication, user, vertical):
        raise Conflict(_("Your application for this vertical is already being reviewed."))
    label = AbilityLabel.objects.filter(user=user, vertical=vertical).first()
    try:
        with transaction.atomic():
            return ExpertApplication.objects.create(user=user, vertical=vertical, statement=statement,
                                                    score=label.score if label else 0.0,
                                                    followers=user.followers_count)
    except IntegrityError:
        raise Conflict(_("Your application for this vertical is already being reviewed.")) from None


@transaction.atomic
def do_review_application(operator: User, application: ExpertApplication, *, approve: bool,
                          note: str = "") -> ExpertApplication:
    if not operator.is_staff:
        raise Forbidden(_("Only operators review applications."))
    application = ExpertApplication.objects.select_for_update().get(pk=application.pk)
    if application.status != Status.PENDING:
        return application
    application.decide(operator, approve, note)
    if approve:
        ExpertBadge.objects.get_or_create(user_id=application.user_id, vertical_id=application.vertical_id,
                                          defaults={"application": application})
    return application


def do_revoke_badge(operator: User, badge: ExpertBadge) -> None:
    if not operator.is_staff:
        raise Forbidden(_("Only operators revoke expert status."))
    badge.delete()
