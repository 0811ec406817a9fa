"""What the Showcase resources share: authentication (users, and partner stores by API key), rate limits,
and rendering a store, its deposit and a commission."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from ninja.errors import HttpError
from ninja.security import HttpBearer

from tastemaker.core.errors import NotFound
from tastemaker.core.money import format_amount
from tastemaker.showcase import selectors
from tastemaker.showcase.models import PartnerStore
from tastemaker.showcase.stores import StoreSecrets, store_for_api_key

from .. import serializers as ser
from ..auth import BearerAuth, OptionalAuth
from ..common import id_or_404

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
        store = store_for_api_key(token)
        if store is None:
            raise HttpError(401, "The store API key is invalid")
        request.store = store
        return store


store_auth = StoreKeyAuth()


def store_json(store: PartnerStore, request) -> dict:
    iso = ser.iso
    return {
        "id": str(store.pk), "name": store.name, "status": store.status,
        "owner_id": str(store.owner_id) if store.owner_id else None, "domains": list(store.domains or []),
        "commission_bp": store.commission_bp, "attribution_days": store.attribution_days,
        "return_days": store.return_days, "api_key_prefix": store.api_key_prefix,
        "webhook_url": request.build_absolute_uri(reverse("api:showcase_webhook", args=[store.pk])),
        "secrets_rotated_at": iso(store.secrets_rotated_at), "created_at": iso(store.created_at),
        "decided_at": iso(store.decided_at), "decision_note": store.decision_note,
        "deposit": deposit_json(store),
    }


def deposit_json(store: PartnerStore) -> list[dict]:
    return [{"currency": f.currency, "available": f.available, "held": f.held, "awaiting_funding": f.awaiting,
             "awaiting_funding_count": f.awaiting_count, "paid": f.paid,
             "available_display": format_amount(f.available, f.currency),
             "held_display": format_amount(f.held, f.currency),
             "awaiting_funding_display": format_amount(f.awaiting, f.currency)}
            for f in selectors.store_funds(store)]


def with_secrets(store: PartnerStore, created: StoreSecrets, request) -> dict:
    return {**store_json(store, request), "api_key": created.api_key, "webhook_secret": created.webhook_secret}


def managed_store(request, store_id: str) -> PartnerStore:
    store = selectors.store_for(request.user, id_or_404(store_id))
    if store is None:
        raise NotFound("Record not found")
    return store


def commission_json(c) -> dict:
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
