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
    # standing is changed in the moderation console (/moderation), where every action is audited and its
    # effects (sessions, tokens, payouts, feeds) apply at once; here it is shown only
    readonly_fields = ("followers_count", "following_count", "statuses_count", "last_status_at", "date_joined",
                       "last_login", "is_suspended", "is_limited", "credit_score")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Profile"), {"fields": ("display_name", "email", "bio", "language", "interests", "avatar", "header",
                                   "locked", "bot")}),
        (_("Standing"), {"fields": ("is_active", "is_suspended", "is_limited", "credit_score", "is_staff",
                                    "is_superuser", "groups")}),
        (_("Counters"), {"fields": ("followers_count", "following_count", "statuses_count", "last_status_at",
                                    "date_joined", "last_login")}),
    )


admin.site.unregister(OAuthApplication)  # django-oauth-toolkit registers a default one


@admin.register(OAuthApplication)
class OAuthApplicationAdmin(admin.ModelAdmin):
    list_display = ("name", "client_id", "website", "scopes", "created")
    search_fields = ("name", "client_id")
    exclude = ("client_secret",)
