"""Payment reads: balances, holds, history, top-ups, withdrawals, the platform's accounts.

Only the owner (and operators, ``is_staff``) may read an account's money: the selectors that take a
``viewer`` check it; the ones that take a ``user`` return that user's own data, so the caller passes
``request.user`` (or an operator-chosen user after checking ``is_staff``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from tastemaker.core.errors import NotFound, ValidationFailed
from tastemaker.core.ids import id_floor
from tastemaker.core.money import format_amount
from tastemaker.core.pagination import Page, apply_keyset

from .models import (
    STORE_KINDS,
    USER_KINDS,
    Account,
    AccountKind,
    Entry,
    Hold,
    HoldStatus,
    PayoutAccount,
    ReconciliationRun,
    TopUp,
    Transaction,
    TransactionKind,
    Withdrawal,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tastemaker.accounts.models import User


@dataclass(frozen=True)
class Balance:
    currency: str
    available: int  # the wallet balance: what can be spent or withdrawn now
    held: int  # reserved by pending holds (campaign budgets, withdrawals in progress)

    @property
    def total(self) -> int:
        return self.available + self.held

    @property
    def available_display(self) -> str:
        return format_amount(self.available, self.currency)

    @property
    def held_display(self) -> str:
        return format_amount(self.held, self.currency)


def balances(user: User) -> list[Balance]:
    """One row per currency the user has money in (always the default currency first)."""
    rows: dict[str, dict[str, int]] = {settings.DEFAULT_CURRENCY: {"wallet": 0, "held": 0}}
    for kind, currency, balance in Account.objects.filter(owner_id=user.pk, kind__in=USER_KINDS).values_list(
            "kind", "currency", "balance"):
        rows.setdefault(currency, {"wallet": 0, "held": 0})[kind] = balance
    return [Balance(currency=c, available=v["wallet"], held=v["held"]) for c, v in rows.items()]


def balance(user: User, currency: str | None = None) -> Balance:
    currency = currency or settings.DEFAULT_CURRENCY
    return next((b for b in balances(user) if b.currency == currency), Balance(currency, 0, 0))


def holds(user: User, *, status: str | None = HoldStatus.PENDING, page: Page | None = None) -> list[Hold]:
    qs = Hold.objects.filter(user_id=user.pk)
    if status:
        if status not in HoldStatus.values:
            raise ValidationFailed(_("Unknown hold status."), field="status")
        qs = qs.filter(status=status)
    return apply_keyset(qs, page or Page())


@dataclass(frozen=True)
class HistoryItem:
    id: int  # the entry id: the pagination cursor (max_id / min_id)
    transaction_id: int
    kind: str
    kind_display: str
    amount: int  # signed: + money in, - money out
    currency: str
    memo: str
    created_at: datetime
    reversed: bool  # a later reversal cancelled it
    reverses_id: int | None

    @property
    def direction(self) -> str:
        return "in" if self.amount > 0 else "out"

    @property
    def amount_display(self) -> str:
        return ("+" if self.amount > 0 else "") + format_amount(self.amount, self.currency)

    @property
    def note(self) -> str:
        return memo_text(self.memo)


_PROVIDERS = {"sandbox": lambda: _("Sandbox"), "alipay": lambda: _("Alipay")}
_MEMO_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"^(sandbox|alipay) (\S+)$"),
     lambda m: _("Top-up through %(provider)s, trade %(trade)s") % {"provider": _PROVIDERS[m[1]](), "trade": m[2]}),
    (re.compile(r"^(sandbox|alipay) settlement (\d{4}-\d{2}-\d{2})$"),
     lambda m: _("%(provider)s settlement for %(day)s") % {"provider": _PROVIDERS[m[1]](), "day": m[2]}),
    (re.compile(r"^deposit for (.+)$"), lambda m: _("Deposit for %(store)s") % {"store": m[1]}),
    (re.compile(r"^sandbox demo top-up$"), lambda m: _("Sandbox top-up (demo data)")),
    (re.compile(r"^promotion campaign (\d+)$"), lambda m: _("promotion campaign %(id)s") % {"id": m[1]}),
    (re.compile(r"^promotion campaign (\d+) ended$"), lambda m: _("promotion campaign %(id)s ended") % {"id": m[1]}),
]


def memo_text(memo: str) -> str:
    """A transaction's memo for people, in their language. System memos are stored as written at the time (in
    the language of the request or job that wrote them): the known shapes, and the fixed memos written through
    gettext (``commission``, ``held for a commission``…), are shown translated; anything else as typed."""
    for pattern, render in _MEMO_PATTERNS:
        match = pattern.match(memo)
        if match:
            return render(match)
    return _(memo) if memo else memo


DATE_MIN, DATE_MAX = date(2000, 1, 1), date(2100, 12, 31)  # what history filters accept


def check_day(value: date | datetime | None, field: str) -> date | datetime | None:
    """``ValidationFailed`` for a filter date outside DATE_MIN..DATE_MAX (a year 9999 would overflow the
    id arithmetic); returns the value."""
    if value is None:
        return None
    day = value.date() if isinstance(value, datetime) else value
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValidationFailed(_("Choose a date between %(first)s and %(last)s.")
                               % {"first": DATE_MIN.isoformat(), "last": DATE_MAX.isoformat()}, field=field)
    return value


def _day_start(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    return datetime.combine(value, time.min, tzinfo=timezone.get_current_timezone())


def history(user: User, *, currency: str | None = None, kind: str | None = None, direction: str | None = None,
            since: date | datetime | None = None, until: date | datetime | None = None,
            page: Page | None = None) -> list[HistoryItem]:
    """The user's wallet movements, newest first, keyset-paginated by entry id (Mastodon style:
    ``Page(max_id=…)`` for older, ``Page(min_id=…)`` for newer).

    Filters: ``currency``; ``kind`` (a ``TransactionKind`` value: transfer, topup, hold, …);
    ``direction`` "in" or "out"; ``since`` / ``until`` dates (local days, inclusive) or datetimes, in the
    years DATE_MIN..DATE_MAX (else ``ValidationFailed``).
    """
    since, until = check_day(since, "since"), check_day(until, "until")
    qs = Entry.objects.filter(account__owner_id=user.pk, account__kind=AccountKind.WALLET)
    if currency:
        qs = qs.filter(currency=currency.upper())
    if kind:
        if kind not in TransactionKind.values:
            raise ValidationFailed(_("Unknown transaction kind."), field="kind")
        qs = qs.filter(transaction__kind=kind)
    if direction:
        if direction not in ("in", "out"):
            raise ValidationFailed(_("direction is \"in\" or \"out\"."), field="direction")
        qs = qs.filter(amount__gt=0) if direction == "in" else qs.filter(amount__lt=0)
    if since is not None:
        qs = qs.filter(id__gte=id_floor(_day_start(since)))
    if until is not None:
        end = _day_start(until + timedelta(days=1)) if not isinstance(until, datetime) else _day_start(until)
        qs = qs.filter(id__lt=id_floor(end))
    rows = apply_keyset(qs.select_related("transaction"), page or Page())
    reversed_ids = set(Transaction.objects.filter(reverses_id__in=[e.transaction_id for e in rows])
                       .values_list("reverses_id", flat=True))
    return [HistoryItem(id=e.pk, transaction_id=e.transaction_id, kind=e.transaction.kind,
                        kind_display=e.transaction.get_kind_display(), amount=e.amount, currency=e.currency,
                        memo=e.transaction.memo, created_at=e.transaction.created_at,
                        reversed=e.transaction_id in reversed_ids, reverses_id=e.transaction.reverses_id)
            for e in rows]


def can_view_account(viewer: User | AnonymousUser | None, account: Account) -> bool:
    return bool(viewer and viewer.is_authenticated and (viewer.is_staff or account.owner_id == viewer.pk))


def transaction_detail(viewer: User, transaction_id: int) -> dict[str, Any]:
    """A transaction with its legs, for someone who owns one of its accounts (or an operator)."""
    tx = Transaction.objects.filter(pk=transaction_id).first()
    if tx is None:
        raise NotFound(_("Transaction not found."))
    entries = list(tx.entries.select_related("account").order_by("id"))
    if not (viewer.is_staff or any(e.account.owner_id == viewer.pk for e in entries)):
        raise NotFound(_("Transaction not found."))
    return {"id": tx.pk, "kind": tx.kind, "memo": tx.memo, "reference": tx.reference, "created_at": tx.created_at,
            "reverses_id": tx.reverses_id,
            "reversed_by_id": Transaction.objects.filter(reverses=tx).values_list("pk", flat=True).first(),
            "legs": [{"account_id": e.account_id, "account": str(e.account),
                      "mine": e.account.owner_id == viewer.pk, "amount": e.amount, "currency": e.currency}
                     for e in entries]}


def topups(user: User, *, page: Page | None = None) -> list[TopUp]:
    return apply_keyset(TopUp.objects.filter(user_id=user.pk), page or Page())


def topup_for(user: User, order_no: str) -> TopUp:
    """The user's own top-up by order number (for the return page after a checkout)."""
    topup = TopUp.objects.filter(order_no=order_no, user_id=user.pk).first()
    if topup is None:
        raise NotFound(_("Top-up not found."))
    return topup


