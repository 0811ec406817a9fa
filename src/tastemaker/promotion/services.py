"""Promotion write paths (``do_*``): campaigns' life cycle, billing, user controls, standing orders.

Life cycle: ``do_create_campaign`` validates (clear messages), asks the credit gate
(``accounts.standing.require(owner, Feature.PROMOTION)``) and, unless kept as a draft, submits it:
the automatic review (``review_flags``) either activates it at once or sends it to the operators' queue
(``pending_review``; ``do_review_campaign`` approves or rejects). Activation places the hold for the whole
budget on the owner's wallet (``payments.do_hold``, destination ``promotion_spend``); ``InsufficientFunds``
(409) leaves nothing behind. ``do_pause_campaign`` captures what is due and releases the rest of the hold
(unless a follow charge is still in its window); ``do_resume_campaign`` holds the rest of the budget again
(``InsufficientFunds``: stays paused); ``do_end_campaign`` and a spent budget (``exhausted``) stop delivery, and the capture job releases what is
left once no charge is pending (``closed``).

Billing: ``do_record_delivery`` (a home page showed promoted items) records the serves (frequency caps)
and one impression event per item with ``surface=promoted`` through the analytics ingest; only an event
the existing filter accepted as valid (not a bot, not the owner, not a repeat) becomes a ``Charge``. A
follow of the subject by someone a campaign was shown to is a ``PromotedFollow``; on a CPF campaign it is a
charge billable after ``PROMOTION_FOLLOW_WINDOW`` (an unfollow before that voids it: refunded, never
captured). A charge reserves its price from the budget (and the day's budget) by a conditional UPDATE, so
a campaign never commits more than its budget; ``do_settle_charges`` (a job every few seconds) captures
due charges from the hold in batches with ``payments.do_capture_part`` (reference
``promotion:<campaign>:<batch>``): the campaign's ``captured`` is always ``floor(settled_milli / 1000)``.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from tastemaker.accounts.models import User
from tastemaker.accounts.standing import Feature, require
from tastemaker.analytics.ingest import EventIn, do_record_events
from tastemaker.analytics.models import Metric, SubjectType, Surface
from tastemaker.core.batching import BatchWriter
from tastemaker.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tastemaker.core.ids import new_id
from tastemaker.core.money import check_currency, check_minor, format_amount
from tastemaker.experts.models import PostLabel, Vertical
from tastemaker.payments.models import Hold, HoldStatus
from tastemaker.payments.services import do_capture_part, do_hold, do_release, platform_account
from tastemaker.social.models import Post
from tastemaker.social.visibility import Surface as SeeSurface
from tastemaker.social.visibility import can_see
from tastemaker.trust.ratelimit import check_and_hit
from tastemaker.trust.spam import check_text

from . import pending
from .models import (
    FINAL_STATUSES,
    AutoPromotion,
    Campaign,
    CampaignDay,
    CampaignStatus,
    Charge,
    ChargeKind,
    ChargeStatus,
    HiddenPromotion,
    MutedAdvertiser,
    PriceModel,
    PromotedFollow,
    Serve,
    TargetingOptOut,
    Tool,
)

log = logging.getLogger(__name__)

MAX_DAYS = 90  # the longest campaign
DEFAULT_HOURS = 24  # a campaign without an end runs this long (Fan Headline's "within 24 h")
ATTRIBUTION_DAYS = 7  # a follow counts for a campaign shown to the follower at most this long before
MAX_TARGETS = 20  # items per targeting list
_LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_REGION_RE = re.compile(r"^[A-Za-z0-9-]{2,16}$")
_WORD_RE = re.compile(r"\w+", re.UNICODE)


# --- validation ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Targeting:
    verticals: list[str]
    languages: list[str]
    regions: list[str]
    lookalike: bool


def clean_targeting(verticals: Iterable[str] = (), languages: Iterable[str] = (), regions: Iterable[str] = (),
                    lookalike: bool = False) -> Targeting:
    """Checked targeting: known active vertical slugs, language tags, region codes. ``ValidationFailed``
    naming the field otherwise."""
    vs = sorted({str(v).strip().lower() for v in verticals if str(v).strip()})
    ls = sorted({str(v).strip() for v in languages if str(v).strip()})
    rs = sorted({str(v).strip().upper() for v in regions if str(v).strip()})
    for name, items in (("verticals", vs), ("languages", ls), ("regions", rs)):
        if len(items) > MAX_TARGETS:
            raise ValidationFailed(_("At most %(n)d items per targeting list.") % {"n": MAX_TARGETS}, field=name)
    if vs:
        known = set(Vertical.objects.filter(slug__in=vs, active=True).values_list("slug", flat=True))
        unknown = [v for v in vs if v not in known]
        if unknown:
            raise ValidationFailed(_("Unknown vertical: %(slug)s.") % {"slug": unknown[0][:40]}, field="verticals")
    bad = [v for v in ls if not _LANG_RE.match(v)]
    if bad:
        raise ValidationFailed(_("Not a language tag: %(tag)s.") % {"tag": bad[0][:20]}, field="languages")
    bad = [v for v in rs if not _REGION_RE.match(v)]
    if bad:
        raise ValidationFailed(_("Not a region code: %(code)s.") % {"code": bad[0][:20]}, field="regions")
    return Targeting(vs, ls, rs, bool(lookalike))


def _subject(owner: User, tool: str, post_id: int | None) -> tuple[Post | None, User | None]:
    if tool == Tool.ACCOUNT_REC:
        if post_id is not None:
            raise ValidationFailed(_("An Account Recommendation promotes your account, not a post."), field="post_id")
        return None, owner
    if post_id is None:
        raise ValidationFailed(_("Choose the post to promote."), field="post_id")
    post = Post.objects.filter(pk=post_id).first()
    if post is None or not can_see(owner, post):
        raise NotFound(_("Post not found."))
    if post.author_id != owner.pk:
        raise Forbidden(_("You can only promote your own posts."))
    if post.reblog_of_id is not None:
        raise ValidationFailed(_("Promote the original post, not a repost."), field="post_id")
    return post, None


def _check_money(tool: str, price_model: str, bid: int, budget: int, daily_budget: int | None,
                 currency: str) -> None:
    if price_model not in PriceModel.values:
        raise ValidationFailed(_("The price model is cpm or cpf."), field="price_model")
    if price_model == PriceModel.CPF and tool == Tool.FAN_HEADLINE:
        raise ValidationFailed(_("A Fan Headline is priced per 1,000 followers reached (cpm), not per follow."),
                               field="price_model")
    if price_model == PriceModel.CPM and tool == Tool.ACCOUNT_REC:
        raise ValidationFailed(_("An Account Recommendation is priced per follow gained (cpf)."),
                               field="price_model")
    if bid < settings.PROMOTION_MIN_BID:
        raise ValidationFailed(_("The bid is at least %(min)s.")
                               % {"min": format_amount(settings.PROMOTION_MIN_BID, currency)}, field="bid")
    if budget < settings.PROMOTION_MIN_BUDGET:
        raise ValidationFailed(_("The budget is at least %(min)s.")
                               % {"min": format_amount(settings.PROMOTION_MIN_BUDGET, currency)}, field="budget")
    unit = bid if price_model == PriceModel.CPF else -(-bid // 1000)
    if budget < unit:
        raise ValidationFailed(_("The budget does not cover one follow at this bid."), field="budget")
    if daily_budget is not None and not (unit <= daily_budget <= budget):
        raise ValidationFailed(_("The daily budget is between one unit's price and the total budget."),
                               field="daily_budget")


def _check_schedule(starts_at: datetime | None, ends_at: datetime | None) -> tuple[datetime, datetime]:
    now = timezone.now()
    start = starts_at or now
    if timezone.is_naive(start) or (ends_at is not None and timezone.is_naive(ends_at)):
        raise ValidationFailed(_("Give times with a time zone."), field="starts_at")
    if start < now - timedelta(minutes=5):
        raise ValidationFailed(_("A campaign cannot start in the past."), field="starts_at")
    end = ends_at or max(start, now) + timedelta(hours=DEFAULT_HOURS)
    if end <= start:
        raise ValidationFailed(_("A campaign ends after it starts."), field="ends_at")
    if end - start > timedelta(days=MAX_DAYS):
        raise ValidationFailed(_("A campaign runs at most %(n)d days.") % {"n": MAX_DAYS}, field="ends_at")
    return start, end


# --- automatic review ------------------------------------------------------------------------------

def stuffing_share(text: str) -> float:
    """The share of a text's words taken by its most frequent word (0 for texts under 8 words)."""
    words = [w.lower() for w in _WORD_RE.findall(text or "")]
    if len(words) < 8:
        return 0.0
    return Counter(words).most_common(1)[0][1] / len(words)


