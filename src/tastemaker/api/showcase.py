"""The Showcase API (橱窗): partner stores' catalog and order webhooks, creators' showcase posts, storefronts,
products, earnings and commissions, and store management.

Two kinds of caller:

* a **partner store**, with ``Authorization: Bearer <store API key>`` (``/api/v1/showcase/catalog``), or
  with Standard Webhooks signatures (``/api/v1/showcase/stores/{id}/webhooks``: no key, the signature
  is the proof, checked before anything is read or written);
* a **user** with an OAuth token (``/api/v1/tastemaker/showcase/...``).

Money is always integer minor units (fen, cents) with its currency, never a float; ``*_display`` fields
are the same amounts formatted for people. Ids are strings. Showcase posts are Mastodon statuses whose
``card`` is the product card and whose ``tastemaker_card`` is the full card (schemas.ShowcaseCard).
Handlers are thin: check the shape, call showcase.services / selectors, render.
"""

from __future__ import annotations

import logging
from typing import Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from ninja.security import HttpBearer
from pydantic import Field, StrictBool, StrictInt

from tastemaker.accounts import services as account_services
from tastemaker.accounts.models import User
from tastemaker.core.errors import Forbidden, NotFound, ValidationFailed
from tastemaker.core.ids import parse_id
from tastemaker.core.money import format_amount
from tastemaker.core.pagination import page_from
from tastemaker.showcase import selectors, services
from tastemaker.showcase.models import PartnerStore
from tastemaker.social import selectors as social
from tastemaker.social.models import Block, Post, Visibility
from tastemaker.trust.ratelimit import check_and_hit

from . import schemas as S
from . import serializers as ser
from .auth import BearerAuth, OptionalAuth, require_scope, viewer
from .errors import READ, WRITE, responses
from .payments import KEY_HEADER, _keyed
from .payments import SCOPE as PAYMENTS_SCOPE

log = logging.getLogger(__name__)
router = Router(tags=["Showcase"])
user_auth = BearerAuth()
optional_auth = OptionalAuth()
STORE_RATE = "RATE_STORE_API"  # per store: catalog batches and webhook deliveries
IMPORT_RATE = "RATE_SHOWCASE_IMPORT"  # per user: product page imports (each one fetches a page)
WEBHOOK_CODES = (400, 401, 404, 422, 429)
STORE_CODES = (400, 401, 403, 422, 429)


class StoreKeyAuth(HttpBearer):
    """A partner store's API key (``Authorization: Bearer tm_…``), shown once when the store is made or its
    secrets rotated. Missing or wrong: 401."""

    def __call__(self, request: HttpRequest):
        if not request.headers.get(self.header):
            raise HttpError(401, "A store API key is required (Authorization: Bearer <key>)")
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, token: str):
        store = services.store_for_api_key(token)
        if store is None:
            raise HttpError(401, "The store API key is invalid")
        request.store = store
        return store


store_auth = StoreKeyAuth()
# --- schemas --------------------------------------------------------------------------------

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
    items: list[CatalogItemIn] = Field(max_length=services.CATALOG_BATCH_MAX)


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
    account: S.Account
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


# --- helpers --------------------------------------------------------------------------------

def _money(amount: int | None, currency: str) -> str | None:
    return format_amount(amount, currency) if amount is not None and currency else None


def _id_or_404(value: str) -> int:
    number = parse_id(value)
    if number is None:
        raise NotFound("Record not found")
    return number


def _optional_id(value: str | None, field: str) -> int | None:
    if value in (None, ""):
        return None
    number = parse_id(value)
    if number is None:
        raise ValidationFailed(f"{field}: must be an id (digits)", field=field)
    return number


def _next_link(request, response: HttpResponse, last_id: int | None, full: bool) -> None:
    """rel="next" (older) for a full page; these lists page by max_id only."""
    if last_id is None or not full:
        return
    from urllib.parse import urlencode

    keep = {k: v for k, v in request.GET.dict().items() if k not in ("max_id", "since_id", "min_id") and v != ""}
    response["Link"] = f'<{request.build_absolute_uri(request.path)}?{urlencode({**keep, "max_id": last_id})}>; rel="next"'


