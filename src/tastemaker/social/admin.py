from django.contrib import admin

from .models import Hashtag, Notification, Post
from .services import do_delete_post


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("id", "author", "short_text", "visibility", "created_at", "favourites_count", "reblogs_count",
                    "replies_count")
    list_filter = ("visibility", "language")
    search_fields = ("text", "author__username")
    raw_id_fields = ("author", "in_reply_to", "reblog_of")
    readonly_fields = ("search_text", "replies_count", "reblogs_count", "favourites_count")
    list_select_related = ("author",)
    show_full_result_count = False

    @admin.display(description="text")
    def short_text(self, obj):
        return (obj.text or "")[:80]

    def delete_model(self, request, obj):
        do_delete_post(request.user, obj)  # keeps counters, search and timelines right

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(Hashtag)
class HashtagAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("id", "recipient", "actor", "type", "created_at", "read")
    list_filter = ("type", "read")
    raw_id_fields = ("recipient", "actor", "post")
    show_full_result_count = False
