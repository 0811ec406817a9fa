"""Showcase writes: partner stores, their catalog, product cards, click-outs, store webhooks, attribution
and commissions. Views and API handlers validate the shape, then call one of these."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tastemaker.accounts.models import User
from tastemaker.core.errors import Forbidden, NotFound, ValidationFailed
from tastemaker.core.money import MAX_MINOR, check_currency, rate_of
from tastemaker.social.models import Media, Post

from . import links
from .models import (
    CardLink,
    ClickOut,
    Commission,
    CommissionStatus,
    CommissionStep,
    Disclosure,
    Offer,
    Order,
    OrderEvent,
    OrderStatus,
    PartnerStore,
    Product,
    ProductCard,
    StoreStatus,
    store_name_key,
)

log = logging.getLogger(__name__)

TITLE_MAX = 60
TITLE_MIN = 2
REASON_MIN_CHARS = 20  # Latin text: at least a sentence
REASON_MIN_CJK = 8  # Chinese text: at least a short sentence
REASON_MAX = 1000
CATALOG_BATCH_MAX = 500
MAX_DOMAINS = 20
# what a store may set: settings (TASTEMAKER_SHOWCASE_MAX_COMMISSION_BP and friends), read at each check
REVIEWED_FIELDS = ("name", "domains", "commission_bp", "attribution_days", "return_days")


def store_limits() -> dict[str, tuple[int, int]]:
    """The allowed range of each number a store sets, from the settings."""
    return {"commission_bp": (0, settings.SHOWCASE_MAX_COMMISSION_BP),
            "attribution_days": (settings.SHOWCASE_MIN_ATTRIBUTION_DAYS, settings.SHOWCASE_MAX_ATTRIBUTION_DAYS),
            "return_days": (settings.SHOWCASE_MIN_RETURN_DAYS, settings.SHOWCASE_MAX_RETURN_DAYS)}


# --- partner stores -------------------------------------------------------------------------

@dataclass
class StoreSecrets:
    """Shown once, right after creation or rotation; only a hash of the key is kept."""

    api_key: str
    webhook_secret: str


def _check_store_fields(name: str, domains, commission_bp, attribution_days, return_days,
                        store: PartnerStore | None = None) -> dict:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed(_("A store needs a name of at most 100 characters."), field="name")
    key = store_name_key(name)
    if not key:
        raise ValidationFailed(_("A store name needs letters or digits."), field="name")
    if PartnerStore.objects.filter(name_key=key).exclude(pk=store.pk if store else None).exists():
        raise ValidationFailed(_("Another partner store already has this name (or one that differs only in letter "
                                 "case, width, spacing or punctuation)."), field="name")
    if isinstance(domains, str):
        domains = [d for d in re.split(r"[\s,]+", domains) if d]
    if not isinstance(domains, list | tuple) or not domains:
        raise ValidationFailed(_("A store needs at least one domain its purchase links use."), field="domains")
    if len(domains) > MAX_DOMAINS:
        raise ValidationFailed(_("A store has at most %(n)d domains.") % {"n": MAX_DOMAINS}, field="domains")
    clean = []
    for d in domains:
        host = links.normalise_domain(str(d))
        if host not in clean:
            clean.append(host)
    out = {"name": name, "name_key": key, "domains": clean}
    limits = store_limits()
    for key, value in (("commission_bp", commission_bp), ("attribution_days", attribution_days),
                       ("return_days", return_days)):
        if value is None:
            continue
        low, high = limits[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValidationFailed(_("%(field)s must be a whole number from %(low)d to %(high)d.")
                                   % {"field": key, "low": low, "high": high}, field=key)
        out[key] = value
    return out


def _save_store(store: PartnerStore, **kwargs) -> None:
    """Save; a concurrent store that took the same name (the unique name key) is the same 422."""
    try:
        with transaction.atomic():
            store.save(**kwargs)
    except IntegrityError:
        if PartnerStore.objects.filter(name_key=store.name_key).exclude(pk=store.pk).exists():
            raise ValidationFailed(_("Another partner store already has this name (or one that differs only in "
                                     "letter case, width, spacing or punctuation)."), field="name") from None
        raise


def _new_secrets(store: PartnerStore) -> StoreSecrets:
    prefix = "tm_" + secrets.token_hex(6)
    api_key = f"{prefix}_{secrets.token_urlsafe(24)}"
    store.api_key_prefix = prefix
    store.api_key_hash = hashlib.sha256(api_key.encode()).hexdigest()
    store.webhook_secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    store.secrets_rotated_at = timezone.now()
    return StoreSecrets(api_key=api_key, webhook_secret=store.webhook_secret)


def do_create_store(actor: User, *, name: str, domains, commission_bp: int | None = None,
                    attribution_days: int | None = None, return_days: int | None = None
                    ) -> tuple[PartnerStore, StoreSecrets]:
    """An operator's store is approved at once; a brand account's waits for an operator."""
    fields = _check_store_fields(name, domains, commission_bp, attribution_days, return_days)
    fields.setdefault("commission_bp", settings.SHOWCASE_COMMISSION_BP)
    fields.setdefault("attribution_days", settings.SHOWCASE_ATTRIBUTION_DAYS)
    fields.setdefault("return_days", settings.SHOWCASE_RETURN_DAYS)
    store = PartnerStore(owner=None if actor.is_staff else actor, **fields)
    if actor.is_staff:
        store.status = StoreStatus.APPROVED
        store.decided_at, store.decided_by = timezone.now(), actor
    elif actor.is_suspended:
        raise Forbidden(_("This account is suspended."))
    created = _new_secrets(store)
    _save_store(store)
    return store, created


def do_update_store(actor: User, store: PartnerStore, **changes) -> PartnerStore:
    """Change a store. A brand changing anything an operator reviewed (its name, domains, rate or windows)
    sends an approved store back to review; saving the same values (the web form always sends them all)
    does not. An operator's change is itself the review."""
    _check_store_admin(actor, store)
    current = {"name": store.name, "domains": store.domains, "commission_bp": None, "attribution_days": None,
               "return_days": None}
    current.update({k: v for k, v in changes.items() if k in current})
    fields = _check_store_fields(**current, store=store)
    changed = (fields["name"] != store.name or set(fields["domains"]) != set(store.domains)
               or any(fields.get(k, getattr(store, k)) != getattr(store, k)
                      for k in ("commission_bp", "attribution_days", "return_days")))
    if changed and not actor.is_staff and store.status == StoreStatus.APPROVED:
        store.status = StoreStatus.PENDING
    for key, value in fields.items():
        setattr(store, key, value)
    _save_store(store)
    return store