def _status_json(request, post: Post) -> dict:
    state = social.hydrate([post], viewer(request))
    return ser.status(post, ser.load_cards(ser.Ctx(request, state), [post]))


def _store(store: PartnerStore, request) -> dict:
    iso = ser.iso
    return {
        "id": str(store.pk), "name": store.name, "status": store.status,
        "owner_id": str(store.owner_id) if store.owner_id else None, "domains": list(store.domains or []),
        "commission_bp": store.commission_bp, "attribution_days": store.attribution_days,
        "return_days": store.return_days, "api_key_prefix": store.api_key_prefix,
        "webhook_url": request.build_absolute_uri(reverse("api:showcase_webhook", args=[store.pk])),
        "secrets_rotated_at": iso(store.secrets_rotated_at), "created_at": iso(store.created_at),
        "decided_at": iso(store.decided_at), "decision_note": store.decision_note,
        "deposit": _deposit(store),
    }


def _deposit(store: PartnerStore) -> list[dict]:
    return [{"currency": f.currency, "available": f.available, "held": f.held, "awaiting_funding": f.awaiting,
             "awaiting_funding_count": f.awaiting_count, "paid": f.paid,
             "available_display": format_amount(f.available, f.currency),
             "held_display": format_amount(f.held, f.currency),
             "awaiting_funding_display": format_amount(f.awaiting, f.currency)}
            for f in selectors.store_funds(store)]


def _with_secrets(store: PartnerStore, created: services.StoreSecrets, request) -> dict:
    return {**_store(store, request), "api_key": created.api_key, "webhook_secret": created.webhook_secret}


def _managed_store(request, store_id: str) -> PartnerStore:
    store = selectors.store_for(request.user, _id_or_404(store_id))
    if store is None:
        raise NotFound("Record not found")
    return store


def _commission(c) -> dict:
    iso = ser.iso
    order = c.order
    product = c.offer.product if c.offer_id and c.offer is not None else None
    return {
        "id": str(c.pk), "status": c.status, "amount": c.amount, "amount_display": format_amount(c.amount, c.currency),
        "basis": c.basis, "currency": c.currency, "rate_bp": c.rate_bp, "rate_source": c.rate_source,
        "rule": c.rule, "creator_id": str(c.creator_id), "status_id": str(c.post_id), "click_id": str(c.click_id),
        "store": {"id": str(c.store_id), "name": c.store.name},
        "product": {"id": str(product.pk), "title": product.title} if product is not None else None,
        "order": {"id": str(order.pk), "external_id": order.external_id, "status": order.status,
                  "currency": order.currency, "paid_amount": order.paid_amount,
                  "refunded_amount": order.refunded_amount, "paid_at": iso(order.paid_at),
                  "cancelled_at": iso(order.cancelled_at)},
        "created_at": iso(c.created_at), "updated_at": iso(c.updated_at), "confirm_after": iso(c.confirm_after),
        "confirmed_at": iso(c.confirmed_at), "voided_at": iso(c.voided_at),
        "funding": ("paid" if c.paid_at else "awaiting_funding" if c.awaiting_funding
                    else "held" if c.held else "none"),
        "held": c.held, "paid_at": iso(c.paid_at),
    }


def _visible(request, creator: User, views: list) -> list:
    """The storefront cards this viewer may see: as the posts themselves (public and unlisted to all but
    blocked accounts, followers-only to followers; everything to the creator)."""
    me = viewer(request)
    if not views or (me is not None and me.pk == creator.pk):
        return views
    if me is not None and Block.objects.filter(account_id=creator.pk, target_id=me.pk).exists():
        return []
    shown = dict(Post.objects.filter(pk__in=[v.post_id for v in views]).values_list("pk", "visibility"))
    allowed = {Visibility.PUBLIC, Visibility.UNLISTED}
    if me is not None and Visibility.PRIVATE in shown.values() and social.is_following(me.pk, creator.pk):
        allowed.add(Visibility.PRIVATE)
    return [v for v in views if shown.get(v.post_id) in allowed]


