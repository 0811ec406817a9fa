from django.contrib import admin

from .models import RateBucket


@admin.register(RateBucket)
class RateBucketAdmin(admin.ModelAdmin):
    list_display = ("key", "bucket", "count")
    search_fields = ("key",)
