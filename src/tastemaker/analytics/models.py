"""Events and their pre-aggregated counters (the way Zulip keeps its analytics counts).

* ``Event``: the append-only raw log. One row per reported or recorded event, valid or not; an
  invalid one carries its reason and never reaches the valid counters. A valid event of a
  de-duplicated metric carries ``dedup``: a 64-bit hash of (subject, metric, viewer, window slot),
  where the slot is its time // ``ANALYTICS_DEDUP_SECONDS``. The unique index on it turns a repeat
  within the window into a conflict, which the ingest stores as an invalid ``duplicate`` row.
  Invalid rows keep ``dedup`` NULL, and NULLs never conflict. (One integer index instead of a
  five-column one: measured 2× cheaper to maintain.)
* ``Stat``: counters per (subject, metric, granularity, bucket, dimension, value), maintained by one
  set-based upsert per batch in the same transaction as the raw insert, so a report sees an event
  as soon as its batch commits. ``dimension == ""`` is the total; ``dimension == "invalid"`` counts
  filtered traffic by reason (apart, never in the totals). ``viewers`` is a 63-bit sketch of the
  distinct viewers of the cell (each viewer sets one bit, chosen by a hash of its key; merged with
  ``|``): a cell whose sketch has fewer than ``ANALYTICS_MIN_VIEWERS`` bits set shows "<5". Bits set
  never exceed distinct viewers, so a shown cell always has at least that many (a cell with barely
  more may, rarely, show "<5": it errs on the side of privacy). OR is order-free, so a rebuild
  reproduces it exactly.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tastemaker.core.ids import new_id


class Metric(models.TextChoices):
    IMPRESSION = "impression", _("Impressions")
    READ = "read", _("Reads")
    LINK_CLICK = "link_click", _("Link clicks")
    CLICK_OUT = "click_out", _("Click-outs")
    LIKE = "like", _("Likes")
    REPOST = "repost", _("Reposts")
    REPLY = "reply", _("Replies")
    FOLLOW_GAINED = "follow_gained", _("Follows gained")
    FOLLOW_LOST = "follow_lost", _("Follows lost")
    CONVERSION = "conversion", _("Conversions")


class SubjectType(models.TextChoices):
    POST = "post", pgettext_lazy("analytics subject", "Post")
    ACCOUNT = "account", _("Account")
    PRODUCT = "product", _("Product")
    CAMPAIGN = "campaign", _("Campaign")


class Surface(models.TextChoices):
    HOME = "home", _("Home feed")
    PUBLIC = "public", _("Public timeline")
    PROFILE = "profile", _("Profile")
    SEARCH = "search", _("Search")
    TAG = "tag", _("Hashtag")
    THREAD = "thread", _("Post page")
    PROMOTED = "promoted", _("Promoted slot")
    NOTIFICATIONS = "notifications", _("Notifications")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class Device(models.TextChoices):
    MOBILE = "mobile", _("Mobile")
    TABLET = "tablet", _("Tablet")
    DESKTOP = "desktop", _("Desktop")
    APP = "app", _("App")
    UNKNOWN = "unknown", _("Unknown")


class InvalidReason(models.TextChoices):
    BOT = "bot", _("Bots and non-browser agents")
    PREFETCH = "prefetch", _("Prefetch or prerender")
    HEAD = "head", _("HEAD requests")
    SELF = "self", _("The author's own actions")
    DUPLICATE = "duplicate", _("Repeats within the window")


class Event(models.Model):
    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)  # time-ordered: its time
    subject_type = models.CharField(max_length=8, choices=SubjectType.choices)
    subject_id = models.BigIntegerField()
    owner_id = models.BigIntegerField(null=True, blank=True)  # the subject's owner (author / account)
    metric = models.CharField(max_length=16, choices=Metric.choices)
    viewer_key = models.CharField(max_length=40)  # "u<account id>" or "v<anonymous visitor id>"
    surface = models.CharField(max_length=16, default=Surface.UNKNOWN)
    follower = models.BooleanField(default=False)  # the viewer followed the owner at the time
    device = models.CharField(max_length=8, default=Device.UNKNOWN)
    language = models.CharField(max_length=10, default="unknown")
    region = models.CharField(max_length=16, default="unknown")
    valid = models.BooleanField(default=True)
    invalid_reason = models.CharField(max_length=10, blank=True, choices=InvalidReason.choices)
    dedup = models.BigIntegerField(null=True, blank=True, unique=True)  # NULL = not de-duplicated


class Pending(models.Model):
    """Stored events not yet added to the counters (the rollup's work queue; see services.do_rollup).

    A queue row per event, rather than a high-water mark on the event id, because ids are assigned
    before commit: on PostgreSQL a smaller id can commit after a larger one, and would be skipped.
    """

    event_id = models.BigIntegerField(primary_key=True)


class Stat(models.Model):
    id = models.BigAutoField(primary_key=True)
    subject_type = models.CharField(max_length=8, choices=SubjectType.choices)
    subject_id = models.BigIntegerField()
    owner_id = models.BigIntegerField(null=True, blank=True)
    granularity = models.CharField(max_length=1)  # m(inute) h(our) d(ay) t(otal, bucket 0)
    dimension = models.CharField(max_length=10, blank=True)  # "" total | surface | audience | device | ...
    value = models.CharField(max_length=16, blank=True)
    metric = models.CharField(max_length=16, choices=Metric.choices)
    bucket = models.BigIntegerField()  # bucket start, epoch seconds (UTC)
    count = models.BigIntegerField(default=0)
    viewers = models.BigIntegerField(default=0)  # 63-bit sketch of distinct viewers (breakdown cells)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "granularity", "dimension", "value", "metric", "bucket"],
                name="analytics_stat_cell"),
        ]
        indexes = [models.Index(fields=["owner_id", "subject_type", "granularity", "dimension", "metric"],
                                name="analytics_stat_owner")]


class AudienceProfile(models.Model):
    """Optional audience attributes of an account used in breakdowns (the User model stays as it is)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="audience_profile")
    region = models.CharField(_("region"), max_length=16, blank=True,
                              help_text=_("A region code such as CN-31 or US-CA; empty means unknown."))


class PruneMark(models.Model):
    """Raw events older than ``before_id`` were pruned: a rebuild would no longer see them."""

    id = models.SmallIntegerField(primary_key=True, default=1)
    before_id = models.BigIntegerField(default=0)
