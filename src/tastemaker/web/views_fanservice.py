"""Fan service pages (issue 14, 粉丝服务平台).

Fans: ``/messages/service`` (the service inbox: read / unread, per sender, each card with its tracked links,
one-click unsubscribe, a report link), ``/messages/service/<id>/open`` and ``/go/<token>`` (the tracked post
link and click-out), ``/messages/service/unsubscribe/<token>`` (the signed link, works signed out),
``/subscriptions`` (whose messages you receive, the products you watch), ``/subscriptions/@<name>``
(subscribe / unsubscribe), its menu buttons, ``/watch/<post id>`` (a card's price alerts).

Creators: ``/fanservice`` (subscribers as counts by segment, growth, broadcasts), ``/fanservice/compose``
(with the audience preview, ``/fanservice/audience``, refreshed by htmx), a broadcast's report and cancel,
``/fanservice/replies`` (welcome, menu, keyword rules). Thin: fanservice.services and selectors do the work.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tastemaker.analytics.filters import device_class, request_reason
from tastemaker.core.errors import DomainError, NotFound, ValidationFailed
from tastemaker.core.ids import parse_id
from tastemaker.core.pagination import Page
from tastemaker.experts import selectors as experts
from tastemaker.fanservice import selectors, services
from tastemaker.fanservice.models import BroadcastStatus, RuleReply
from tastemaker.showcase.selectors import cards_for_posts, storefront
from tastemaker.social import services as social

from .forms import FieldErrors, show_error
from .helpers import account_or_404, domain_errors, post_or_404, query_max_id, safe_next, see_other

PAGE = 20
SEGMENT_FIELDS = ("verticals", "active_days", "engaged_days", "clicked", "bought", "languages", "regions")


def _segment_from(data) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    if data.getlist("verticals"):
        raw["verticals"] = data.getlist("verticals")
    for key in ("active_days", "engaged_days", "languages", "regions"):
        if (data.get(key) or "").strip():
            raw[key] = data.get(key).strip()
    for key in ("clicked", "bought"):
        if data.get(key):
            raw[key] = data.get(key)
    return services.clean_segment(raw)


# --- the fan's side ---------------------------------------------------------------------------------------

@login_required
@never_cache
@require_http_methods(["GET", "POST"])
@domain_errors
def inbox(request):
    sender_id = parse_id(request.GET.get("sender") or request.POST.get("sender") or "")
    if request.method == "POST":  # mark all (of one sender) read
        services.do_mark_all_read(request.user, sender_id)
        return see_other(request.get_full_path())
    unread = request.GET.get("unread") == "1"
    items = selectors.inbox(request.user, Page(max_id=query_max_id(request), limit=PAGE), sender_id, unread)
    cards = cards_for_posts({i.message.card_post_id for i in items if i.message.card_post_id})
    rows = [{"item": i, "card": cards.get(i.message.card_post_id) if i.message.card_post_id else None,
             "unsubscribe": services.unsubscribe_token(request.user.pk, i.sender_id, i.broadcast_id)
             if i.broadcast_id else ""} for i in items]
    senders = {s.owner_id: s.owner for s in selectors.subscriptions_of(request.user)}
    counts = selectors.unread_by_sender(request.user)
    return render(request, "web/fanservice/inbox.html", {
        "rows": rows, "sender_id": sender_id, "unread": unread, "unread_total": sum(counts.values()),
        "senders": [(a, counts.get(pk, 0)) for pk, a in senders.items()],
        "next_max_id": items[-1].pk if len(items) == PAGE else None})


@login_required
@require_POST
@domain_errors
def item_read(request, item_id: int):
    services.do_mark_read(request.user, item_id)
    return see_other(safe_next(request, reverse("web:fanservice_inbox")))


@login_required
@require_GET
@domain_errors
def item_open(request, item_id: int):
    return redirect(services.do_open_link(request.user, item_id))


@login_required
@require_GET
@domain_errors
def item_go(request, item_id: int, token: str):
    location = services.do_click_out(request.user, item_id, token, reason=request_reason(request),
                                     device=device_class(request.META.get("HTTP_USER_AGENT", "")),
                                     language=get_language() or "")
    response = redirect(location)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
@domain_errors
def unsubscribe(request, token: str):
    """The signed one-click link: GET asks (a link checker must not unsubscribe anyone), one POST does it —
    signed in or not (RFC 8058's one-click POST works on the same URL). No CSRF token: the signed token in
    the path is the authority, and a mail client's one-click POST carries no cookie."""
    fan, owner, _broadcast = services.read_unsubscribe_token(token)
    done = False
    if request.method == "POST":
        services.do_unsubscribe_by_token(token)
        done = True
    return render(request, "web/fanservice/unsubscribe.html", {"owner": owner, "done": done, "token": token})


@login_required
@never_cache
@require_GET
def subscriptions(request):
    return render(request, "web/fanservice/subscriptions.html", {
        "subscriptions": selectors.subscriptions_of(request.user), "watches": selectors.watches_of(request.user)})


@login_required
@require_POST
@domain_errors
def subscription(request, username: str):
    owner = account_or_404(username)
    if request.POST.get("action") == "unsubscribe":
        services.do_unsubscribe(request.user, owner)
        messages.success(request, _("You no longer receive messages from @%(name)s.") % {"name": owner.username})
    else:
        services.do_subscribe(request.user, owner)
        messages.success(request, _("You receive messages from @%(name)s in your service inbox.")
                         % {"name": owner.username})
    return see_other(safe_next(request, reverse("web:profile", args=[owner.username])))


@login_required
@require_POST
@domain_errors
def menu(request, username: str, index: int):
    owner = account_or_404(username)
    _item, link = services.do_press_menu(request.user, owner, index)
    if link:
        return redirect(link)
    return see_other(reverse("web:fanservice_inbox") + f"?sender={owner.pk}")


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
@domain_errors
def watch(request, post_id: int):
    post = post_or_404(request, post_id)
    card = cards_for_posts([post.pk]).get(post.pk)
    if card is None or card.product_id is None:
        raise NotFound(_("This card has no catalog product to watch."))
    if request.method == "POST":
        if request.POST.get("action") == "unwatch":
            services.do_unwatch(request.user, card.product_id)
            messages.success(request, _("You no longer get alerts for this product."))
        else:
            services.do_watch(request.user, post.pk)
            messages.success(request, _("You will get an alert when its price drops or it is back in stock."))
        return see_other(safe_next(request, reverse("web:fanservice_watch", args=[post.pk])))
    return render(request, "web/fanservice/watch.html", {
        "post": post, "card": card, "watching": selectors.is_watching(request.user, card.product_id)})


# --- the creator's side -----------------------------------------------------------------------------------

@login_required
@never_cache
@require_GET
def dashboard(request):
    broadcasts = selectors.broadcasts_of(request.user, Page(max_id=query_max_id(request), limit=PAGE))
    return render(request, "web/fanservice/dashboard.html", {
        "counts": selectors.segment_counts(request.user), "growth": selectors.growth(request.user, 14),
        "rows": [{"b": b, "report": selectors.broadcast_report(b)} for b in broadcasts],
        "next_max_id": broadcasts[-1].pk if len(broadcasts) == PAGE else None})


def _when(text: str, errors: FieldErrors) -> datetime | None:
    if not text:
        return None
    try:
        naive = datetime.fromisoformat(text)
    except ValueError:
        show_error(errors, _("Give a date and time, e.g. 2026-12-24T20:00."), at="scheduled_at")
        return None
    return timezone.make_aware(naive) if timezone.is_naive(naive) else naive


def _compose_context(request, values: dict, errors: FieldErrors) -> dict:
    return {"values": values, "errors": errors, "verticals": experts.verticals(),
            "cards": storefront(request.user.pk, limit=20, viewer=request.user),
            "count": selectors.audience_size(request.user, {})}


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def compose(request):
    errors: FieldErrors = {}
    values: dict[str, Any] = {"text": "", "card_post_id": request.GET.get("card") or "", "post_id": "",
                              "scheduled_at": "", "segment": {}}
    status = 200
    if request.method == "POST":
        values = {"text": (request.POST.get("text") or "")[:2000], "card_post_id": request.POST.get("card_post_id") or "",
                  "post_id": (request.POST.get("post_id") or "").strip(), "scheduled_at": request.POST.get("scheduled_at") or "",
                  "segment": {k: request.POST.getlist(k) if k == "verticals" else request.POST.get(k) or ""
                              for k in SEGMENT_FIELDS}}
        try:
            segment = _segment_from(request.POST)
            when = _when(values["scheduled_at"], errors)
            post_ref = values["post_id"].rstrip("/").rsplit("/", 1)[-1]
            if errors:
                raise ValidationFailed(errors["scheduled_at"][0], field="scheduled_at")
            upload = request.FILES.get("image")
            media_id = (social.do_upload_media(request.user, upload.read(settings.MEDIA_MAX_BYTES + 1)).pk
                        if upload else None)
            b = services.do_create_broadcast(
                request.user, text=values["text"], image_media_id=media_id, card_post_id=parse_id(values["card_post_id"]) if values["card_post_id"] else None,
                post_id=(parse_id(post_ref) or -1) if post_ref else None, segment=segment, scheduled_at=when)
        except DomainError as exc:
            if not errors:
                show_error(errors, exc, at="general")
            status = exc.status
        else:
            messages.success(request, _("Broadcast to %(n)d subscribers: it goes out in the background.")
                             % {"n": b.audience} if b.status == BroadcastStatus.SCHEDULED and b.scheduled_at <= timezone.now()
                             else _("Broadcast scheduled."))
            return see_other(reverse("web:fanservice_broadcast", args=[b.pk]))
    return render(request, "web/fanservice/compose.html", _compose_context(request, values, errors), status=status)


@login_required
@never_cache
@require_GET
def audience(request):
    """The audience preview (htmx fragment): how many subscribers the segment in the form reaches now."""
    try:
        n: int | None = selectors.audience_size(request.user, _segment_from(request.GET))
        error = ""
    except ValidationFailed as exc:
        n, error = None, exc.message
    return render(request, "web/fanservice/_audience.html", {"n": n, "error": error})


@login_required
@never_cache
@require_GET
@domain_errors
def broadcast(request, broadcast_id: int):
    b = selectors.broadcast_for(request.user, broadcast_id)
    return render(request, "web/fanservice/broadcast.html", {"b": b, "report": selectors.broadcast_report(b)})


@login_required
@require_POST
@domain_errors
def broadcast_cancel(request, broadcast_id: int):
    b = selectors.broadcast_for(request.user, broadcast_id)
    services.do_cancel_broadcast(request.user, b)
    messages.success(request, _("Broadcast cancelled."))
    return see_other(reverse("web:fanservice_broadcast", args=[b.pk]))


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def replies(request):
    errors: FieldErrors = {}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "rule":
                services.do_add_rule(request.user, request.POST.get("keyword") or "",
                                     reply=request.POST.get("reply") or RuleReply.TEXT, text=request.POST.get("text") or "")
                messages.success(request, _("Rule added."))
            else:
                menu = [{"label": request.POST.get(f"menu_label_{i}") or "",
                         "reply": request.POST.get(f"menu_reply_{i}") or "",
                         "url": request.POST.get(f"menu_url_{i}") or ""} for i in range(services.MENU_MAX)]
                services.do_save_settings(request.user, welcome_text=request.POST.get("welcome_text") or "",
                                          welcome_on_follow=bool(request.POST.get("welcome_on_follow")), menu=menu)
                messages.success(request, _("Saved."))
        except DomainError as exc:
            show_error(errors, exc, at="rule" if action == "rule" else "settings")
            status = exc.status
        else:
            return see_other(reverse("web:fanservice_replies"))
    s = selectors.service_settings(request.user)
    menu_rows = [s.menu[i] if i < len(s.menu) else {} for i in range(services.MENU_MAX)]
    return render(request, "web/fanservice/replies.html", {
        "settings": s, "menu_rows": menu_rows, "rules": selectors.rules_of(request.user), "errors": errors,
        "reply_choices": RuleReply.choices}, status=status)


@login_required
@require_POST
@domain_errors
def rule_delete(request, rule_id: int):
    services.do_delete_rule(request.user, rule_id)
    messages.success(request, _("Rule deleted."))
    return see_other(reverse("web:fanservice_replies"))
