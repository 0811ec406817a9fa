"""Price-drop and back-in-stock alerts: the fan-out of one offer change to the fans watching its product (a
job after the store's catalog update commits; ``hooks.product_changed`` enqueues it)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from tastemaker.accounts.standing import State, standing
from tastemaker.core.money import format_amount
from tastemaker.showcase.catalog import in_stock
from tastemaker.showcase.models import Offer, Product, StoreStatus
from tastemaker.social.models import Notification, NotificationType
from tastemaker.social.visibility import can_see

from .delivery import utc_today
from .models import MessageKind, Watch
from .sending import send_one


def alert_due(old_price: int | None, new_price: int | None, was_in_stock: bool, in_stock: bool) -> str:
    """Why a change is worth an alert: "restock", "price" (a drop of at least FANSERVICE_ALERT_DROP_PERCENT),
    or "" (none)."""
    if in_stock and not was_in_stock:
        return "restock"
    if (in_stock and old_price and new_price is not None
            and (old_price - new_price) * 100 >= old_price * settings.FANSERVICE_ALERT_DROP_PERCENT):
        return "price"
    return ""


def do_send_alerts(offer_id: int, old_price: int | None, was_in_stock: bool) -> int:
    """The fan-out of one offer change (a job after the catalog update commits): every fan watching the
    product who had no alert for it today gets a notification and an inbox message with the card's tracked
    link. The day's mark is taken by one conditional UPDATE per fan, so a re-run or a second change the
    same day alerts nobody twice. Returns how many fans were alerted."""
    offer = Offer.objects.select_related("product", "store").filter(pk=offer_id).first()
    if offer is None or offer.store.status != StoreStatus.APPROVED:
        return 0
    why = alert_due(old_price, offer.price, was_in_stock, in_stock(offer))
    if not why:
        return 0
    product: Product = offer.product
    today = utc_today()
    price = format_amount(offer.price, offer.currency) if offer.price is not None else ""
    if why == "restock":
        text = _("Back in stock: %(title)s") % {"title": product.title}
        if price:
            text += f" ({price})"
    else:
        text = _("Price drop: %(title)s, now %(price)s (was %(old)s)") % {
            "title": product.title, "price": price, "old": format_amount(old_price or 0, offer.currency)}
    alerted = 0
    watches = list(Watch.objects.filter(product=product).exclude(last_alert_day__gte=today)
                   .select_related("fan", "card_post__author").order_by("pk"))
    for watch in watches:
        with transaction.atomic():
            taken = Watch.objects.filter(pk=watch.pk).exclude(last_alert_day__gte=today).update(last_alert_day=today)
            if not taken or standing(watch.fan).state == State.SUSPENDED:
                continue
            card_post = watch.card_post if watch.card_post is not None and can_see(watch.fan, watch.card_post) else None
            sender = card_post.author if card_post is not None else watch.fan
            send_one(sender, watch.fan, MessageKind.ALERT, text, card_post=card_post)
            Notification.objects.create(recipient=watch.fan, actor=sender, type=NotificationType.PRICE_ALERT,
                                        post=card_post)
            alerted += 1
    return alerted