def review_flags(campaign: Campaign) -> list[str]:
    """What the automatic review found (empty: approved). Raises ``ValidationFailed`` when the subject can
    never be promoted (the post is gone or not public by the visibility rule, the account is not in good
    standing); returns flags that send the campaign to the operators' queue otherwise."""
    flags: list[str] = []
    if campaign.post_id is not None:
        post = Post.objects.filter(pk=campaign.post_id).first()
        if post is None:
            raise ValidationFailed(_("The promoted post no longer exists."), field="post_id")
        # public to anyone signed out, by the one visibility rule (held, limited or suspended: no)
        if not can_see(None, post, SeeSurface.PUBLIC):
            raise ValidationFailed(_("Only a public post can be promoted."), field="post_id")
        card = getattr(post, "card", None) if hasattr(Post, "card") else None
        if card is not None and not getattr(card, "disclosure", ""):
            flags.append("disclosure")
        verdict = check_text(post.text)
        if verdict.spam:
            flags.append(verdict.kind or "spam")
        if stuffing_share(post.text) > settings.PROMOTION_STUFFING_SHARE:
            flags.append("keyword_stuffing")
    else:
        bio = getattr(campaign.owner, "note", "") or ""
        if check_text(bio).spam:
            flags.append("spam")
    return sorted(set(flags))


# --- life cycle ---------------------------------------------------------------------------------------

