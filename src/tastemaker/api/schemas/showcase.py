"""Request and response schemas of the Showcase API (橱窗): catalog and webhooks of partner stores, product
imports and showcase posts, products, earnings and commissions, stores and their deposits."""

from __future__ import annotations

from typing import Literal

from ninja import Schema
from pydantic import Field, StrictBool, StrictInt

from tastemaker.showcase.catalog import CATALOG_BATCH_MAX
from tastemaker.showcase.orders import EVENT_TYPES

from . import Account

MONEY = "minor units (fen, cents) of `currency`"


class CatalogItemIn(Schema):
    """One offer of the store's catalog, by the store's own id. A new item (or a full replacement) has
    title and url; an update may carry only price, stock, commission_bp, currency or active."""

    external_id: str = Field(description="The store's id of the item (its SKU)")
    title: str | None = None
    description: str | None = None
    url: str | None = Field(None, description="The item's page; it must be on one of the store's domains")
    images: list[str] | None = Field(None, description="Absolute http(s) image URLs, at most 9")
    gtin: str | None = Field(None, description="Barcode (digits): links the same product across stores")
    brand: str | None = None
    price: StrictInt | None = Field(None, description=f"Price in {MONEY}; null: unknown")
    currency: str | None = None
    stock: StrictInt | None = Field(None, description="Units in stock; null: the store does not say")
    commission_bp: StrictInt | None = Field(None, description="This item's commission rate in basis points "
                                                              "(100 = 1 %); null: the store's default")
    active: StrictBool | None = None


class CatalogIn(Schema):
    items: list[CatalogItemIn] = Field(max_length=CATALOG_BATCH_MAX)


class CatalogOut(Schema):
    created: int
    updated: int


class WebhookOut(Schema):
    status: Literal["processed", "duplicate"]


class ImportIn(Schema):
    url: str = Field(min_length=1, max_length=2048, description="A product page (http or https)")


class ShowcaseStoreRef(Schema):
    id: str
    name: str


class ProductDraftOut(Schema):
    url: str = Field(description="The product's canonical page")
    title: str
    description: str
    images: list[str]
    price: int | None = Field(description=f"{MONEY}; null when the page does not say")
    currency: str
    price_display: str | None
    in_stock: bool | None
    brand: str
    sku: str
    source: str = Field(description="json-ld | microdata | opengraph: where the product was found")
    partner_store: ShowcaseStoreRef | None = Field(description="The partner store whose domain the page is on; a "
                                                       "showcase post can only link to one")


class CardIn(Schema):
    title: str = Field(description="The product's name: short (at most 60 characters), not a list of keywords")
    reason: str = Field(description="Why you recommend it: at least a full sentence")
    url: str = Field(description="The purchase link, on a partner store's domain")
    disclosure: Literal["own", "affiliate", "gifted", "paid"]
    media_id: str | None = Field(None, description="An image you uploaded (POST /api/v2/media) and did not use yet")
    image_url: str | None = Field(None, description="Or an image URL (e.g. from an import); fetched and re-encoded")
    price: StrictInt | None = Field(None, description=f"{MONEY}; null: \"check the price at the store\"")
    currency: str | None = None
    stock: StrictInt | None = None
    product_id: str | None = Field(None, description="A catalog product: its other stores' offers are linked too")
    vertical: str | None = Field(None, description="A vertical's slug; guessed from the text when absent")


class ShowcasePostIn(Schema):
    status: str | None = Field(None, description="The post's text; the reason when empty")
    visibility: Literal["public", "unlisted", "private"] = "public"
    sensitive: bool = False
    spoiler_text: str | None = None
    language: str | None = None
    card: CardIn


class ProductOfferOut(Schema):
    store_id: str
    store_name: str
    url: str = Field(description="The store's own page of the item (not tracked: cards carry tracked links)")
    price: int | None = Field(description=f"{MONEY}; null when unknown or stale")
    currency: str
    price_display: str | None
    stock: int | None
    stale: bool
    sold_out: bool
    refreshed_at: str


class RecommenderOut(Schema):
    account: Account
    cards: int = Field(description="How many of this account's showcase posts carry the product")


class ProductOut(Schema):
    id: str
    title: str
    description: str
    images: list[str]
    brand: str
    gtin: str
    vertical: str | None
    offers: list[ProductOfferOut]
    recommended_by: list[RecommenderOut]


class EarningsRowOut(Schema):
    id: str = Field(description="The status id (by_post) or product id (by_product)")
    label: str
    click_outs: int
    orders: int
    conversion_rate: float | None = Field(description="orders / click-outs (a ratio, not money)")
    pending: int = Field(description=MONEY)
    confirmed: int = Field(description=MONEY)
    voided: int = Field(description="Voided commissions (a count)")


class EarningsDailyOut(Schema):
    days: list[str] = Field(description="Each day's start (UTC, ISO 8601)")
    click_outs: list[int]
    orders: list[int]


class EarningsOut(Schema):
    currency: str
    click_outs: int = Field(description="Valid click-outs")
    invalid_click_outs: int = Field(description="Click-outs filtered as invalid traffic (never counted)")
    orders: int = Field(description="Attributed orders")
    conversion_rate: float | None
    pending: int = Field(description=f"Commissions pending the return window, {MONEY}")
    pending_display: str
    confirmed: int = Field(description=f"Confirmed commissions, {MONEY}")
    confirmed_display: str
    voided_count: int
    awaiting_funding: int = Field(description="Of the pending and confirmed commissions, what their stores have not "
                                              f"funded yet (paid once they do), {MONEY}")
    awaiting_funding_display: str
    awaiting_funding_count: int
    by_post: list[EarningsRowOut]
    by_product: list[EarningsRowOut]
    daily: EarningsDailyOut


