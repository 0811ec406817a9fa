"""Request and response schemas of the discovery and experts API (api/discovery.py): suggestions,
verticals, labels, interests, expert applications."""

from __future__ import annotations

from typing import Literal

from ninja import Schema
from pydantic import Field

from . import Account, PromotedMark


class SuggestionExt(Schema):
    reason: str = Field(description="Why this account is suggested, for a person to read")
    kind: str = Field(description="interest | fof | similar | rising | popular | promoted")
    vertical: str | None = None


class Suggestion(Schema):
    source: Literal["staff", "past_interactions", "global"]
    sources: list[str]
    account: Account
    tastemaker: SuggestionExt
    tastemaker_promoted: PromotedMark | None = Field(
        None, description="Tastemaker extension: set when the account is paid promotion (Account "
                          "Recommendation), null otherwise")


class VerticalOut(Schema):
    slug: str
    name: str
    name_en: str
    name_zh: str


class LabelOut(Schema):
    vertical: VerticalOut
    score: float = Field(description="0-100")
    share: float
    engagement: float
    consistency: float
    post_count: int
    reason: str
    terms: list[str]
    sample_status_ids: list[str]
    expert: bool = Field(description="the account holds the expert badge in this vertical")


class ExpertOut(Schema):
    account: Account
    label: LabelOut


class InterestOut(Schema):
    vertical: VerticalOut
    picked: bool
    learned_weight: float
    hidden: bool
    weight: float


class InterestsIn(Schema):
    verticals: list[str] = Field(max_length=12, description="vertical slugs the user picks")


class ClassifyIn(Schema):
    text: str = Field(min_length=1, max_length=5000)


class ClassifyOut(Schema):
    ready: bool  # false while the labeler is still loading (a few seconds after start): nothing else is known
    vertical: str | None  # null: about none of the verticals (confidence below LABEL_MIN_CONFIDENCE)
    confidence: float
    scores: dict[str, float]  # each vertical's probability if the text is about one of them
    terms: list[str]  # the words that speak for the vertical


class AppealIn(Schema):
    message: str = Field(min_length=1, max_length=1000)
    kind: Literal["remove", "missing"] = "remove"


class ApplicationIn(Schema):
    vertical: str = Field(min_length=1, max_length=32)
    statement: str = Field("", max_length=1000)


class ReviewOut(Schema):
    id: str
    vertical: str
    status: str
    created_at: str
