"""The ledger core: accounts and ``post_transaction``. Everything that moves money goes through here.

Sign convention: a leg ``(account, amount)`` with a positive amount raises that account's balance
(credits it), a negative one lowers it (debits it). The legs of a transaction sum to zero per currency.
A transfer of 500 from A to B is ``[(A, -500), (B, +500)]``.

Concurrency: balances change by conditional UPDATEs, one per account, taken in primary-key order::

    UPDATE payments_account SET balance = balance + %(delta)s
     WHERE id = %(id)s AND (kind NOT IN ('wallet', 'held') OR balance >= -%(delta)s)

On PostgreSQL the UPDATE waits for a concurrent writer of the row and re-checks the condition after
it commits, so two transfers of a full balance cannot both pass; the primary-key order means two
transactions touching the same accounts lock them in the same order and never deadlock. On SQLite
every write transaction is ``BEGIN IMMEDIATE`` (settings), so writers are serialised anyway. The
CHECK constraint ``payments_account_wallet_nonnegative`` is the last line of defence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tastemaker.core.errors import Conflict, ValidationFailed
from tastemaker.core.ids import new_id
from tastemaker.core.money import MAX_MINOR, check_currency

from .models import (
    NONNEGATIVE_KINDS,
    PLATFORM_KINDS,
    PROVIDER_KINDS,
    Account,
    AccountKind,
    Entry,
    Transaction,
    TransactionKind,
)

if TYPE_CHECKING:
    from tastemaker.accounts.models import User

Leg = tuple[Account, int]


class InsufficientFunds(Conflict):
    """A wallet, held account or store deposit would go below zero. HTTP 409."""


# --- accounts -------------------------------------------------------------------------------

def _get_or_create(**lookup: Any) -> Account:
    account = Account.objects.filter(**lookup).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(**lookup)
    except IntegrityError:  # made concurrently
        return Account.objects.get(**lookup)


def wallet_for(user: User | int, currency: str) -> Account:
    """The user's (or brand's) wallet in ``currency``, created empty on first use."""
    return _get_or_create(kind=AccountKind.WALLET, owner_id=_user_id(user), provider="",
                          currency=check_currency(currency))


def wallets_for(users: Iterable[User | int], currency: str) -> list[Account]:
    """Several users' wallets in one query (each made on first use), in the order given."""
    currency = check_currency(currency)
    ids = [_user_id(u) for u in users]
    found = {a.owner_id: a for a in Account.objects.filter(kind=AccountKind.WALLET, currency=currency,
                                                            owner_id__in=ids)}
    return [found.get(i) or wallet_for(i, currency) for i in ids]


def held_account_for(user: User | int, currency: str) -> Account:
    """Where the user's pending holds sit (their reserved money)."""
    return _get_or_create(kind=AccountKind.HELD, owner_id=_user_id(user), provider="",
                          currency=check_currency(currency))


def store_deposit_for(store_id: int, currency: str) -> Account:
    """A partner store's deposit: what it has put in to fund its creators' commissions (never negative)."""
    return _get_or_create(kind=AccountKind.STORE_DEPOSIT, store_id=store_id, owner=None, provider="",
                          currency=check_currency(currency))


def store_held_for(store_id: int, currency: str) -> Account:
    """What of a partner store's deposit is held for its pending commissions (never negative)."""
    return _get_or_create(kind=AccountKind.STORE_HELD, store_id=store_id, owner=None, provider="",
                          currency=check_currency(currency))


def platform_account(kind: str, currency: str) -> Account:
    """``platform_revenue``, ``commissions_payable`` or ``promotion_spend`` in ``currency``.

    No flow pays commissions through ``commissions_payable`` any more: a store's commissions are paid
    from its own deposit (``store_deposit_for``); the kind stays for the ledger's history."""
    if kind not in PLATFORM_KINDS:
        raise ValidationFailed(_("%(kind)s is not a platform account.") % {"kind": kind})
    return _get_or_create(kind=kind, owner=None, store=None, provider="", currency=check_currency(currency))