def do_create_campaign(owner: User, *, tool: str, post_id: int | None = None, budget: int, bid: int,
                       price_model: str | None = None, daily_budget: int | None = None, currency: str = "CNY",
                       starts_at: datetime | None = None, ends_at: datetime | None = None,
                       verticals: Iterable[str] = (), languages: Iterable[str] = (), regions: Iterable[str] = (),
                       lookalike: bool = False, name: str = "", submit: bool = True,
                       standing_order: AutoPromotion | None = None) -> Campaign:
    """Create a campaign (and, with ``submit``, review it and activate it, placing the hold).

    ``ValidationFailed`` (422) for bad input, ``Forbidden`` (403) below the credit gate or for someone
    else's post, ``NotFound`` for an unknown post, ``InsufficientFunds`` (409) when the wallet cannot hold the
    budget (then nothing is created)."""
    require(owner, Feature.PROMOTION)
    if tool not in Tool.values:
        raise ValidationFailed(_("The tool is fan_headline, passerby or account_rec."), field="tool")
    if standing_order is None:  # the job's own campaigns are paid for by an order the owner made
        check_and_hit("promotion", owner.pk, "RATE_PROMOTION")
    currency = check_currency(currency)
    price_model = price_model or (PriceModel.CPF if tool == Tool.ACCOUNT_REC else PriceModel.CPM)
    budget, bid = check_minor(budget, field="budget"), check_minor(bid, field="bid")
    daily_budget = None if daily_budget is None else check_minor(daily_budget, field="daily_budget")
    _check_money(tool, price_model, bid, budget, daily_budget, currency)
    start, end = _check_schedule(starts_at, ends_at)
    targeting = clean_targeting(verticals, languages, regions, lookalike)
    if tool == Tool.FAN_HEADLINE and (targeting.verticals or targeting.languages or targeting.regions
                                      or targeting.lookalike):
        raise ValidationFailed(_("A Fan Headline reaches your followers: it takes no targeting."), field="tool")
    post, account = _subject(owner, tool, post_id)
    name = (name or "").strip()[:100]
    with transaction.atomic():
        campaign = Campaign.objects.create(
            owner=owner, tool=tool, post=post, account=account, name=name, verticals=targeting.verticals,
            languages=targeting.languages, regions=targeting.regions, lookalike=targeting.lookalike,
            starts_at=start, ends_at=end, currency=currency, budget=budget, daily_budget=daily_budget,
            price_model=price_model, bid=bid, standing_order=standing_order)
        if submit:
            _submit(campaign)
    return campaign


def do_submit_campaign(owner: User, campaign_id: int) -> Campaign:
    """Submit a draft: the automatic review, then active (hold placed) or pending review."""
    with transaction.atomic():
        campaign = _owned(owner, campaign_id, lock=True)
        if campaign.status != CampaignStatus.DRAFT:
            raise Conflict(_("Only a draft can be submitted."))
        require(owner, Feature.PROMOTION)
        _submit(campaign)
    return campaign


def _submit(campaign: Campaign) -> None:
    flags = review_flags(campaign)
    campaign.review_flags = flags
    if flags:
        campaign.status = CampaignStatus.PENDING_REVIEW
        campaign.save(update_fields=["review_flags", "status"])
    else:
        campaign.save(update_fields=["review_flags"])
        _activate(campaign)


def _hold_rest(campaign: Campaign) -> None:
    """Hold what is left of the budget (all of it at first; after a pause released the hold, the budget less
    what was captured) on the owner's wallet, as the campaign's hold. Each hold has its own reference
    (``promotion:<id>:hold``, then ``...:hold:<n>``); the reconcile check adds up their captures."""
    n = Hold.objects.filter(reference__startswith=f"promotion:{campaign.pk}:hold").count()
    rest = campaign.budget - campaign.captured
    if rest <= 0:
        raise Conflict(_("Nothing is left of this campaign's budget."))
    campaign.hold = do_hold(campaign.owner, rest, campaign.currency,
                            memo=_("promotion campaign %(id)s") % {"id": campaign.pk},
                            destination=platform_account("promotion_spend", campaign.currency),
                            reference=f"promotion:{campaign.pk}:hold" + (f":{n}" if n else ""))


def _activate(campaign: Campaign) -> None:
    """Hold the budget and go active (inside the caller's transaction: an ``InsufficientFunds`` undoes all)."""
    if campaign.hold_id is None:
        _hold_rest(campaign)
    campaign.status = CampaignStatus.ACTIVE
    campaign.activated_at = timezone.now()
    campaign.save(update_fields=["hold", "status", "activated_at"])
    _changed()


def do_review_campaign(operator: User, campaign_id: int, *, approve: bool, note: str = "") -> Campaign:
    """An operator approves (hold placed, active) or rejects a campaign in the review queue."""
    if not operator.is_staff:
        raise Forbidden(_("Only operators review campaigns."))
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
        if campaign is None:
            raise NotFound(_("Campaign not found."))
        if campaign.status != CampaignStatus.PENDING_REVIEW:
            raise Conflict(_("This campaign is not waiting for review."))
        campaign.reviewed_by = operator
        campaign.review_note = (note or "")[:500]
        campaign.save(update_fields=["reviewed_by", "review_note"])
        if approve:
            _activate(campaign)
        else:
            campaign.status, campaign.ended_at = CampaignStatus.REJECTED, timezone.now()
            campaign.closed = True
            campaign.save(update_fields=["status", "ended_at", "closed"])
    return campaign