# --- partner stores: catalog and order webhooks ---------------------------------------------

@router.post("/v1/showcase/catalog", auth=store_auth, response=responses({200: CatalogOut}, STORE_CODES),
             summary="Store: upsert catalog items (batch of up to 500, all or nothing)",
             description=(
                 "Create items, replace them, or update price and stock, by the store's own `external_id`. "
                 "All or nothing: one bad item refuses the whole batch with a 422 whose message names the item "
                 "(\"Item 3: …\", counted from 0). Prices are integers in minor units (fen, cents). Purchase URLs "
                 "must be on the store's domains. Each upsert marks price and stock as confirmed now; cards show "
                 f"prices older than {settings.SHOWCASE_STALE_HOURS} h as \"check the price at the store\". "
                 "Authenticate with `Authorization: Bearer <store API key>`."))
def upsert_catalog(request, payload: CatalogIn):
    store = request.store
    check_and_hit("showcase_catalog", store.pk, STORE_RATE)
    items = [item.model_dump(exclude_unset=True) for item in payload.items]
    return services.do_upsert_catalog(store, items)


@router.post("/v1/showcase/stores/{store_id}/webhooks", response=responses({200: WebhookOut}, WEBHOOK_CODES),
             url_name="showcase_webhook", summary="Store: an order webhook (Standard Webhooks)",
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                 "type": "object", "required": ["type", "data"], "properties": {
                     "type": {"type": "string", "enum": list(services.EVENT_TYPES)},
                     "data": {"type": "object", "properties": {
                         "order_id": {"type": "string"}, "click_id": {"type": "string"},
                         "amount": {"type": "integer", "description": "minor units"},
                         "currency": {"type": "string"}, "refund_id": {"type": "string"},
                         "product_id": {"type": "string"}, "occurred_at": {
                             "type": "string", "description": "ISO 8601 (no zone: UTC), between 2000-01-01 and "
                                                              "one day from now; else 422"}}}}}}}}},
             description=(
                 "`order.paid`, `order.refunded` (full or partial, with `refund_id`) and `order.cancelled`, signed "
                 "per Standard Webhooks: headers `webhook-id`, `webhook-timestamp` (±"
                 f"{settings.SHOWCASE_WEBHOOK_TOLERANCE} s) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "
                 "id.timestamp.body>` with the store's `whsec_` secret). A delivery that is forged, altered or too old "
                 "is refused with 401 and nothing is written. Deliveries are deduplicated by `webhook-id` "
                 "(`duplicate`), and may arrive in any order. `data.click_id` is the `tm_click` parameter of the "
                 "landing URL; amounts are integers in minor units."))
def receive_webhook(request, store_id: str):
    number = parse_id(store_id)
    store = PartnerStore.objects.filter(pk=number).first() if number is not None else None
    if store is None:
        raise NotFound("Record not found")
    body, headers = request.body, dict(request.headers)
    services.verify_webhook(store, body, headers)  # first: a forged delivery costs no more than this
    check_and_hit("showcase_webhook", store.pk, STORE_RATE)
    return {"status": services.do_receive_webhook(store, body, headers).status}


# --- creators: import, showcase posts, storefronts, products --------------------------------

@router.post("/v1/tastemaker/showcase/import", auth=user_auth, response=responses({200: ProductDraftOut}, WRITE),
             summary="Read a product page: title, description, images, price, stock (for a card)",
             description=(
                 "The server fetches the page (public addresses only; size, time and redirects capped) and reads "
                 "schema.org Product / Offer (JSON-LD, microdata) or Open Graph `product:` tags. Nothing is saved: "
                 "confirm the draft, then create the post. 422 says why a page could not be read."))
