"""Showcase pages: the product-card composer (with import from a product page), a creator's storefront,
product pages, the creator's earnings and each commission's trail (partner stores: ``views_stores``).

Thin, like the other page modules: shape checks here, the rules in ``showcase.services`` and the reads in
``showcase.selectors``. A refused form comes back with every value as it was typed and the message next to
the field the service named (``ValidationFailed.field``).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from tastemaker.core.errors import DomainError, NotFound, RateLimited, ValidationFailed
from tastemaker.core.fetch import FetchRefused
from tastemaker.core.ids import parse_id
from tastemaker.core.money import accepted_currencies, parse_amount, to_decimal_string
from tastemaker.experts import selectors as experts
from tastemaker.showcase import products, services
from tastemaker.showcase import selectors as showcase
from tastemaker.showcase.models import CommissionStatus, Disclosure
from tastemaker.showcase.notes import step_note
from tastemaker.social import selectors as social_selectors
from tastemaker.social import services as social
from tastemaker.trust.ratelimit import check_and_hit

from .charts import bar_chart
from .forms import FieldErrors, show_error
from .helpers import (
    account_or_404,
    domain_errors,
    id_or_404,
    query_max_id,
    viewer_of,
)

STOREFRONT_PAGE = 20
COMMISSIONS_PAGE = 20
RECENT_CARDS = 5

DISCLOSURE_HELP = {
    Disclosure.OWN: gettext_lazy("You make or sell it yourself, or it is your company's."),
    Disclosure.AFFILIATE: gettext_lazy("You earn a commission when someone buys through your link."),
    Disclosure.GIFTED: gettext_lazy("The brand or store gave it to you for free."),
    Disclosure.PAID: gettext_lazy("The brand paid you to post about it; the card shows “Ad”."),
}
RATE_SOURCES = {"product": gettext_lazy("this product's own rate"), "store": gettext_lazy("the store's default rate")}
STEP_KINDS = {
    "attributed": gettext_lazy("Attributed"), "paid": gettext_lazy("Payment reported"),
    "refunded": gettext_lazy("Refund"), "cancelled": gettext_lazy("Cancelled"),
    "confirmed": gettext_lazy("Confirmed"), "paid_out": gettext_lazy("Paid out"),
    "late_event": gettext_lazy("Arrived after the return window"), "recomputed": gettext_lazy("Recomputed"),
    "held": gettext_lazy("Held from the store's deposit"), "released": gettext_lazy("Released to the store's deposit"),
    "awaiting_funding": gettext_lazy("Awaiting store funding"),
    "payout_on_hold": gettext_lazy("Payout on hold while the creator's account is suspended"),
}
EVENT_TYPES = {"order.paid": gettext_lazy("Order paid"), "order.refunded": gettext_lazy("Order refunded"),
               "order.cancelled": gettext_lazy("Order cancelled")}


# --- the composer ---------------------------------------------------------------------------

COMPOSER_FIELDS = ("import_url", "title", "reason", "url", "price", "currency", "stock", "disclosure", "image_url",
                   "image_media_id", "text", "vertical")
# the field a service error names -> the composer field it is shown next to
COMPOSER_ERROR_FIELDS = {"title": "title", "reason": "reason", "url": "url", "disclosure": "disclosure",
                         "price": "price", "currency": "price", "stock": "stock", "vertical": "vertical",
                         "image": "image", "file": "image", "media_ids": "image", "status": "text",
                         "description": "image"}


def _composer_values(request) -> dict:
    source = request.POST if request.method == "POST" else {}
    values = {name: (source.get(name) or "") for name in COMPOSER_FIELDS}
    values["currency"] = values["currency"] or accepted_currencies()[0]
    images = request.POST.getlist("imported_images") if request.method == "POST" else []
    values["imported_images"] = [u for u in images if u.startswith(("https://", "http://")) and len(u) <= 2048][:9]
    return values


def _held_media(user, values: dict):
    """The image uploaded with an earlier try of this form (still the author's, still unused)."""
    media = social_selectors.unused_media(user, parse_id(values.get("image_media_id") or ""))
    values["image_media_id"] = str(media.pk) if media else ""
    return media


def _upload(request, values: dict, errors: dict) -> None:
    upload = request.FILES.get("image")
    if not upload:
        return
    try:
        check_and_hit("showcase_media", request.user.pk, "RATE_SHOWCASE_IMPORT")
        media = social.do_upload_media(request.user, upload.read(settings.MEDIA_MAX_BYTES + 1))
    except DomainError as exc:
        show_error(errors, exc.message, at="image")
    else:
        values["image_media_id"] = str(media.pk)


def _import(request, values: dict, errors: dict) -> bool:
    """Fill the form from the product page; True when it was read."""
    from tastemaker.showcase.importer import import_product

    url = values["import_url"].strip()
    if not url:
        show_error(errors, _("Paste the address of a product page."), at="import_url")
        return False
    try:
        check_and_hit("showcase_import", request.user.pk, "RATE_SHOWCASE_IMPORT")
        draft = import_product(url)
    except DomainError as exc:
        show_error(errors, exc, at="import_url")
        return False
    if draft.title:
        values["title"] = draft.title
    values["url"] = draft.url
    if draft.price is not None and draft.currency in accepted_currencies():
        values["price"], values["currency"] = to_decimal_string(draft.price, draft.currency), draft.currency
    elif draft.price is not None:
        show_error(errors, _("The page gives the price in %(found)s, which this server does not take; "
                             "enter it in %(accepted)s.")
                   % {"found": draft.currency or "?", "accepted": ", ".join(accepted_currencies())}, at="price")
    if draft.in_stock is False:
        values["stock"] = "0"
    elif draft.in_stock is True and values["stock"] == "0":
        values["stock"] = ""
    values["imported_images"] = draft.images
    values["image_url"] = draft.images[0] if draft.images else ""
    if not draft.images and not values["image_media_id"]:
        show_error(errors, _("The page has no product image: upload one."), at="image")
    # say now what publishing would refuse, while the user is still editing
    for check, field in ((lambda: services.check_title(values["title"]), "title"),
                         (lambda: services.find_store_for_url(values["url"]), "url")):
        try:
            check()
        except ValidationFailed as exc:
            show_error(errors, exc, at=field)
    return True


def _card_input(request, values: dict, errors: dict) -> services.CardInput | None:
    currency = values["currency"]
    price = stock = None
    if values["price"].strip():
        try:
            price = parse_amount(values["price"], currency, field=_("Price"))
        except ValidationFailed as exc:
            show_error(errors, exc, at="price")
    if values["stock"].strip():
        text = values["stock"].strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 10:
            show_error(errors, _("Stock is a whole number, 0 or more."), at="stock")
        else:
            stock = int(text)
    media_id = parse_id(values["image_media_id"]) if values["image_media_id"] else None
    # the service stops at the first refusal; say at once everything that is wrong
    checks = ((lambda: services.check_title(values["title"]), "title"),
              (lambda: services.check_reason(values["reason"]), "reason"),
              (lambda: services.find_store_for_url(values["url"].strip()), "url"))
    for check, field in checks:
        try:
            check()
        except ValidationFailed as exc:
            show_error(errors, exc, at=field)
    if values["disclosure"] not in Disclosure.values:
        show_error(errors, _("Choose a disclosure: own product, affiliate, gifted or paid partnership."),
                   at="disclosure")
    if not media_id and not values["image_url"] and "image" not in errors:
        show_error(errors, _("A product card needs an image."), at="image")
    if errors:
        return None
    return services.CardInput(
        title=values["title"], reason=values["reason"], url=values["url"].strip(), disclosure=values["disclosure"],
        image_media_id=media_id, image_url=None if media_id else (values["image_url"] or None), price=price,
        currency=currency, stock=stock, vertical=values["vertical"] or None)


def _publish(request, values: dict, errors: dict):
    card = _card_input(request, values, errors)
    if card is None:
        return None
    try:
        return services.do_create_showcase_post(request.user, text=values["text"], card=card)
    except FetchRefused as exc:  # fetching the imported image: shown at the image, not the purchase link
        show_error(errors, exc, at="image")
    except RateLimited as exc:
        show_error(errors, exc, at="general")
        errors["retry_after"] = [str(exc.retry_after)]
    except DomainError as exc:
        show_error(errors, exc, at="general", fields=COMPOSER_ERROR_FIELDS)
    return None


@login_required
@never_cache
@domain_errors
def compose_showcase(request):
    values = _composer_values(request)
    errors: FieldErrors = {}
    status = 200
    imported = False
    if request.method == "POST":
        _upload(request, values, errors)
        if request.POST.get("action") == "import":
            imported = _import(request, values, errors)
            if not imported:
                status = 422
        elif request.POST.get("action") == "drop_image":
            values["image_media_id"] = ""
            if not values["image_url"] and values["imported_images"]:
                values["image_url"] = values["imported_images"][0]
        else:
            post = None if errors else _publish(request, values, errors)
            if post is not None:
                messages.success(request, _("Your showcase post is published."))
                return redirect("web:post", post_id=post.pk)
            status = 429 if "retry_after" in errors else 422
    held = _held_media(request.user, values)
    response = render(request, "web/showcase/compose.html", {
        "values": values, "errors": errors, "held": held, "imported": imported,
        "disclosures": [(value, label, DISCLOSURE_HELP[value]) for value, label in Disclosure.choices],
        "currencies": accepted_currencies(), "verticals": experts.verticals(),
        "title_max": services.TITLE_MAX, "reason_max": services.REASON_MAX, "stores": showcase.linkable_stores(),
    }, status=status)
    if status == 429:
        response["Retry-After"] = errors["retry_after"][0]
    return response


# --- storefront and product pages -----------------------------------------------------------

@domain_errors
def storefront(request, username: str):
    account = account_or_404(username)
    vertical = request.GET.get("vertical") or ""
    if not re.fullmatch(r"[a-z0-9_-]{1,32}", vertical):
        vertical = ""
    max_id = query_max_id(request)
    viewer = viewer_of(request)
    # the API's storefront reads the same (social.visibility's rule: blocks either way, followers-only cards)
    cards = showcase.visible_storefront(viewer, account, vertical=vertical or None, max_id=max_id,
                                        limit=STOREFRONT_PAGE)
    next_max_id = cards[-1].post_id if len(cards) >= STOREFRONT_PAGE else None
    return render(request, "web/showcase/storefront.html", {
        "account": account, "cards": cards, "vertical": vertical,
        "verticals": showcase.storefront_verticals(account.pk, viewer), "next_max_id": next_max_id,
        "max_id": max_id,
    })


@domain_errors
def product_page(request, product_id: int):
    page = products.product_page(id_or_404(product_id, _("There is no such product.")), recent=RECENT_CARDS,
                                 viewer=viewer_of(request))
    if page is None:
        raise NotFound(_("There is no such product."))
    # Buy goes through the newest recommendation's tracked link at that store: the click is that creator's
    tokens: dict[int, str] = {}
    for card in page.recent_cards:
        for offer in card.offers:
            tokens.setdefault(offer.store_id, offer.token)
    return render(request, "web/showcase/product.html", {
        "product": page.product, "experts": page.recommended_by, "cards": page.recent_cards, "image": page.image,
        "offers": [{"store": o.store_name, "price": o.price, "currency": o.currency, "stale": o.stale,
                    "refreshed_at": o.refreshed_at, "sold_out": o.sold_out, "token": tokens.get(o.store_id)}
                   for o in page.offers],
    })


# --- earnings and commissions ---------------------------------------------------------------

@login_required
@domain_errors
def earnings(request):
    data = showcase.earnings(request.user.pk)
    max_id = query_max_id(request)
    rows = showcase.commissions(creator_id=request.user.pk, max_id=max_id, limit=COMMISSIONS_PAGE)
    days = data.daily["days"]
    return render(request, "web/showcase/earnings.html", {
        "e": data, "commissions": with_titles(rows), "max_id": max_id,
        "next_max_id": rows[-1].pk if len(rows) >= COMMISSIONS_PAGE else None,
        "clicks_chart": bar_chart(days, data.daily["click_outs"], "day", _("Click-outs per day")),
        "orders_chart": bar_chart(days, data.daily["orders"], "day", _("Attributed orders per day")),
    })


def _status_label(status: str) -> str:
    return str(CommissionStatus(status).label) if status in CommissionStatus.values else status


def with_titles(rows: list) -> list:
    """Commissions with the title of the card that earned each (one query for the page)."""
    titles = showcase.card_titles(c.post_id for c in rows)
    return [(c, titles.get(c.post_id, "")) for c in rows]


@login_required
@domain_errors
def commission_detail(request, commission_id: int):
    commission = showcase.commission_for(request.user, id_or_404(commission_id, _("There is no such commission.")))
    if commission is None:
        raise NotFound(_("There is no such commission."))
    t = showcase.trail(commission)
    card_title = showcase.card_titles([commission.post_id]).get(commission.post_id, "")
    return render(request, "web/showcase/commission.html", {
        "c": commission, "t": t, "card_title": card_title,
        "post_exists": social_selectors.post_exists(commission.post_id),
        "rate_source": RATE_SOURCES.get(t["rate_source"], t["rate_source"]),
        "events": [(e, EVENT_TYPES.get(e.type, e.type)) for e in t["events"]],
        "steps": [(s, STEP_KINDS.get(s.kind, s.kind), _status_label(s.status_after),
                   step_note(s.note, commission.currency)) for s in t["steps"]],
        "is_creator": commission.creator_id == request.user.pk,
    })