def withdrawals(user: User, *, page: Page | None = None) -> list[Withdrawal]:
    return apply_keyset(Withdrawal.objects.filter(user_id=user.pk).select_related("payout_account"), page or Page())


def payout_accounts(user: User) -> list[PayoutAccount]:
    return list(PayoutAccount.objects.filter(user_id=user.pk, active=True).order_by("-bound_at"))


def platform_overview() -> dict[str, Any]:
    """For the operator page: every system account's balance, wallet totals and pending holds per
    currency, and the zero-sum check (all balances of a currency add up to zero)."""
    system = list(Account.objects.filter(owner__isnull=True, store__isnull=True)
                  .order_by("currency", "kind", "provider"))
    per_currency: dict[str, dict[str, Any]] = {}
    for row in Account.objects.values("currency").annotate(
            total=Sum("balance"), wallets=Sum("balance", filter=Q(kind=AccountKind.WALLET)),
            held=Sum("balance", filter=Q(kind=AccountKind.HELD)),
            store_deposits=Sum("balance", filter=Q(kind__in=STORE_KINDS)),
            wallet_count=Count("id", filter=Q(kind=AccountKind.WALLET))):
        per_currency[row["currency"]] = {"sum_of_all_balances": row["total"] or 0, "wallets": row["wallets"] or 0,
                                         "held": row["held"] or 0, "wallet_count": row["wallet_count"],
                                         "store_deposits": row["store_deposits"] or 0,
                                         "balanced": (row["total"] or 0) == 0}
    pending = dict(Hold.objects.filter(status=HoldStatus.PENDING).values("currency").annotate(n=Count("id"))
                   .values_list("currency", "n"))
    for currency, info in per_currency.items():
        info["pending_holds"] = pending.get(currency, 0)
    return {
        "accounts": [{"id": a.pk, "kind": a.kind, "kind_display": a.get_kind_display(), "provider": a.provider,
                      "currency": a.currency, "balance": a.balance,
                      "balance_display": format_amount(a.balance, a.currency)} for a in system],
        "currencies": per_currency,
    }