class ShowcaseOrderOut(Schema):
    id: str
    external_id: str = Field(description="The store's order id")
    status: str
    currency: str
    paid_amount: int = Field(description=MONEY)
    refunded_amount: int = Field(description=MONEY)
    paid_at: str | None
    cancelled_at: str | None


class ShowcaseProductRef(Schema):
    id: str
    title: str


class CommissionOut(Schema):
    id: str
    status: Literal["pending", "confirmed", "voided"]
    amount: int = Field(description=MONEY)
    amount_display: str
    basis: int = Field(description=f"Paid minus refunded, {MONEY}")
    currency: str
    rate_bp: int = Field(description="The rate applied, in basis points (100 = 1 %)")
    rate_source: str = Field(description="product (the item's own rate) | store (the store's default)")
    rule: str = Field(description="The attribution rule, as applied")
    creator_id: str
    status_id: str
    click_id: str
    store: ShowcaseStoreRef
    product: ShowcaseProductRef | None
    order: ShowcaseOrderOut
    created_at: str
    updated_at: str
    confirm_after: str | None = Field(description="When the return window closes")
    confirmed_at: str | None
    voided_at: str | None
    funding: Literal["held", "awaiting_funding", "paid", "none"] = Field(
        description="held: the store's deposit holds the amount (paid on confirmation); awaiting_funding: the store "
                    "has not put the money in yet (paid once it does); paid: in the creator's wallet; none: voided "
                    "or nothing owed")
    held: int = Field(description=f"What the store's deposit holds for it, {MONEY}")
    paid_at: str | None = Field(description="When it was paid from the store's funds into the creator's wallet")


class ClickOutInfo(Schema):
    id: str
    status_id: str
    valid: bool
    invalid_reason: str
    created_at: str


class OrderEventOut(Schema):
    id: str
    type: str
    webhook_id: str
    occurred_at: str
    received_at: str
    amount: int = Field(description=MONEY)
    refund_id: str


class CommissionStepOut(Schema):
    id: str
    kind: str
    amount_before: int
    amount_after: int
    status_after: str
    note: str
    order_event_id: str | None
    created_at: str


class CommissionTrailOut(Schema):
    click: ClickOutInfo
    events: list[OrderEventOut]
    steps: list[CommissionStepOut]


class CommissionDetailOut(CommissionOut):
    trail: CommissionTrailOut


class StoreDepositOut(Schema):
    currency: str
    available: int = Field(description=f"Free in the deposit: funds new commissions, or can be taken back; {MONEY}")
    held: int = Field(description=f"Held for pending commissions, {MONEY}")
    awaiting_funding: int = Field(description=f"What its commissions still need that it has not put in, {MONEY}")
    awaiting_funding_count: int
    paid: int = Field(description=f"Paid to creators so far, {MONEY}")
    available_display: str
    held_display: str
    awaiting_funding_display: str


class StoreDepositIn(Schema):
    amount: StrictInt = Field(gt=0, description=MONEY)
    currency: str | None = Field(None, description="Default: the instance's default currency")


class StoreDepositMoveOut(Schema):
    transaction_id: str
    store_id: str
    amount: int = Field(description=MONEY)
    currency: str
    amount_display: str
    deposit: list[StoreDepositOut]


class StoreOut(Schema):
    id: str
    name: str
    status: Literal["pending", "approved", "rejected", "suspended"]
    owner_id: str | None = Field(description="The brand account that runs it; null: run by the operators")
    domains: list[str]
    commission_bp: int
    attribution_days: int
    return_days: int
    api_key_prefix: str | None = Field(description="The start of the API key, to recognise it")
    webhook_url: str = Field(description="Where the store sends its signed order webhooks")
    secrets_rotated_at: str | None
    created_at: str
    decided_at: str | None
    decision_note: str
    deposit: list[StoreDepositOut] = Field(description="The store's deposit per currency: it funds the commissions "
                                                       "of the creators who sell for it")


class StoreSecretsOut(StoreOut):
    api_key: str = Field(description="Shown this once: only a hash is kept")
    webhook_secret: str = Field(description="Standard Webhooks signing secret (whsec_…); shown this once")


class StoreIn(Schema):
    name: str
    domains: list[str] = Field(description="Host names the store's purchase links use (subdomains included)")
    commission_bp: StrictInt | None = Field(None, description="Default commission rate, basis points")
    attribution_days: StrictInt | None = None
    return_days: StrictInt | None = None


class StorePatchIn(Schema):
    name: str | None = None
    domains: list[str] | None = None
    commission_bp: StrictInt | None = None
    attribution_days: StrictInt | None = None
    return_days: StrictInt | None = None


class StoreDecisionIn(Schema):
    note: str = Field("", max_length=500)


# a store's webhook delivery: read by hand (its signature is over the raw bytes), declared here
WEBHOOK_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["type", "data"], "properties": {
        "type": {"type": "string", "enum": list(EVENT_TYPES)},
        "data": {"type": "object", "properties": {
            "order_id": {"type": "string"}, "click_id": {"type": "string"},
            "amount": {"type": "integer", "description": "minor units"},
            "currency": {"type": "string"}, "refund_id": {"type": "string"},
            "product_id": {"type": "string"}, "occurred_at": {
                "type": "string", "description": "ISO 8601 (no zone: UTC), between 2000-01-01 and "
                                                 "one day from now; else 422"}}}}}}}}}
