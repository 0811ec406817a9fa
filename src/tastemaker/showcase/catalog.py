"""A partner store's catalog: its offers, upserted in batches by the store's own ids (all or nothing)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tastemaker.core.errors import Forbidden, ValidationFailed
from tastemaker.core.money import MAX_MINOR, check_currency

from . import hooks, links
from .models import Offer, PartnerStore, Product

CATALOG_BATCH_MAX = 500


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


def in_stock(offer: Offer) -> bool:
    """Whether an offer can be bought: active, and in stock (a store that does not say counts as in stock)."""
    return bool(offer.active) and (offer.stock is None or offer.stock > 0)


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
            before = None if offer._state.adding else (offer.price, in_stock(offer))
            for key in ("price", "stock", "commission_bp", "currency", "active"):
                if key in item:
                    setattr(offer, key, item[key])
            offer.refreshed_at = now
            offer.save()
            if before is not None:
                old_price, was_in_stock = before
                dropped = old_price is not None and offer.price is not None and offer.price < old_price
                if dropped or (not was_in_stock and in_stock(offer)):
                    hooks.product_changed(product=offer.product, offer=offer, old_price=old_price,
                                          was_in_stock=was_in_stock)
    return {"created": created, "updated": updated}
