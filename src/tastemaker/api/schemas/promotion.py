"""Request and response schemas of the promotion API (api/promotion.py): campaigns, reports, standing orders,
user controls and the operators' review queue. Money is integer minor units of ``currency``."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.conf import settings
from ninja import Schema
from pydantic import Field, StrictBool, StrictInt

MONEY = "minor units (fen, cents) of `currency`"
Tool = Literal["fan_headline", "passerby", "account_rec"]


class TargetingIn(Schema):
    verticals: list[str] = Field([], max_length=20, description="vertical slugs (learned and picked interests)")
    languages: list[str] = Field([], max_length=20, description="language tags, e.g. zh, en")
    regions: list[str] = Field([], max_length=20, description="region codes, e.g. CN-31")
    lookalike: StrictBool = Field(False, description="people similar to your followers")


class CampaignIn(TargetingIn):
    tool: Tool
    post_id: str | None = Field(None, description="the post to promote (Fan Headline, Passer-by)")
    budget: StrictInt = Field(description="the total budget, held on your wallet while the campaign runs; " + MONEY)
    daily_budget: StrictInt | None = Field(None, description="optional daily cap; " + MONEY)
    bid: StrictInt = Field(description="per 1,000 impressions / followers reached (cpm) or per follow (cpf); "
                                       + MONEY)
    price_model: Literal["cpm", "cpf"] | None = Field(None, description="default: cpm, or cpf for account_rec")
    currency: str = Field(settings.DEFAULT_CURRENCY, max_length=3)
    starts_at: datetime | None = None
    ends_at: datetime | None = Field(None, description="default: 24 hours after the start")
    name: str = Field("", max_length=100)
    draft: StrictBool = Field(False, description="keep as a draft (no review, no hold)")


class EstimateIn(TargetingIn):
    tool: Tool


class EstimateOut(Schema):
    audience: int = Field(description="accounts the campaign could reach")


class CampaignOut(Schema):
    id: str
    owner_id: str
    tool: Tool
    name: str
    post_id: str | None
    account_id: str | None
    status: Literal["draft", "pending_review", "active", "paused", "exhausted", "ended", "rejected"]
    verticals: list[str]
    languages: list[str]
    regions: list[str]
    lookalike: bool
    starts_at: str
    ends_at: str
    currency: str
    budget: int
    daily_budget: int | None
    price_model: Literal["cpm", "cpf"]
    bid: int
    spend: int = Field(description="captured so far; " + MONEY)
    committed: int = Field(description="reserved by deliveries (captured + pending follows); " + MONEY)
    hold_id: str | None
    review_flags: list[str]
    review_note: str
    paused_by_moderation: bool
    created_at: str
    activated_at: str | None
    ended_at: str | None


class ReportOut(Schema):
    campaign: CampaignOut
    delivered: int
    impressions: int = Field(description="valid promoted impressions (the analytics filter's verdict)")
    invalid_impressions: int
    reads: int
    engagements: int
    follows_gained: int
    follows_kept: int
    click_outs: int
    commissions: int = Field(description=MONEY)
    spend: int = Field(description=MONEY)
    committed: int = Field(description=MONEY)
    cpm: int | None = Field(description="spend per 1,000 valid impressions; " + MONEY)
    cost_per_follow: int | None = Field(description=MONEY)
    organic_median_reads: int | None
    reads_vs_organic: float | None = Field(description="reads ÷ the author's organic median")


class ReviewIn(Schema):
    note: str = Field("", max_length=500)


class OptOutIn(Schema):
    opted_out: StrictBool


class StandingOrderIn(Schema):
    tool: Literal["fan_headline", "account_rec"]
    weekly_budget: StrictInt = Field(description=MONEY)
    per_campaign_budget: StrictInt = Field(description="each campaign's budget; " + MONEY)
    bid: StrictInt = Field(description=MONEY)
    vertical: str | None = Field(None, description="Fan Headline: only posts in this vertical")
    currency: str = Field(settings.DEFAULT_CURRENCY, max_length=3)


class StandingOrderPatch(Schema):
    active: StrictBool | None = None
    weekly_budget: StrictInt | None = None


class StandingOrderOut(Schema):
    id: str
    tool: str
    vertical: str | None
    weekly_budget: int
    per_campaign_budget: int
    bid: int
    currency: str
    active: bool
    created_at: str
