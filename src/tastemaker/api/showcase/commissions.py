"""A creator's Showcase earnings and commissions (``/api/v1/tastemaker/showcase/earnings``,
``.../commissions``), and a commission's trail; a store's commissions for its owner and operators."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from django.http import HttpResponse
from ninja import Query, Router

from tastemaker.core.errors import NotFound
from tastemaker.core.money import format_amount
from tastemaker.core.pagination import page_from
from tastemaker.showcase import selectors

from .. import serializers as ser
from ..auth import require_scope
from ..common import id_or_404, next_link
from ..errors import READ, responses
from ..schemas.showcase import CommissionDetailOut, CommissionOut, EarningsOut
from ._common import commission_json, managed_store, user_auth

router = Router()


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
        store = managed_store(request, store_id)
        rows = selectors.commissions(store_id=store.pk, status=status, max_id=page.max_id, limit=page.limit)
    else:
        rows = selectors.commissions(creator_id=request.user.pk, status=status, max_id=page.max_id,
                                     limit=page.limit)
    next_link(request, response, rows[-1].pk if rows else None, len(rows) == page.limit)
    return [commission_json(c) for c in rows]


@router.get("/v1/tastemaker/showcase/commissions/{commission_id}", auth=user_auth,
            response=responses({200: CommissionDetailOut}, READ),
            summary="A commission with its trail: the click, the order's events, the rule and rate, every change",
            description="Visible to its creator, the store's owner and operators.")
def commission(request, commission_id: str):
    require_scope(request, "read:accounts")
    c = selectors.commission_for(request.user, id_or_404(commission_id))
    if c is None:
        raise NotFound("Record not found")
    t = selectors.trail(c)
    iso = ser.iso
    click = t["click"]
    data = commission_json(c)
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
