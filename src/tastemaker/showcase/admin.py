"""Operator console for the Showcase: partner stores (approve, reject), catalog, cards, orders and
commissions with their trail (read-only: they change only through webhooks and the confirmation job)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .models import (
    CardLink,
    ClickOut,
    Commission,
    CommissionStep,
    Offer,
    Order,
    OrderEvent,
    PartnerStore,
    Product,
    ProductCard,
    StoreStatus,
)
from .stores import do_decide_store


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PartnerStore)
class PartnerStoreAdmin(admin.ModelAdmin):
    list_display = ("name", "status", "owner", "commission_bp", "attribution_days", "return_days", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "owner__username")
    raw_id_fields = ("owner",)
    readonly_fields = ("api_key_prefix", "secrets_rotated_at", "decided_at", "decided_by", "created_at")
    exclude = ("api_key_hash", "webhook_secret")
    actions = ["approve", "reject"]

    def has_add_permission(self, request):
        return False  # stores are created through the site, which shows the secrets once

    @admin.action(description=_("Approve the selected stores"))
    def approve(self, request, queryset):
        for store in queryset.exclude(status=StoreStatus.APPROVED):
            do_decide_store(request.user, store, approve=True)
        messages.success(request, _("Approved."))

    @admin.action(description=_("Reject the selected stores"))
    def reject(self, request, queryset):
        for store in queryset:
            do_decide_store(request.user, store, approve=False)
        messages.success(request, _("Rejected."))


class OfferInline(admin.TabularInline):
    model = Offer
    extra = 0
    fields = ("store", "external_id", "url", "price", "currency", "stock", "commission_bp", "refreshed_at", "active")
    readonly_fields = fields
    can_delete = False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("title", "brand", "gtin", "vertical", "created_at")
    search_fields = ("title", "brand", "gtin")
    list_filter = ("vertical",)
    inlines = [OfferInline]


@admin.register(ProductCard)
class ProductCardAdmin(ReadOnlyAdmin):
    list_display = ("post", "creator", "title", "disclosure", "vertical", "created_at")
    list_filter = ("disclosure", "vertical")
    search_fields = ("title", "creator__username")


@admin.register(CardLink)
class CardLinkAdmin(ReadOnlyAdmin):
    list_display = ("card", "store", "url", "primary")


@admin.register(ClickOut)
class ClickOutAdmin(ReadOnlyAdmin):
    list_display = ("id", "store", "post_id", "creator_id", "viewer_key", "valid", "invalid_reason", "created_at")
    list_filter = ("valid", "invalid_reason")


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    fields = ("webhook_id", "type", "amount", "refund_id", "occurred_at", "received_at")
    readonly_fields = fields
    can_delete = False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("external_id", "store", "status", "paid_amount", "refunded_amount", "currency", "paid_at")
    list_filter = ("status", "store")
    search_fields = ("external_id",)
    inlines = [OrderEventInline]


class StepInline(admin.TabularInline):
    model = CommissionStep
    extra = 0
    fields = ("created_at", "kind", "amount_before", "amount_after", "status_after", "note")
    readonly_fields = fields
    can_delete = False


@admin.register(Commission)
class CommissionAdmin(ReadOnlyAdmin):
    list_display = ("id", "creator", "store", "amount", "currency", "status", "rate_bp", "rate_source",
                    "confirm_after")
    list_filter = ("status", "store")
    search_fields = ("creator__username", "order__external_id")
    inlines = [StepInline]
