"""Writes of the fan service platform (issue 14): subscribe / unsubscribe (with the signed one-click link),
broadcasts (create, schedule, cancel; delivery in ``delivery``), the inbox (read, open, click out), auto-replies
(welcome, keyword rules, menu: ``do_auto_reply``) and product watches with their alerts.

Report events go through the analytics pipeline with two subject types of this app: ``bcast`` (a broadcast:
read, link click, click-out, unsubscribes as ``follow_lost``) and ``fansub`` (an owner's subscriptions:
``follow_gained`` / ``follow_lost``, the subscriber growth series).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tastemaker.accounts.models import User
from tastemaker.accounts.standing import Feature, State, require, standing
from tastemaker.analytics.ingest import after_commit
from tastemaker.analytics.models import Metric
from tastemaker.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tastemaker.core.money import format_amount
from tastemaker.showcase.selectors import storefront
from tastemaker.social.models import Media, Post
from tastemaker.social.visibility import blocked_either_way, can_see
from tastemaker.trust.ratelimit import check_and_hit

from . import delivery
from .models import (
    Broadcast,
    BroadcastStatus,
    InboxItem,
    KeywordRule,
    Message,
    MessageClick,
    MessageKind,
    RuleReply,
    ServiceSettings,
    Subscription,
    Watch,
)
from .segments import clean_segment
from .sending import send_one

log = logging.getLogger(__name__)

BROADCAST = "bcast"  # analytics subject type: a broadcast
SUBSCRIPTIONS = "fansub"  # analytics subject type: an owner's subscriptions (growth)
TEXT_MAX = 2000
MENU_MAX = 3
RULES_MAX = 50
UNSUBSCRIBE_SALT = "tastemaker.fanservice.unsubscribe"


# --- subscriptions ------------------------------------------------------------------------------------

def _may_exchange(owner: User, fan: User) -> None:
    """Neither side suspended, no block either way: what every subscription and message needs."""
    if standing(owner).state == State.SUSPENDED:
        raise NotFound(_("Account not found."))
    require(fan, Feature.POST)
    if blocked_either_way(owner.pk, fan.pk):
        raise Forbidden(_("You cannot subscribe to an account you blocked or that blocked you."))


def do_subscribe(fan: User, owner: User) -> Subscription:
    """Opt in to ``owner``'s service messages (separate from following); idempotent. The owner's welcome
    message, if any, arrives in the fan's service inbox."""
    if owner.pk == fan.pk:
        raise ValidationFailed(_("You cannot subscribe to yourself."))
    _may_exchange(owner, fan)
    existing = Subscription.objects.filter(owner=owner, fan=fan).first()
    if existing is not None:
        return existing
    check_and_hit("fanservice", fan.pk, "RATE_FANSERVICE")
    try:
        with transaction.atomic():
            sub = Subscription.objects.create(owner=owner, fan=fan)
    except IntegrityError:  # a concurrent subscribe of the same pair won
        return Subscription.objects.get(owner=owner, fan=fan)
    after_commit(Metric.FOLLOW_GAINED, SUBSCRIPTIONS, owner.pk, fan.pk, owner.pk)
    welcome = ServiceSettings.objects.filter(owner=owner).values_list("welcome_text", flat=True).first()
    if welcome:
        send_one(owner, fan, MessageKind.WELCOME, welcome, links=_menu_links(owner))
    return sub


def do_unsubscribe(fan: User, owner: User, broadcast_id: int | None = None) -> bool:
    """Leave ``owner``'s service messages (at once: a broadcast already scheduled, or waiting for the fan's
    daily cap, no longer reaches this fan). ``broadcast_id``: the message whose link was used (its report
    counts the unsubscribe). True if a subscription ended."""
    deleted, _rows = Subscription.objects.filter(owner_id=owner.pk, fan_id=fan.pk).delete()
    if deleted:
        after_commit(Metric.FOLLOW_LOST, SUBSCRIPTIONS, owner.pk, fan.pk, owner.pk)
        if broadcast_id is not None and Broadcast.objects.filter(pk=broadcast_id, owner_id=owner.pk).exists():
            after_commit(Metric.FOLLOW_LOST, BROADCAST, broadcast_id, fan.pk, owner.pk)
    return bool(deleted)


