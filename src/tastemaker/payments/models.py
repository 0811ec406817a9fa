"""Wallets and payments: a double-entry, append-only ledger in integer minor units.

The ledger (``Account``, ``Transaction``, ``Entry``)
    Every account's ``balance`` is the sum of its entries. An entry's ``amount`` is signed: positive
    raises the account's balance (a credit to it), negative lowers it. A transaction's entries sum to
    zero per currency, so the sum of all balances of a currency is always zero: money only moves.
    A user's wallet balance is what the platform owes the user; system accounts may go negative
    (the provider clearing account is negative while a provider holds top-up money for us).
    A partner store has a deposit and a held account (``store_deposit``, ``store_held``): what it has
    put in to fund its creators' commissions, and what of it is held for pending ones. They never go
    negative, so a commission is only ever paid from money its store put in.
    Entries and transactions are never updated or deleted: database triggers refuse it
    (migration 0002); a mistake is corrected by a reversal transaction.

Holds (``Hold``)
    Reserving money is itself a ledger transaction: wallet -> the owner's ``held`` account. So a
    wallet balance is always what can be spent, and "never negative" stays one CHECK constraint.
    Capturing moves money held -> a destination (the rest goes back); releasing moves it back.

Providers (``TopUp``, ``PayoutAccount``, ``Withdrawal``, ``ProviderNotification``, ``SandboxTrade``,
``StatementLine``, ``ReconciliationRun``)
    What the provider adapters and reconciliation need. ``SandboxTrade`` is the sandbox provider's own
    book (what a real provider would keep on its side): its statements are made from it.

Amounts are ``BigIntegerField`` minor units with a 3-letter currency; there is no float or decimal
field anywhere here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tastemaker.core.ids import new_id


class AccountKind(models.TextChoices):
    WALLET = "wallet", _("wallet")  # a user's (or brand's: brands are users) spendable money
    HELD = "held", _("held")  # a user's reserved money (pending holds)
    PLATFORM_REVENUE = "platform_revenue", _("platform revenue")
    COMMISSIONS_PAYABLE = "commissions_payable", _("commissions payable")
    PROMOTION_SPEND = "promotion_spend", _("promotion spend")
    PROVIDER_CLEARING = "provider_clearing", _("provider clearing")  # per provider: in flight at the provider
    PROVIDER_SETTLED = "provider_settled", _("provider settled")  # per provider: settled to the platform's bank
    STORE_DEPOSIT = "store_deposit", _("store deposit")  # per partner store: what it has put in for commissions
    STORE_HELD = "store_held", _("store deposit held")  # per partner store: held for its pending commissions


USER_KINDS = (AccountKind.WALLET, AccountKind.HELD)  # owned by a user; never negative
PLATFORM_KINDS = (AccountKind.PLATFORM_REVENUE, AccountKind.COMMISSIONS_PAYABLE, AccountKind.PROMOTION_SPEND)
PROVIDER_KINDS = (AccountKind.PROVIDER_CLEARING, AccountKind.PROVIDER_SETTLED)
STORE_KINDS = (AccountKind.STORE_DEPOSIT, AccountKind.STORE_HELD)  # owned by a partner store; never negative
NONNEGATIVE_KINDS = (*USER_KINDS, *STORE_KINDS)


class Account(models.Model):
    """A ledger account. Create them through ``payments.ledger`` (``wallet_for`` and friends)."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    kind = models.CharField(max_length=24, choices=AccountKind.choices)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="ledger_accounts")
    provider = models.CharField(max_length=24, blank=True, default="")
    # a partner store's deposit (and what of it is held): the store funds its creators' commissions from it
    store = models.ForeignKey("showcase.PartnerStore", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="ledger_accounts")
    currency = models.CharField(max_length=3)
    # cached sum of this account's entries, kept by ledger.post_transaction in the same transaction
    balance = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(kind__in=NONNEGATIVE_KINDS) | Q(balance__gte=0),
                                   name="payments_account_wallet_nonnegative"),
            models.CheckConstraint(
                condition=(Q(kind__in=USER_KINDS, owner__isnull=False, provider="", store__isnull=True)
                           | (Q(kind__in=PROVIDER_KINDS, owner__isnull=True, store__isnull=True) & ~Q(provider=""))
                           | Q(kind__in=PLATFORM_KINDS, owner__isnull=True, provider="", store__isnull=True)
                           | Q(kind__in=STORE_KINDS, owner__isnull=True, provider="", store__isnull=False)),
                name="payments_account_kind_shape"),
            models.UniqueConstraint(fields=["kind", "owner", "currency"], condition=Q(owner__isnull=False),
                                    name="payments_account_unique_owned"),
            models.UniqueConstraint(fields=["kind", "provider", "currency"],
                                    condition=Q(owner__isnull=True, store__isnull=True),
                                    name="payments_account_unique_system"),
            models.UniqueConstraint(fields=["kind", "store", "currency"], condition=Q(store__isnull=False),
                                    name="payments_account_unique_store"),
        ]

    def __str__(self) -> str:
        who = (f"@{self.owner_id}" if self.owner_id else f"store {self.store_id}" if self.store_id
               else self.provider or "platform")
        return f"{self.kind}:{who}:{self.currency}"

    @property
    def is_nonnegative(self) -> bool:
        return self.kind in NONNEGATIVE_KINDS


