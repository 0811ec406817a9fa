"""Operator console for verticals, labels, appeals, applications and badges."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from . import services
from .models import AbilityLabel, ExpertApplication, ExpertBadge, LabelAppeal, Status, Vertical


@admin.register(Vertical)
class VerticalAdmin(admin.ModelAdmin):
    list_display = ("slug", "name_en", "name_zh", "position", "active")
    list_editable = ("name_en", "name_zh", "position", "active")
    search_fields = ("slug", "name_en", "name_zh")


@admin.register(AbilityLabel)
class AbilityLabelAdmin(admin.ModelAdmin):
    list_display = ("user", "vertical", "score", "share", "engagement", "consistency", "post_count", "suppressed",
                    "computed_at")
    list_filter = ("vertical", "suppressed")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)
    readonly_fields = ("score", "previous_score", "share", "engagement", "consistency", "post_count",
                       "sample_post_ids", "terms", "computed_at", "changed_at")
    ordering = ("-score",)


def _review(model_services_fn, accept: bool, label, name: str):
    def action(modeladmin, request, queryset):
        done = 0
        for obj in queryset.filter(status=Status.PENDING):
            model_services_fn(request.user, obj, accept)
            done += 1
        modeladmin.message_user(request, _("%(n)d reviewed.") % {"n": done}, messages.SUCCESS)

    action.short_description = label
    action.__name__ = name
    return action


def _appeal(operator, obj, accept):
    services.do_review_appeal(operator, obj, accept=accept)


def _application(operator, obj, accept):
    services.do_review_application(operator, obj, approve=accept)


@admin.register(LabelAppeal)
class LabelAppealAdmin(admin.ModelAdmin):
    list_display = ("user", "vertical", "kind", "status", "created_at", "reviewed_by")
    list_filter = ("status", "kind", "vertical")
    search_fields = ("user__username", "message")
    raw_id_fields = ("user", "label", "reviewed_by")
    readonly_fields = ("user", "vertical", "label", "kind", "message", "created_at", "reviewed_at", "reviewed_by")
    actions = [_review(_appeal, True, _("Accept: remove the label"), "accept_appeal"),
               _review(_appeal, False, _("Reject"), "reject_appeal")]


@admin.register(ExpertApplication)
class ExpertApplicationAdmin(admin.ModelAdmin):
    list_display = ("user", "vertical", "score", "followers", "status", "created_at", "reviewed_by")
    list_filter = ("status", "vertical")
    search_fields = ("user__username", "statement")
    readonly_fields = ("user", "vertical", "statement", "score", "followers", "created_at", "reviewed_at",
                       "reviewed_by")
    actions = [_review(_application, True, _("Approve: grant the expert badge"), "approve_application"),
               _review(_application, False, _("Reject"), "reject_application")]


@admin.register(ExpertBadge)
class ExpertBadgeAdmin(admin.ModelAdmin):
    list_display = ("user", "vertical", "granted_at")
    list_filter = ("vertical",)
    search_fields = ("user__username",)
    raw_id_fields = ("user", "application")
