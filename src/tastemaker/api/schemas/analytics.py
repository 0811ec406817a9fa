"""Request and response schemas of the events and reports API (api/analytics.py)."""

from __future__ import annotations

from typing import Literal

from ninja import Schema
from pydantic import Field

ClientMetric = Literal["impression", "read", "link_click"]
ClientSubject = Literal["post", "account"]
SurfaceName = Literal["home", "public", "profile", "search", "tag", "thread", "promoted", "notifications", "other",
                      "unknown"]


class EventItemIn(Schema):
    type: ClientMetric = Field(description="impression: the subject was on screen (at least half of it, for "
                                           "a second); read: the post was opened; link_click: a link in it")
    subject_type: ClientSubject = "post"
    subject_id: str = Field(pattern=r"^[0-9]{1,19}$", description="The post's (or account's) id")
    surface: SurfaceName = Field("unknown", description="Where it was shown")


class EventBatchIn(Schema):
    events: list[EventItemIn] = Field(min_length=1, max_length=500)


class IngestOut(Schema):
    accepted: int = Field(description="Events stored (valid and invalid)")
    valid: int = Field(description="Events that count in reports")
    invalid: int = Field(description="Events filtered as invalid traffic (bots, prefetch, own, repeats)")
    rejected: int = Field(description="Events about subjects that do not exist or that you may not see (the two "
                                      "are not told apart); not stored")


class SeriesOut(Schema):
    granularity: str
    buckets: list[str] = Field(description="Start of each bucket (UTC, ISO 8601)")
    values: dict[str, list[int]]


class CellOut(Schema):
    value: str
    count: int | None = Field(description="null when fewer than the privacy threshold of distinct viewers")
    display: str = Field(description='The count, or "<5"')


class PostReportOut(Schema):
    subject_type: str
    subject_id: str
    totals: dict[str, int]
    invalid: dict[str, int] = Field(description="Filtered traffic by reason (never in totals)")
    series: SeriesOut
    breakdowns: dict[str, dict[str, list[CellOut]]] = Field(
        description="metric → dimension (surface, audience, device, language, region) → cells")


class TopPostOut(Schema):
    id: str
    impressions: int
    text: str
    created_at: str


class AccountReportOut(Schema):
    account_id: str
    followers_count: int
    follows_gained: int
    follows_lost: int
    net_follows: int
    follow_series: SeriesOut
    post_totals: dict[str, int]
    post_series: SeriesOut
    top_posts: list[TopPostOut]
    breakdowns: dict[str, dict[str, list[CellOut]]]
    invalid: dict[str, int]
