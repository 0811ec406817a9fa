"""Reads for the promotion web pages (issue 13): one's campaigns and their figures, the audience estimate
before paying, the operators' review queue and revenue, a person's promoted-content settings.

Reads only (writes are ``services.do_*``); the web layer calls these and ``selectors``. Money stays in
integer minor units (charges in milli minor units, see ``models``); the pages format it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from statistics import median
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from tastemaker.analytics.models import Metric, Stat, SubjectType, Surface
from tastemaker.core.errors import NotFound
from tastemaker.payments.models import AccountKind, Entry, TransactionKind
from tastemaker.social.models import Follow, Post

from .models import (
    AutoPromotion,
    Campaign,
    CampaignStatus,
    Charge,
    ChargeKind,
    ChargeStatus,
    MutedAdvertiser,
    PriceModel,
    PromotedFollow,
    Serve,
    TargetingOptOut,
    Tool,
)
from .selectors import _lookalike_profile

if TYPE_CHECKING:
    from tastemaker.accounts.models import User

ORGANIC_SAMPLE = 20  # the author's recent posts whose reads make the organic median
SERIES_POINTS = {"minute": (60, 60), "hour": (3600, 48), "day": (86400, 30)}  # bucket seconds, buckets


# --- one's campaigns -----------------------------------------------------------------------------------

def my_campaigns(owner: User, *, max_id: int | None = None, limit: int = 20) -> list[Campaign]:
    """The owner's campaigns, newest first, keyset-paged by id."""
    qs = Campaign.objects.filter(owner=owner).select_related("post").order_by("-id")
    if max_id is not None:
        qs = qs.filter(pk__lt=max_id)
    return list(qs[:limit])


def campaign_for(user: User, campaign_id: int) -> Campaign:
    """A campaign its owner (or an operator) may see; ``NotFound`` for anyone else (never 403: its
    existence is nobody else's business)."""
    campaign = Campaign.objects.select_related("post", "owner").filter(pk=campaign_id).first()
    if campaign is None or (campaign.owner_id != user.pk and not user.is_staff):
        raise NotFound(_("Campaign not found."))
    return campaign


def post_to_promote(owner: User, post_id: int) -> Post:
    """The owner's own original post (the composer's subject); ``NotFound`` otherwise."""
    post = Post.objects.filter(pk=post_id, author=owner, reblog_of__isnull=True).first()
    if post is None:
        raise NotFound(_("Post not found."))
    return post


@dataclass(frozen=True)
class Figures:
    """A campaign's figures as its page shows them (money in minor units of ``currency``)."""

    delivered: int  # promoted items put in front of someone (serves)
    impressions: int  # valid promoted impressions of the subject (the analytics filter decided)
    billed: int  # billable units charged (impressions / followers reached / follows), refunds excluded
    reads: int  # reads of the post (all surfaces)
    organic_reads_median: float | None  # the author's recent other posts' median reads (Fan Headline report)
    follows_gained: int
    follows_kept: int
    spend: int  # charged so far (floor of the reserved milli amounts)
    captured: int  # of which moved from the hold to promotion revenue
    budget: int
    currency: str
    cpm: int | None  # spend per 1,000 valid impressions
    cost_per_follow: int | None
    organic_impressions: int  # the subject's impressions on every other surface

    @property
    def read_ratio(self) -> float | None:
        if not self.organic_reads_median:
            return None
        return round(self.reads / self.organic_reads_median, 2)

    @property
    def left(self) -> int:
        return max(0, self.budget - self.spend)


def _stat_totals(subject_type: str, subject_id: int) -> tuple[dict[str, int], int]:
    """(lifetime totals per metric, promoted impressions) of one subject, in one query."""
    totals: dict[str, int] = {}
    promoted = 0
    for dimension, _value, metric, count in Stat.objects.filter(
            Q(dimension="", value="") | Q(dimension="surface", value=Surface.PROMOTED),
            subject_type=subject_type, subject_id=subject_id, granularity="t", bucket=0).values_list(
            "dimension", "value", "metric", "count"):
        if dimension == "":
            totals[metric] = count
        elif metric == Metric.IMPRESSION:
            promoted = count
    return totals, promoted


def organic_reads_median(author_id: int, exclude_post_id: int | None) -> float | None:
    """The median lifetime reads of the author's recent other original posts (None without any)."""
    qs = Post.objects.filter(author_id=author_id, reblog_of__isnull=True, in_reply_to__isnull=True)
    if exclude_post_id is not None:
        qs = qs.exclude(pk=exclude_post_id)
    ids = list(qs.order_by("-id").values_list("pk", flat=True)[:ORGANIC_SAMPLE])
    if not ids:
        return None
    reads = dict(Stat.objects.filter(subject_type=SubjectType.POST, subject_id__in=ids, granularity="t", bucket=0,
                                     dimension="", value="", metric=Metric.READ).values_list("subject_id", "count"))
    return float(median(reads.get(i, 0) for i in ids))


