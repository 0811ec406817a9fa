from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import OAuthApplication, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "email", "followers_count", "statuses_count", "is_suspended",
                    "is_staff", "date_joined")
    list_filter = ("is_suspended", "is_staff", "is_active", "language")
    search_fields = ("username", "display_name", "email")
    ordering = ("-date_joined",)
    readonly_fields = ("followers_count", "following_count", "statuses_count", "last_status_at", "date_joined",
                       "last_login")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Profile"), {"fields": ("display_name", "email", "bio", "language", "interests", "avatar", "header",
                                   "locked", "bot")}),
        (_("Standing"), {"fields": ("is_active", "is_suspended", "is_staff", "is_superuser", "groups")}),
        (_("Counters"), {"fields": ("followers_count", "following_count", "statuses_count", "last_status_at",
                                    "date_joined", "last_login")}),
    )
    actions = ["suspend", "unsuspend"]

    @admin.action(description=_("Suspend the selected accounts"))
    def suspend(self, request, queryset):
        queryset.update(is_suspended=True)

    @admin.action(description=_("Lift the suspension of the selected accounts"))
    def unsuspend(self, request, queryset):
        queryset.update(is_suspended=False)


admin.site.unregister(OAuthApplication)  # django-oauth-toolkit registers a default one


@admin.register(OAuthApplication)
class OAuthApplicationAdmin(admin.ModelAdmin):
    list_display = ("name", "client_id", "website", "scopes", "created")
    search_fields = ("name", "client_id")
    exclude = ("client_secret",)
