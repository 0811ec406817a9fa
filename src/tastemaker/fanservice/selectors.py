"""Reads of the fan service platform: subscriber counts by segment (never people), the audience preview, the
fan's inbox and subscriptions, an owner's broadcasts, rules and reports (from the analytics counters)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, QuerySet

from tastemaker.accounts.models import User
from tastemaker.analytics import selectors as analytics
from tastemaker.analytics.models import Metric
from tastemaker.core.errors import NotFound
from tastemaker.core.pagination import Page, apply_keyset
from tastemaker.experts.models import Vertical
from tastemaker.showcase.models import Commission, CommissionStatus

from .models import Broadcast, InboxItem, KeywordRule, MessageClick, ServiceSettings, Subscription, Watch
from .segments import eligible_sql

BROADCAST = "bcast"
SUBSCRIPTIONS = "fansub"


def audience_size(owner: User, segment: dict[str, Any]) -> int:
    """How many subscribers a broadcast to ``segment`` would reach now (the delivery's own condition)."""
    where, params = eligible_sql(owner.pk, segment)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) {where}", params)
        return int(cursor.fetchone()[0])


def subscriber_count(owner: User) -> int:
    return Subscription.objects.filter(owner=owner).count()


def _shown(n: int) -> int | str:
    """A count by segment: below ANALYTICS_MIN_VIEWERS it shows "<5" (nobody is singled out)."""
    return n if n >= settings.ANALYTICS_MIN_VIEWERS or n == 0 else f"<{settings.ANALYTICS_MIN_VIEWERS}"


@dataclass
class SegmentCounts:
    total: int
    reachable: int
    active_30: int | str
    engaged_30: int | str
    clicked: int | str
    bought: int | str
    languages: list[tuple[str, int | str]]
    regions: list[tuple[str, int | str]]
    verticals: list[tuple[Vertical, int | str]]


def segment_counts(owner: User) -> SegmentCounts:
    """The owner's subscribers counted by segment: the only view of them an owner gets (no names, no ids)."""
    from tastemaker.analytics.models import AudienceProfile
    from tastemaker.discovery.models import UserInterest

    fans = Subscription.objects.filter(owner=owner).values("fan_id")
    languages = (User.objects.filter(pk__in=fans).values("language").annotate(n=Count("pk")).order_by("-n"))
    regions = (AudienceProfile.objects.filter(user_id__in=fans).exclude(region="").values("region")
               .annotate(n=Count("pk")).order_by("-n"))
    interests = dict(UserInterest.objects.filter(user_id__in=fans, hidden=False).exclude(picked=False, learned_weight=0)
                     .values("vertical_id").annotate(n=Count("pk")).values_list("vertical_id", "n"))
    verticals = [(v, _shown(interests[v.pk])) for v in Vertical.objects.filter(pk__in=list(interests))
                 .order_by("position")]
    return SegmentCounts(
        total=subscriber_count(owner), reachable=audience_size(owner, {}),
        active_30=_shown(audience_size(owner, {"active_days": 30})),
        engaged_30=_shown(audience_size(owner, {"engaged_days": 30})),
        clicked=_shown(audience_size(owner, {"clicked": True})), bought=_shown(audience_size(owner, {"bought": True})),
        languages=[(r["language"], _shown(r["n"])) for r in languages],
        regions=[(r["region"], _shown(r["n"])) for r in regions], verticals=verticals)


def is_subscribed(fan: User, owner: User) -> bool:
    return Subscription.objects.filter(owner=owner, fan=fan).exists()


def subscriptions_of(fan: User) -> list[Subscription]:
    return list(Subscription.objects.filter(fan=fan).select_related("owner").order_by("-id")[:200])