def _owned(user: User, campaign_id: int, *, lock: bool = False) -> Campaign:
    qs = Campaign.objects.select_for_update() if lock else Campaign.objects
    campaign = qs.filter(pk=campaign_id).first()
    if campaign is None or (campaign.owner_id != user.pk and not user.is_staff):
        raise NotFound(_("Campaign not found."))
    return campaign


def do_pause_campaign(user: User, campaign_id: int) -> Campaign:
    """Stop delivery for now and give the rest of the budget back: what is due is captured, then the hold is
    released (resuming holds the rest again). A follow charge still in its window keeps the hold until the
    campaign resumes or ends (the capture job settles it then)."""
    with transaction.atomic():
        campaign = _owned(user, campaign_id, lock=True)
        if campaign.status == CampaignStatus.PAUSED:
            return campaign
        if campaign.status != CampaignStatus.ACTIVE:
            raise Conflict(_("Only an active campaign can be paused."))
        campaign.status = CampaignStatus.PAUSED
        campaign.save(update_fields=["status"])
        _release_if_settled(campaign)
    _changed()
    return campaign


def _release_if_settled(campaign: Campaign) -> None:
    """A paused campaign (its row locked by the caller, so no charge is being added): capture what is due
    and, when no charge is pending, release the rest of its hold."""
    _settle_campaign(campaign.pk, timezone.now())
    campaign.refresh_from_db()
    if campaign.hold_id is None or Charge.objects.filter(campaign_id=campaign.pk, status=ChargeStatus.PENDING).exists():
        return
    hold = Hold.objects.get(pk=campaign.hold_id)
    if hold.status == HoldStatus.PENDING:
        do_release(hold, memo=_("promotion campaign %(id)s paused") % {"id": campaign.pk})
    Campaign.objects.filter(pk=campaign.pk).update(hold=None)
    campaign.hold = None


def do_resume_campaign(user: User, campaign_id: int) -> Campaign:
    """Deliver again (the owner must still pass the credit gate; a campaign paused by moderation resumes
    only when the owner may promote again)."""
    with transaction.atomic():
        campaign = _owned(user, campaign_id, lock=True)
        if campaign.status == CampaignStatus.ACTIVE:
            return campaign
        if campaign.status != CampaignStatus.PAUSED:
            raise Conflict(_("Only a paused campaign can be resumed."))
        require(campaign.owner, Feature.PROMOTION)
        if campaign.ends_at <= timezone.now():
            raise Conflict(_("This campaign's time is over."))
        if campaign.hold_id is None:  # the pause gave the rest back: hold it again (InsufficientFunds: 409)
            _hold_rest(campaign)
        campaign.status, campaign.paused_by_moderation = CampaignStatus.ACTIVE, False
        campaign.save(update_fields=["status", "paused_by_moderation", "hold"])
    _changed()
    return campaign


def do_end_campaign(user: User, campaign_id: int) -> Campaign:
    """End a campaign for good; what is not spent goes back to the wallet (at once when no charge is
    pending, otherwise by the capture job once the pending follows are settled)."""
    with transaction.atomic():
        campaign = _owned(user, campaign_id, lock=True)
        if campaign.status in FINAL_STATUSES:
            return campaign
        if campaign.status in (CampaignStatus.DRAFT, CampaignStatus.PENDING_REVIEW):
            campaign.closed = True
        campaign.status, campaign.ended_at = CampaignStatus.ENDED, timezone.now()
        campaign.save(update_fields=["status", "ended_at", "closed"])
    _changed()
    do_settle_charges(campaign_ids=[campaign.pk])
    campaign.refresh_from_db()
    return campaign


def _changed() -> None:
    """The set of deliverable campaigns changed: drop this process's cached list (other processes refresh
    within ``PROMOTION_CACHE_SECONDS``)."""
    from . import selectors  # selectors import nothing from services; this keeps it one way at import time

    selectors.forget_active()


# --- billing ----------------------------------------------------------------------------------------

def _reserve(campaign: Campaign, unit: int, day: date) -> str:
    """Reserve ``unit`` (milli) of the budget and of the day's budget by conditional UPDATEs that refuse to
    pass either: "" when reserved, else "budget" or "daily" (and nothing moved: the caller's transaction
    rolls back)."""
    ok = Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.ACTIVE,
                                 committed_milli__lte=F("budget") * 1000 - unit).update(
        committed_milli=F("committed_milli") + unit)
    if not ok:
        return "budget"
    CampaignDay.objects.bulk_create([CampaignDay(campaign_id=campaign.pk, day=day)], ignore_conflicts=True)
    days = CampaignDay.objects.filter(campaign_id=campaign.pk, day=day)
    if campaign.daily_budget is not None:
        days = days.filter(committed_milli__lte=campaign.daily_budget * 1000 - unit)
    if not days.update(committed_milli=F("committed_milli") + unit):
        return "daily"
    return ""