def do_decide_store(operator: User, store: PartnerStore, *, approve: bool, note: str = "") -> PartnerStore:
    if not operator.is_staff:
        raise Forbidden(_("Only operators approve partner stores."))
    store.status = StoreStatus.APPROVED if approve else StoreStatus.REJECTED
    store.decided_at, store.decided_by, store.decision_note = timezone.now(), operator, (note or "")[:500]
    store.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
    return store


def do_rotate_store_secrets(actor: User, store: PartnerStore) -> StoreSecrets:
    _check_store_admin(actor, store)
    created = _new_secrets(store)
    store.save(update_fields=["api_key_prefix", "api_key_hash", "webhook_secret", "secrets_rotated_at"])
    return created


def _check_store_admin(actor: User, store: PartnerStore) -> None:
    if not (actor.is_staff or (store.owner_id is not None and store.owner_id == actor.pk)):
        raise NotFound(_("No such partner store."))


def store_for_api_key(key: str) -> PartnerStore | None:
    """The approved store whose API key this is (constant-time comparison of the hashes)."""
    key = (key or "").strip()
    parts = key.split("_", 2)  # "tm_<hex>_<random>": the random part may itself contain "_"
    prefix = f"{parts[0]}_{parts[1]}" if len(parts) == 3 and parts[0] == "tm" else ""
    if not prefix or len(key) > 200:
        return None
    store = PartnerStore.objects.filter(api_key_prefix=prefix).first()
    if store is None or not hmac.compare_digest(store.api_key_hash, hashlib.sha256(key.encode()).hexdigest()):
        return None
    return store


# --- catalog --------------------------------------------------------------------------------

def _int_field(item: dict, key: str, *, low: int, high: int, index: int, required: bool = False):
    value = item.get(key)
    if value is None:
        if required:
            raise ValidationFailed(_("Item %(i)d: %(key)s is required.") % {"i": index, "key": key}, field=key)
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed(_("Item %(i)d: %(key)s must be a whole number from %(low)d to %(high)d "
                                 "(prices in minor units: fen, cents).")
                               % {"i": index, "key": key, "low": low, "high": high}, field=key)
    return value


def _str_field(item: dict, key: str, *, max_len: int, index: int, required: bool = False) -> str:
    value = item.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(_("Item %(i)d: %(key)s must be text.") % {"i": index, "key": key}, field=key)
    value = value.strip()
    if "\x00" in value:
        raise ValidationFailed(_("Item %(i)d: %(key)s contains a NUL character.") % {"i": index, "key": key},
                               field=key)
    if required and not value:
        raise ValidationFailed(_("Item %(i)d: %(key)s is required.") % {"i": index, "key": key}, field=key)
    if len(value) > max_len:
        raise ValidationFailed(_("Item %(i)d: %(key)s has at most %(n)d characters.")
                               % {"i": index, "key": key, "n": max_len}, field=key)
    return value


def _clean_catalog_item(store: PartnerStore, item, index: int) -> dict:
    if not isinstance(item, dict):
        raise ValidationFailed(_("Item %(i)d is not an object.") % {"i": index})
    out = {"external_id": _str_field(item, "external_id", max_len=100, index=index, required=True)}
    if "title" in item or "url" in item:  # a full item (create or replace)
        out["title"] = _str_field(item, "title", max_len=200, index=index, required=True)
        out["description"] = _str_field(item, "description", max_len=5000, index=index)
        out["url"] = links.check_purchase_url(item.get("url"), store.domains, field="url")
        images = item.get("images") or []
        if not isinstance(images, list) or len(images) > 9:
            raise ValidationFailed(_("Item %(i)d: images is a list of at most 9 URLs.") % {"i": index}, field="images")
        clean_images = []
        for img in images:
            if not isinstance(img, str) or not img.startswith(("https://", "http://")) or len(img) > 2048 \
                    or links._FORBIDDEN_RE.search(img):
                raise ValidationFailed(_("Item %(i)d: every image must be an http(s) URL.") % {"i": index},
                                       field="images")
            clean_images.append(img)
        out["images"] = clean_images
        gtin = _str_field(item, "gtin", max_len=14, index=index)
        if gtin and not gtin.isdigit():
            raise ValidationFailed(_("Item %(i)d: gtin is digits only.") % {"i": index}, field="gtin")
        out["gtin"] = gtin
        out["brand"] = _str_field(item, "brand", max_len=100, index=index)
    for key in ("price", "stock", "commission_bp"):
        if key in item:
            high = MAX_MINOR if key == "price" else (10000 if key == "commission_bp" else 10**9)
            out[key] = _int_field(item, key, low=0, high=high, index=index)
    cap = settings.SHOWCASE_MAX_ITEM_COMMISSION_BP
    if out.get("commission_bp") is not None and out["commission_bp"] > cap:
        raise ValidationFailed(_("Item %(i)d: commission_bp is at most %(cap)d basis points (%(percent)s %%), the "
                                 "platform's cap on a product's own rate.")
                               % {"i": index, "cap": cap, "percent": f"{cap / 100:g}"}, field="commission_bp")
    if "currency" in item:
        out["currency"] = check_currency(str(item.get("currency") or ""))
    if "active" in item:
        if not isinstance(item["active"], bool):
            raise ValidationFailed(_("Item %(i)d: active is true or false.") % {"i": index}, field="active")
        out["active"] = item["active"]
    return out


