"""Discovery writes: interests (picked, learned, hidden), suggestion dismissals, onboarding follows."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tastemaker.accounts.models import User
from tastemaker.core.errors import DomainError, NotFound, ValidationFailed
from tastemaker.experts.models import Vertical
from tastemaker.experts.tasks import enqueue_label_posts
from tastemaker.social import services as social

from . import selectors
from .models import SuggestionDismissal, UserInterest

MAX_PICKED = 12


@transaction.atomic
def do_set_interests(user: User, verticals: list[Vertical]) -> list[Vertical]:
    """The user's picked verticals are exactly ``verticals`` (onboarding, settings, API)."""
    if len(verticals) > MAX_PICKED:
        raise ValidationFailed(_("Pick at most %(n)d verticals.") % {"n": MAX_PICKED}, field="verticals")
    now = timezone.now()
    chosen = {v.pk for v in verticals}
    UserInterest.objects.filter(user=user, picked=True).exclude(vertical_id__in=chosen).update(
        picked=False, updated_at=now)
    for v in verticals:
        row, created = UserInterest.objects.get_or_create(user=user, vertical=v,
                                                          defaults={"picked": True, "updated_at": now})
        if not created and (not row.picked or row.hidden):
            UserInterest.objects.filter(pk=row.pk).update(picked=True, hidden=False, updated_at=now)
    slugs = [v.slug for v in sorted(verticals, key=lambda v: v.position)]
    User.objects.filter(pk=user.pk).update(interests=slugs)  # mirrored on the account (API `tastemaker`)
    user.interests = slugs
    return verticals


def do_add_interest(user: User, vertical: Vertical) -> None:
    picked = [i.vertical for i in selectors.interests(user) if i.picked]
    if vertical.pk not in {v.pk for v in picked}:
        do_set_interests(user, [*picked, vertical])


@transaction.atomic
def do_remove_interest(user: User, vertical: Vertical) -> None:
    """Remove a picked or learned interest; a learned one stays hidden until the user adds it again."""
    row, _created = UserInterest.objects.get_or_create(user=user, vertical=vertical)
    UserInterest.objects.filter(pk=row.pk).update(picked=False, hidden=True, updated_at=timezone.now())
    slugs = [s for s in (user.interests or []) if s != vertical.slug]
    User.objects.filter(pk=user.pk).update(interests=slugs)
    user.interests = slugs


@transaction.atomic
def do_recompute_learned_interests(user: User) -> dict[int, float]:
    """Store the user's learned interest weights (from stored post labels only: this runs in requests too).
    Posts engaged with that nobody labelled yet are labelled by a job after commit, for the next time."""
    learned = selectors.learned_interests(user)
    weights = learned.weights
    enqueue_label_posts(learned.unlabelled)
    now = timezone.now()
    UserInterest.objects.filter(user=user).exclude(vertical_id__in=list(weights)).update(learned_weight=0.0)
    for vid, weight in weights.items():
        updated = UserInterest.objects.filter(user=user, vertical_id=vid).update(learned_weight=weight,
                                                                                 updated_at=now)
        if not updated:
            UserInterest.objects.get_or_create(user=user, vertical_id=vid,
                                               defaults={"learned_weight": weight, "updated_at": now})
    return weights


def do_dismiss_suggestion(user: User, target_id: int) -> None:
    if not User.objects.filter(pk=target_id).exists():
        raise NotFound(_("Account not found."))
    SuggestionDismissal.objects.get_or_create(user=user, target_id=target_id)


def do_follow_many(user: User, targets: list[User]) -> tuple[int, list[str]]:
    """Follow several accounts (onboarding); each follow backfills the home feed after commit.
    Returns (followed, errors): one refused follow does not stop the others."""
    followed, errors = 0, []
    for target in targets:
        try:
            social.do_follow(user, target)
            followed += 1
        except DomainError as exc:
            errors.append(f"@{target.username}: {exc.message}")
    return followed, errors