def import_product(request, payload: ImportIn):
    from tastemaker.showcase.importer import import_product as do_import

    require_scope(request, "write:statuses")
    check_and_hit("showcase_import", request.user.pk, IMPORT_RATE)
    try:
        draft = do_import(payload.url.strip())
    except ValidationFailed:
        raise
    except Exception:  # noqa: BLE001 - a page we cannot read is the page's problem, never a 500
        log.exception("product import failed for a page")
        raise ValidationFailed("The page could not be read as a product page.", field="url") from None
    try:
        store, _url = services.find_store_for_url(draft.url)
        partner = {"id": str(store.pk), "name": store.name}
    except ValidationFailed:
        partner = None
    return {"url": draft.url, "title": draft.title, "description": draft.description, "images": list(draft.images),
            "price": draft.price, "currency": draft.currency, "price_display": _money(draft.price, draft.currency),
            "in_stock": draft.in_stock, "brand": draft.brand, "sku": draft.sku, "source": draft.source,
            "partner_store": partner}


@router.post("/v1/tastemaker/showcase/posts", auth=user_auth, response=responses({200: S.Status}, WRITE),
             summary="Publish a showcase post: a status with a product card",
             description=(
                 "The card is checked in full before anything is written (title not a keyword list, a reason of "
                 "at least a sentence, a disclosure, an image, a purchase link on a partner store); a refused card "
                 "leaves no post. Returns the Mastodon status, with `card` (Mastodon's preview card; its url is the "
                 "tracked link) and `tastemaker_card`."))
def create_showcase_post(request, payload: ShowcasePostIn):
    require_scope(request, "write:statuses")
    c = payload.card
    card = services.CardInput(
        title=c.title, reason=c.reason, url=c.url, disclosure=c.disclosure,
        image_media_id=_optional_id(c.media_id, "media_id"), image_url=(c.image_url or None),
        price=c.price, currency=c.currency or None, stock=c.stock,
        product_id=_optional_id(c.product_id, "product_id"), vertical=(c.vertical or None))
    language = (payload.language or None) and account_services.normalise_language(payload.language)
    post = services.do_create_showcase_post(
        request.user, text=payload.status or "", card=card, visibility=payload.visibility,
        sensitive=payload.sensitive, spoiler_text=payload.spoiler_text or "", language=language)
    return _status_json(request, post)


@router.get("/v1/tastemaker/showcase/posts/{status_id}/card", auth=optional_auth,
            response=responses({200: S.ShowcaseCard}, READ), summary="The product card of a showcase post")
def get_card(request, status_id: str):
    post = social.get_post(viewer(request), _id_or_404(status_id))
    shown = (post.reblog_of_id or post.pk) if post is not None else None
    view = selectors.cards_for_posts([shown]).get(shown) if shown is not None else None
    if view is None:
        raise NotFound("Record not found")
    return ser.tastemaker_card(view, ser.Ctx(request))


@router.get("/v1/tastemaker/showcase/accounts/{account_id}/storefront", auth=optional_auth,
            response=responses({200: list[S.ShowcaseCard]}, READ),
            summary="An account's storefront: its product cards, newest first",
            description="Filter by `vertical` (a slug); page with `max_id` and `limit` (≤ 40), or the Link header.")
def storefront(request, response: HttpResponse, account_id: str, vertical: str | None = None,
               max_id: str | None = None, limit: str | None = None):
    account = social.get_account(_id_or_404(account_id))
    if account is None:
        raise NotFound("Record not found")
    page = page_from({"max_id": max_id, "limit": limit})
    views = selectors.storefront(account.pk, vertical=(vertical or "").strip() or None, max_id=page.max_id,
                                 limit=page.limit,
                                 viewer_id=request.user.pk if request.user.is_authenticated else None)
    _next_link(request, response, views[-1].post_id if views else None, len(views) == page.limit)
    ctx = ser.Ctx(request)
    return [ser.tastemaker_card(v, ctx) for v in _visible(request, account, views)]