def unsubscribe_token(fan_id: int, owner_id: int, broadcast_id: int | None = None) -> str:
    """The signed one-click unsubscribe token of a message (works signed out: it names the fan itself)."""
    return signing.dumps([fan_id, owner_id, broadcast_id or 0], salt=UNSUBSCRIBE_SALT, compress=True)


def read_unsubscribe_token(token: str) -> tuple[User, User, int | None]:
    try:
        fan_id, owner_id, broadcast_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise NotFound(_("This unsubscribe link is not valid.")) from None
    fan = User.objects.filter(pk=fan_id).first()
    owner = User.objects.filter(pk=owner_id).first()
    if fan is None or owner is None:
        raise NotFound(_("This unsubscribe link is not valid."))
    return fan, owner, (int(broadcast_id) or None)


def do_unsubscribe_by_token(token: str) -> tuple[User, bool]:
    """One-click unsubscribe from a message's signed link; returns the owner and whether it ended one."""
    fan, owner, broadcast_id = read_unsubscribe_token(token)
    return owner, do_unsubscribe(fan, owner, broadcast_id)


# --- broadcasts ---------------------------------------------------------------------------------------

def _shown_to_all(post: Post) -> bool:
    return can_see(None, post)


def do_create_broadcast(owner: User, *, text: str = "", image_media_id: int | None = None,
                        card_post_id: int | None = None, post_id: int | None = None, segment: Any = None,
                        scheduled_at: datetime | None = None) -> Broadcast:
    """A broadcast (群发) of text, an image, a Showcase card and/or a post link to the owner's subscribers
    in ``segment``, now or at ``scheduled_at``. Delivery runs in jobs (``tasks.send_broadcast_task``)."""
    require(owner, Feature.POST)
    text = (text or "").strip()
    if len(text) > TEXT_MAX:
        raise ValidationFailed(_("A message has at most %(n)d characters.") % {"n": TEXT_MAX}, field="text")
    image = ""
    if image_media_id is not None:
        media = Media.objects.filter(pk=image_media_id, owner=owner).first()
        if media is None:
            raise ValidationFailed(_("Upload the image first (your own upload)."), field="image_media_id")
        image = media.file
    card_post = post = None
    if card_post_id is not None:
        card_post = Post.objects.filter(pk=card_post_id, author=owner, card__isnull=False).first()
        if card_post is None or not _shown_to_all(card_post):
            raise ValidationFailed(_("Choose one of your public Showcase posts."), field="card_post_id")
    if post_id is not None:
        post = Post.objects.filter(pk=post_id).first()
        if post is None or not _shown_to_all(post):
            raise ValidationFailed(_("Link a post everyone can see."), field="post_id")
    if not (text or image or card_post or post):
        raise ValidationFailed(_("Write something, or add an image, a Showcase card or a post."), field="text")
    cleaned = clean_segment(segment)
    now = timezone.now()
    when = now if scheduled_at is None or scheduled_at <= now else scheduled_at
    if when > now + timedelta(days=30):
        raise ValidationFailed(_("Schedule at most 30 days ahead."), field="scheduled_at")
    check_and_hit("fanservice", owner.pk, "RATE_FANSERVICE")
    from .selectors import audience_size

    with transaction.atomic():
        message = Message.objects.create(sender=owner, kind=MessageKind.BROADCAST, text=text, image=image,
                                         card_post=card_post, post=post)
        b = Broadcast.objects.create(owner=owner, message=message, segment=cleaned, scheduled_at=when,
                                     audience=audience_size(owner, cleaned))
        if when <= now:
            _enqueue_after_commit(b.pk)
    return b


def _enqueue_after_commit(broadcast_id: int) -> None:
    def enqueue() -> None:
        from .tasks import send_broadcast_task

        send_broadcast_task(broadcast_id)

    transaction.on_commit(enqueue)


