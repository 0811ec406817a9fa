"""One message into one fan's service inbox (a welcome, an auto-reply, an alert): the write that services and
alerts share (broadcasts are delivered set-based by ``delivery``)."""

from __future__ import annotations

from django.db import transaction

from tastemaker.accounts.models import User
from tastemaker.social.models import Post

from .models import InboxItem, Message


def send_one(sender: User, recipient: User, kind: str, text: str, *, links: list[dict[str, str]] | None = None,
              card_post: Post | None = None) -> InboxItem:
    """One message into one fan's service inbox (welcome, auto-reply, alert)."""
    with transaction.atomic():
        message = Message.objects.create(sender=sender, kind=kind, text=text, links=links or [], card_post=card_post)
        return InboxItem.objects.create(recipient=recipient, message=message, sender=sender)