def reconciliation_runs(provider: str | None = None, limit: int = 20) -> list[ReconciliationRun]:
    qs = ReconciliationRun.objects.all()
    if provider:
        qs = qs.filter(provider=provider)
    return list(qs.order_by("-id")[:limit])


# --- single records for the HTTP layers (api/payments): the owner's, or any for an operator ---------------

def wallet_subject(viewer: User, account_id: int | None) -> User | None:
    """Whose money ``viewer`` asks about: their own (``account_id`` None or theirs), or, for an operator
    only, another account's. None for anyone else and for an unknown account (the same 404)."""
    from tastemaker.accounts.models import User

    if account_id is None or account_id == viewer.pk:
        return viewer
    if not viewer.is_staff:
        return None
    return User.objects.filter(pk=account_id).first()


def topup_visible_to(viewer: User, topup_id: int) -> TopUp | None:
    """A top-up its owner (or an operator) may see; None for anyone else."""
    qs = TopUp.objects.filter(pk=topup_id)
    return (qs if viewer.is_staff else qs.filter(user_id=viewer.pk)).first()


def withdrawal_visible_to(viewer: User, withdrawal_id: int) -> Withdrawal | None:
    """A withdrawal (with its payout account) its owner (or an operator) may see; None for anyone else."""
    qs = Withdrawal.objects.select_related("payout_account").filter(pk=withdrawal_id)
    return (qs if viewer.is_staff else qs.filter(user_id=viewer.pk)).first()


def payout_account_for(user: User, payout_account_id: int | None) -> PayoutAccount | None:
    """One of ``user``'s active payout accounts; None for anyone else's, an unbound or a missing one."""
    if payout_account_id is None:
        return None
    return PayoutAccount.objects.filter(pk=payout_account_id, user_id=user.pk, active=True).first()


# --- for the web pages (issue 11: no ORM in web/) ---------------------------------------------

def recent_topups(limit: int = 20) -> list[TopUp]:
    """Operators: the newest top-ups of every account."""
    return list(TopUp.objects.select_related("user").order_by("-id")[:limit])


def recent_withdrawals(limit: int = 20) -> list[Withdrawal]:
    """Operators: the newest withdrawals of every account."""
    return list(Withdrawal.objects.select_related("user", "payout_account").order_by("-id")[:limit])


def reconciliation_run(run_id: int) -> ReconciliationRun:
    run = ReconciliationRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFound(_("No such reconciliation run."))
    return run


def payout_account_or_404(user: User, account_id: object) -> PayoutAccount:
    """``payout_account_for``, from a form's value, or a 404 (a malformed id is one that does not exist)."""
    from tastemaker.core.ids import parse_id

    account = payout_account_for(user, parse_id(account_id))
    if account is None:
        raise NotFound(_("No such payout account."))
    return account
