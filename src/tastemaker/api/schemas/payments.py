"""Request and response schemas of the Payments API: wallets, history, top-ups, withdrawals, payout accounts,
transfers, and the operators' platform accounts and reconciliation."""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.conf import settings
from ninja import Schema
from pydantic import Field, StrictBool, StrictInt

from tastemaker.payments.reconcile import MAX_RECONCILE_DAYS

MONEY = "minor units (fen, cents) of `currency`"


class BalanceOut(Schema):
    currency: str
    available: int = Field(description=f"What can be spent or withdrawn now, in {MONEY}")
    held: int = Field(description="Reserved by pending holds (withdrawals in progress, campaign budgets)")
    total: int = Field(description="available + held")
    available_display: str
    held_display: str


class HoldOut(Schema):
    id: str
    amount: int = Field(description=MONEY)
    currency: str
    amount_display: str
    status: Literal["pending", "captured", "released"]
    captured: int
    memo: str
    created_at: str
    resolved_at: str | None


class PayoutAccountOut(Schema):
    id: str
    provider: str
    identifier: str
    holder_name: str
    verified: bool = Field(description="The provider has paid out to it successfully")
    active: bool
    bound_at: str
    withdrawals_from: str = Field(description="When it may receive withdrawals: the server's cool-down (24 hours by "
                                              "default) after it was bound")


class WalletOut(Schema):
    account_id: str = Field(description="The account (user) whose wallet this is")
    balances: list[BalanceOut]
    holds: list[HoldOut] = Field(description="Pending holds, newest first")
    payout_accounts: list[PayoutAccountOut]
    providers: list[str] = Field(description="The payment providers this server offers for top-ups")


class TransactionOut(Schema):
    id: str = Field(description="The wallet entry's id: the pagination cursor (max_id, min_id)")
    transaction_id: str
    kind: str
    kind_display: str
    direction: Literal["in", "out"]
    amount: int = Field(description=f"Signed {MONEY}: positive in, negative out")
    currency: str
    amount_display: str
    memo: str
    created_at: str
    reversed: bool = Field(description="A later reversal cancelled it")
    reverses_id: str | None


class TopUpIn(Schema):
    amount: StrictInt = Field(description=f"{MONEY}, between the server's top-up minimum and maximum")
    currency: str = Field(settings.DEFAULT_CURRENCY, max_length=3)
    provider: str = Field(max_length=24, description="One of the wallet's `providers`, e.g. sandbox or alipay")


class TopUpOut(Schema):
    id: str
    order_no: str = Field(description="What the provider knows the payment by")
    provider: str
    amount: int = Field(description=MONEY)
    currency: str
    amount_display: str
    status: Literal["pending", "succeeded", "failed"]
    redirect_url: str | None = Field(description="Where to send the payer's browser (the provider's checkout); "
                                                 "only in the answer that creates the top-up")
    failure_reason: str
    created_at: str
    paid_at: str | None


class WithdrawalIn(Schema):
    amount: StrictInt = Field(description=MONEY)
    currency: str = Field(settings.DEFAULT_CURRENCY, max_length=3)
    payout_account_id: str | None = Field(None, description="One of your payout accounts; default: the most "
                                                            "recently bound one")


class WithdrawalOut(Schema):
    id: str
    order_no: str
    provider: str
    amount: int = Field(description=MONEY)
    currency: str
    amount_display: str
    status: Literal["requested", "processing", "succeeded", "failed"]
    payout_account: PayoutAccountOut
    failure_reason: str
    created_at: str
    finished_at: str | None


class PayoutAccountIn(Schema):
    provider: str = Field(max_length=24)
    identifier: str = Field(max_length=100, description="The account at the provider (for Alipay: an e-mail "
                                                        "address or mobile number)")
    holder_name: str = Field(max_length=100)


class TransferIn(Schema):
    to: str = Field(description="The receiving account's id")
    amount: StrictInt = Field(description=MONEY)
    currency: str = Field(settings.DEFAULT_CURRENCY, max_length=3)
    memo: str = Field("", max_length=200)


class TransferOut(Schema):
    transaction_id: str
    from_account_id: str
    to_account_id: str
    amount: int = Field(description=MONEY)
    currency: str
    amount_display: str
    memo: str
    created_at: str


class SystemAccountOut(Schema):
    id: str
    kind: str
    kind_display: str
    provider: str
    currency: str
    balance: int = Field(description=MONEY)
    balance_display: str


class CurrencyTotalsOut(Schema):
    currency: str
    sum_of_all_balances: int = Field(description="Zero when the ledger balances")
    balanced: bool
    wallets: int = Field(description="The users' wallets together")
    held: int
    wallet_count: int
    pending_holds: int


class PlatformOut(Schema):
    accounts: list[SystemAccountOut]
    currencies: list[CurrencyTotalsOut]


class ReconcileIn(Schema):
    provider: str = Field(max_length=24)
    date_from: date
    date_to: date = Field(description=f"Inclusive; at most {MAX_RECONCILE_DAYS} days after date_from")
    settle: StrictBool = Field(False, description="When nothing mismatches, record the provider's settlement of "
                                                  "each day (moves the day's net from clearing to settled)")


class MismatchOut(Schema):
    kind: Literal["missing_ours", "missing_theirs", "amount_differs", "status_differs"]
    record: Literal["payment", "payout"]
    order_no: str
    ours: str
    theirs: str
    note: str


class ClearingDayOut(Schema):
    date: str
    currency: str
    movement: int = Field(description="The clearing account's net movement that day, settlements excluded")
    settled: bool
    settlement: int
    net: int = Field(description="movement + settlement: zero for a settled day when everything agrees")


class SettledOut(Schema):
    date: str
    currency: str
    amount: int


class ReconcileOut(Schema):
    id: str
    provider: str
    date_from: str
    date_to: str
    statement_lines: int
    matched: int
    mismatch_count: int
    ok: bool = Field(description="No mismatch, and the clearing account nets to zero for every settled day")
    clearing_ok: bool
    mismatches: list[MismatchOut]
    clearing: list[ClearingDayOut]
    settled: list[SettledOut]