def do_cancel_broadcast(owner: User, broadcast: Broadcast) -> Broadcast:
    """Cancel a scheduled broadcast before it goes (one already sending or sent cannot be)."""
    with transaction.atomic():
        b = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
        if b.owner_id != owner.pk:
            raise NotFound(_("Broadcast not found."))
        if b.status != BroadcastStatus.SCHEDULED:
            raise Conflict(_("Only a scheduled broadcast can be cancelled; this one is %(status)s.")
                           % {"status": b.get_status_display()})
        b.status, b.cancelled_reason = BroadcastStatus.CANCELLED, "cancelled by owner"
        b.save(update_fields=["status", "cancelled_reason"])
    return b


def do_send_due() -> int:
    """The periodic sweep (``tasks``): due broadcasts, unfinished ones, deferred deliveries."""
    return delivery.run_due()


def do_cancel_for_suspension(user: User) -> int:
    """moderation.suspended: the account's scheduled broadcasts are cancelled (sending ones stop at their
    next chunk, deferred rows are dropped by the sweep)."""
    return Broadcast.objects.filter(owner=user, status=BroadcastStatus.SCHEDULED).update(
        status=BroadcastStatus.CANCELLED, cancelled_reason="owner suspended")


# --- the inbox ----------------------------------------------------------------------------------------

def _item_for(fan: User, item_id: int) -> InboxItem:
    item = InboxItem.objects.select_related("message").filter(pk=item_id, recipient=fan).first()
    if item is None:
        raise NotFound(_("Message not found."))
    return item


def do_mark_read(fan: User, item_id: int) -> InboxItem:
    """Mark one message read (its broadcast's report counts the read once)."""
    item = _item_for(fan, item_id)
    if not item.read:
        InboxItem.objects.filter(pk=item.pk).update(read=True)
        item.read = True
        if item.broadcast_id:
            after_commit(Metric.READ, BROADCAST, item.broadcast_id, fan.pk, item.sender_id)
    return item


def do_mark_all_read(fan: User, sender_id: int | None = None) -> int:
    qs = InboxItem.objects.filter(recipient=fan, read=False)
    if sender_id is not None:
        qs = qs.filter(sender_id=sender_id)
    ids = list(qs.values_list("broadcast_id", flat=True)[:500])
    n = qs.update(read=True)
    for broadcast_id in {b for b in ids if b}:
        sender = Broadcast.objects.filter(pk=broadcast_id).values_list("owner_id", flat=True).first()
        if sender is not None:
            after_commit(Metric.READ, BROADCAST, broadcast_id, fan.pk, sender)
    return n


def do_open_link(fan: User, item_id: int) -> str:
    """The fan opens a message's post link (counted as a link click of its broadcast); returns the path."""
    item = _item_for(fan, item_id)
    target = item.message.post_id or item.message.card_post_id
    if target is None:
        raise NotFound(_("This message links nowhere."))
    do_mark_read(fan, item_id)
    if item.broadcast_id:
        after_commit(Metric.LINK_CLICK, BROADCAST, item.broadcast_id, fan.pk, item.sender_id)
    return f"/posts/{target}"


def do_click_out(fan: User, item_id: int, token: str, *, device: str, language: str, reason: str = "") -> str:
    """A purchase link clicked in a message's card: the Showcase click-out (events pipeline, attribution) plus
    the broadcast's click-out (its report; orders attributed to the click count for it). Returns the
    store URL with the click id (``showcase``'s stored, validated link: nothing from the request)."""
    from tastemaker.showcase.services import do_click_out as showcase_click_out
    from tastemaker.showcase.services import link_target

    item = _item_for(fan, item_id)
    target = link_target(token)
    if target is None or item.message.card_post_id != target.post_id:
        raise NotFound(_("This purchase link does not exist (any more)."))
    click = showcase_click_out(target, viewer_id=fan.pk, visitor="", reason=reason, device=device,
                               language=language)
    if item.broadcast_id:
        MessageClick.objects.get_or_create(click_id=click.id, defaults={"broadcast_id": item.broadcast_id})
        if not reason:
            after_commit(Metric.CLICK_OUT, BROADCAST, item.broadcast_id, fan.pk, item.sender_id)
    if not item.read:
        do_mark_read(fan, item_id)
    return target.location(click.id)


# --- auto-replies -------------------------------------------------------------------------------------