class TransactionKind(models.TextChoices):
    TRANSFER = "transfer", _("transfer")
    HOLD = "hold", _("hold")
    CAPTURE = "capture", _("capture")
    RELEASE = "release", _("release")
    TOPUP = "topup", _("top-up")
    WITHDRAWAL = "withdrawal", _("withdrawal")
    COMMISSION = "commission", _("commission")
    PROMOTION = "promotion", _("promotion")
    SETTLEMENT = "settlement", _("settlement")
    ADJUSTMENT = "adjustment", _("adjustment")
    REVERSAL = "reversal", _("reversal")


class Transaction(models.Model):
    """A balanced set of entries, posted at once. Append-only (triggers refuse UPDATE and DELETE).

    ``reference`` makes a business operation idempotent ("topup:<id>", "commission:<conversion>"):
    posting the same reference again returns this transaction instead of moving money twice.
    The row is written after its entries, and a trigger then checks that they balance.
    """

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    kind = models.CharField(max_length=16, choices=TransactionKind.choices)
    memo = models.CharField(max_length=200, blank=True, default="")
    reference = models.CharField(max_length=120, null=True, blank=True, unique=True)
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="reversed_by")
    initiator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "id"], name="payments_tx_kind_id")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class Entry(models.Model):
    """One leg of a transaction. Never updated or deleted."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField()  # signed minor units: + raises the account's balance, - lowers it
    currency = models.CharField(max_length=3)

    class Meta:
        verbose_name_plural = "entries"
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="payments_entry_nonzero")]
        indexes = [models.Index(fields=["account", "id"], name="payments_entry_account_id")]

    def __str__(self) -> str:
        return f"{self.amount:+d} {self.currency} -> {self.account_id}"


class HoldStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    CAPTURED = "captured", _("captured")
    RELEASED = "released", _("released")


class Hold(models.Model):
    """Money reserved from a wallet (a campaign budget, a withdrawal); resolves at most once."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="holds")
    wallet = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    held_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    destination = models.ForeignKey(Account, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    captured = models.BigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=HoldStatus.choices, default=HoldStatus.PENDING)
    memo = models.CharField(max_length=200, blank=True, default="")
    reference = models.CharField(max_length=120, null=True, blank=True, unique=True)
    hold_transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="+")
    resolve_transaction = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT,
                                               related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_hold_positive"),
            models.CheckConstraint(condition=Q(captured__gte=0) & Q(captured__lte=models.F("amount")),
                                   name="payments_hold_captured_range"),
        ]
        indexes = [models.Index(fields=["user", "status", "id"], name="payments_hold_user_status")]

    def __str__(self) -> str:
        return f"hold #{self.pk} {self.amount} {self.currency} ({self.status})"


class IdempotencyRecord(models.Model):
    """The stored outcome of one keyed HTTP money request (see ``payments.idempotency``).

    ``response_body`` is the JSON text exactly as first sent, so a replay is byte-for-byte the same
    (a JSON column would let PostgreSQL reorder keys). ``status_code`` is 0 while the first request runs.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # sha256 hex of the canonical request
    status_code = models.PositiveSmallIntegerField(default=0)
    response_body = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="payments_idempotency_user_key")]


class TopUpStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")


class TopUp(models.Model):
    """A wallet top-up through a provider. ``order_no`` is what the provider knows it by."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="topups")
    provider = models.CharField(max_length=24)
    order_no = models.CharField(max_length=64, unique=True)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=TopUpStatus.choices, default=TopUpStatus.PENDING)
    provider_trade_no = models.CharField(max_length=64, blank=True, default="")
    transaction = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")
    failure_reason = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payments_topup_positive")]
        indexes = [models.Index(fields=["user", "id"], name="payments_topup_user_id"),
                   models.Index(fields=["provider", "status", "created_at"], name="payments_topup_prov_status")]

    def __str__(self) -> str:
        return f"top-up {self.order_no} {self.amount} {self.currency} ({self.status})"


