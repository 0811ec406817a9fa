"""Request and response schemas of the fan service API (api/fanservice.py, issue 14)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field, StrictBool, StrictInt


class SegmentIn(Schema):
    verticals: list[str] = Field([], max_length=20, description="vertical slugs: fans with one of these interests")
    active_days: StrictInt | None = Field(None, description="fans who signed in or posted in the last N days")
    engaged_days: StrictInt | None = Field(None, description="fans who liked, reposted or replied to your posts "
                                                            "in the last N days")
    clicked: StrictBool = Field(False, description="fans who clicked out on one of your Showcase cards")
    bought: StrictBool = Field(False, description="fans who bought through one of your links")
    languages: list[str] = Field([], max_length=20, description="language codes, e.g. en, zh-hans")
    regions: list[str] = Field([], max_length=20, description="region codes, e.g. CN-31")


class AudienceOut(Schema):
    audience: int = Field(description="subscribers a broadcast to this segment would reach now")


class BroadcastIn(Schema):
    text: str = Field("", max_length=2000)
    image_media_id: str | None = Field(None, description="an image you uploaded (POST /api/v2/media)")
    card_post_id: str | None = Field(None, description="one of your public Showcase posts: its card is shown")
    post_id: str | None = Field(None, description="a post everyone can see, linked")
    segment: SegmentIn | None = Field(None, description="who receives it; omitted: every subscriber")
    scheduled_at: datetime | None = Field(None, description="send later (at most 30 days ahead); omitted: now")


class ReportOut(Schema):
    audience: int
    delivered: int
    deferred: int = Field(description="waiting for the fans' daily cap: delivered on a later day")
    read: int
    clicked: int = Field(description="opens of its post link")
    click_outs: int = Field(description="clicks on its card's purchase links")
    orders: int = Field(description="orders attributed to those click-outs")
    unsubscribes: int = Field(description="unsubscribes through its link")


class BroadcastOut(Schema):
    id: str
    status: Literal["scheduled", "sending", "sent", "cancelled"]
    text: str
    image_url: str | None
    card_post_id: str | None
    post_id: str | None
    segment: dict[str, Any]
    scheduled_at: str
    created_at: str
    finished_at: str | None
    report: ReportOut


class SubscriptionOut(Schema):
    account_id: str
    username: str
    subscribed_at: str


class SubscribedOut(Schema):
    account_id: str
    subscribed: bool


class UnsubscribeIn(Schema):
    token: str = Field(max_length=500, description="the signed token of a message's one-click unsubscribe link")


class CountOut(Schema):
    key: str
    count: int | str = Field(description='a count, or "<5" for a small group (no one is singled out)')


class SubscribersOut(Schema):
    total: int
    reachable: int = Field(description="not suspended, no block either way")
    active_30_days: int | str
    engaged_30_days: int | str
    clicked: int | str
    bought: int | str
    languages: list[CountOut]
    regions: list[CountOut]
    verticals: list[CountOut]


class GrowthOut(Schema):
    day: str
    gained: int
    lost: int


class InboxItemOut(Schema):
    id: str
    kind: Literal["broadcast", "welcome", "auto_reply", "alert"]
    sender_id: str
    sender_username: str
    text: str
    image_url: str | None
    card_post_id: str | None
    post_id: str | None
    buttons: list[dict[str, str]]
    read: bool
    created_at: str
    unsubscribe_token: str | None = Field(None, description="for POST .../unsubscribe (broadcasts)")


class MenuButton(Schema):
    label: str = Field(max_length=16)
    reply: str | None = Field(None, max_length=2000)
    url: str | None = Field(None, max_length=2048)


class SettingsIn(Schema):
    welcome_text: str | None = Field(None, max_length=2000)
    welcome_on_follow: StrictBool | None = None
    menu: list[MenuButton] | None = Field(None, max_length=3)


class SettingsOut(Schema):
    welcome_text: str
    welcome_on_follow: bool
    menu: list[dict[str, str]]


class RuleIn(Schema):
    keyword: str = Field(max_length=40)
    reply: Literal["text", "prices"] = "text"
    text: str = Field("", max_length=2000)


class RuleOut(Schema):
    id: str
    keyword: str
    reply: str
    text: str


class WatchIn(Schema):
    card_post_id: str = Field(description="a Showcase post whose product to watch")


class WatchOut(Schema):
    product_id: str
    title: str
    card_post_id: str | None
    last_alert_day: str | None