@router.get("/v1/tastemaker/showcase/products/{product_id}", auth=optional_auth,
            response=responses({200: ProductOut}, READ),
            summary="A product: every partner store's offer, and the accounts that recommend it")
def product(request, product_id: str):
    found = selectors.product_detail(_id_or_404(product_id))
    if found is None:
        raise NotFound("Record not found")
    item, offers, creators = found
    cutoff = selectors.stale_before()
    accounts = {u.pk: u for u in User.objects.filter(pk__in=[cid for cid, _n in creators], is_active=True,
                                                     is_suspended=False)}
    vertical = None
    if item.vertical_id:
        from tastemaker.experts.models import Vertical

        vertical = Vertical.objects.filter(pk=item.vertical_id).values_list("slug", flat=True).first()
    ctx = ser.Ctx(request)
    out_offers = []
    for o in offers:
        stale = o.refreshed_at < cutoff
        price, stock = (None, None) if stale else (o.price, o.stock)
        out_offers.append({
            "store_id": str(o.store_id), "store_name": o.store.name, "url": o.url, "price": price,
            "currency": o.currency, "price_display": _money(price, o.currency), "stock": stock, "stale": stale,
            "sold_out": not stale and stock is not None and stock <= 0, "refreshed_at": ser.iso(o.refreshed_at)})
    return {"id": str(item.pk), "title": item.title, "description": item.description,
            "images": list(item.images or []), "brand": item.brand, "gtin": item.gtin, "vertical": vertical,
            "offers": out_offers,
            "recommended_by": [{"account": ser.account(accounts[cid], ctx), "cards": n}
                               for cid, n in creators if cid in accounts]}


# --- creators: earnings and commissions -----------------------------------------------------

@router.get("/v1/tastemaker/showcase/earnings", auth=user_auth, response=responses({200: EarningsOut}, READ),
            summary="Your Showcase earnings: click-outs, orders, conversion, commissions (total, per post, "
                    "per product, per day)")
def earnings(request, days: int = Query(30, ge=1, le=366)):
    require_scope(request, "read:accounts")
    e = selectors.earnings(request.user.pk, days=days)

    def rows(items) -> list[dict]:
        return [{"id": str(r.key), "label": r.label, "click_outs": r.click_outs, "orders": r.orders,
                 "conversion_rate": r.conversion_rate, "pending": r.pending, "confirmed": r.confirmed,
                 "voided": r.voided} for r in items]

    return {"currency": e.currency, "click_outs": e.click_outs, "invalid_click_outs": e.invalid_click_outs,
            "orders": e.orders, "conversion_rate": e.conversion_rate, "pending": e.pending,
            "pending_display": format_amount(e.pending, e.currency), "confirmed": e.confirmed,
            "confirmed_display": format_amount(e.confirmed, e.currency), "voided_count": e.voided_count,
            "awaiting_funding": e.awaiting_funding, "awaiting_funding_count": e.awaiting_funding_count,
            "awaiting_funding_display": format_amount(e.awaiting_funding, e.currency),
            "by_post": rows(e.by_post), "by_product": rows(e.by_product),
            "daily": {"days": [ser.iso(_utc(d)) for d in e.daily["days"]], "click_outs": e.daily["click_outs"],
                      "orders": e.daily["orders"]}}


def _utc(seconds: int):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, tz=UTC)


@router.get("/v1/tastemaker/showcase/commissions", auth=user_auth,
            response=responses({200: list[CommissionOut]}, READ),
            summary="Your commissions, newest first (or a store's, for its owner and operators)")
def commissions(request, response: HttpResponse,
                status: Literal["pending", "confirmed", "voided"] | None = None,
                store_id: str | None = Query(None, description="A store you manage: its commissions"),
                max_id: str | None = None, limit: str | None = None):
    require_scope(request, "read:accounts")
    page = page_from({"max_id": max_id, "limit": limit})
    if store_id:
        store = _managed_store(request, store_id)
        rows = selectors.commissions(store_id=store.pk, status=status, max_id=page.max_id, limit=page.limit)
    else:
        rows = selectors.commissions(creator_id=request.user.pk, status=status, max_id=page.max_id,
                                     limit=page.limit)
    _next_link(request, response, rows[-1].pk if rows else None, len(rows) == page.limit)
    return [_commission(c) for c in rows]


