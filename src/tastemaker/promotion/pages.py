"""Reads for the promotion web pages (issue 13) that ``selectors`` does not have: the composer's subject and
tools, a campaign's chart series and organic impressions, the operators' revenue page, a person's
promoted-content settings, a campaign's advertiser. (Lists, the report, the estimate, the review queue and
standing orders are ``selectors``'.)

Reads only (writes are ``services.do_*``); the web layer calls these and ``selectors``. Money stays in
integer minor units (charges in milli minor units, see ``models``); the pages format it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from tastemaker.analytics.models import Metric, Stat, SubjectType, Surface
from tastemaker.core.errors import NotFound
from tastemaker.payments.models import AccountKind, Entry, TransactionKind
from tastemaker.social.models import Post

from .models import (
    Campaign,
    Charge,
    ChargeKind,
    ChargeStatus,
    MutedAdvertiser,
    Serve,
    TargetingOptOut,
    Tool,
)

if TYPE_CHECKING:
    from tastemaker.accounts.models import User

SERIES_POINTS = {"minute": (60, 60), "hour": (3600, 48), "day": (86400, 30)}  # bucket seconds, buckets


# --- one's campaigns (lists, the campaign and its report: ``selectors.campaigns_of``, ``campaign_for``, ``report``)

def post_to_promote(owner: User, post_id: int) -> Post:
    """The owner's own original post (the composer's subject); ``NotFound`` otherwise."""
    post = Post.objects.filter(pk=post_id, author=owner, reblog_of__isnull=True).first()
    if post is None:
        raise NotFound(_("Post not found."))
    return post


def organic_impressions(campaign: Campaign) -> int:
    """The subject's lifetime impressions on every surface but ``promoted`` (organic vs promoted)."""
    subject_type = SubjectType.POST if campaign.post_id is not None else SubjectType.ACCOUNT
    subject = campaign.post_id if campaign.post_id is not None else (campaign.account_id or 0)
    rows = dict(Stat.objects.filter(subject_type=subject_type, subject_id=subject, granularity="t", bucket=0,
                                    metric=Metric.IMPRESSION, dimension__in=("", "surface"))
                .filter(Q(dimension="") | Q(value=Surface.PROMOTED)).values_list("dimension", "count"))
    return max(0, rows.get("", 0) - rows.get("surface", 0))


def campaign_series(campaign: Campaign, granularity: str, *, now: datetime | None = None
                    ) -> tuple[list[int], list[int], list[int]]:
    """(bucket starts in epoch seconds, items delivered, billed units) per bucket for the campaign's chart."""
    size, points = SERIES_POINTS.get(granularity, SERIES_POINTS["hour"])
    end = int((now or timezone.now()).timestamp())
    last = end - end % size
    first = last - (points - 1) * size
    buckets = list(range(first, last + 1, size))
    since = datetime.fromtimestamp(first, tz=UTC)
    delivered = [0] * points
    billed = [0] * points
    for at in Serve.objects.filter(campaign=campaign, created_at__gte=since).values_list("created_at", flat=True):
        delivered[min(points - 1, (int(at.timestamp()) - first) // size)] += 1
    for at in (Charge.objects.filter(campaign=campaign, created_at__gte=since).exclude(status=ChargeStatus.VOIDED)
               .values_list("created_at", flat=True)):
        billed[min(points - 1, (int(at.timestamp()) - first) // size)] += 1
    return buckets, delivered, billed


# --- the composer ------------------------------------------------------------------------------------

def tools_for(subject: str) -> list[tuple[str, str]]:
    """The tools valid for a subject ("post" or "account") as (value, label)."""
    if subject == "account":
        return [(Tool.ACCOUNT_REC.value, str(Tool.ACCOUNT_REC.label))]
    return [(Tool.FAN_HEADLINE.value, str(Tool.FAN_HEADLINE.label)), (Tool.PASSERBY.value, str(Tool.PASSERBY.label))]


# --- a person's settings -------------------------------------------------------------

def targeting_opted_out(user: User) -> bool:
    return TargetingOptOut.objects.filter(user=user).exists()


def muted_advertisers(user: User) -> list[User]:
    from tastemaker.accounts.models import User as UserModel

    ids = MutedAdvertiser.objects.filter(user=user).values("advertiser_id")
    return list(UserModel.objects.filter(pk__in=ids).order_by("username"))


# --- operators -------------------------------------------------------------------------------------------

def _spend_entries() -> QuerySet[Entry]:
    return Entry.objects.filter(account__kind=AccountKind.PROMOTION_SPEND, transaction__kind=TransactionKind.CAPTURE,
                                transaction__reference__startswith="promotion:")


def revenue_by_day(days: int = 30, *, today: date | None = None) -> list[tuple[date, str, int]]:
    """Promotion revenue (captures into ``promotion_spend``) per UTC day and currency, the last ``days`` days,
    newest first: (day, currency, amount in minor units)."""
    today = today or timezone.now().date()
    since = datetime.combine(today - timedelta(days=days - 1), datetime.min.time(), tzinfo=UTC)
    rows = (_spend_entries().filter(transaction__created_at__gte=since)
            .annotate(day=TruncDate("transaction__created_at", tzinfo=UTC))
            .values("day", "currency").annotate(total=Sum("amount")).order_by("-day", "currency"))
    return [(r["day"], r["currency"], r["total"] or 0) for r in rows]


def top_campaigns(*, limit: int = 20) -> list[Campaign]:
    """The campaigns that brought the most revenue (captured), most first."""
    return list(Campaign.objects.filter(captured__gt=0).select_related("owner").order_by("-captured", "id")[:limit])


def charge_kinds(campaigns: Iterable[Campaign]) -> dict[int, dict[str, int]]:
    """Billed units per campaign and kind (impressions, followers reached, follows), refunds excluded."""
    out: dict[int, dict[str, int]] = {}
    for cid, kind, n in (Charge.objects.filter(campaign__in=list(campaigns)).exclude(status=ChargeStatus.VOIDED)
                         .values("campaign_id", "kind").annotate(n=Count("id")).values_list("campaign_id", "kind", "n")):
        out.setdefault(cid, dict.fromkeys(ChargeKind.values, 0))[kind] = n
    return out


def advertiser_of(campaign_id: int) -> int:
    """Who pays for a campaign (the "don't show promotions from this account" control names a campaign)."""
    owner_id = Campaign.objects.filter(pk=campaign_id).values_list("owner_id", flat=True).first()
    if owner_id is None:
        raise NotFound(_("Campaign not found."))
    return int(owner_id)


def campaign_breakdowns(campaign: Campaign) -> tuple[str, dict[str, dict[str, list[dict[str, Any]]]]]:
    """The campaign subject's breakdowns by the existing dimensions (surface, audience, device, language,
    region...; ``analytics.selectors.breakdowns``, with its "<5" privacy rule) over the days the campaign
    ran, and the metric they are shown for (impressions of a post, follows of an account)."""
    from tastemaker.analytics.selectors import breakdowns

    start = campaign.activated_at or campaign.created_at
    days = max(1, -(-int((timezone.now() - start).total_seconds()) // 86400))
    if campaign.post_id is not None:
        return Metric.IMPRESSION, breakdowns(SubjectType.POST, campaign.post_id, days=min(days, 3660))
    return Metric.FOLLOW_GAINED, breakdowns(SubjectType.ACCOUNT, campaign.account_id or 0, days=min(days, 3660))
