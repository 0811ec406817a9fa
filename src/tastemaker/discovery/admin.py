from django.contrib import admin

from .models import SuggestionDismissal, UserInterest


@admin.register(UserInterest)
class UserInterestAdmin(admin.ModelAdmin):
    list_display = ("user", "vertical", "picked", "learned_weight", "hidden", "updated_at")
    list_filter = ("vertical", "picked", "hidden")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)


@admin.register(SuggestionDismissal)
class SuggestionDismissalAdmin(admin.ModelAdmin):
    list_display = ("user", "target", "created_at")
    raw_id_fields = ("user", "target")