def do_upsert_catalog(store: PartnerStore, items) -> dict:
    """A store's batch upsert (create, replace, or update price / stock) by its own external ids.

    All or nothing: one bad item refuses the whole batch with a message naming the item.
    """
    if not store.approved:
        raise Forbidden(_("This partner store is not approved."))
    if not isinstance(items, list) or not items:
        raise ValidationFailed(_("Send a non-empty list of items."), field="items")
    if len(items) > CATALOG_BATCH_MAX:
        raise ValidationFailed(_("At most %(n)d items per request.") % {"n": CATALOG_BATCH_MAX}, field="items")
    cleaned = [_clean_catalog_item(store, item, i) for i, item in enumerate(items)]
    seen = set()
    for i, item in enumerate(cleaned):
        if item["external_id"] in seen:
            raise ValidationFailed(_("Item %(i)d: external_id %(id)s appears twice in the batch.")
                                   % {"i": i, "id": item["external_id"]}, field="external_id")
        seen.add(item["external_id"])
    now = timezone.now()
    created = updated = 0
    with transaction.atomic():
        existing = {o.external_id: o for o in Offer.objects.select_related("product").filter(
            store=store, external_id__in=list(seen))}
        for i, item in enumerate(cleaned):
            offer = existing.get(item["external_id"])
            if offer is None:
                if "title" not in item:
                    raise ValidationFailed(_("Item %(i)d: %(id)s is new, so it needs title and url.")
                                           % {"i": i, "id": item["external_id"]}, field="title")
                product = None
                if item["gtin"]:
                    product = Product.objects.filter(gtin=item["gtin"]).order_by("id").first()
                if product is None:
                    product = Product.objects.create(title=item["title"], description=item["description"],
                                                     images=item["images"], gtin=item["gtin"], brand=item["brand"])
                offer = Offer(store=store, product=product, external_id=item["external_id"], url=item["url"],
                              currency=item.get("currency", settings.DEFAULT_CURRENCY))
                created += 1
            else:
                updated += 1
                if "title" in item:
                    offer.url = item["url"]
                    product = offer.product
                    if not Offer.objects.filter(product=product).exclude(store=store).exists():
                        # only the product's sole store may rewrite what the product is
                        product.title, product.description = item["title"], item["description"]
                        product.images, product.brand = item["images"], item["brand"]
                        if item["gtin"]:
                            product.gtin = item["gtin"]
                        product.save()
            for key in ("price", "stock", "commission_bp", "currency", "active"):
                if key in item:
                    setattr(offer, key, item[key])
            offer.refreshed_at = now
            offer.save()
    return {"created": created, "updated": updated}


# --- product cards --------------------------------------------------------------------------

_SEPARATORS = "|/\\,，、;；+#★☆♥❤✔✅🔥【】[]()（）!！~·•_-—=*"
_SEP_RUN_RE = re.compile("[" + re.escape(_SEPARATORS) + r"]{2,}")
_SEP_RE = re.compile("[" + re.escape(_SEPARATORS) + "]")
_WORD_RE = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]+", re.IGNORECASE)
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
# marketing filler that makes a title a list of search keywords rather than a name
STUFFING_TERMS = {
    "best", "cheap", "cheapest", "sale", "hot", "new", "free", "shipping", "discount", "deal", "deals", "top",
    "bestseller", "trending", "viral", "original", "authentic", "genuine", "official", "2024", "2025", "2026",
    "正品", "包邮", "爆款", "网红", "同款", "特价", "秒杀", "新款", "热卖", "限时", "折扣", "清仓", "官方", "旗舰",
    "推荐", "必买", "爆品", "抢购", "促销", "优惠", "正版", "现货",
}


def _title_tokens(title: str) -> list[str]:
    from tastemaker.core.text import words

    return [t for t in words(title) if _WORD_RE.fullmatch(t)]


def check_title(title) -> str:
    """A card title: short, and a name rather than a run of search keywords. Every refusal says why."""
    title = re.sub(r"\s+", " ", title if isinstance(title, str) else "").strip()
    if len(title) < TITLE_MIN:
        raise ValidationFailed(_("A product card needs a title."), field="title")
    if len(title) > TITLE_MAX:
        raise ValidationFailed(_("The title has %(m)d characters; keep it to %(n)d.") % {"m": len(title), "n": TITLE_MAX},
                               field="title")
    if _SEP_RUN_RE.search(title):
        raise ValidationFailed(_("The title repeats separator characters (like \"||\" or \"★★\"); write the "
                                 "product's name instead."), field="title")
    if len(_SEP_RE.findall(title)) > 3:
        raise ValidationFailed(_("The title uses too many separators (at most 3); write the product's name "
                                 "instead of a list of keywords."), field="title")
    tokens = _title_tokens(title)
    counts: dict[str, int] = {}
    for token in tokens:
        if len(token) >= 2 or _CJK_RE.match(token):
            counts[token] = counts.get(token, 0) + 1
    repeated = sorted((t for t, n in counts.items() if n >= 2 and (len(t) >= 2 or n >= 3)), key=lambda t: -counts[t])
    if repeated:
        raise ValidationFailed(_("The title repeats \"%(word)s\" %(n)d times; say it once.")
                               % {"word": repeated[0], "n": counts[repeated[0]]}, field="title")
    filler = sorted({t for t in tokens if t in STUFFING_TERMS})
    if len(filler) >= 3:
        raise ValidationFailed(_("The title is stuffed with keywords (%(words)s); name the product and put the "
                                 "selling points in the reason.") % {"words": ", ".join(filler[:5])}, field="title")
    segments = [s for s in re.split(r"\s+", title) if s]
    if len(segments) >= 5 and all(_CJK_RE.search(s) and len(s) <= 4 for s in segments):
        raise ValidationFailed(_("The title is a list of keywords separated by spaces; write the product's "
                                 "name instead."), field="title")
    return title


