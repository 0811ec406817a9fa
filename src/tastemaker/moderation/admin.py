from django.contrib import admin

from tastemaker.payments.admin import ReadOnlyAdmin

from .models import Action, Appeal, Case, Report


@admin.register(Action)
class ActionAdmin(ReadOnlyAdmin):
    """The audit log, read-only: actions are taken in the moderation console (/moderation)."""

    list_display = ("id", "created_at", "kind", "operator_name", "account_name", "target_kind", "target_id",
                    "credit_delta")
    list_filter = ("kind",)


# shown, never changed here: a decision made in the admin would skip the audit log
admin.site.register(Case, ReadOnlyAdmin)
admin.site.register(Report, ReadOnlyAdmin)
admin.site.register(Appeal, ReadOnlyAdmin)