def provider_clearing(provider: str, currency: str) -> Account:
    """Money in flight at a payment provider: negative while it holds top-ups we have credited."""
    return _provider_account(AccountKind.PROVIDER_CLEARING, provider, currency)


def provider_settled(provider: str, currency: str) -> Account:
    """What a provider has settled to the platform's bank account (see ``services.do_settle``)."""
    return _provider_account(AccountKind.PROVIDER_SETTLED, provider, currency)


def _provider_account(kind: str, provider: str, currency: str) -> Account:
    assert kind in PROVIDER_KINDS
    if not provider or len(provider) > 24:
        raise ValidationFailed(_("Unknown payment provider."))
    return _get_or_create(kind=kind, owner=None, store=None, provider=provider, currency=check_currency(currency))


def _user_id(user: User | int) -> int:
    return user if isinstance(user, int) else user.pk


# --- posting --------------------------------------------------------------------------------

def _same_legs(tx: Transaction, legs: Sequence[Leg]) -> bool:
    stored = sorted(tx.entries.values_list("account_id", "amount"))
    return stored == sorted((account.pk, amount) for account, amount in legs)


def post_transaction(kind: str, legs: Sequence[Leg], *, reference: str | None = None, memo: str = "",
                     reverses: Transaction | None = None, initiator: User | int | None = None) -> Transaction:
    """Post one balanced transaction atomically and return it.

    ``legs``: ``[(account, amount), ...]``, at least two, amounts non-zero integers in minor units,
    summing to zero per currency (positive = the account's balance goes up).

    ``reference``: an idempotency key for the business operation ("topup:123"). If a transaction with
    it exists, that one is returned and nothing moves; if it exists with different legs or kind,
    ``Conflict``. Concurrent posts of one reference: one wins, the others return the winner's row.

    Raises ``InsufficientFunds`` (nothing posted) when a wallet or held account would go negative,
    ``ValidationFailed`` for malformed legs. Joins the caller's database transaction if there is one
    (as a savepoint), so a caller can post several transactions all-or-nothing.
    """
    if kind not in TransactionKind.values:
        raise ValidationFailed(_("Unknown transaction kind."))
    _check_legs(legs)
    if reference is not None:
        if not reference or len(reference) > 120:
            raise ValidationFailed(_("A reference is 1 to 120 characters."))
        existing = Transaction.objects.filter(reference=reference).first()
        if existing is not None:
            return _existing_for(existing, kind, legs)
    try:
        with transaction.atomic():
            return _post(kind, legs, reference=reference, memo=memo[:200], reverses=reverses, initiator=initiator)
    except InsufficientFunds:
        # a concurrent post of the same reference committed first and spent the balance this one needed
        # (a store's hold paid once by two workers): that one is the answer, not "insufficient funds"
        if reference is not None:
            existing = Transaction.objects.filter(reference=reference).first()
            if existing is not None:
                return _existing_for(existing, kind, legs)
        raise
    except IntegrityError:
        # a concurrent post of the same reference (or reversal) committed first
        if reference is not None:
            existing = Transaction.objects.filter(reference=reference).first()
            if existing is not None:
                return _existing_for(existing, kind, legs)
        raise


def _existing_for(existing: Transaction, kind: str, legs: Sequence[Leg]) -> Transaction:
    if existing.kind != kind or not _same_legs(existing, legs):
        raise Conflict(_("This reference was already used for a different transaction."))
    return existing


def _check_legs(legs: Sequence[Leg]) -> None:
    if len(legs) < 2:
        raise ValidationFailed(_("A transaction needs at least two entries."))
    totals: dict[str, int] = defaultdict(int)
    for account, amount in legs:
        if not isinstance(account, Account) or account.pk is None:
            raise ValidationFailed(_("Every entry needs a saved account."))
        if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0 or abs(amount) > MAX_MINOR:
            raise ValidationFailed(_("Entry amounts are non-zero whole numbers of minor units."))
        totals[account.currency] += amount
    if any(total != 0 for total in totals.values()):
        raise ValidationFailed(_("The entries of a transaction must sum to zero in each currency."))