def check_reason(reason) -> str:
    reason = (reason if isinstance(reason, str) else "").replace("\r\n", "\n").strip()
    if not reason:
        raise ValidationFailed(_("Say why you recommend it: the recommendation reason is required."), field="reason")
    if len(reason) > REASON_MAX:
        raise ValidationFailed(_("The reason has at most %(n)d characters.") % {"n": REASON_MAX}, field="reason")
    cjk = len(_CJK_RE.findall(reason))
    words = len(re.findall(r"[A-Za-z]+", reason))
    if cjk < REASON_MIN_CJK and (len(reason) < REASON_MIN_CHARS or words < 4):
        raise ValidationFailed(_("The reason is too short: write at least a full sentence on why you recommend it."),
                               field="reason")
    return reason


@dataclass
class CardInput:
    title: str
    reason: str
    url: str
    disclosure: str
    image_media_id: int | None = None  # an uploaded, unused image of the author
    image_url: str | None = None  # or an image fetched through the guard (import)
    price: int | None = None  # minor units; None: "check the price at the store"
    currency: str | None = None
    stock: int | None = None
    product_id: int | None = None  # a catalog product; its offers become the card's links
    vertical: str | None = None  # a vertical slug; guessed from the text when None


def find_store_for_url(url: str) -> tuple[PartnerStore, str]:
    """The approved partner store whose domains the URL is on, and the URL normalised; else a 422 (saying how
    the link is malformed, or that its domain is no partner store's)."""
    clean, host = links.parse_purchase_url(url)
    for store in PartnerStore.objects.filter(status=StoreStatus.APPROVED).only("id", "name", "domains"):
        if links.host_matches(host, store.domains):
            return store, clean
    raise ValidationFailed(_("The purchase link must go to a partner store; this domain is not one."), field="url")


def _check_card(author: User, data: CardInput) -> dict:
    title = check_title(data.title)
    reason = check_reason(data.reason)
    if data.disclosure not in Disclosure.values:
        raise ValidationFailed(_("Choose a disclosure: own product, affiliate, gifted or paid partnership."),
                               field="disclosure")
    currency = check_currency(data.currency or settings.DEFAULT_CURRENCY)
    price = data.price
    if price is not None and (isinstance(price, bool) or not isinstance(price, int) or not 0 <= price <= MAX_MINOR):
        raise ValidationFailed(_("The price is a whole number of minor units (fen, cents), 0 or more."),
                               field="price")
    stock = data.stock
    if stock is not None and (isinstance(stock, bool) or not isinstance(stock, int) or not 0 <= stock <= 10**9):
        raise ValidationFailed(_("Stock is a whole number, 0 or more."), field="stock")
    store, url = find_store_for_url(data.url)
    product = None
    if data.product_id is not None:
        product = Product.objects.filter(pk=data.product_id).first()
        if product is None:
            raise ValidationFailed(_("That product is not in the catalog."), field="product_id")
    else:
        offer = Offer.objects.select_related("product").filter(store=store, url=url, active=True).first()
        product = offer.product if offer else None
    return {"title": title, "reason": reason, "currency": currency, "price": price, "stock": stock, "store": store,
            "url": url, "product": product}


def _card_image(author: User, data: CardInput) -> dict:
    if data.image_media_id is not None:
        media = Media.objects.filter(pk=data.image_media_id, owner=author, post__isnull=True).first()
        if media is None:
            raise ValidationFailed(_("The card image is unknown, not yours, or already used."), field="image")
        return {"file": media.file, "preview": media.preview, "width": media.width, "height": media.height}
    if data.image_url:
        from tastemaker.core.fetch import fetch
        from tastemaker.images.intake import process_image

        result = fetch(data.image_url, accept="image/*",
                       allowed_types=("image/jpeg", "image/png", "image/gif", "image/webp"),
                       max_bytes=settings.MEDIA_MAX_BYTES)
        return process_image(result.body, user=author)
    raise ValidationFailed(_("A product card needs an image."), field="image")


def _guess_vertical(slug: str | None, text: str):
    from tastemaker.experts.models import Vertical

    if slug:
        vertical = Vertical.objects.filter(slug=slug, active=True).first()
        if vertical is None:
            raise ValidationFailed(_("Unknown vertical: %(slug)s") % {"slug": slug[:40]}, field="vertical")
        return vertical
    try:
        from tastemaker.experts.labeler import get_labeler

        prediction = get_labeler().predict(text)
    except Exception:  # noqa: BLE001 - a card does not fail because the labeler could not load
        log.exception("labeler unavailable for a card")
        return None
    if prediction.confidence < settings.LABEL_MIN_CONFIDENCE:
        return None
    return Vertical.objects.filter(slug=prediction.vertical, active=True).first()


def do_create_showcase_post(author: User, *, text: str, card: CardInput, **post_fields) -> Post:
    """A post with a product card. The card is checked in full before anything is written, so a refused
    card loses nothing and leaves no post."""
    from tastemaker.social.services import do_create_post

    if author.is_suspended:
        raise Forbidden(_("This account is suspended."))
    checked = _check_card(author, card)
    image = _card_image(author, card)
    vertical = _guess_vertical(card.vertical, f"{checked['title']} {checked['reason']} {text}")
    with transaction.atomic():
        post = do_create_post(author, text=text or checked["reason"], **post_fields)
        product_card = ProductCard.objects.create(
            post=post, creator=author, product=checked["product"], title=checked["title"], reason=checked["reason"],
            image=image["file"], image_preview=image.get("preview", ""), image_width=image.get("width"),
            image_height=image.get("height"), price=checked["price"],
            currency=checked["currency"], stock=checked["stock"], disclosure=card.disclosure, vertical=vertical)
        # the card keeps the image's files; the upload itself is used up (and is not a post attachment)
        if card.image_media_id is not None and not Media.objects.filter(
                pk=card.image_media_id, owner=author, post__isnull=True).delete()[0]:
            raise ValidationFailed(_("The card image is unknown, not yours, or already used."), field="image")
        _make_links(product_card, checked["store"], checked["url"], checked["product"])
    return post


