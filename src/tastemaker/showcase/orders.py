"""Store webhooks (orders paid, refunded, cancelled), each order's state folded from its events, and the
commission it earns: attributed to the last valid click-out, recomputed on every event, held from the
store's deposit (``commissions``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tastemaker.core.errors import ValidationFailed
from tastemaker.core.money import MAX_MINOR, check_currency, rate_of

from .commissions import record_funding, settle_hold
from .models import (
    ClickOut,
    Commission,
    CommissionStatus,
    CommissionStep,
    Order,
    OrderEvent,
    OrderStatus,
    PartnerStore,
)

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
    funding = settle_hold(commission)  # the store's deposit holds what the commission now owes
    commission.save()
    kind = "attributed" if status_before is None else {
        "order.paid": "paid", "order.refunded": "refunded", "order.cancelled": "cancelled"}[event.type]
    CommissionStep.objects.create(commission=commission, kind=kind, amount_before=before,
                                  amount_after=commission.amount, status_after=commission.status, order_event=event,
                                  note=_step_note(event, order))
    record_funding(commission, funding)


def _step_note(event: OrderEvent, order: Order) -> str:
    if event.type == "order.paid":
        return f"order paid: {order.paid_amount} {order.currency} (minor units)"
    if event.type == "order.refunded":
        return f"refund {event.refund_id}: {event.amount}; refunded in total {order.refunded_amount} of {order.paid_amount}"
    return "order cancelled: commission voided"
