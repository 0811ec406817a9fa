"""The credit score's slow movers (run daily by ``tasks.credit_upkeep``):

- good standing: +``CREDIT_WEEKLY_RESTORE`` for each violation-free week, up to the starting score;
- the Showcase: a creator whose attributed orders of the last 30 days are refunded far more than usual
  (``SHOWCASE_REFUND_RATE_LIMIT``, with at least ``SHOWCASE_RATE_MIN_ORDERS`` orders) loses points, at most
  once a month, and a case opens so an operator looks at the cards (fake products, misleading reasons).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tastemaker.accounts.models import CreditChange, CreditReason, User
from tastemaker.accounts.services import do_change_credit
from tastemaker.accounts.standing import CREDIT_START, suspended_q
from tastemaker.showcase.models import Commission, OrderStatus

from .models import CaseSource, Reason, TargetKind
from .services import do_open_rules_case

WEEK = timedelta(days=7)


def restore_good_standing(now: datetime | None = None) -> int:
    """+1 (``CREDIT_WEEKLY_RESTORE``) to each account below the starting score with no deduction and no
    restore in the last week. Returns how many accounts moved."""
    now = now or timezone.now()
    step = settings.CREDIT_WEEKLY_RESTORE
    if step <= 0:
        return 0
    recent = CreditChange.objects.filter(account_id=OuterRef("pk"), created_at__gt=now - WEEK)
    candidates = (User.objects.filter(credit_score__lt=CREDIT_START).exclude(suspended_q())
                  .filter(~Exists(recent.filter(Q(delta__lt=0) | Q(reason=CreditReason.GOOD_STANDING))))
                  .filter(Exists(CreditChange.objects.filter(account_id=OuterRef("pk"), delta__lt=0))))
    moved = 0
    for user in candidates.iterator():
        if do_change_credit(user, step, CreditReason.GOOD_STANDING, cap=CREDIT_START) is not None:
            moved += 1
    return moved


def apply_showcase_rates(now: datetime | None = None) -> int:
    """Deduct ``SHOWCASE_RATES_DEDUCTION`` from creators whose refund rate over the last 30 days is above
    the limit (at most once per 30 days each), and open a case about them. Returns how many."""
    now = now or timezone.now()
    since = now - timedelta(days=30)
    refunded = [OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED]
    rows = (Commission.objects.filter(created_at__gt=since).values("creator_id")
            .annotate(orders=Count("pk"), refunds=Count("pk", filter=Q(order__status__in=refunded)))
            .filter(orders__gte=settings.SHOWCASE_RATE_MIN_ORDERS))
    hit = 0
    for row in rows:
        rate = row["refunds"] / row["orders"]
        if rate <= settings.SHOWCASE_REFUND_RATE_LIMIT:
            continue
        user = User.objects.filter(pk=row["creator_id"]).first()
        if user is None or CreditChange.objects.filter(account_id=user.pk, reason=CreditReason.SHOWCASE_RATES,
                                                       created_at__gt=since).exists():
            continue
        note = _("%(refunds)d of %(orders)d Showcase orders in 30 days were refunded (%(rate)d %%).") % {
            "refunds": row["refunds"], "orders": row["orders"], "rate": round(rate * 100)}
        case = do_open_rules_case(user, TargetKind.ACCOUNT, user.pk, Reason.SCAM, note, source=CaseSource.SHOWCASE)
        do_change_credit(user, -settings.SHOWCASE_RATES_DEDUCTION, CreditReason.SHOWCASE_RATES, note=note,
                         case_id=case.pk)
        hit += 1
    return hit