def do_charge(campaign: Campaign, viewer_id: int, kind: str, *, event_id: int | None = None,
              at: datetime | None = None, unit_milli: int | None = None) -> Charge | None:
    """Record one billable delivery, once (its ``key``), if the budget still takes it. ``unit_milli``: the
    auction's clearing price (never above the bid; default the bid). Returns the charge, or None when it
    was charged before or the budget (total or today's) is spent."""
    now = at or timezone.now()
    day = now.date()
    if kind == ChargeKind.IMPRESSION:
        key = f"{campaign.pk}:{viewer_id}:{day.isoformat()}"
    else:
        key = f"{campaign.pk}:{viewer_id}:{kind}"
    if Charge.objects.filter(key=key).exists():
        return None
    unit = min(unit_milli, campaign.unit_milli) if unit_milli else campaign.unit_milli
    billable_at = now + timedelta(seconds=settings.PROMOTION_FOLLOW_WINDOW) if kind == ChargeKind.FOLLOW else now
    try:
        with transaction.atomic():
            charge = Charge.objects.create(campaign=campaign, viewer_id=viewer_id, kind=kind, key=key, day=day,
                                           unit_milli=unit, event_id=event_id, billable_at=billable_at)
            refused = _reserve(campaign, unit, day)
            if refused:
                raise _NoBudget(refused)
    except IntegrityError:  # charged concurrently
        return None
    except _NoBudget as exc:
        if str(exc) == "budget":  # the budget cannot take one more unit: the campaign is spent
            if Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.ACTIVE).update(
                    status=CampaignStatus.EXHAUSTED, ended_at=now):
                transaction.on_commit(_changed)
        return None
    return charge


class _NoBudget(Exception):
    pass


class Shown(Protocol):
    """What a page showed of a promoted item: a selector's ``Pick`` or a ``Delivered``."""

    @property
    def campaign_id(self) -> int: ...
    @property
    def why(self) -> str: ...
    @property
    def price_milli(self) -> int: ...


@dataclass(frozen=True)
class Delivered:
    """One promoted item shown on a page: which campaign, to whom, and why (for the serve record)."""

    campaign_id: int
    why: str = ""
    price_milli: int = 0  # the clearing price per unit (0: the bid)


@dataclass(frozen=True)
class QueuedDelivery:
    """One page's promoted items for one viewer, waiting to be written (``PROMOTION_DELIVERIES = "thread"``)."""

    viewer_id: int
    items: tuple[Delivered, ...]
    reason: str
    device: str
    at: datetime
    at_given: bool = False  # the caller fixed the time (the event keeps it)


def do_record_delivery(viewer: User, items: Sequence[Shown], *, reason: str = "", device: str = "unknown",
                       at: datetime | None = None, inline: bool = False) -> int:
    """A page showed ``items`` to ``viewer``: record the serves (the frequency caps), one impression event per
    item (``surface=promoted``, through the analytics ingest and its invalid-traffic filter) and, for each
    event the filter accepted as valid, the charge of a CPM campaign (a Fan Headline's follower reached).
    ``reason``: an invalid reason decided from the request (bot, prefetch, head).

    With ``PROMOTION_DELIVERIES = "thread"`` (production) the page's items are queued in the process and
    written with others' in one transaction every ``PROMOTION_DELIVERY_INTERVAL_MS`` by a background thread
    (``core.batching``): no home page waits for the write. Until then ``pending`` counts them for the caps.
    Returns the charges made (0 when queued)."""
    if not items:
        return 0
    now = at or timezone.now()
    queued = QueuedDelivery(viewer.pk, tuple(Delivered(i.campaign_id, i.why, i.price_milli) for i in items),
                            reason, device, now, at is not None)
    if not inline and settings.PROMOTION_DELIVERIES == "thread":
        pending.note(viewer.pk, now.date(), (i.campaign_id for i in queued.items))
        _deliveries.add(queued)
        return 0
    return write_deliveries([queued])


def write_deliveries(batch: Sequence[QueuedDelivery]) -> int:
    """Write queued deliveries in one transaction (one insert of the serves, one call of the analytics
    ingest); returns the charges made."""
    if not batch:
        return 0
    with transaction.atomic():
        return _record_deliveries(batch)


def _forget_written(batch: Sequence[QueuedDelivery]) -> None:
    for d in batch:
        pending.forget(d.viewer_id, d.at.date(), (i.campaign_id for i in d.items))


_deliveries: BatchWriter[QueuedDelivery] = BatchWriter(
    "promotion-deliveries", write_deliveries, lambda: settings.PROMOTION_DELIVERY_INTERVAL_MS / 1000,
    after=_forget_written)


def flush_deliveries() -> int:
    """Write what this process has queued now (tests, the benchmark and shutdown)."""
    return _deliveries.flush()


