"""``/api/v1/notifications``: yours, one of them, dismissing one or all."""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Query, Router

from tastemaker.core.errors import NotFound
from tastemaker.core.ids import parse_id
from tastemaker.social import selectors, services

from .. import schemas as S
from .. import serializers as ser
from ..auth import require_scope
from ..common import page, set_links, status, statuses
from ..errors import READ, responses
from ._auth import user_auth

router = Router()
# Mastodon's own notification types; ours (a price alert, issue 14) are listed only when a client asks for them
# by name in types[], so a stock client never meets a type it does not know
MASTODON_TYPES = ("follow", "follow_request", "favourite", "reblog", "mention")


@router.get("/v1/notifications", auth=user_auth, response=responses({200: list[S.Notification]}, READ),
            tags=["notifications"], summary="Your notifications")
def notifications(request, response: HttpResponse, types: list[str] = Query(None, alias="types[]"),
                  exclude_types: list[str] = Query(None, alias="exclude_types[]")):
    require_scope(request, "read:notifications")
    items = selectors.notifications(request.user, page(request), types or list(MASTODON_TYPES), exclude_types or None)
    posts = [p for p in (selectors.get_post(request.user, n.post_id) for n in items if n.post_id) if p]
    rendered = {int(s["id"]): s for s in statuses(request, posts)}
    set_links(request, response, items[0].pk if items else None, items[-1].pk if items else None)
    ctx = ser.Ctx(request)
    return [ser.notification(n, ctx, rendered) for n in items]


@router.post("/v1/notifications/clear", auth=user_auth, response=responses({200: dict}), tags=["notifications"],
             summary="Delete all your notifications")
def clear_notifications(request):
    require_scope(request, "write:notifications")
    services.do_clear_notifications(request.user)
    return {}


@router.get("/v1/notifications/{notification_id}", auth=user_auth,
            response=responses({200: S.Notification}, READ), tags=["notifications"], summary="A notification")
def get_notification(request, notification_id: str):
    require_scope(request, "read:notifications")
    n = selectors.notification_for(request.user, parse_id(notification_id))
    if n is None:
        raise NotFound("Record not found")
    post = selectors.get_post(request.user, n.post_id) if n.post_id else None
    rendered = {post.pk: status(request, post)} if post else {}
    return ser.notification(n, ser.Ctx(request), rendered)


@router.post("/v1/notifications/{notification_id}/dismiss", auth=user_auth, response=responses({200: dict}),
             tags=["notifications"], summary="Delete one notification")
def dismiss_notification(request, notification_id: str):
    require_scope(request, "write:notifications")
    services.do_dismiss_notification(request.user, parse_id(notification_id) or 0)
    return {}
