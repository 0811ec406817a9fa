"""Consumers of lower apps' hook points (listed in ``settings.HOOKS``): suspensions stop broadcasts, a follow
may bring the welcome message, a store's price drop or restock alerts the fans watching the product, and
the media sweep keeps broadcast images.

``direct_message`` is the consumer for ``social.direct_message`` (issue 14's direct messages, built on
another branch): it is not listed in ``settings.HOOKS`` until that hook point exists."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from . import services
from .models import Message


def suspended(*, user: Any, **_: Any) -> None:
    """moderation.suspended: the account's scheduled broadcasts are cancelled (inside the transaction)."""
    services.do_cancel_for_suspension(user)


def followed(*, follower_id: int, target_id: int, **_: Any) -> None:
    """social.followed: the welcome message, if the account greets new followers (after commit)."""
    transaction.on_commit(lambda: services.do_welcome_on_follow(follower_id, target_id))


def product_changed(*, product: Any, offer: Any, old_price: int | None, was_in_stock: bool, **_: Any) -> None:
    """showcase.product_changed: alert the product's watchers in a job once the catalog update commits (no
    request waits for the fan-out)."""
    offer_id = offer.pk

    def enqueue() -> None:
        from .tasks import send_alerts_task

        send_alerts_task(offer_id, old_price, was_in_stock)

    transaction.on_commit(enqueue)


def files_in_use(*, paths: set[str]) -> set[str]:
    """social.files_in_use: broadcast images the media sweep must keep."""
    return set(Message.objects.filter(image__in=paths).values_list("image", flat=True))


def direct_message(*, post: Any, recipients: Any, **_: Any) -> None:
    """social.direct_message (wired at merge): a fan's direct message to an account answers with that
    account's keyword rules, into the fan's service inbox."""
    for recipient in recipients:
        services.do_auto_reply(recipient, post.author, post.text or "")