def _record_deliveries(batch: Sequence[QueuedDelivery]) -> int:
    campaigns = {c.pk: c for c in Campaign.objects.filter(pk__in={i.campaign_id for d in batch for i in d.items})}
    serves = [Serve(campaign_id=i.campaign_id, viewer_id=d.viewer_id, day=d.at.date(), why=i.why[:200],
                    created_at=d.at, price_milli=i.price_milli)
              for d in batch for i in d.items if i.campaign_id in campaigns]
    Serve.objects.bulk_create(serves, ignore_conflicts=True)
    events: list[EventIn] = []
    order: list[tuple[Campaign, int, QueuedDelivery]] = []
    for d in batch:
        for item in d.items:
            c = campaigns.get(item.campaign_id)
            if c is None:
                continue
            subject = (SubjectType.POST, c.post_id) if c.post_id is not None else (SubjectType.ACCOUNT, c.account_id)
            if subject[1] is None:
                continue
            events.append(EventIn(metric=Metric.IMPRESSION, subject_type=subject[0], subject_id=subject[1],
                                  surface=Surface.PROMOTED, viewer_id=d.viewer_id, reason=d.reason, device=d.device,
                                  at_ms=int(d.at.timestamp() * 1000) if d.at_given else None))
            order.append((c, item.price_milli, d))
    outcomes: list[Any] = []
    do_record_events(events, outcomes)
    made = 0
    for (c, price, d), outcome in zip(order, outcomes, strict=True):
        if outcome is None or not outcome[1]:
            continue  # rejected (not visible) or invalid traffic: never billed
        if c.price_model != PriceModel.CPM or c.status != CampaignStatus.ACTIVE:
            continue
        kind = ChargeKind.REACH if c.tool == Tool.FAN_HEADLINE else ChargeKind.IMPRESSION
        if do_charge(c, d.viewer_id, kind, event_id=outcome[0], at=d.at, unit_milli=price) is not None:
            made += 1
    return made


def do_settle_charges(*, now: datetime | None = None, campaign_ids: Sequence[int] | None = None,
                      limit: int = 100_000) -> int:
    """Capture every due pending charge from its campaign's hold into ``promotion_spend`` (one
    ``do_capture_part`` per campaign and batch), then close final campaigns with nothing pending (release
    the rest of the hold). Safe to run concurrently and again: a charge is taken by one batch only (a
    conditional UPDATE), and a batch's capture is idempotent by its reference. Returns charges captured."""
    now = now or timezone.now()
    due = Charge.objects.filter(status=ChargeStatus.PENDING, billable_at__lte=now)
    if campaign_ids is not None:
        due = due.filter(campaign_id__in=list(campaign_ids))
    ids = list(due.values_list("campaign_id", flat=True).distinct()[:limit])
    total = 0
    for campaign_id in ids:
        total += _settle_campaign(campaign_id, now)
    _close_finished(campaign_ids)
    return total


def _settle_campaign(campaign_id: int, now: datetime) -> int:
    batch = new_id()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        # one set-based conditional UPDATE takes the due charges for this batch (a charge is taken once)
        taken = Charge.objects.filter(campaign_id=campaign_id, status=ChargeStatus.PENDING,
                                      billable_at__lte=now).update(status=ChargeStatus.CAPTURED, batch=batch)
        if not taken:
            return 0
        milli = Charge.objects.filter(batch=batch, campaign_id=campaign_id).aggregate(s=Sum("unit_milli"))["s"] or 0
        settled = campaign.settled_milli + milli
        amount = settled // 1000 - campaign.settled_milli // 1000
        Campaign.objects.filter(pk=campaign_id).update(settled_milli=settled, captured=settled // 1000)
        if amount:
            assert campaign.hold_id is not None  # only an activated campaign (with its hold) has charges
            hold = Hold.objects.get(pk=campaign.hold_id)
            do_capture_part(hold, amount, reference=f"promotion:{campaign_id}:{batch}",
                            memo=_("promotion campaign %(id)s") % {"id": campaign_id})
    return taken


def _close_finished(campaign_ids: Sequence[int] | None = None) -> None:
    """End campaigns past their time; release the rest of the hold of final campaigns with nothing pending."""
    now = timezone.now()
    over = Campaign.objects.filter(status__in=(CampaignStatus.ACTIVE, CampaignStatus.PAUSED), ends_at__lte=now)
    if over.update(status=CampaignStatus.ENDED, ended_at=now):
        _changed()
    finished = Campaign.objects.filter(status__in=FINAL_STATUSES, closed=False)
    if campaign_ids is not None:
        finished = finished.filter(pk__in=list(campaign_ids))
    for campaign_id in list(finished.values_list("pk", flat=True)[:1000]):
        with transaction.atomic():
            campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
            if campaign.closed or Charge.objects.filter(campaign_id=campaign_id,
                                                        status=ChargeStatus.PENDING).exists():
                continue
            if campaign.hold_id is not None:
                hold = Hold.objects.get(pk=campaign.hold_id)
                if hold.status == HoldStatus.PENDING:
                    do_release(hold, memo=_("promotion campaign %(id)s ended") % {"id": campaign_id})
            Campaign.objects.filter(pk=campaign_id).update(closed=True)


# --- follows (hooks from social, through settings.HOOKS) ------------------------------------------------

def do_follow_gained(follower_id: int, target_id: int, at: datetime | None = None) -> int:
    """``follower`` followed ``target``: each campaign of ``target`` shown to the follower within
    ``ATTRIBUTION_DAYS`` gained a follow (a CPF campaign charges it, billable after the window)."""
    now = at or timezone.now()
    since = (now - timedelta(days=ATTRIBUTION_DAYS)).date()
    prices: dict[int, int] = {}
    for cid, price in (Serve.objects.filter(viewer_id=follower_id, day__gte=since, campaign__owner_id=target_id)
                       .order_by("created_at").values_list("campaign_id", "price_milli")):
        prices[cid] = price  # the latest serve's clearing price
    if not prices:
        return 0
    PromotedFollow.objects.bulk_create([PromotedFollow(campaign_id=c, follower_id=follower_id, created_at=now)
                                        for c in prices], ignore_conflicts=True)
    made = 0
    for c in Campaign.objects.filter(pk__in=list(prices), price_model=PriceModel.CPF):
        if do_charge(c, follower_id, ChargeKind.FOLLOW, at=now, unit_milli=prices[c.pk]) is not None:
            made += 1
    return made


def do_follow_lost(follower_id: int, target_id: int, at: datetime | None = None) -> int:
    """``follower`` unfollowed ``target``: a promoted follow undone within ``PROMOTION_FOLLOW_WINDOW`` is
    not kept, and its pending CPF charge is voided (refunded: never captured; its budget is free again)."""
    now = at or timezone.now()
    window = timedelta(seconds=settings.PROMOTION_FOLLOW_WINDOW)
    follows = list(PromotedFollow.objects.filter(follower_id=follower_id, campaign__owner_id=target_id,
                                                 undone_at__isnull=True, created_at__gt=now - window))
    voided = 0
    for f in follows:
        with transaction.atomic():
            PromotedFollow.objects.filter(pk=f.pk).update(undone_at=now)
            charge = Charge.objects.filter(key=f"{f.campaign_id}:{follower_id}:{ChargeKind.FOLLOW}",
                                           status=ChargeStatus.PENDING).first()
            if charge is None:
                continue
            if Charge.objects.filter(pk=charge.pk, status=ChargeStatus.PENDING).update(status=ChargeStatus.VOIDED):
                Campaign.objects.filter(pk=f.campaign_id).update(committed_milli=F("committed_milli")
                                                                 - charge.unit_milli)
                CampaignDay.objects.filter(campaign_id=f.campaign_id, day=charge.day).update(
                    committed_milli=F("committed_milli") - charge.unit_milli)
                voided += 1
                _reactivate_if_room(f.campaign_id, now)
    return voided


def _reactivate_if_room(campaign_id: int, now: datetime) -> None:
    """A campaign spent out (``exhausted``) whose budget a voided charge freed again delivers again, while its
    hold is still open (not ``closed``: a pending charge kept it) and its time is not over."""
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None or campaign.status != CampaignStatus.EXHAUSTED:
        return
    if Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.EXHAUSTED, closed=False, ends_at__gt=now,
                               committed_milli__lte=F("budget") * 1000 - campaign.unit_milli).update(
            status=CampaignStatus.ACTIVE, ended_at=None):
        transaction.on_commit(_changed)