def _make_links(card: ProductCard, store: PartnerStore, url: str, product: Product | None) -> None:
    primary_offer = None
    others = []
    if product is not None:
        for offer in Offer.objects.select_related("store").filter(product=product, active=True,
                                                                  store__status=StoreStatus.APPROVED):
            if offer.store_id == store.pk:
                primary_offer = primary_offer or offer
            else:
                others.append(offer)
    CardLink.objects.create(card=card, store=store, offer=primary_offer, url=url, token=links.new_token(),
                            primary=True)
    seen = {store.pk}
    for offer in others:
        if offer.store_id in seen:
            continue
        seen.add(offer.store_id)
        try:
            checked = links.check_purchase_url(offer.url, offer.store.domains)
        except ValidationFailed:
            continue  # the store changed its domains since; that offer is not linked
        CardLink.objects.create(card=card, store=offer.store, offer=offer, url=checked, token=links.new_token())


# --- click-outs -----------------------------------------------------------------------------

@dataclass(frozen=True)
class LinkTarget:
    """What /go/<token> needs, cached per process for a minute (views_go: a link's URL never changes once
    made; whether it may still be followed, with its store's and author's standing, is read again then)."""

    link_id: int
    url: str
    store_id: int
    post_id: int
    creator_id: int
    creator: str
    # the stored URL split once around where the click id goes (links.with_click, precomputed)
    prefix: str = ""
    suffix: str = ""

    def location(self, click_id: int) -> str:
        return f"{self.prefix}{click_id}{self.suffix}"


def link_target(token: str) -> LinkTarget | None:
    """Where /go/<token> sends: only a link of an approved store (not pending, rejected or suspended) on a
    post whose author is not suspended; None otherwise."""
    row = (CardLink.objects.filter(token=token, card__post__author__is_suspended=False,
                                   store__status=StoreStatus.APPROVED)
           .values_list("id", "url", "store_id", "card_id", "card__creator_id", "card__creator__username").first())
    if row is None:
        return None
    marker = 4_000_000_000_000_000_000  # a number that cannot occur elsewhere in the URL's query
    built = links.with_click(row[1], marker, post_id=row[3], creator=row[5])
    prefix, _sep, suffix = built.partition(str(marker))
    return LinkTarget(*row, prefix=prefix, suffix=suffix)


def do_click_out(target: LinkTarget, *, viewer_id: int | None, visitor: str, reason: str, device: str,
                 language: str, inline: bool = False):
    """Record a click-out through the events pipeline and its invalid-traffic filter (showcase.clicks: queued
    and written in batches, or inline) and return it; its id is the click id the store reports back."""
    from .clicks import record_click

    return record_click(inline=inline, link_id=target.link_id, store_id=target.store_id, post_id=target.post_id,
                        creator_id=target.creator_id, viewer_id=viewer_id, visitor=visitor, reason=reason,
                        device=device, language=language)


# --- store webhooks: orders, refunds, cancellations -----------------------------------------

EVENT_TYPES = ("order.paid", "order.refunded", "order.cancelled")


@dataclass
class WebhookResult:
    status: str  # "processed" | "duplicate"
    order_id: int | None = None


class WebhookRejected(ValidationFailed):
    """A delivery that is not provably from the store (signature, timestamp, headers): nothing written."""

    status = 401