def campaign_figures(campaign: Campaign) -> Figures:
    delivered = Serve.objects.filter(campaign=campaign).count()
    charged = (Charge.objects.filter(campaign=campaign).exclude(status=ChargeStatus.VOIDED)
               .aggregate(n=Count("id"), milli=Sum("unit_milli")))
    follows = PromotedFollow.objects.filter(campaign=campaign).aggregate(
        gained=Count("id"), kept=Count("id", filter=Q(undone_at__isnull=True)))
    if campaign.post_id is not None:
        totals, promoted = _stat_totals(SubjectType.POST, campaign.post_id)
        organic_median = organic_reads_median(campaign.owner_id, campaign.post_id)
    else:
        assert campaign.account_id is not None
        totals, promoted = _stat_totals(SubjectType.ACCOUNT, campaign.account_id)
        organic_median = None
    spend = (charged["milli"] or 0) // 1000
    impressions = promoted
    if campaign.price_model == PriceModel.CPM:  # every billed unit stands on a valid promoted impression
        impressions = max(impressions, charged["n"] or 0)
    kept = follows["kept"] or 0
    return Figures(
        delivered=delivered, impressions=impressions, billed=charged["n"] or 0, reads=totals.get(Metric.READ, 0),
        organic_reads_median=organic_median, follows_gained=follows["gained"] or 0, follows_kept=kept,
        spend=spend, captured=campaign.captured, budget=campaign.budget, currency=campaign.currency,
        cpm=(spend * 1000 // impressions) if impressions else None,
        cost_per_follow=(spend // kept) if kept else None,
        organic_impressions=max(0, totals.get(Metric.IMPRESSION, 0) - promoted))


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


def audience_estimate(owner: User, tool: str, *, verticals: Sequence[str] = (), languages: Sequence[str] = (),
                      regions: Sequence[str] = (), lookalike: bool = False) -> int:
    """How many accounts a campaign with this targeting could reach (before the caps and the auction):
    a Fan Headline the owner's followers; Passer-by and Account Recommendation the active accounts that do
    not follow the owner, matching every targeting list given (interest verticals, language, region,
    people like the owner's followers), without those who opted out of interest-based targeting or muted
    the owner's promotions."""
    from tastemaker.accounts.models import User as UserModel

    followers = Follow.objects.filter(target=owner).values("follower_id")
    muted = MutedAdvertiser.objects.filter(advertiser=owner).values("user_id")
    if tool == Tool.FAN_HEADLINE:
        return UserModel.objects.filter(pk__in=followers, is_active=True, is_suspended=False).exclude(
            pk__in=muted).count()
    qs = UserModel.objects.filter(is_active=True, is_suspended=False).exclude(pk=owner.pk).exclude(
        pk__in=followers).exclude(pk__in=muted)
    if verticals or lookalike:
        qs = qs.exclude(pk__in=TargetingOptOut.objects.values("user_id"))
    interesting = Q(vertical_interests__hidden=False) & (Q(vertical_interests__picked=True)
                                                         | Q(vertical_interests__learned_weight__gt=0))
    if verticals:
        qs = qs.filter(pk__in=UserModel.objects.filter(interesting, vertical_interests__vertical__slug__in=list(
            verticals)).values("pk"))
    if languages:
        prefixes = Q()
        for lang in languages:
            prefixes |= Q(language__istartswith=lang.split("-")[0])
        qs = qs.filter(prefixes)
    if regions:
        qs = qs.filter(audience_profile__region__in=[r.upper() for r in regions])
    if lookalike:
        like_verticals, like_accounts = _lookalike_profile(owner.pk)
        qs = qs.filter(pk__in=UserModel.objects.filter(interesting, vertical_interests__vertical_id__in=list(
            like_verticals)).values("pk")) | qs.filter(pk__in=Follow.objects.filter(
                target_id__in=list(like_accounts)).values("follower_id"))
    return qs.distinct().count()


# --- standing orders and a person's settings -------------------------------------------------------------

def standing_orders(owner: User) -> list[AutoPromotion]:
    return list(AutoPromotion.objects.filter(owner=owner).select_related("vertical").order_by("-id"))


def targeting_opted_out(user: User) -> bool:
    return TargetingOptOut.objects.filter(user=user).exists()


def muted_advertisers(user: User) -> list[User]:
    from tastemaker.accounts.models import User as UserModel

    ids = MutedAdvertiser.objects.filter(user=user).values("advertiser_id")
    return list(UserModel.objects.filter(pk__in=ids).order_by("username"))


# --- operators -------------------------------------------------------------------------------------------

def review_queue(*, limit: int = 50) -> list[Campaign]:
    """Campaigns waiting for an operator, oldest first."""
    return list(Campaign.objects.filter(status=CampaignStatus.PENDING_REVIEW).select_related("owner", "post")
                .order_by("id")[:limit])


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
