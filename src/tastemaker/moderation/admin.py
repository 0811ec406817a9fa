from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from .models import Action, Appeal, Case, Report


@admin.register(Action)
class ActionAdmin(admin.ModelAdmin):
    """The audit log, read-only: actions are taken in the moderation console (/moderation)."""

    list_display = ("id", "created_at", "kind", "operator_name", "account_name", "target_kind", "target_id",
                    "credit_delta")
    list_filter = ("kind",)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ReadOnly(admin.ModelAdmin):
    """Shown, never changed here: a decision made in the admin would skip the audit log."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


admin.site.register(Case, ReadOnly)
admin.site.register(Report, ReadOnly)
admin.site.register(Appeal, ReadOnly)