# the hot path in plain SQL: the same statements the ORM would send, without building them each time
_DEBIT_GUARDED = "UPDATE payments_account SET balance = balance + %s WHERE id = %s AND balance >= %s"
_MOVE = "UPDATE payments_account SET balance = balance + %s WHERE id = %s"
_INSERT_ENTRY = "INSERT INTO payments_entry (id, transaction_id, account_id, amount, currency) VALUES (%s, %s, %s, %s, %s)"
_INSERT_TX = ("INSERT INTO payments_transaction (id, kind, memo, reference, reverses_id, initiator_id, created_at) "
              "VALUES (%s, %s, %s, %s, %s, %s, %s)")


def _post(kind: str, legs: Sequence[Leg], *, reference: str | None, memo: str, reverses: Transaction | None,
          initiator: User | int | None) -> Transaction:
    deltas: dict[int, int] = defaultdict(int)
    kinds: dict[int, str] = {}
    for account, amount in legs:
        deltas[account.pk] += amount
        kinds[account.pk] = account.kind
    tx = Transaction(id=new_id(), kind=kind, memo=memo, reference=reference, reverses=reverses,
                     initiator_id=_user_id(initiator) if initiator is not None else None,
                     created_at=timezone.now())
    with connection.cursor() as cur:
        for account_id in sorted(deltas):  # primary-key order: no deadlocks between concurrent posts
            delta = deltas[account_id]
            if delta == 0:
                continue
            if delta < 0 and kinds[account_id] in NONNEGATIVE_KINDS:
                cur.execute(_DEBIT_GUARDED, [delta, account_id, -delta])
            else:
                cur.execute(_MOVE, [delta, account_id])
            if cur.rowcount != 1:
                raise InsufficientFunds(_("Insufficient funds."))
        # entries first, the transaction row last: its insert trigger checks that the entries balance
        cur.executemany(_INSERT_ENTRY, [(new_id(), tx.id, account.pk, amount, account.currency)
                                        for account, amount in legs])
        cur.execute(_INSERT_TX, [tx.id, kind, memo, reference, tx.reverses_id, tx.initiator_id,
                                 connection.ops.adapt_datetimefield_value(tx.created_at)])
    tx._state.adding, tx._state.db = False, "default"
    for account, amount in legs:  # keep the callers' objects current
        account.balance += amount
    return tx


def reverse_transaction(tx: Transaction, *, memo: str = "", initiator: User | int | None = None) -> Transaction:
    """Post the exact opposite of ``tx``, once: reversing it again returns the same reversal.

    Subject to the same rule as any posting: a wallet that has since spent the money cannot be
    reversed below zero (``InsufficientFunds``).
    """
    if tx.kind == TransactionKind.REVERSAL:
        raise ValidationFailed(_("A reversal cannot itself be reversed; post a new transaction instead."))
    existing = Transaction.objects.filter(reverses=tx).first()
    if existing is not None:
        return existing
    legs = [(entry.account, -entry.amount) for entry in tx.entries.select_related("account").order_by("id")]
    return post_transaction(TransactionKind.REVERSAL, legs, memo=memo or f"reversal of {tx.pk}", reverses=tx,
                            reference=f"reversal:{tx.pk}", initiator=initiator)


def legs_of(tx: Transaction) -> list[tuple[Account, int]]:
    return [(e.account, e.amount) for e in tx.entries.select_related("account").order_by("id")]


def recompute_balances(accounts: Iterable[Account] | None = None) -> dict[int, tuple[int, int]]:
    """Compare cached balances with the sum of entries: ``{account_id: (cached, summed)}`` for every
    account that differs (empty when all agree). For audits and tests; it reads, never writes."""
    from django.db.models import Sum

    qs = Account.objects.all() if accounts is None else Account.objects.filter(pk__in=[a.pk for a in accounts])
    sums = dict(Entry.objects.filter(account__in=qs).values("account_id").annotate(s=Sum("amount"))
                .values_list("account_id", "s"))
    return {pk: (bal, sums.get(pk) or 0) for pk, bal in qs.values_list("pk", "balance") if bal != (sums.get(pk) or 0)}
