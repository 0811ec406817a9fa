"""The fan service in the admin, for operators: broadcasts (with their progress, and a cancel action for
scheduled ones), subscriptions, keyword rules, watches and what is waiting for a fan's daily cap."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Broadcast, BroadcastStatus, Deferred, KeywordRule, ServiceSettings, Subscription, Watch


@admin.register(Broadcast)
class BroadcastAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "status", "scheduled_at", "audience", "delivered", "deferred", "finished_at")
    list_filter = ("status",)
    search_fields = ("owner__username",)
    raw_id_fields = ("owner", "message")
    readonly_fields = ("next_fan_id", "delivered", "deferred", "send_day", "started_at", "finished_at")
    actions = ["cancel"]

    @admin.action(description=_("Cancel the selected scheduled broadcasts"))
    def cancel(self, request: Any, queryset: Any) -> None:
        n = queryset.filter(status=BroadcastStatus.SCHEDULED).update(status=BroadcastStatus.CANCELLED,
                                                                     cancelled_reason="cancelled by an operator")
        self.message_user(request, _("%(n)d broadcasts cancelled.") % {"n": n})


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "fan", "created_at")
    search_fields = ("owner__username", "fan__username")
    raw_id_fields = ("owner", "fan")


@admin.register(KeywordRule)
class KeywordRuleAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "keyword", "reply")
    search_fields = ("owner__username", "keyword")
    raw_id_fields = ("owner",)


@admin.register(ServiceSettings)
class ServiceSettingsAdmin(admin.ModelAdmin):
    list_display = ("owner", "welcome_on_follow")
    raw_id_fields = ("owner",)


@admin.register(Watch)
class WatchAdmin(admin.ModelAdmin):
    list_display = ("id", "fan", "product", "last_alert_day")
    raw_id_fields = ("fan", "product", "card_post")


@admin.register(Deferred)
class DeferredAdmin(admin.ModelAdmin):
    list_display = ("id", "broadcast", "fan", "due")
    raw_id_fields = ("broadcast", "fan")