def inbox(fan: User, page: Page, sender_id: int | None = None, unread: bool = False) -> list[InboxItem]:
    """The fan's service inbox, newest first (optionally one sender's, or unread only)."""
    qs: QuerySet[InboxItem] = InboxItem.objects.filter(recipient=fan)
    if sender_id is not None:
        qs = qs.filter(sender_id=sender_id)
    if unread:
        qs = qs.filter(read=False)
    return apply_keyset(qs.select_related("message", "sender", "message__card_post__card", "message__post"), page)


def unread_count(fan: User) -> int:
    return InboxItem.objects.filter(recipient=fan, read=False).count()


def unread_by_sender(fan: User) -> dict[int, int]:
    return dict(InboxItem.objects.filter(recipient=fan, read=False).values("sender_id").annotate(n=Count("pk"))
                .values_list("sender_id", "n"))


def inbox_item(fan: User, item_id: int) -> InboxItem:
    item = (InboxItem.objects.select_related("message", "sender", "message__card_post__card").filter(
        pk=item_id, recipient=fan).first())
    if item is None:
        raise NotFound("Message not found.")
    return item


def broadcasts_of(owner: User, page: Page) -> list[Broadcast]:
    return apply_keyset(Broadcast.objects.filter(owner=owner).select_related("message"), page)


def broadcast_for(user: User, broadcast_id: int | None) -> Broadcast:
    """The owner's broadcast (operators see any); anyone else: NotFound."""
    qs = Broadcast.objects.select_related("message", "owner").filter(pk=broadcast_id or 0)
    if not user.is_staff:
        qs = qs.filter(owner=user)
    b = qs.first()
    if b is None:
        raise NotFound("Broadcast not found.")
    return b


def broadcast_report(b: Broadcast) -> dict[str, int]:
    """Per broadcast: delivered (and waiting for the fans' daily cap), read, clicked (its post link),
    click-outs (its card), orders (attributed to those click-outs) and unsubscribes (through its link).
    Reads the analytics counters and the owner's commissions by index: the same cost for ten fans or a
    million."""
    totals = analytics.totals(BROADCAST, b.pk)
    clicks = MessageClick.objects.filter(broadcast_id=b.pk).values("click_id")
    # the owner's commissions (by the creator index) whose click came from this broadcast's card
    orders = (Commission.objects.filter(creator_id=b.owner_id, click_id__in=clicks)
              .exclude(status=CommissionStatus.VOIDED).count())
    return {"audience": b.audience, "delivered": b.delivered, "deferred": b.deferred,
            "read": totals.get(Metric.READ, 0), "clicked": totals.get(Metric.LINK_CLICK, 0),
            "click_outs": totals.get(Metric.CLICK_OUT, 0), "orders": orders,
            "unsubscribes": totals.get(Metric.FOLLOW_LOST, 0)}


def growth(owner: User, days: int = 30) -> list[dict[str, Any]]:
    """Subscribers gained and lost per UTC day (analytics counters), oldest first."""
    s = analytics.series(SUBSCRIPTIONS, owner.pk, [Metric.FOLLOW_GAINED, Metric.FOLLOW_LOST], "day", days)
    from datetime import UTC, datetime

    return [{"day": datetime.fromtimestamp(bucket, UTC).date().isoformat(),
             "gained": s.values[Metric.FOLLOW_GAINED][i], "lost": s.values[Metric.FOLLOW_LOST][i]}
            for i, bucket in enumerate(s.buckets)]


def service_settings(owner: User) -> ServiceSettings:
    return ServiceSettings.objects.filter(owner=owner).first() or ServiceSettings(owner=owner)


def rules_of(owner: User) -> list[KeywordRule]:
    return list(KeywordRule.objects.filter(owner=owner).order_by("keyword"))


def watches_of(fan: User) -> list[Watch]:
    return list(Watch.objects.filter(fan=fan).select_related("product", "card_post").order_by("-id")[:200])


def is_watching(fan: User, product_id: int | None) -> bool:
    return product_id is not None and Watch.objects.filter(fan=fan, product_id=product_id).exists()