def do_pause_for_suspension(user: User) -> int:
    """The account was suspended (hook ``moderation.suspended``): pause its active campaigns (marked, so
    the owner sees why). Returns how many."""
    n = Campaign.objects.filter(owner_id=user.pk, status=CampaignStatus.ACTIVE).update(
        status=CampaignStatus.PAUSED, paused_by_moderation=True)
    if n:
        transaction.on_commit(_changed)
    return n


# --- user controls ---------------------------------------------------------------------------------------

def do_hide_promotion(user: User, campaign_id: int) -> None:
    """Never show this promoted item (campaign) to ``user`` again."""
    if not Campaign.objects.filter(pk=campaign_id).exists():
        raise NotFound(_("Campaign not found."))
    HiddenPromotion.objects.bulk_create([HiddenPromotion(user=user, campaign_id=campaign_id)],
                                        ignore_conflicts=True)


def do_mute_advertiser(user: User, advertiser_id: int, *, mute: bool = True) -> None:
    """Mute (or unmute) all promotions paid for by ``advertiser_id``."""
    if advertiser_id == user.pk:
        raise ValidationFailed(_("You cannot mute your own promotions."))
    if not User.objects.filter(pk=advertiser_id).exists():
        raise NotFound(_("Account not found."))
    if mute:
        MutedAdvertiser.objects.bulk_create([MutedAdvertiser(user=user, advertiser_id=advertiser_id)],
                                            ignore_conflicts=True)
    else:
        MutedAdvertiser.objects.filter(user=user, advertiser_id=advertiser_id).delete()


def do_set_targeting_opt_out(user: User, opted_out: bool) -> None:
    """Opt out of (or back into) interest-based targeting."""
    if opted_out:
        TargetingOptOut.objects.get_or_create(user=user)
    else:
        TargetingOptOut.objects.filter(user=user).delete()


# --- standing orders (自动投放) -----------------------------------------------------------------------------

