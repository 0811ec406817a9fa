"""Read-only admin for payments: money changes only through the services (and the ledger never changes)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from .models import (
    Account,
    Entry,
    Hold,
    IdempotencyRecord,
    PayoutAccount,
    ProviderNotification,
    ReconciliationRun,
    SandboxTrade,
    TopUp,
    Transaction,
    Withdrawal,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class EntryInline(admin.TabularInline):
    model = Entry
    fields = ("id", "account", "amount", "currency")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "owner", "provider", "currency", "balance", "created_at")
    list_filter = ("kind", "currency", "provider")
    search_fields = ("owner__username", "provider")
    list_select_related = ("owner",)


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "memo", "reference", "reverses", "created_at")
    list_filter = ("kind",)
    search_fields = ("reference", "memo")
    inlines = [EntryInline]


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "transaction", "account", "amount", "currency")
    list_filter = ("currency",)
    list_select_related = ("transaction", "account")


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "amount", "captured", "currency", "status", "memo", "created_at", "resolved_at")
    list_filter = ("status", "currency")
    search_fields = ("user__username", "reference")
    list_select_related = ("user",)


@admin.register(TopUp)
class TopUpAdmin(ReadOnlyAdmin):
    list_display = ("order_no", "user", "provider", "amount", "currency", "status", "provider_trade_no", "created_at",
                    "paid_at")
    list_filter = ("provider", "status", "currency")
    search_fields = ("order_no", "provider_trade_no", "user__username")
    list_select_related = ("user",)


@admin.register(Withdrawal)
class WithdrawalAdmin(ReadOnlyAdmin):
    list_display = ("order_no", "user", "provider", "amount", "currency", "status", "provider_ref", "failure_reason",
                    "created_at", "finished_at")
    list_filter = ("provider", "status", "currency")
    search_fields = ("order_no", "provider_ref", "user__username")
    list_select_related = ("user",)


@admin.register(PayoutAccount)
class PayoutAccountAdmin(ReadOnlyAdmin):
    list_display = ("user", "provider", "identifier", "holder_name", "verified", "active", "bound_at")
    list_filter = ("provider", "verified", "active")
    search_fields = ("identifier", "holder_name", "user__username")


@admin.register(ProviderNotification)
class ProviderNotificationAdmin(ReadOnlyAdmin):
    list_display = ("id", "provider", "order_no", "verified", "outcome", "reason", "reply", "received_at")
    list_filter = ("provider", "verified", "outcome")
    search_fields = ("order_no",)


@admin.register(SandboxTrade)
class SandboxTradeAdmin(ReadOnlyAdmin):
    list_display = ("trade_no", "kind", "order_no", "amount", "currency", "status", "counterparty", "finished_at")
    list_filter = ("kind", "status")
    search_fields = ("order_no", "trade_no")


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "provider", "date_from", "date_to", "statement_lines", "matched", "mismatch_count",
                    "started_at")
    list_filter = ("provider",)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ("user", "key", "status_code", "created_at")
    search_fields = ("key", "user__username")