def verify_webhook(store: PartnerStore, body: bytes, headers: dict) -> dict:
    """Standard Webhooks: HMAC-SHA256 over "id.timestamp.body", constant-time comparison, ±5 minutes."""
    if not store.webhook_secret or not store.approved:
        raise WebhookRejected(_("This partner store cannot send webhooks."))
    try:
        payload = Webhook(store.webhook_secret).verify(body, headers)
    except (WebhookVerificationError, ValueError, TypeError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        message = str(exc) if isinstance(exc, WebhookVerificationError) else "malformed signature or body"
        raise WebhookRejected(_("Webhook refused: %(why)s.") % {"why": message}) from None
    except Exception:  # noqa: BLE001 - binascii.Error and friends from a mangled signature
        raise WebhookRejected(_("Webhook refused: malformed signature.")) from None
    if not isinstance(payload, dict):
        raise ValidationFailed(_("The webhook body must be a JSON object."))
    return payload


EARLIEST_EVENT = datetime(2000, 1, 1, tzinfo=UTC)  # no partner store order happened before this
FUTURE_SLACK = timedelta(days=1)  # a store's clock may run ahead a little, not by years


def _parse_when(value, fallback: datetime) -> datetime:
    """``occurred_at`` as sent by a store: an ISO 8601 time (no zone means UTC) or Unix seconds, strictly,
    between 2000 and one day from now. Anything else is a 422, never an overflow further on."""
    if value in (None, ""):
        return fallback
    parsed = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            parsed = datetime.fromtimestamp(int(value), tz=UTC)
        except (OverflowError, OSError, ValueError):
            parsed = None
    elif isinstance(value, str) and len(value) <= 40:
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:  # well-formed but impossible: "2026-13-45T99:99:99"
            parsed = None
    if parsed is None:
        raise ValidationFailed(_("occurred_at is not an ISO 8601 time (for example 2026-05-01T12:30:00Z)."),
                               field="occurred_at")
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    if not EARLIEST_EVENT <= parsed <= timezone.now() + FUTURE_SLACK:
        raise ValidationFailed(_("occurred_at must be between 2000-01-01 and one day from now."), field="occurred_at")
    return parsed.astimezone(UTC)


def _check_event(payload: dict, webhook_timestamp: datetime) -> dict:
    kind = payload.get("type")
    if kind not in EVENT_TYPES:
        raise ValidationFailed(_("type must be one of %(types)s.") % {"types": ", ".join(EVENT_TYPES)}, field="type")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise ValidationFailed(_("data must be an object."), field="data")
    order_id = data.get("order_id")
    if isinstance(order_id, int) and not isinstance(order_id, bool):
        order_id = str(order_id)
    if not isinstance(order_id, str) or not order_id.strip() or len(order_id) > 100 or "\x00" in order_id:
        raise ValidationFailed(_("data.order_id is required (text, at most 100 characters)."), field="order_id")
    out = {"type": kind, "order_id": order_id.strip(),
           "occurred_at": _parse_when(data.get("occurred_at"), webhook_timestamp)}
    click = data.get("click_id")
    if click not in (None, ""):
        text = str(click)
        if isinstance(click, bool) or not text.isdigit() or len(text) > 19 or int(text) >= 2**63:
            raise ValidationFailed(_("data.click_id is the tm_click value from the landing URL."), field="click_id")
        out["click_id"] = int(text)
    amount = data.get("amount")
    if kind in ("order.paid", "order.refunded"):
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_MINOR:
            raise ValidationFailed(_("data.amount is a whole number of minor units (fen, cents), above 0."),
                                   field="amount")
        out["amount"] = amount
        out["currency"] = check_currency(str(data.get("currency") or ""), field="data.currency")
    if kind == "order.refunded":
        refund_id = data.get("refund_id")
        if refund_id is not None and (not isinstance(refund_id, str | int) or isinstance(refund_id, bool)
                                      or len(str(refund_id)) > 100):
            raise ValidationFailed(_("data.refund_id is text of at most 100 characters."), field="refund_id")
        out["refund_id"] = str(refund_id) if refund_id not in (None, "") else ""
    product = data.get("product_id")
    out["product_id"] = str(product)[:100] if isinstance(product, str | int) and not isinstance(product, bool) else ""
    return out


def do_receive_webhook(store: PartnerStore, body: bytes, headers: dict) -> WebhookResult:
    """Verify, deduplicate by ``webhook-id``, store the event and recompute the order and its commission.

    Events may arrive in any order and any number of times: the order's state is a fold over all its
    distinct events, so every arrival order ends in the same commission.
    """
    payload = verify_webhook(store, body, headers)
    lowered = {k.lower(): v for k, v in headers.items()}
    webhook_id = lowered.get("webhook-id", "")[:100]
    stamp = datetime.fromtimestamp(int(float(lowered["webhook-timestamp"])), tz=UTC)
    event = _check_event(payload, stamp)
    for attempt in range(3):
        try:
            with transaction.atomic():
                order = Order.objects.select_for_update().filter(store=store, external_id=event["order_id"]).first()
                if order is None:
                    order = Order.objects.create(store=store, external_id=event["order_id"],
                                                 currency=event.get("currency", settings.DEFAULT_CURRENCY))
                elif event.get("currency") and event["currency"] != order.currency and (
                        order.paid_amount or order.refunded_amount):
                    raise ValidationFailed(_("The order's currency is %(c)s.") % {"c": order.currency},
                                           field="currency")
                order.store = store  # no second lookup
                # the unique (store, webhook-id) constraint makes a re-delivery fail here, rolling back all
                oe = OrderEvent.objects.create(
                    store=store, order=order, webhook_id=webhook_id, type=event["type"],
                    occurred_at=event["occurred_at"], amount=event.get("amount", 0),
                    refund_id=event.get("refund_id", "") or webhook_id, payload=payload)
                if event.get("click_id") and order.reported_click_id is None:
                    order.reported_click_id = event["click_id"]
                if event.get("currency"):
                    order.currency = event["currency"]
                if event["product_id"] and not order.product_external_id:
                    order.product_external_id = event["product_id"]
                _recompute_order(order, oe)
            return WebhookResult("processed", order.pk)
        except IntegrityError:
            if OrderEvent.objects.filter(store=store, webhook_id=webhook_id).exists():
                return WebhookResult("duplicate")  # already processed (perhaps by a concurrent request)
            if attempt == 2:
                raise
            # two first events of one order raced to create it (PostgreSQL): once more, the order now exists
    raise AssertionError("unreachable")  # pragma: no cover


def _fold(order: Order) -> None:
    """The order's state from all its events, independent of the order they arrived in."""
    events = list(order.events.all())
    paid = sorted((e for e in events if e.type == "order.paid"), key=lambda e: (e.occurred_at, e.webhook_id))
    refunds: dict[str, int] = {}
    for e in sorted((e for e in events if e.type == "order.refunded"), key=lambda e: (e.refund_id, e.webhook_id)):
        refunds.setdefault(e.refund_id, e.amount)  # one refund counted once, whatever its re-deliveries
    cancels = sorted((e for e in events if e.type == "order.cancelled"), key=lambda e: e.occurred_at)
    order.paid_amount = paid[0].amount if paid else 0
    order.paid_at = paid[0].occurred_at if paid else None
    order.refunded_amount = min(sum(refunds.values()), order.paid_amount) if paid else sum(refunds.values())
    order.cancelled_at = cancels[0].occurred_at if cancels else None
    if cancels:
        order.status = OrderStatus.CANCELLED
    elif not paid:
        order.status = OrderStatus.UNPAID
    elif order.refunded_amount >= order.paid_amount:
        order.status = OrderStatus.REFUNDED
    elif order.refunded_amount:
        order.status = OrderStatus.PARTIALLY_REFUNDED
    else:
        order.status = OrderStatus.PAID


def attributed_click(store: PartnerStore, reported_click_id: int | None, at: datetime) -> ClickOut | None:
    """Last valid click-out within the store's window: the reported click tells who the buyer was (its
    viewer); the commission goes to that viewer's last valid click-out at this store before ``at``."""
    if reported_click_id is None:
        return None
    reported = ClickOut.objects.filter(pk=reported_click_id, store=store).only("viewer_key").first()
    if reported is None:
        return None
    start = at - timedelta(days=store.attribution_days)
    # the store's clock is not ours (and its times may be whole seconds): allow the webhook tolerance
    end = at + timedelta(seconds=settings.SHOWCASE_WEBHOOK_TOLERANCE)
    return (ClickOut.objects.select_related("link__offer")
            .filter(store=store, viewer_key=reported.viewer_key, valid=True, created_at__gte=start, created_at__lte=end)
            .order_by("-id").first())


def _recompute_order(order: Order, event: OrderEvent) -> None:
    from tastemaker.analytics.services import after_commit_event

    _fold(order)
    order.updated_at = timezone.now()
    order.save()
    commission = Commission.objects.select_for_update().filter(order=order).first()
    if commission is None:
        if order.paid_at is None:
            return  # nothing to attribute until the payment is known
        click = attributed_click(order.store, order.reported_click_id, order.paid_at)
        if click is None:
            return
        offer = click.link.offer
        if offer is not None and offer.commission_bp is not None:
            # a rate set before the cap was lowered counts at most the cap
            rate, source = min(offer.commission_bp, settings.SHOWCASE_MAX_ITEM_COMMISSION_BP), "product"
        else:
            rate, source = order.store.commission_bp, "store"
        commission = Commission(
            order=order, click_out=click, click_id=click.pk, clicked_at=click.created_at,
            creator_id=click.creator_id, store=order.store, post_id=click.post_id, offer=offer, rate_bp=rate,
            rate_source=source, currency=order.currency,
            rule=f"last valid click-out within {order.store.attribution_days} days; "
                 f"{source} rate {rate / 100:g}%; pending for the {order.store.return_days}-day return window; "
                 f"paid from the store's deposit",
            confirm_after=order.paid_at + timedelta(days=order.store.return_days))
        before, status_before = 0, None
        after_commit_event("conversion", "post", click.post_id, owner_id=click.creator_id,
                           viewer_key=click.viewer_key)
    else:
        before, status_before = commission.amount, commission.status
    if commission.status == CommissionStatus.CONFIRMED:
        # the return window had closed: the commission stands; the trail says what arrived late
        CommissionStep.objects.create(commission=commission, kind="late_event", amount_before=commission.amount,
                                      amount_after=commission.amount, status_after=commission.status,
                                      order_event=event,
                                      note=f"{event.type} after the return window closed: not applied")
        return
    basis = 0 if order.status == OrderStatus.CANCELLED else max(0, order.paid_amount - order.refunded_amount)
    commission.basis = basis
    commission.amount = rate_of(basis, commission.rate_bp)
    if basis == 0:
        commission.status = CommissionStatus.VOIDED
        commission.voided_at = commission.voided_at or timezone.now()
    else:
        commission.status = CommissionStatus.PENDING
        commission.voided_at = None
    commission.updated_at = timezone.now()
    funding = _settle_hold(commission)  # the store's deposit holds what the commission now owes
    commission.save()
    kind = "attributed" if status_before is None else {
        "order.paid": "paid", "order.refunded": "refunded", "order.cancelled": "cancelled"}[event.type]
    CommissionStep.objects.create(commission=commission, kind=kind, amount_before=before,
                                  amount_after=commission.amount, status_after=commission.status, order_event=event,
                                  note=_step_note(event, order))
    _record_funding(commission, funding)


def _step_note(event: OrderEvent, order: Order) -> str:
    if event.type == "order.paid":
        return f"order paid: {order.paid_amount} {order.currency} (minor units)"
    if event.type == "order.refunded":
        return f"refund {event.refund_id}: {event.amount}; refunded in total {order.refunded_amount} of {order.paid_amount}"
    return "order cancelled: commission voided"


# --- funding: a store's commissions are the store's money ----------------------------------------
#
# While a commission is pending, its store's deposit holds its amount (payments: deposit -> store held);
# a refund or a void gives the difference back; the confirmation pays the hold to the creator's wallet.
# A store whose deposit cannot cover a commission leaves it "awaiting funding": recorded, in the trail,
# and paid only once the store puts the money in (``do_fund_store_deposit``, or the confirm job's retry).
# No platform account is on any leg: the platform never pays a store's commission.

FUNDING_STEPS = ("held", "released", "awaiting_funding", "paid_out")


def _owed(commission: Commission) -> int:
    """What the store's deposit should hold for a commission now: its amount until it is paid; nothing
    once voided or paid."""
    if commission.status == CommissionStatus.VOIDED or commission.paid_at is not None:
        return 0
    return commission.amount


def _settle_hold(commission: Commission) -> list[tuple[str, str]]:
    """Bring what the store holds for a (locked) commission to what it owes: release a surplus, hold a
    shortfall if the deposit has it (all of it, or nothing). Moves money; returns the trail steps to
    record once the commission is saved. Each movement has its own reference (``commission:<id>:hold:<n>``),
    numbered by ``ledger_seq`` in the same database transaction."""
    from tastemaker.payments.ledger import InsufficientFunds
    from tastemaker.payments.services import do_hold_for_commission, do_release_for_commission

    target, held = _owed(commission), commission.held
    if target == held:
        return []
    seq = commission.ledger_seq + 1
    if held > target:
        do_release_for_commission(commission.store_id, held - target, commission.currency,
                                  reference=f"commission:{commission.pk}:release:{seq}")
        commission.held, commission.ledger_seq = target, seq
        return [("released", f"released {held - target} to the store's deposit; held now {target}")]
    try:
        do_hold_for_commission(commission.store_id, target - held, commission.currency,
                               reference=f"commission:{commission.pk}:hold:{seq}")
    except InsufficientFunds:
        return [("awaiting_funding", f"the store's deposit cannot cover {target - held} more; "
                                     "awaiting the store's funding")]
    commission.held, commission.ledger_seq = target, seq
    return [("held", f"held {target - held} of the store's deposit; held now {target}")]


def _record_funding(commission: Commission, steps: list[tuple[str, str]]) -> None:
    if not steps:
        return
    last = (CommissionStep.objects.filter(commission=commission, kind__in=FUNDING_STEPS)
            .order_by("-id").values_list("kind", flat=True).first())
    for kind, note in steps:
        if kind == "awaiting_funding" and last == "awaiting_funding":
            continue  # already said; the retry each job run adds nothing new
        CommissionStep.objects.create(commission=commission, kind=kind, amount_before=commission.amount,
                                      amount_after=commission.amount, status_after=commission.status, note=note)
        last = kind


def _pay(commission: Commission, now: datetime) -> bool:
    """Pay a confirmed, locked commission from what its store holds for it, once (reference
    ``commission:<id>``). Tops the hold up first; without the store's funds it waits. True once paid."""
    from tastemaker.payments.services import do_pay_commission

    if commission.paid_at is not None or commission.amount == 0:
        return commission.paid_at is not None
    steps = _settle_hold(commission)
    if commission.held < commission.amount:
        commission.save()
        _record_funding(commission, steps)
        return False
    reference = f"commission:{commission.pk}"
    do_pay_commission(store_id=commission.store_id, user_id=commission.creator_id, amount=commission.amount,
                      currency=commission.currency, reference=reference)
    commission.held, commission.paid_at, commission.payout_reference = 0, now, reference
    commission.updated_at = now
    commission.save()
    _record_funding(commission, [*steps, ("paid_out", "paid from the store's deposit to the creator's wallet")])
    return True


def do_confirm_due_commissions(now: datetime | None = None, limit: int = 1000) -> int:
    """Confirm pending commissions whose return window has closed and pay each from what its store holds
    for it into the creator's wallet, in the same transaction; retry confirmed ones still awaiting their
    store's funding. Idempotent: re-running confirms and pays nothing twice. Returns how many it confirmed."""
    now = now or timezone.now()
    done = 0
    ids = list(Commission.objects.filter(status=CommissionStatus.PENDING, confirm_after__lte=now)
               .order_by("id").values_list("id", flat=True)[:limit])
    for cid in ids:
        with transaction.atomic():
            commission = Commission.objects.select_for_update().filter(
                pk=cid, status=CommissionStatus.PENDING).first()
            if commission is None:
                continue
            commission.status = CommissionStatus.CONFIRMED
            commission.confirmed_at = now
            commission.updated_at = now
            commission.save()
            CommissionStep.objects.create(commission=commission, kind="confirmed", amount_before=commission.amount,
                                          amount_after=commission.amount, status_after=commission.status,
                                          note="return window closed")
            _pay(commission, now)
            done += 1
    _pay_waiting(Commission.objects.filter(status=CommissionStatus.CONFIRMED, paid_at__isnull=True, amount__gt=0),
                 now, limit)
    return done


def _pay_waiting(queryset, now: datetime, limit: int) -> int:
    """Fund (and, once confirmed, pay) commissions still awaiting their store's money, oldest first."""
    paid = 0
    for cid in list(queryset.order_by("id").values_list("id", flat=True)[:limit]):
        with transaction.atomic():
            commission = Commission.objects.select_for_update().filter(pk=cid).first()
            if commission is None or not commission.awaiting_funding:
                continue
            if commission.status == CommissionStatus.CONFIRMED:
                paid += _pay(commission, now)
            else:
                steps = _settle_hold(commission)
                commission.save()
                _record_funding(commission, steps)
    return paid


def do_fund_store_deposit(actor: User, store: PartnerStore, amount: int, currency: str | None = None, *,
                          reference: str | None = None):
    """Put money from the actor's wallet into the store's deposit, then fund (and pay, once confirmed) the
    store's commissions awaiting it, oldest first. A brand store is funded by its owner (or an operator);
    an operator-run store by an operator, from the operator's own wallet. ``InsufficientFunds`` (409) if
    the wallet lacks the amount."""
    from tastemaker.payments.services import do_fund_store

    _check_store_admin(actor, store)
    if actor.is_suspended:
        raise Forbidden(_("This account is suspended."))
    currency = check_currency(currency or settings.DEFAULT_CURRENCY)
    with transaction.atomic():
        tx = do_fund_store(actor, store.pk, amount, currency, reference=reference,
                           memo=f"deposit for {store.name}"[:200])
        fund_waiting_commissions(store, currency)
    return tx


def fund_waiting_commissions(store: PartnerStore, currency: str | None = None, now: datetime | None = None) -> int:
    """Hold (and pay, once confirmed) the store's commissions awaiting funding, as far as its deposit goes."""
    qs = Commission.objects.filter(store=store, status__in=[CommissionStatus.PENDING, CommissionStatus.CONFIRMED],
                                   paid_at__isnull=True, held__lt=F("amount"))
    if currency:
        qs = qs.filter(currency=currency)
    return _pay_waiting(qs, now or timezone.now(), 1000)


def do_withdraw_store_deposit(actor: User, store: PartnerStore, amount: int, currency: str | None = None, *,
                              reference: str | None = None):
    """Take back what is free in a store's deposit (not held for pending commissions): a brand store's to its
    owner's wallet (only the owner may), an operator-run store's to the acting operator's wallet.
    ``InsufficientFunds`` (409) if the free deposit lacks it."""
    from tastemaker.payments.services import do_withdraw_store_deposit as withdraw

    _check_store_admin(actor, store)
    if store.owner_id is not None and store.owner_id != actor.pk:
        raise Forbidden(_("Only the brand that runs this store can take money out of its deposit."))
    if store.owner_id is None and not actor.is_staff:
        raise Forbidden(_("Only operators can take money out of an operator-run store's deposit."))
    currency = check_currency(currency or settings.DEFAULT_CURRENCY)
    return withdraw(store.pk, actor, amount, currency, reference=reference, initiator=actor)
