from django.contrib import admin

from .models import AudienceProfile, Event, Stat


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """Read-only: the raw log is append-only."""

    list_display = ("id", "metric", "subject_type", "subject_id", "surface", "device", "valid", "invalid_reason")
    list_filter = ("metric", "subject_type", "valid", "invalid_reason", "surface", "device")
    search_fields = ("=subject_id", "=owner_id")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Stat)
class StatAdmin(admin.ModelAdmin):
    list_display = ("subject_type", "subject_id", "metric", "granularity", "bucket", "dimension", "value", "count",
                    "viewers")
    list_filter = ("granularity", "metric", "dimension", "subject_type")
    search_fields = ("=subject_id", "=owner_id")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AudienceProfile)
class AudienceProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "region")
    raw_id_fields = ("user",)
    search_fields = ("user__username",)