@router.get("/v1/tastemaker/showcase/commissions/{commission_id}", auth=user_auth,
            response=responses({200: CommissionDetailOut}, READ),
            summary="A commission with its trail: the click, the order's events, the rule and rate, every change",
            description="Visible to its creator, the store's owner and operators.")
def commission(request, commission_id: str):
    require_scope(request, "read:accounts")
    c = selectors.commission_for(request.user, _id_or_404(commission_id))
    if c is None:
        raise NotFound("Record not found")
    t = selectors.trail(c)
    iso = ser.iso
    click = t["click"]
    data = _commission(c)
    data["trail"] = {
        "click": {"id": str(click.pk), "status_id": str(click.post_id), "valid": click.valid,
                  "invalid_reason": click.invalid_reason, "created_at": iso(click.created_at)},
        "events": [{"id": str(e.pk), "type": e.type, "webhook_id": e.webhook_id, "occurred_at": iso(e.occurred_at),
                    "received_at": iso(e.received_at), "amount": e.amount, "refund_id": e.refund_id}
                   for e in t["events"]],
        "steps": [{"id": str(s.pk), "kind": s.kind, "amount_before": s.amount_before, "amount_after": s.amount_after,
                   "status_after": s.status_after, "note": s.note,
                   "order_event_id": str(s.order_event_id) if s.order_event_id else None,
                   "created_at": iso(s.created_at)} for s in t["steps"]],
    }
    return data


# --- store management (brand owners and operators) -------------------------------------------

@router.post("/v1/tastemaker/showcase/stores", auth=user_auth, response=responses({200: StoreSecretsOut}, WRITE),
             summary="Create a partner store (an operator's is approved at once; a brand's waits for one)",
             description="The answer carries the API key and the webhook signing secret: shown this once. Needs a "
                         "token with the `stores` scope (403 without it; `write` does not grant it).")
def create_store(request, payload: StoreIn):
    require_scope(request, "stores")  # it answers with secrets: not for every client holding `write`
    check_and_hit("showcase_store", request.user.pk, "RATE_POST")
    store, created = services.do_create_store(
        request.user, name=payload.name, domains=payload.domains, commission_bp=payload.commission_bp,
        attribution_days=payload.attribution_days, return_days=payload.return_days)
    return _with_secrets(store, created, request)


@router.get("/v1/tastemaker/showcase/stores", auth=user_auth, response=responses({200: list[StoreOut]}, READ),
            summary="The partner stores you manage (operators: all)")
def list_stores(request):
    require_scope(request, "read:accounts")
    return [_store(s, request) for s in selectors.stores_for(request.user)]


@router.get("/v1/tastemaker/showcase/stores/{store_id}", auth=user_auth, response=responses({200: StoreOut}, READ),
            summary="A partner store you manage")
def get_store(request, store_id: str):
    require_scope(request, "read:accounts")
    return _store(_managed_store(request, store_id), request)


@router.patch("/v1/tastemaker/showcase/stores/{store_id}", auth=user_auth, response=responses({200: StoreOut}, WRITE),
              summary="Change a partner store",
              description="A brand changing anything an operator reviewed on an approved store (its name, domains, "
                          "rate, attribution or return window) sends it back for approval. Rates and windows must "
                          "be within the instance's limits (422 names them); a name another store has (in any "
                          "letter case, width, spacing or punctuation) is refused (422).")
def update_store(request, store_id: str, payload: StorePatchIn):
    require_scope(request, "write:accounts")
    store = _managed_store(request, store_id)
    changes = payload.model_dump(exclude_unset=True)
    return _store(services.do_update_store(request.user, store, **changes), request)