class PayoutAccount(models.Model):
    """Where a user's withdrawals go at a provider (an Alipay login id, a sandbox account name)."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="payout_accounts")
    provider = models.CharField(max_length=24)
    identifier = models.CharField(max_length=100)
    holder_name = models.CharField(max_length=100)
    verified = models.BooleanField(default=False)  # the provider has paid out to it successfully
    active = models.BooleanField(default=True)
    bound_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "provider", "identifier"],
                                               name="payments_payout_account_unique")]

    def __str__(self) -> str:
        return f"{self.provider}:{self.identifier}"


class WithdrawalStatus(models.TextChoices):
    REQUESTED = "requested", _("requested")
    PROCESSING = "processing", _("processing")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")


class Withdrawal(models.Model):
    """Money out to a bound payout account: held when requested, captured on success, released on failure."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="withdrawals")
    payout_account = models.ForeignKey(PayoutAccount, on_delete=models.PROTECT, related_name="withdrawals")
    provider = models.CharField(max_length=24)
    order_no = models.CharField(max_length=64, unique=True)  # out_biz_no at the provider: payouts are idempotent
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=WithdrawalStatus.choices, default=WithdrawalStatus.REQUESTED)
    hold = models.OneToOneField(Hold, on_delete=models.PROTECT, related_name="withdrawal")
    provider_ref = models.CharField(max_length=64, blank=True, default="")
    failure_reason = models.CharField(max_length=200, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payments_withdrawal_positive")]
        indexes = [models.Index(fields=["user", "id"], name="payments_withdrawal_user_id"),
                   models.Index(fields=["provider", "status", "created_at"], name="payments_wd_prov_status")]

    def __str__(self) -> str:
        return f"withdrawal {self.order_no} {self.amount} {self.currency} ({self.status})"


class ProviderNotification(models.Model):
    """Every asynchronous notification received, verified or not, and what was done with it."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    provider = models.CharField(max_length=24)
    received_at = models.DateTimeField(default=timezone.now)
    raw = models.JSONField(default=dict)
    verified = models.BooleanField(default=False)
    order_no = models.CharField(max_length=64, blank=True, default="", db_index=True)
    outcome = models.CharField(max_length=16)  # credited | duplicate | failed | rejected
    reason = models.CharField(max_length=200, blank=True, default="")
    reply = models.CharField(max_length=16)

    def __str__(self) -> str:
        return f"{self.provider} {self.order_no or '?'}: {self.outcome}"


class SandboxTrade(models.Model):
    """The sandbox provider's own record of a payment or payout (its side of the books)."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", _("payment")
        PAYOUT = "payout", _("payout")

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    order_no = models.CharField(max_length=64, unique=True)  # the merchant's number (our TopUp/Withdrawal)
    trade_no = models.CharField(max_length=64, unique=True)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10)  # pending | succeeded | failed
    counterparty = models.CharField(max_length=100, blank=True, default="")
    reason = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True, db_index=True)  # approved, declined or paid out


class ReconciliationRun(models.Model):
    """One comparison of a provider's statement with our records, kept for the operator page."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    provider = models.CharField(max_length=24)
    date_from = models.DateField()
    date_to = models.DateField()  # inclusive
    started_at = models.DateTimeField(default=timezone.now)
    statement_lines = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    mismatch_count = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict)  # mismatches and the clearing-account check

    @property
    def ok(self) -> bool:
        return self.mismatch_count == 0 and bool(self.report.get("clearing_ok", True))


class StatementLine(models.Model):
    """A provider statement line as imported for a reconciliation run."""

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=8)  # payment | payout
    order_no = models.CharField(max_length=64)
    trade_no = models.CharField(max_length=64, blank=True, default="")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10)  # succeeded | failed
    occurred_at = models.DateTimeField(null=True, blank=True)