def do_create_standing_order(owner: User, *, tool: str, weekly_budget: int, per_campaign_budget: int, bid: int,
                             vertical: str | None = None, currency: str = "CNY") -> AutoPromotion:
    """"Fan Headline each new post of mine (in ``vertical``), up to ``weekly_budget`` a week", or a
    recurring weekly Account Recommendation (``per_campaign_budget`` each week)."""
    require(owner, Feature.PROMOTION)
    check_and_hit("promotion", owner.pk, "RATE_PROMOTION")
    if tool not in (Tool.FAN_HEADLINE, Tool.ACCOUNT_REC):
        raise ValidationFailed(_("A standing order is a Fan Headline or an Account Recommendation."), field="tool")
    currency = check_currency(currency)
    weekly_budget = check_minor(weekly_budget, field="weekly_budget")
    per_campaign_budget = check_minor(per_campaign_budget, field="per_campaign_budget")
    bid = check_minor(bid, field="bid")
    _check_money(tool, PriceModel.CPF if tool == Tool.ACCOUNT_REC else PriceModel.CPM, bid, per_campaign_budget,
                 None, currency)
    if per_campaign_budget > weekly_budget:
        raise ValidationFailed(_("Each campaign's budget is at most the weekly budget."), field="per_campaign_budget")
    v = None
    if vertical:
        if tool != Tool.FAN_HEADLINE:
            raise ValidationFailed(_("Only a Fan Headline order is limited to a vertical."), field="vertical")
        v = Vertical.objects.filter(slug=vertical, active=True).first()
        if v is None:
            raise ValidationFailed(_("Unknown vertical: %(slug)s.") % {"slug": vertical[:40]}, field="vertical")
    last = Post.objects.filter(author=owner).order_by("-id").values_list("pk", flat=True).first() or 0
    return AutoPromotion.objects.create(owner=owner, tool=tool, vertical=v, weekly_budget=weekly_budget,
                                        per_campaign_budget=per_campaign_budget, bid=bid, currency=currency,
                                        last_post_id=last)


def do_update_standing_order(owner: User, order_id: int, *, active: bool | None = None,
                             weekly_budget: int | None = None) -> AutoPromotion:
    order = AutoPromotion.objects.filter(pk=order_id, owner=owner).first()
    if order is None:
        raise NotFound(_("Standing order not found."))
    if weekly_budget is not None:
        weekly_budget = check_minor(weekly_budget, field="weekly_budget")
        if weekly_budget < order.per_campaign_budget:
            raise ValidationFailed(_("Each campaign's budget is at most the weekly budget."), field="weekly_budget")
        order.weekly_budget = weekly_budget
    if active is not None:
        order.active = bool(active)
    order.save(update_fields=["weekly_budget", "active"])
    return order


def do_delete_standing_order(owner: User, order_id: int) -> None:
    if not AutoPromotion.objects.filter(pk=order_id, owner=owner).delete()[0]:
        raise NotFound(_("Standing order not found."))


def _week_spent(order: AutoPromotion, now: datetime) -> int:
    return (Campaign.objects.filter(standing_order=order, created_at__gte=now - timedelta(days=7))
            .exclude(status=CampaignStatus.REJECTED).aggregate(s=Sum("budget"))["s"] or 0)


def do_run_standing_orders(now: datetime | None = None) -> int:
    """The job behind standing orders: a Fan Headline for each new post of the owner (in the order's
    vertical, by the labeler's verdict ``PostLabel``), and one Account Recommendation a week, while the
    week's budget lasts. A campaign the owner cannot pay for (or may no longer buy) is skipped and logged.
    Returns the campaigns made."""
    now = now or timezone.now()
    made = 0
    for order in AutoPromotion.objects.filter(active=True).select_related("owner"):
        try:
            made += _run_order(order, now)
        except (ValidationFailed, Forbidden, Conflict, NotFound) as exc:
            log.info("standing order %s skipped: %s", order.pk, exc)
    return made


def _run_order(order: AutoPromotion, now: datetime) -> int:
    made = 0
    if order.tool == Tool.ACCOUNT_REC:
        if Campaign.objects.filter(standing_order=order, created_at__gte=now - timedelta(days=7)).exists():
            return 0
        budget = min(order.per_campaign_budget, order.weekly_budget - _week_spent(order, now))
        if budget >= settings.PROMOTION_MIN_BUDGET:
            do_create_campaign(order.owner, tool=Tool.ACCOUNT_REC, budget=budget, bid=order.bid,
                               currency=order.currency, ends_at=now + timedelta(days=7), standing_order=order,
                               name=_("Weekly account recommendation"))
            made += 1
        return made
    posts = list(Post.objects.filter(author=order.owner, pk__gt=order.last_post_id, reblog_of__isnull=True,
                                     in_reply_to__isnull=True).order_by("pk").values_list("pk", flat=True)[:50])
    for pid in posts:
        if order.vertical_id is not None:
            label = PostLabel.objects.filter(post_id=pid).values_list("vertical_id", flat=True).first()
            if label is None and pid == posts[-1] and (now - Post.objects.get(pk=pid).created_at) < timedelta(
                    minutes=10):
                break  # not labelled yet: look again next run
            if label != order.vertical_id:
                AutoPromotion.objects.filter(pk=order.pk).update(last_post_id=pid)
                continue
        budget = min(order.per_campaign_budget, order.weekly_budget - _week_spent(order, now))
        AutoPromotion.objects.filter(pk=order.pk).update(last_post_id=pid)
        if budget < settings.PROMOTION_MIN_BUDGET:
            continue
        do_create_campaign(order.owner, tool=Tool.FAN_HEADLINE, post_id=pid, budget=budget, bid=order.bid,
                           currency=order.currency, standing_order=order)
        made += 1
    return made