@router.post("/v1/tastemaker/showcase/stores/{store_id}/rotate_secrets", auth=user_auth,
             response=responses({200: StoreSecretsOut}, WRITE),
             summary="New API key and webhook secret (the old ones stop working at once); shown this once",
             description="Needs a token with the `stores` scope (403 without it; `write` does not grant it).")
def rotate_store_secrets(request, store_id: str):
    require_scope(request, "stores")
    store = _managed_store(request, store_id)
    created = services.do_rotate_store_secrets(request.user, store)
    return _with_secrets(store, created, request)


def _decide(request, store_id: str, payload: StoreDecisionIn, approve: bool) -> dict:
    require_scope(request, "write:accounts")
    if not request.user.is_staff:
        raise Forbidden("Only operators approve or reject partner stores.")
    store = PartnerStore.objects.filter(pk=_id_or_404(store_id)).first()
    if store is None:
        raise NotFound("Record not found")
    return _store(services.do_decide_store(request.user, store, approve=approve, note=payload.note), request)


@router.post("/v1/tastemaker/showcase/stores/{store_id}/approve", auth=user_auth,
             response=responses({200: StoreOut}, WRITE), summary="Operators: approve a partner store")
def approve_store(request, store_id: str, payload: StoreDecisionIn):
    return _decide(request, store_id, payload, approve=True)


@router.post("/v1/tastemaker/showcase/stores/{store_id}/reject", auth=user_auth,
             response=responses({200: StoreOut}, WRITE), summary="Operators: reject a partner store")
def reject_store(request, store_id: str, payload: StoreDecisionIn):
    return _decide(request, store_id, payload, approve=False)


# --- a store's deposit: it funds the commissions of the creators who sell for it --------------

def _deposit_move(request, store_id: str, payload: StoreDepositIn, operation: str, move) -> HttpResponse:
    require_scope(request, PAYMENTS_SCOPE)
    store = _managed_store(request, store_id)
    data = payload.model_dump()

    def act():
        currency = (payload.currency or settings.DEFAULT_CURRENCY).strip().upper()
        tx = move(request.user, store, payload.amount, currency)
        return 201, {"transaction_id": str(tx.pk), "store_id": str(store.pk), "amount": payload.amount,
                     "currency": currency, "amount_display": format_amount(payload.amount, currency),
                     "deposit": _deposit(store)}

    return _keyed(request, f"showcase/stores/{store.pk}/{operation}", data, act)


@router.post("/v1/tastemaker/showcase/stores/{store_id}/deposit", auth=user_auth,
             response=responses({201: StoreDepositMoveOut}, (*WRITE, 409)), openapi_extra=KEY_HEADER,
             summary="Fund a store's deposit from your wallet (it pays the store's commissions)",
             description="Moves money from your wallet into the store's deposit, then holds (or pays, once confirmed) "
                         "its commissions awaiting funding, oldest first. A brand store is funded by its brand, an "
                         "operator-run store by an operator. 409 when your wallet lacks the amount. Send an "
                         "`Idempotency-Key` header (a retry replays the first response). Needs the `payments` scope.")
def fund_store_deposit(request, store_id: str, payload: StoreDepositIn):
    return _deposit_move(request, store_id, payload, "deposit", services.do_fund_store_deposit)


@router.post("/v1/tastemaker/showcase/stores/{store_id}/deposit/withdraw", auth=user_auth,
             response=responses({201: StoreDepositMoveOut}, (*WRITE, 409)), openapi_extra=KEY_HEADER,
             summary="Take back what is free in a store's deposit (not held for pending commissions)",
             description="To the brand's wallet (only the brand that runs the store); an operator-run store's to the "
                         "acting operator's. 409 when the free deposit lacks the amount. Send an `Idempotency-Key` "
                         "header. Needs the `payments` scope.")
def withdraw_store_deposit(request, store_id: str, payload: StoreDepositIn):
    return _deposit_move(request, store_id, payload, "deposit/withdraw", services.do_withdraw_store_deposit)