def _menu_links(owner: User) -> list[dict[str, str]]:
    menu = ServiceSettings.objects.filter(owner=owner).values_list("menu", flat=True).first() or []
    return [{"label": b["label"], "index": str(i)} for i, b in enumerate(menu)]


def _clean_menu(menu: Any) -> list[dict[str, str]]:
    if menu in (None, ""):
        return []
    if not isinstance(menu, list) or len(menu) > MENU_MAX:
        raise ValidationFailed(_("A menu has at most %(n)d buttons.") % {"n": MENU_MAX}, field="menu")
    out = []
    for i, button in enumerate(menu):
        if not isinstance(button, dict):
            raise ValidationFailed(_("Menu button %(i)d: give a label and a reply or a link.") % {"i": i + 1},
                                   field="menu")
        label = str(button.get("label") or "").strip()
        reply = str(button.get("reply") or "").strip()
        url = str(button.get("url") or "").strip()
        if not label and not reply and not url:
            continue
        if not label or len(label) > 16 or bool(reply) == bool(url):
            raise ValidationFailed(_("Menu button %(i)d: a label of at most 16 characters and either a reply "
                                     "or a link.") % {"i": i + 1}, field="menu")
        if url and not (url.startswith("https://") or (url.startswith("/") and not url.startswith("//"))):
            raise ValidationFailed(_("Menu button %(i)d: a link starts with https:// or /.") % {"i": i + 1},
                                   field="menu")
        if len(reply) > TEXT_MAX or len(url) > 2048:
            raise ValidationFailed(_("Menu button %(i)d is too long.") % {"i": i + 1}, field="menu")
        out.append({"label": label, "reply": reply} if reply else {"label": label, "url": url})
    return out


def do_save_settings(owner: User, *, welcome_text: str | None = None, welcome_on_follow: bool | None = None,
                     menu: Any = None) -> ServiceSettings:
    """The welcome message (on subscribe, and on follow if ``welcome_on_follow``) and the custom menu."""
    require(owner, Feature.POST)
    obj, _created = ServiceSettings.objects.get_or_create(owner=owner)
    if welcome_text is not None:
        welcome_text = welcome_text.strip()
        if len(welcome_text) > TEXT_MAX:
            raise ValidationFailed(_("A message has at most %(n)d characters.") % {"n": TEXT_MAX},
                                   field="welcome_text")
        obj.welcome_text = welcome_text
    if welcome_on_follow is not None:
        obj.welcome_on_follow = bool(welcome_on_follow)
    if menu is not None:
        obj.menu = _clean_menu(menu)
    obj.save()
    return obj


def do_add_rule(owner: User, keyword: str, *, reply: str = RuleReply.TEXT, text: str = "") -> KeywordRule:
    require(owner, Feature.POST)
    keyword = (keyword or "").strip()
    text = (text or "").strip()
    if not keyword or len(keyword) > 40:
        raise ValidationFailed(_("A keyword has 1 to 40 characters."), field="keyword")
    if reply not in RuleReply.values:
        raise ValidationFailed(_("A rule replies with text or with your Showcase prices."), field="reply")
    if reply == RuleReply.TEXT and not text:
        raise ValidationFailed(_("Write the reply."), field="text")
    if len(text) > TEXT_MAX:
        raise ValidationFailed(_("A message has at most %(n)d characters.") % {"n": TEXT_MAX}, field="text")
    if KeywordRule.objects.filter(owner=owner).count() >= RULES_MAX:
        raise ValidationFailed(_("At most %(n)d keyword rules.") % {"n": RULES_MAX}, field="keyword")
    try:
        with transaction.atomic():
            return KeywordRule.objects.create(owner=owner, keyword=keyword, reply=reply, text=text)
    except IntegrityError:
        raise Conflict(_("You already have a rule for this keyword.")) from None


def do_delete_rule(owner: User, rule_id: int) -> None:
    deleted, _rows = KeywordRule.objects.filter(pk=rule_id, owner=owner).delete()
    if not deleted:
        raise NotFound(_("Rule not found."))


