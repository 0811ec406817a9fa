"""Paid promotion (粉丝经济, issue 13): campaigns, what was served and charged, standing orders, user controls.

One engine for the four tools (``Tool``): Fan Headline (a post on top of the author's followers' home feeds),
Passer-by to Fan (a post slotted into non-followers' home feeds), Account Recommendation (an account in
who-to-follow) and automatic delivery (``AutoPromotion``, a standing order that makes campaigns).

Money (all integer minor units; see ``services``):

* a campaign's budget is held on the owner's wallet when it becomes active (``Campaign.hold``, a
  ``payments.Hold`` whose destination is the ``promotion_spend`` platform account);
* every billable delivery is one ``Charge`` row with a unique ``key`` (campaign x viewer x day for an
  impression, campaign x viewer for a Fan Headline reach or a follow gained), so it is recorded once;
  its price is in *milli* minor units (``unit_milli``: a CPM bid of 1,000 fen per 1,000 impressions is
  1,000 milli-fen per impression), so per-impression prices are exact;
* a charge first reserves budget (``Campaign.committed_milli``, ``CampaignDay.committed_milli``) by a
  conditional UPDATE that refuses to pass the budget, and is captured from the hold in batches by a job
  (``services.do_settle_charges``): the campaign's ``captured`` is always ``floor(settled_milli / 1000)``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tastemaker.core.ids import new_id

User = settings.AUTH_USER_MODEL


class Tool(models.TextChoices):
    FAN_HEADLINE = "fan_headline", _("Fan Headline")
    PASSERBY = "passerby", _("Passer-by to Fan")
    ACCOUNT_REC = "account_rec", _("Account Recommendation")


class PriceModel(models.TextChoices):
    CPM = "cpm", _("Per 1,000 impressions (CPM)")
    CPF = "cpf", _("Per follow gained (CPF)")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING_REVIEW = "pending_review", _("Pending review")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    EXHAUSTED = "exhausted", _("Budget spent")
    ENDED = "ended", _("Ended")
    REJECTED = "rejected", _("Rejected")


# statuses in which a campaign still holds money (its hold is pending) or may again
OPEN_STATUSES = (CampaignStatus.ACTIVE, CampaignStatus.PAUSED)
FINAL_STATUSES = (CampaignStatus.EXHAUSTED, CampaignStatus.ENDED, CampaignStatus.REJECTED)


class Campaign(models.Model):
    """One promotion: who pays (``owner``), what (``post`` or ``account``), which tool, whom (targeting),
    when (``starts_at``..``ends_at``), how much (``budget``, optional ``daily_budget``, ``bid``)."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="campaigns")
    tool = models.CharField(max_length=16, choices=Tool.choices)
    post = models.ForeignKey("social.Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    account = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=100, blank=True, default="")
    # targeting (Passer-by and Account Recommendation): vertical slugs, language tags, region codes; empty = any
    verticals = models.JSONField(default=list, blank=True)
    languages = models.JSONField(default=list, blank=True)
    regions = models.JSONField(default=list, blank=True)
    lookalike = models.BooleanField(default=False)  # people similar to the owner's followers
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    currency = models.CharField(max_length=3, default="CNY")
    budget = models.BigIntegerField()  # minor units, the total (what is held)
    daily_budget = models.BigIntegerField(null=True, blank=True)
    price_model = models.CharField(max_length=3, choices=PriceModel.choices, default=PriceModel.CPM)
    bid = models.BigIntegerField()  # minor units: per 1,000 impressions / followers reached (CPM), per follow (CPF)
    status = models.CharField(max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    review_flags = models.JSONField(default=list, blank=True)  # why the automatic review sent it to operators
    review_note = models.CharField(max_length=500, blank=True, default="")
    reviewed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    paused_by_moderation = models.BooleanField(default=False)
    hold = models.OneToOneField("payments.Hold", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    committed_milli = models.BigIntegerField(default=0)  # reserved by charges not voided (milli minor units)
    settled_milli = models.BigIntegerField(default=0)  # of which captured
    captured = models.BigIntegerField(default=0)  # minor units moved to promotion_spend: floor(settled_milli/1000)
    closed = models.BooleanField(default=False)  # a final campaign whose hold is resolved (nothing pending)
    standing_order = models.ForeignKey("AutoPromotion", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="campaigns")
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(budget__gt=0), name="promotion_campaign_budget_positive"),
            models.CheckConstraint(condition=Q(bid__gt=0), name="promotion_campaign_bid_positive"),
            models.CheckConstraint(condition=Q(committed_milli__gte=0) & Q(settled_milli__gte=0)
                                   & Q(committed_milli__lte=models.F("budget") * 1000),
                                   name="promotion_campaign_within_budget"),
        ]
        indexes = [
            models.Index(fields=["owner", "-id"], name="promotion_campaign_owner"),
            models.Index(fields=["status", "tool"], name="promotion_campaign_status"),
        ]

    def __str__(self) -> str:
        return f"campaign #{self.pk} {self.tool} ({self.status})"

    @property
    def unit_milli(self) -> int:
        """The price of one billable unit in milli minor units."""
        return self.bid * 1000 if self.price_model == PriceModel.CPF else self.bid


class CampaignDay(models.Model):
    """Budget reserved per campaign and day (UTC): the daily budget's counter and pacing's input."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    committed_milli = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "day"], name="promotion_campaignday_unique")]


class Serve(models.Model):
    """A promoted item put in front of a viewer (one per campaign, viewer and day): the frequency caps'
    record (a campaign once a day, a Fan Headline once, ``PROMOTION_DAILY_CAP`` a day in all)."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="serves", db_index=False)
    viewer = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    why = models.CharField(max_length=200, blank=True, default="")
    price_milli = models.BigIntegerField(default=0)  # the auction's clearing price (milli minor units per unit)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "viewer", "day"], name="promotion_serve_unique")]
        indexes = [models.Index(fields=["viewer", "day"], name="promotion_serve_viewer_day")]


class ChargeKind(models.TextChoices):
    IMPRESSION = "impression", _("Impression")
    REACH = "reach", _("Follower reached")
    FOLLOW = "follow", _("Follow gained")


class ChargeStatus(models.TextChoices):
    PENDING = "pending", _("Pending")  # reserved; captured by the next batch once billable_at has passed
    CAPTURED = "captured", _("Captured")
    VOIDED = "voided", _("Refunded")  # a follow undone within the window: never captured


class Charge(models.Model):
    """One billable delivery. ``key`` makes it once-only: ``<campaign>:<viewer>:<day>`` (CPM impression),
    ``<campaign>:<viewer>:reach`` (Fan Headline), ``<campaign>:<viewer>:follow`` (CPF). ``event_id`` is the
    analytics event the existing filter accepted as valid (impressions and reaches)."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="charges", db_index=False)
    viewer_id = models.BigIntegerField()
    kind = models.CharField(max_length=10, choices=ChargeKind.choices)
    key = models.CharField(max_length=80, unique=True)
    day = models.DateField()
    unit_milli = models.BigIntegerField()
    event_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=ChargeStatus.choices, default=ChargeStatus.PENDING)
    billable_at = models.DateTimeField()
    batch = models.BigIntegerField(null=True, blank=True)  # the capture batch that took it
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(unit_milli__gt=0), name="promotion_charge_positive")]
        indexes = [
            models.Index(fields=["campaign", "status"], name="promotion_charge_campaign"),
            models.Index(fields=["status", "billable_at"], name="promotion_charge_due"),
            models.Index(fields=["batch"], name="promotion_charge_batch"),  # a capture batch's sum
        ]


class AutoPromotion(models.Model):
    """A standing order (自动投放): "Fan Headline each new post of mine in vertical X, up to N a week", or a
    recurring weekly Account Recommendation. The job ``services.do_run_standing_orders`` makes the campaigns."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auto_promotions")
    tool = models.CharField(max_length=16, choices=[(Tool.FAN_HEADLINE, Tool.FAN_HEADLINE.label),
                                                    (Tool.ACCOUNT_REC, Tool.ACCOUNT_REC.label)])
    vertical = models.ForeignKey("experts.Vertical", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+")  # Fan Headline: only posts in this vertical (None: any)
    weekly_budget = models.BigIntegerField()
    per_campaign_budget = models.BigIntegerField()  # each campaign's budget (capped by what the week has left)
    bid = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="CNY")
    active = models.BooleanField(default=True)
    last_post_id = models.BigIntegerField(default=0)  # posts after this one are still to be looked at
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(weekly_budget__gt=0) & Q(per_campaign_budget__gt=0) & Q(bid__gt=0),
                                   name="promotion_auto_positive"),
        ]


class HiddenPromotion(models.Model):
    """A viewer hid one promoted item (a campaign): it is never shown to them again."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "campaign"], name="promotion_hidden_unique")]


class MutedAdvertiser(models.Model):
    """A viewer muted an advertiser's promotions (all of its campaigns; its posts stay as they are)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    advertiser = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "advertiser"], name="promotion_muted_unique")]


class TargetingOptOut(models.Model):
    """The viewer opted out of interest-based targeting: no Passer-by or Account Recommendation campaign with
    interest (vertical) or look-alike targeting reaches them (Fan Headline, to followers, still does)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)


class PromotedFollow(models.Model):
    """A follow of a campaign's subject by someone the campaign was shown to (within
    ``ATTRIBUTION_DAYS`` of the serve): "follows gained" in the report, and a CPF campaign's charge.
    ``undone_at``: the follow ended within ``PROMOTION_FOLLOW_WINDOW`` (not kept; a CPF charge is refunded)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="follows")
    follower = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "follower"], name="promotion_follow_unique")]
