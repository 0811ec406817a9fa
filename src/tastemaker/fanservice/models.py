"""The fan service platform (粉丝服务平台, issue 14): subscriptions to an account's service messages,
broadcasts (群发) to all subscribers or a segment, the fan's service inbox, auto-replies and price alerts.

* ``Subscription``: a fan's opt-in to an owner's service messages (separate from following). Unsubscribing
  deletes the row, so every later delivery (a scheduled broadcast, a deferred row) simply no longer finds it.
* ``Message``: what is said, stored once (a broadcast's text, image, card and post link; an auto-reply; an
  alert). ``InboxItem``: one row per recipient, unique per (message, recipient): a re-run delivery job
  inserts nothing twice (``INSERT … SELECT … ON CONFLICT DO NOTHING``).
* ``Broadcast``: a message to a segment, scheduled, sent by jobs in chunks of subscribers in fan-id order;
  ``next_fan_id`` is the resume point, moved in the same transaction as the chunk it follows.
* Caps: ``SenderDay`` counts the broadcasts an owner started per UTC day, claimed by one conditional upsert
  (``… ON CONFLICT DO UPDATE SET n = n + 1 WHERE n < cap``). A fan's broadcasts per UTC day across senders
  are numbered (``InboxItem.slot`` 1..cap, unique per fan and day): two deliveries racing for a fan's last
  slot collide on that index and one of them tries again. A fan over the cap gets a ``Deferred`` row,
  delivered by a periodic job on a later day.
* ``Watch``: a fan watching a Showcase product for a price drop or a restock; ``last_alert_day`` makes it
  at most one alert per product, fan and day.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tastemaker.core.ids import new_id

User = settings.AUTH_USER_MODEL


class Subscription(models.Model):
    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="service_subscribers", db_index=False)
    fan = models.ForeignKey(User, on_delete=models.CASCADE, related_name="service_subscriptions", db_index=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "fan"], name="fanservice_subscription_unique")]
        indexes = [models.Index(fields=["fan", "-id"], name="fanservice_subscription_fan")]


class MessageKind(models.TextChoices):
    BROADCAST = "broadcast", _("Broadcast")
    WELCOME = "welcome", _("Welcome message")
    AUTO_REPLY = "auto_reply", _("Auto-reply")
    ALERT = "alert", _("Price alert")


class Message(models.Model):
    """What an owner says, stored once however many inboxes it reaches."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    sender = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=MessageKind.choices)
    text = models.TextField(blank=True, default="")
    image = models.CharField(max_length=255, blank=True, default="")  # a stored file (an upload of the sender's)
    card_post = models.ForeignKey("social.Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    post = models.ForeignKey("social.Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    links = models.JSONField(default=list, blank=True)  # menu buttons / alert links: [{"label", "url"}]
    created_at = models.DateTimeField(default=timezone.now)


class InboxItem(models.Model):
    """A message in one fan's service inbox."""

    id = models.BigAutoField(primary_key=True)  # assigned by the database: rows are made by INSERT … SELECT
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", db_index=False)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="items", db_index=False)
    sender = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", db_index=False)
    broadcast_id = models.BigIntegerField(null=True, blank=True)
    read = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    # a broadcast takes one of the fan's FANSERVICE_FAN_DAILY_CAP slots of its UTC day (other messages: None)
    day = models.DateField(null=True, blank=True)
    slot = models.SmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "recipient"], name="fanservice_inbox_once"),
                       models.UniqueConstraint(fields=["day", "recipient", "slot"], name="fanservice_inbox_slot",
                                               condition=Q(slot__isnull=False))]
        indexes = [models.Index(fields=["recipient", "-id"], name="fanservice_inbox_recipient"),
                   models.Index(fields=["recipient", "sender", "-id"], name="fanservice_inbox_sender")]


class BroadcastStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


class Broadcast(models.Model):
    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="broadcasts")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="broadcast")
    segment = models.JSONField(default=dict, blank=True)  # segments.Segment as a dict; {} = every subscriber
    status = models.CharField(max_length=10, choices=BroadcastStatus.choices, default=BroadcastStatus.SCHEDULED)
    scheduled_at = models.DateTimeField(default=timezone.now)
    send_day = models.DateField(null=True, blank=True)  # the UTC day whose sender slot it took
    next_fan_id = models.BigIntegerField(default=0)  # resume point: fans with a smaller id are done
    audience = models.IntegerField(default=0)  # the preview's count when it was made
    delivered = models.IntegerField(default=0)
    deferred = models.IntegerField(default=0)  # over a fan's daily cap: waiting in Deferred
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancelled_reason = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["owner", "-id"], name="fanservice_broadcast_owner"),
                   models.Index(fields=["status", "scheduled_at"], name="fanservice_broadcast_due")]


class SenderDay(models.Model):
    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "day"], name="fanservice_senderday_unique")]


class Deferred(models.Model):
    """A broadcast a fan was over the daily cap for: delivered on ``due`` (or later) by a periodic job."""

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="+", db_index=False)
    fan = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", db_index=False)
    due = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["broadcast", "fan"], name="fanservice_deferred_once")]
        indexes = [models.Index(fields=["due", "fan"], name="fanservice_deferred_due")]


class ServiceSettings(models.Model):
    """An owner's auto-replies: the welcome message and the custom menu (keyword rules: ``KeywordRule``)."""

    owner = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="service_settings")
    welcome_text = models.TextField(blank=True, default="")
    welcome_on_follow = models.BooleanField(default=False)
    menu = models.JSONField(default=list, blank=True)  # up to 3: [{"label", "reply"} | {"label", "url"}]


class RuleReply(models.TextChoices):
    TEXT = "text", _("Reply with text")
    PRICES = "prices", _("Reply with my Showcase prices")


class KeywordRule(models.Model):
    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="keyword_rules")
    keyword = models.CharField(max_length=40)
    reply = models.CharField(max_length=10, choices=RuleReply.choices, default=RuleReply.TEXT)
    text = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "keyword"], name="fanservice_rule_unique")]


class MessageClick(models.Model):
    """A click-out made from a broadcast's card (its click id: orders attributed to it count for the broadcast)."""

    click_id = models.BigIntegerField(primary_key=True)
    broadcast_id = models.BigIntegerField(db_index=True)


class Watch(models.Model):
    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    fan = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", db_index=False)
    product = models.ForeignKey("showcase.Product", on_delete=models.CASCADE, related_name="+", db_index=False)
    card_post = models.ForeignKey("social.Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_alert_day = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["fan", "product"], name="fanservice_watch_unique")]
        indexes = [models.Index(fields=["product", "fan"], name="fanservice_watch_product")]