def price_list(owner: User, limit: int = 10) -> str:
    """The current prices of the owner's Showcase products as everyone sees them (the storefront: cards
    anyone may see, each store's current offer, stale or sold-out ones left out), one line per card with its
    lowest price, money formatted for display."""
    lines = []
    for card in storefront(owner.pk, limit=limit, viewer=None):
        offers = [o for o in card.offers if o.price is not None and not o.sold_out and not o.stale]
        if offers:
            best = min(offers, key=lambda o: o.price or 0)
            lines.append(f"{card.title}: {format_amount(best.price or 0, best.currency)}")
    return "\n".join(lines)


def match_rule(owner: User, text: str) -> KeywordRule | None:
    """The owner's rule whose keyword the text contains (case-insensitive; the longest keyword wins)."""
    folded = (text or "").casefold()
    rules = sorted(KeywordRule.objects.filter(owner=owner), key=lambda r: (-len(r.keyword), r.pk))
    return next((r for r in rules if r.keyword.casefold() in folded), None)


def do_auto_reply(owner: User, fan: User, text: str) -> InboxItem | None:
    """A fan wrote ``text`` to ``owner``: the first keyword rule it matches (or a menu button's label)
    answers into the fan's service inbox. None when nothing matches (or they may not exchange messages)."""
    if owner.pk == fan.pk or standing(owner).state == State.SUSPENDED or blocked_either_way(owner.pk, fan.pk):
        return None
    stripped = (text or "").strip()
    menu = ServiceSettings.objects.filter(owner=owner).values_list("menu", flat=True).first() or []
    for button in menu:
        if button.get("reply") and button["label"].casefold() == stripped.casefold():
            return send_one(owner, fan, MessageKind.AUTO_REPLY, button["reply"])
    rule = match_rule(owner, stripped)
    if rule is None:
        return None
    if rule.reply == RuleReply.PRICES:
        prices = price_list(owner)
        body = "\n".join(part for part in (rule.text, prices or _("No prices to show yet.")) if part)
    else:
        body = rule.text
    return send_one(owner, fan, MessageKind.AUTO_REPLY, body)


def do_press_menu(fan: User, owner: User, index: int) -> tuple[InboxItem | None, str]:
    """A fan pressed button ``index`` of the owner's menu: a reply into the inbox, or the link to open."""
    menu = ServiceSettings.objects.filter(owner=owner).values_list("menu", flat=True).first() or []
    if not 0 <= index < len(menu):
        raise NotFound(_("Menu button not found."))
    button = menu[index]
    if button.get("url"):
        return None, str(button["url"])
    if blocked_either_way(owner.pk, fan.pk) or standing(owner).state == State.SUSPENDED:
        raise NotFound(_("Menu button not found."))
    return send_one(owner, fan, MessageKind.AUTO_REPLY, button["reply"]), ""


def do_welcome_on_follow(follower_id: int, target_id: int) -> None:
    """social.followed: the target's welcome message, if it greets new followers too (after commit)."""
    s = ServiceSettings.objects.filter(owner_id=target_id, welcome_on_follow=True).exclude(welcome_text="").first()
    if s is None:
        return
    owner, fan = User.objects.filter(pk=target_id).first(), User.objects.filter(pk=follower_id).first()
    if owner is None or fan is None or standing(owner).state == State.SUSPENDED:
        return
    send_one(owner, fan, MessageKind.WELCOME, s.welcome_text, links=_menu_links(owner))


# --- watches and alerts -------------------------------------------------------------------------------

def do_watch(fan: User, card_post_id: int) -> Watch:
    """Watch the product of a Showcase card for a price drop or a restock (at most one alert a day)."""
    require(fan, Feature.POST)
    post = Post.objects.filter(pk=card_post_id, card__isnull=False).select_related("card").first()
    if post is None or not can_see(fan, post) or post.card.product_id is None:
        raise NotFound(_("This card has no catalog product to watch."))
    check_and_hit("fanservice", fan.pk, "RATE_FANSERVICE")
    watch, _created = Watch.objects.get_or_create(fan=fan, product_id=post.card.product_id,
                                                  defaults={"card_post": post})
    return watch


def do_unwatch(fan: User, product_id: int) -> bool:
    deleted, _rows = Watch.objects.filter(fan=fan, product_id=product_id).delete()
    return bool(deleted)
