"""The fan service API (``/api/v1/tastemaker/fanservice/...``, issue 14): subscriptions (subscribe, unsubscribe,
the signed one-click unsubscribe), an owner's subscribers as counts by segment, broadcasts (audience preview,
create / schedule, list, one with its report, cancel), subscriber growth, the fan's service inbox, auto-reply
settings and keyword rules, menu buttons, and product watches.

Reads need the ``read`` scope, writes ``write``; the one-click unsubscribe needs only its signed token. A
broadcast, an inbox message or a rule of someone else is a 404. Handlers are thin: fanservice.services and
fanservice.selectors do the work.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from ninja import Query, Router

from tastemaker.core.pagination import Page
from tastemaker.fanservice import selectors, services
from tastemaker.fanservice.models import Broadcast, InboxItem

from . import serializers as ser
from .auth import BearerAuth, require_scope
from .common import account_or_404, id_or_404, optional_id
from .errors import READ, WRITE, responses
from .schemas.fanservice import (
    AudienceOut,
    BroadcastIn,
    BroadcastOut,
    GrowthOut,
    InboxItemOut,
    RuleIn,
    RuleOut,
    SegmentIn,
    SettingsIn,
    SettingsOut,
    SubscribedOut,
    SubscribersOut,
    SubscriptionOut,
    UnsubscribeIn,
    WatchIn,
    WatchOut,
)

router = Router(tags=["Fan service"])
user_auth = BearerAuth()
BASE = "/v1/tastemaker/fanservice"
READ_SCOPED = tuple(sorted({*READ, 403}))
MOVE = (*WRITE, 409)


def _media_url(path: str) -> str | None:
    return f"{settings.MEDIA_URL}{path}" if path else None


def broadcast_json(b: Broadcast) -> dict[str, Any]:
    m = b.message
    return {"id": str(b.pk), "status": b.status, "text": m.text, "image_url": _media_url(m.image),
            "card_post_id": str(m.card_post_id) if m.card_post_id else None,
            "post_id": str(m.post_id) if m.post_id else None, "segment": b.segment,
            "scheduled_at": ser.iso(b.scheduled_at), "created_at": ser.iso(b.created_at),
            "finished_at": ser.iso(b.finished_at), "report": selectors.broadcast_report(b)}


def item_json(i: InboxItem) -> dict[str, Any]:
    m = i.message
    return {"id": str(i.pk), "kind": m.kind, "sender_id": str(i.sender_id), "sender_username": i.sender.username,
            "text": m.text, "image_url": _media_url(m.image),
            "card_post_id": str(m.card_post_id) if m.card_post_id else None,
            "post_id": str(m.post_id) if m.post_id else None, "buttons": m.links, "read": i.read,
            "created_at": ser.iso(i.created_at),
            "unsubscribe_token": (services.unsubscribe_token(i.recipient_id, i.sender_id, i.broadcast_id)
                                  if i.broadcast_id else None)}


def _segment(payload: SegmentIn | None) -> dict[str, Any]:
    return services.clean_segment(payload.model_dump(exclude_defaults=True) if payload is not None else {})


# --- subscriptions ---------------------------------------------------------------------------------------

@router.post(f"{BASE}/subscriptions/{{account_id}}", auth=user_auth, response=responses({200: SubscribedOut}, WRITE),
             summary="Subscribe to an account's service messages (separate from following)",
             description="403 across a block or for a suspended account; idempotent.")
def subscribe(request, account_id: str):
    require_scope(request, "write")
    owner = account_or_404(account_id)
    services.do_subscribe(request.user, owner)
    return {"account_id": str(owner.pk), "subscribed": True}


@router.delete(f"{BASE}/subscriptions/{{account_id}}", auth=user_auth,
               response=responses({200: SubscribedOut}, WRITE), summary="Unsubscribe (at once, scheduled broadcasts "
                                                                        "included)")
def unsubscribe(request, account_id: str):
    require_scope(request, "write")
    owner = account_or_404(account_id)
    services.do_unsubscribe(request.user, owner)
    return {"account_id": str(owner.pk), "subscribed": False}


@router.get(f"{BASE}/subscriptions", auth=user_auth, response=responses({200: list[SubscriptionOut]}, READ_SCOPED),
            summary="The accounts whose service messages you receive")
def list_subscriptions(request):
    require_scope(request, "read")
    return [{"account_id": str(s.owner_id), "username": s.owner.username, "subscribed_at": ser.iso(s.created_at)}
            for s in selectors.subscriptions_of(request.user)]


@router.post(f"{BASE}/unsubscribe", auth=None, response=responses({200: SubscribedOut}, (400, 404, 422)),
             summary="One-click unsubscribe with a message's signed token (no sign-in needed)",
             description="404 for a token that is not valid.")
def unsubscribe_by_token(request, payload: UnsubscribeIn):
    owner, _ended = services.do_unsubscribe_by_token(payload.token)
    return {"account_id": str(owner.pk), "subscribed": False}


@router.get(f"{BASE}/subscribers", auth=user_auth, response=responses({200: SubscribersOut}, READ_SCOPED),
            summary="Your subscribers as counts by segment (never a list of people)")
def subscribers(request):
    require_scope(request, "read")
    c = selectors.segment_counts(request.user)
    return {"total": c.total, "reachable": c.reachable, "active_30_days": c.active_30, "engaged_30_days": c.engaged_30,
            "clicked": c.clicked, "bought": c.bought,
            "languages": [{"key": k, "count": n} for k, n in c.languages],
            "regions": [{"key": k, "count": n} for k, n in c.regions],
            "verticals": [{"key": v.slug, "count": n} for v, n in c.verticals]}


@router.get(f"{BASE}/growth", auth=user_auth, response=responses({200: list[GrowthOut]}, READ_SCOPED),
            summary="Subscribers gained and lost per day")
def growth(request, days: int = Query(30, ge=1, le=365)):
    require_scope(request, "read")
    return selectors.growth(request.user, days)


# --- broadcasts ------------------------------------------------------------------------------------------

@router.post(f"{BASE}/audience", auth=user_auth, response=responses({200: AudienceOut}, READ_SCOPED),
             summary="How many subscribers a broadcast to this segment would reach now")
def audience(request, payload: SegmentIn):
    require_scope(request, "read")
    return {"audience": selectors.audience_size(request.user, _segment(payload))}


@router.post(f"{BASE}/broadcasts", auth=user_auth, response=responses({201: BroadcastOut}, WRITE),
             summary="Broadcast (群发) to your subscribers or a segment, now or scheduled",
             description="422 for bad input (the field is named), 403 for a suspended or blocked account, 429 "
                         "over the rate limit. At most FANSERVICE_SENDER_DAILY_CAP broadcasts start a day (more "
                         "wait for the next day); a fan over FANSERVICE_FAN_DAILY_CAP receives it a day later.")
def create_broadcast(request, payload: BroadcastIn):
    require_scope(request, "write")
    b = services.do_create_broadcast(
        request.user, text=payload.text, image_media_id=optional_id(payload.image_media_id, "image_media_id"),
        card_post_id=optional_id(payload.card_post_id, "card_post_id"), post_id=optional_id(payload.post_id, "post_id"),
        segment=payload.segment.model_dump(exclude_defaults=True) if payload.segment else None,
        scheduled_at=payload.scheduled_at)
    return 201, broadcast_json(b)


@router.get(f"{BASE}/broadcasts", auth=user_auth, response=responses({200: list[BroadcastOut]}, READ_SCOPED),
            summary="Your broadcasts, newest first (page with max_id), each with its report")
def list_broadcasts(request, max_id: str | None = None, limit: int = Query(20, ge=1, le=40)):
    require_scope(request, "read")
    rows = selectors.broadcasts_of(request.user, Page(max_id=optional_id(max_id, "max_id"), limit=limit))
    return [broadcast_json(b) for b in rows]


@router.get(f"{BASE}/broadcasts/{{broadcast_id}}", auth=user_auth, response=responses({200: BroadcastOut}, READ_SCOPED),
            summary="One of your broadcasts with its report (delivered, read, clicked, click-outs, orders, "
                    "unsubscribes)")
def get_broadcast(request, broadcast_id: str):
    require_scope(request, "read")
    return broadcast_json(selectors.broadcast_for(request.user, id_or_404(broadcast_id)))


@router.post(f"{BASE}/broadcasts/{{broadcast_id}}/cancel", auth=user_auth,
             response=responses({200: BroadcastOut}, MOVE), summary="Cancel a scheduled broadcast before it goes",
             description="409 once it is sending or sent.")
def cancel_broadcast(request, broadcast_id: str):
    require_scope(request, "write")
    b = selectors.broadcast_for(request.user, id_or_404(broadcast_id))
    return broadcast_json(services.do_cancel_broadcast(request.user, b))


# --- the fan's inbox -------------------------------------------------------------------------------------

@router.get(f"{BASE}/inbox", auth=user_auth, response=responses({200: list[InboxItemOut]}, READ_SCOPED),
            summary="Your service messages, newest first (page with max_id; sender_id, unread to filter)")
def inbox(request, max_id: str | None = None, limit: int = Query(20, ge=1, le=40), sender_id: str | None = None,
          unread: bool = False):
    require_scope(request, "read")
    page = Page(max_id=optional_id(max_id, "max_id"), limit=limit)
    return [item_json(i) for i in selectors.inbox(request.user, page, optional_id(sender_id, "sender_id"), unread)]


@router.post(f"{BASE}/inbox/{{item_id}}/read", auth=user_auth, response=responses({200: InboxItemOut}, WRITE),
             summary="Mark a service message read")
def mark_read(request, item_id: str):
    require_scope(request, "write")
    services.do_mark_read(request.user, id_or_404(item_id))
    return item_json(selectors.inbox_item(request.user, id_or_404(item_id)))


@router.post(f"{BASE}/menu/{{account_id}}/{{index}}", auth=user_auth, response=responses({200: dict}, WRITE),
             summary="Press a button of an account's menu: a reply arrives in your inbox, or a link to open")
def press_menu(request, account_id: str, index: int):
    require_scope(request, "write")
    item, link = services.do_press_menu(request.user, account_or_404(account_id), index)
    return {"item": item_json(item) if item is not None else None, "url": link or None}


# --- auto-replies ----------------------------------------------------------------------------------------

def settings_json(s) -> dict[str, Any]:
    return {"welcome_text": s.welcome_text, "welcome_on_follow": s.welcome_on_follow, "menu": s.menu}


@router.get(f"{BASE}/settings", auth=user_auth, response=responses({200: SettingsOut}, READ_SCOPED),
            summary="Your welcome message and custom menu")
def get_settings(request):
    require_scope(request, "read")
    return settings_json(selectors.service_settings(request.user))


@router.put(f"{BASE}/settings", auth=user_auth, response=responses({200: SettingsOut}, WRITE),
            summary="Set your welcome message (on subscribe, optionally on follow) and menu (up to 3 buttons)")
def put_settings(request, payload: SettingsIn):
    require_scope(request, "write")
    menu = [b.model_dump(exclude_none=True) for b in payload.menu] if payload.menu is not None else None
    s = services.do_save_settings(request.user, welcome_text=payload.welcome_text,
                                  welcome_on_follow=payload.welcome_on_follow, menu=menu)
    return settings_json(s)


def rule_json(r) -> dict[str, Any]:
    return {"id": str(r.pk), "keyword": r.keyword, "reply": r.reply, "text": r.text}


@router.get(f"{BASE}/rules", auth=user_auth, response=responses({200: list[RuleOut]}, READ_SCOPED),
            summary="Your keyword auto-reply rules")
def list_rules(request):
    require_scope(request, "read")
    return [rule_json(r) for r in selectors.rules_of(request.user)]


@router.post(f"{BASE}/rules", auth=user_auth, response=responses({201: RuleOut}, MOVE),
             summary="Add a keyword rule (e.g. 价格 → your Showcase prices)", description="409: that keyword has one.")
def add_rule(request, payload: RuleIn):
    require_scope(request, "write")
    return 201, rule_json(services.do_add_rule(request.user, payload.keyword, reply=payload.reply, text=payload.text))


@router.delete(f"{BASE}/rules/{{rule_id}}", auth=user_auth, response=responses({200: dict}, WRITE),
               summary="Delete a keyword rule")
def delete_rule(request, rule_id: str):
    require_scope(request, "write")
    services.do_delete_rule(request.user, id_or_404(rule_id))
    return {}


# --- watches ---------------------------------------------------------------------------------------------

def watch_json(w) -> dict[str, Any]:
    return {"product_id": str(w.product_id), "title": w.product.title,
            "card_post_id": str(w.card_post_id) if w.card_post_id else None,
            "last_alert_day": w.last_alert_day.isoformat() if w.last_alert_day else None}


@router.get(f"{BASE}/watches", auth=user_auth, response=responses({200: list[WatchOut]}, READ_SCOPED),
            summary="The products you watch for a price drop or a restock")
def list_watches(request):
    require_scope(request, "read")
    return [watch_json(w) for w in selectors.watches_of(request.user)]


@router.post(f"{BASE}/watches", auth=user_auth, response=responses({201: WatchOut}, WRITE),
             summary="Watch a Showcase card's product: an alert on a price drop or a restock, at most once a day")
def add_watch(request, payload: WatchIn):
    require_scope(request, "write")
    w = services.do_watch(request.user, id_or_404(payload.card_post_id))
    return 201, watch_json(w)


@router.delete(f"{BASE}/watches/{{product_id}}", auth=user_auth, response=responses({200: dict}, WRITE),
               summary="Stop watching a product")
def delete_watch(request, product_id: str):
    require_scope(request, "write")
    services.do_unwatch(request.user, id_or_404(product_id))
    return {}
