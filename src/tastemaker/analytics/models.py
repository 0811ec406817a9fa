"""Events and their pre-aggregated counters (the way Zulip keeps its analytics counts).

* ``Event``: the append-only raw log. One row per reported or recorded event, valid or not; an
  invalid one carries its reason and never reaches the valid counters. A valid event of a
  de-duplicated metric carries ``slot`` (its time // ``ANALYTICS_DEDUP_SECONDS``); the unique
  constraint over (subject, metric, viewer, slot) makes a repeat within the window a conflict,
  which the ingest turns into an invalid ``duplicate`` row. Invalid rows keep ``slot`` NULL, and
  NULLs never conflict, so they are all stored.
* ``Stat``: counters per (subject, metric, granularity, bucket, dimension, value), maintained by one
  set-based upsert per batch in the same transaction as the raw insert, so a report sees an event
  as soon as its batch commits. ``dimension == ""`` is the total; ``dimension == "invalid"`` counts
  filtered traffic by reason (apart, never in the totals). ``viewers`` is the number of distinct
  viewers of a breakdown cell, capped at the privacy threshold (``StatViewer`` holds just enough
  viewer keys to know it).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

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
    POST = "post", _("Post")
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
    slot = models.BigIntegerField(null=True, blank=True)  # dedup window slot; NULL = not de-duplicated

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subject_type", "subject_id", "metric", "viewer_key", "slot"],
                                    name="analytics_event_dedup"),
        ]


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
    viewers = models.PositiveSmallIntegerField(default=0)  # distinct viewers, capped at the threshold

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "granularity", "dimension", "value", "metric", "bucket"],
                name="analytics_stat_cell"),
        ]
        indexes = [models.Index(fields=["owner_id", "subject_type", "granularity", "dimension", "metric"],
                                name="analytics_stat_owner")]


class StatViewer(models.Model):
    """Up to a few distinct viewer keys per breakdown cell: enough to tell "fewer than 5"."""

    id = models.BigAutoField(primary_key=True)
    stat = models.ForeignKey(Stat, on_delete=models.CASCADE, db_constraint=False, related_name="+")
    viewer_key = models.CharField(max_length=40)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["stat", "viewer_key"], name="analytics_statviewer_unique")]


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
