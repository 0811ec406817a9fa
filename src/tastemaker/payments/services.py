"""Payment write paths (``do_*``). Views, API handlers and other apps call only these (and the selectors).

Every function here is safe to call concurrently and to retry:

* money moves only through ``ledger.post_transaction`` (balanced, conditional balance updates);
* business operations carry a ``reference`` so a retry returns the first result instead of paying
  twice (``topup:<id>``, ``hold:<id>:resolve``, the commission reference the caller gives);
* status changes are conditional UPDATEs (``WHERE status = 'pending'``), so a hold, a top-up or a
  withdrawal resolves exactly once;
* provider calls (network) happen outside database transactions; background work is enqueued
  with ``transaction.on_commit``.

Errors are ``core.errors`` exceptions (``ValidationFailed`` 422, ``NotFound`` 404, ``Conflict`` 409,
``ledger.InsufficientFunds`` 409) with translated messages.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from tastemaker.accounts.models import User
from tastemaker.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tastemaker.core.ids import new_id
from tastemaker.core.money import check_currency, check_minor, format_amount

from . import ledger
from .ledger import (
    InsufficientFunds,
    held_account_for,
    platform_account,
    post_transaction,
    provider_clearing,
    provider_settled,
    store_deposit_for,
    store_held_for,
    wallet_for,
    wallets_for,
)
from .models import (
    Account,
    Entry,
    Hold,
    HoldStatus,
    PayoutAccount,
    ProviderNotification,
    TopUp,
    TopUpStatus,
    Transaction,
    TransactionKind,
    Withdrawal,
    WithdrawalStatus,
)
from .providers import (
    InvalidNotification,
    PaymentResult,
    ProviderUnavailable,
    check_provider_currency,
    get_provider,
)
from .providers.sandbox import day_bounds

log = logging.getLogger(__name__)

SUCCESS, FAILURE = "success", "failure"  # the replies providers expect from a notify endpoint
REVERSIBLE = {TransactionKind.TRANSFER, TransactionKind.COMMISSION, TransactionKind.ADJUSTMENT,
              TransactionKind.PROMOTION}

__all__ = [
    "FAILURE", "SUCCESS", "InsufficientFunds", "do_bind_payout_account", "do_capture", "do_capture_part", "do_handle_notification",
    "do_fund_store", "do_hold", "do_hold_for_commission", "do_pay_commission", "do_process_withdrawal",
    "do_query_topup", "do_release", "do_release_for_commission", "do_request_withdrawal", "do_reverse",
    "do_reverse_commission", "do_settle", "do_start_topup", "do_transfer", "do_unbind_payout_account",
    "do_withdraw_store_deposit", "held_account_for", "platform_account", "provider_clearing", "store_deposit_for",
    "store_held_for", "wallet_for",
]


def _amount(amount: object) -> int:
    return check_minor(amount)


# --- moving money between users ---------------------------------------------------------------

def do_transfer(from_user: User, to_user: User, amount: int, currency: str, *, memo: str = "",
                reference: str | None = None) -> Transaction:
    """Move ``amount`` from one user's wallet to another's. ``InsufficientFunds`` if the sender lacks it."""
    amount, currency = _amount(amount), check_currency(currency)
    if from_user.pk == to_user.pk:
        raise ValidationFailed(_("You cannot transfer money to yourself."))
    if to_user.is_suspended or not to_user.is_active:
        raise NotFound(_("Account not found."))
    source, target = wallets_for([from_user, to_user], currency)
    return post_transaction(TransactionKind.TRANSFER, [(source, -amount), (target, amount)], memo=memo,
                            reference=reference, initiator=from_user)


# --- partner stores' deposits: a store's commissions are the store's money -----------------------
#
# A store funds its creators' commissions from its own deposit (``store_deposit``). While a commission is
# pending, its amount is held (deposit -> the store's ``store_held``); a refund or a void releases it; the
# confirmation pays it from that hold to the creator's wallet. No platform account is on any of these
# legs, so the platform never carries a store's debt: a commission its store has not funded waits.

def do_fund_store(funder: User, store_id: int, amount: int, currency: str, *, reference: str | None = None,
                  memo: str = "") -> Transaction:
    """Move ``amount`` from the funder's wallet into a store's deposit. The caller (the Showcase) checks
    that the funder may fund this store. ``InsufficientFunds`` if the wallet lacks it; ``reference`` makes
    it idempotent (``store-fund:<key>``)."""
    amount, currency = _amount(amount), check_currency(currency)
    source, deposit = wallet_for(funder, currency), store_deposit_for(store_id, currency)
    return post_transaction(TransactionKind.TRANSFER, [(source, -amount), (deposit, amount)],
                            reference=reference, memo=memo or _("deposit for commissions"), initiator=funder)


def do_withdraw_store_deposit(store_id: int, to_user: User, amount: int, currency: str, *,
                              reference: str | None = None, initiator: User | None = None) -> Transaction:
    """Move what is free in a store's deposit (not held for pending commissions) to ``to_user``'s wallet.
    ``InsufficientFunds`` if the free deposit lacks it."""
    amount, currency = _amount(amount), check_currency(currency)
    deposit, target = store_deposit_for(store_id, currency), wallet_for(to_user, currency)
    return post_transaction(TransactionKind.TRANSFER, [(deposit, -amount), (target, amount)], reference=reference,
                            memo=_("withdrawn from a store deposit"), initiator=initiator)


def do_hold_for_commission(store_id: int, amount: int, currency: str, *, reference: str) -> Transaction:
    """Hold ``amount`` of a store's deposit for a pending commission (deposit -> store held).
    ``InsufficientFunds`` (nothing moves) when the deposit lacks it."""
    amount, currency = _amount(amount), check_currency(currency)
    legs = [(store_deposit_for(store_id, currency), -amount), (store_held_for(store_id, currency), amount)]
    return post_transaction(TransactionKind.HOLD, legs, reference=reference, memo=_("held for a commission"))


def do_release_for_commission(store_id: int, amount: int, currency: str, *, reference: str) -> Transaction:
    """Give ``amount`` held for a commission back to the store's deposit (a refund or a void)."""
    amount, currency = _amount(amount), check_currency(currency)
    legs = [(store_held_for(store_id, currency), -amount), (store_deposit_for(store_id, currency), amount)]
    return post_transaction(TransactionKind.RELEASE, legs, reference=reference, memo=_("commission hold released"))


def do_pay_commission(*, store_id: int, user_id: int, amount: int, currency: str, reference: str) -> Transaction:
    """A confirmed commission: from what its store holds for it to the creator's wallet. Called by the
    Showcase once it has held the full amount (``do_hold_for_commission``); ``InsufficientFunds`` otherwise.

    Idempotent by ``reference`` (e.g. ``"commission:<id>"``): a second call with the same reference
    returns the same transaction and moves nothing; the same reference with another amount, store or user
    is ``Conflict``.
    """
    amount, currency = _amount(amount), check_currency(currency)
    if not reference:
        raise ValidationFailed(_("A commission payout needs a reference."))
    if not User.objects.filter(pk=user_id).exists():
        raise NotFound(_("Account not found."))
    held = store_held_for(store_id, currency)
    return post_transaction(TransactionKind.COMMISSION, [(held, -amount), (wallet_for(user_id, currency), amount)],
                            reference=reference, memo=_("commission"))


def do_reverse_commission(*, reference: str) -> Transaction | None:
    """Take back a commission paid with ``do_pay_commission(reference=...)``: the creator's wallet -> the
    store's held account, once. None if it was never paid. ``InsufficientFunds`` if the creator has already
    spent or withdrawn it (the caller decides what then)."""
    tx = Transaction.objects.filter(reference=reference, kind=TransactionKind.COMMISSION).first()
    if tx is None:
        return None
    return ledger.reverse_transaction(tx, memo=_("commission reversed"))


def do_reverse(tx: Transaction, *, initiator: User | None = None, memo: str = "") -> Transaction:
    """Correct a transfer, commission, promotion charge or adjustment by posting its opposite, once
    (reversing it again returns the same reversal). Holds are released, not reversed; top-ups and
    withdrawals follow their provider. ``InsufficientFunds`` if a wallet has already spent the money."""
    if tx.kind not in REVERSIBLE:
        raise ValidationFailed(_("A %(kind)s cannot be reversed.") % {"kind": tx.get_kind_display()})
    return ledger.reverse_transaction(tx, memo=memo, initiator=initiator)


# --- holds ----------------------------------------------------------------------------------

def do_hold(user: User, amount: int, currency: str, memo: str = "", *, destination: Account | None = None,
            reference: str | None = None) -> Hold:
    """Reserve ``amount`` of the user's wallet (e.g. a campaign budget). The money moves wallet ->
    the user's held account, so the wallet balance is what remains spendable.

    ``destination``: where a capture sends the money by default (e.g. ``platform_account(
    "promotion_spend", currency)``). ``reference``: makes the hold idempotent (same reference ->
    the same hold). ``InsufficientFunds`` if the wallet lacks the amount.
    """
    amount, currency = _amount(amount), check_currency(currency)
    if destination is not None and destination.currency != currency:
        raise ValidationFailed(_("The destination account is in another currency."))
    if reference is not None:
        existing = Hold.objects.filter(reference=reference).first()
        if existing is not None:
            if existing.user_id != user.pk or existing.amount != amount or existing.currency != currency:
                raise Conflict(_("This reference was already used for a different hold."))
            return existing
    with transaction.atomic():
        return _hold(user, amount, currency, memo, destination=destination, reference=reference)


def _hold(user: User, amount: int, currency: str, memo: str, *, destination: Account | None,
          reference: str | None) -> Hold:
    wallet, held = wallet_for(user, currency), held_account_for(user, currency)
    hold_id = new_id()
    tx = post_transaction(TransactionKind.HOLD, [(wallet, -amount), (held, amount)], memo=memo,
                          reference=f"hold:{hold_id}", initiator=user)
    return Hold.objects.create(id=hold_id, user=user, wallet=wallet, held_account=held, destination=destination,
                               amount=amount, currency=currency, memo=memo[:200], reference=reference,
                               hold_transaction=tx)


def do_capture(hold: Hold, amount: int | None = None, *, to: Account | None = None,
               memo: str = "") -> Transaction | None:
    """Capture ``amount`` (default: all that is still held) of a pending hold into ``to`` (default: the
    hold's destination); the rest goes back to the wallet. A hold resolves once: ``Conflict`` if it is not
    pending. Parts already taken by ``do_capture_part`` count: the hold's ``captured`` ends as their sum.
    Returns the resolving transaction, or None when parts had already taken the whole hold (nothing moves)."""
    left = hold.amount - hold.captured
    amount = left if amount is None else check_minor(amount)
    if amount > left:
        raise ValidationFailed(_("You cannot capture more than the hold (%(amount)s).")
                               % {"amount": format_amount(left, hold.currency)})
    destination = to or hold.destination
    if destination is None:
        raise ValidationFailed(_("Where should the captured money go? The hold has no destination."))
    if destination.currency != hold.currency:
        raise ValidationFailed(_("The destination account is in another currency."))
    return _resolve_hold(hold, amount, destination, TransactionKind.CAPTURE, memo)


def do_release(hold: Hold, memo: str = "") -> Transaction | None:
    """Give what is still held of a pending hold back to the wallet (all of it unless ``do_capture_part``
    took parts). ``Conflict`` if it is not pending. None when parts had taken the whole hold."""
    return _resolve_hold(hold, 0, None, TransactionKind.RELEASE, memo)


def _resolve_hold(hold: Hold, amount: int, destination: Account | None, kind: str,
                  memo: str) -> Transaction | None:
    with transaction.atomic():
        now = timezone.now()
        # the conditional UPDATE takes the row (a concurrent do_capture_part waits or has committed), so the
        # parts read next are final
        changed = Hold.objects.filter(pk=hold.pk, status=HoldStatus.PENDING).update(
            status=HoldStatus.CAPTURED if amount else HoldStatus.RELEASED, resolved_at=now,
            destination=destination or hold.destination)
        if not changed:
            raise Conflict(_("This hold has already been captured or released."))
        before = Hold.objects.filter(pk=hold.pk).values_list("captured", flat=True).get()
        if before + amount > hold.amount:  # a part taken since the caller read the hold
            raise Conflict(_("You cannot capture more than the hold (%(amount)s).")
                           % {"amount": format_amount(hold.amount - before, hold.currency)})
        status = HoldStatus.CAPTURED if before + amount else HoldStatus.RELEASED
        Hold.objects.filter(pk=hold.pk).update(status=status, captured=before + amount)
        rest = hold.amount - before - amount
        held = Account.objects.get(pk=hold.held_account_id)
        legs: list[tuple[Account, int]] = [(held, -(hold.amount - before))] if hold.amount - before else []
        if amount:
            assert destination is not None  # do_capture made sure a capture has somewhere to go
            legs.append((destination, amount))
        if rest:
            legs.append((Account.objects.get(pk=hold.wallet_id), rest))
        tx: Transaction | None = None  # stays None when parts took everything: nothing left to move
        if legs:
            tx = post_transaction(kind, legs, reference=f"hold:{hold.pk}:resolve", memo=memo or hold.memo)
            Hold.objects.filter(pk=hold.pk).update(resolve_transaction=tx)
    hold.status, hold.captured, hold.resolved_at, hold.resolve_transaction = status, before + amount, now, tx
    return tx


def do_capture_part(hold: Hold, amount: int, *, reference: str, to: Account | None = None,
                    memo: str = "") -> Transaction:
    """Capture ``amount`` of a pending hold into ``to`` (default: its destination) and leave the hold
    pending, so more can be captured later and the rest released at the end (``do_release`` /
    ``do_capture``). A campaign pays its deliveries this way, batch by batch.

    Idempotent by ``reference`` (e.g. ``promotion:<campaign>:<batch>``): a retry returns the first
    transaction and captures nothing more. ``Conflict`` when the hold is no longer pending or has less
    than ``amount`` left (nothing moves). The hold's ``captured`` grows by a conditional UPDATE in the same
    transaction as the ledger posting, so concurrent parts never take more than the hold.
    """
    amount = check_minor(amount)
    if not reference or len(reference) > 120:
        raise ValidationFailed(_("A reference is 1 to 120 characters."))
    destination = to or hold.destination
    if destination is None:
        raise ValidationFailed(_("Where should the captured money go? The hold has no destination."))
    if destination.currency != hold.currency:
        raise ValidationFailed(_("The destination account is in another currency."))
    existing = Transaction.objects.filter(reference=reference).first()
    if existing is not None:
        return ledger._existing_for(existing, TransactionKind.CAPTURE,
                                    [(Account.objects.get(pk=hold.held_account_id), -amount), (destination, amount)])
    with transaction.atomic():
        changed = Hold.objects.filter(pk=hold.pk, status=HoldStatus.PENDING,
                                      captured__lte=F("amount") - amount).update(captured=F("captured") + amount)
        if not changed:
            again = Transaction.objects.filter(reference=reference).first()
            if again is not None:  # a concurrent retry of the same part won
                return again
            raise Conflict(_("This hold is no longer pending, or has less than %(amount)s left.")
                           % {"amount": format_amount(amount, hold.currency)})
        held = Account.objects.get(pk=hold.held_account_id)
        tx = post_transaction(TransactionKind.CAPTURE, [(held, -amount), (destination, amount)],
                              reference=reference, memo=memo or hold.memo)
    hold.captured = Hold.objects.filter(pk=hold.pk).values_list("captured", flat=True).get()
    return tx


# --- top-ups --------------------------------------------------------------------------------

def do_start_topup(user: User, amount: int, currency: str, provider: str) -> tuple[TopUp, str]:
    """Create a pending top-up and return it with the provider checkout URL to redirect the browser to.
    The wallet is credited later, when the provider's notification (or a query) confirms payment."""
    amount, currency = _amount(amount), check_currency(currency)
    impl = get_provider(provider)
    check_provider_currency(impl, currency)
    if amount < settings.TOPUP_MIN or amount > settings.TOPUP_MAX:
        raise ValidationFailed(_("A top-up is between %(min)s and %(max)s.")
                               % {"min": format_amount(settings.TOPUP_MIN, currency),
                                  "max": format_amount(settings.TOPUP_MAX, currency)}, field="amount")
    topup_id = new_id()
    topup = TopUp.objects.create(id=topup_id, user=user, provider=provider, order_no=f"T{topup_id}",
                                 amount=amount, currency=currency)
    return topup, impl.create_checkout(topup)


def do_handle_notification(provider: str, params: Mapping[str, str]) -> str:
    """Handle an asynchronous payment notification; return the reply body for the provider.

    The notify view passes the POSTed form (``request.POST.dict()``) and answers with the returned
    text as ``text/plain``. Do not call it inside ``transaction.atomic``: ``"success"`` means the
    credit is committed. Verified and matching our order (number, amount, currency) and paid: the
    wallet is credited exactly once (provider clearing -> wallet, reference ``topup:<id>``), however
    many times the notification arrives. Anything else (bad signature, foreign app or seller id,
    unknown order, altered amount, unpaid status): nothing moves and the reply is ``"failure"``.
    Every notification is logged in ``ProviderNotification``: the fields of a verified one; of one that
    does not verify (anyone can post to the endpoint) only a summary, its first ``UNVERIFIED_SUMMARY``
    characters.
    """
    raw = {str(k)[:64]: str(v)[:2000] for k, v in list(params.items())[:100]}
    order_no = _printable(raw.get("out_trade_no", "")[:64])
    try:
        impl = get_provider(provider)
    except NotFound:
        return _log_notification(_printable(provider[:24]), _summary(raw), False, order_no, "rejected",
                                 "provider not enabled")
    try:
        result = impl.parse_notification(dict(raw))
    except InvalidNotification as exc:
        return _log_notification(provider, _summary(raw), False, order_no, "rejected", str(exc))
    outcome, reason = _apply_payment(provider, result)
    stored = {_printable(k): _printable(v) for k, v in raw.items()}
    return _log_notification(provider, stored, True, result.order_no, outcome, reason)


UNVERIFIED_SUMMARY = 500  # characters kept of a notification that does not verify


def _printable(text: str) -> str:
    """Text safe to store and log: control characters (NUL included) and lone surrogates become "?"."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _summary(raw: Mapping[str, str]) -> dict[str, Any]:
    """What is kept of an unverified notification: the form, truncated, and how many fields it had."""
    text = "&".join(f"{k}={v}" for k, v in raw.items())
    return {"summary": _printable(text[:UNVERIFIED_SUMMARY]), "fields": len(raw),
            "truncated": len(text) > UNVERIFIED_SUMMARY}


def _log_notification(provider: str, raw: dict[str, Any], verified: bool, order_no: str, outcome: str,
                      reason: str) -> str:
    reply = SUCCESS if outcome in ("credited", "duplicate") else FAILURE
    ProviderNotification.objects.create(provider=provider, raw=raw, verified=verified, order_no=order_no[:64],
                                        outcome=outcome, reason=_printable(reason[:200]), reply=reply)
    if outcome == "rejected":
        log.warning("payments: %s notification rejected (%s) for order %r", provider, reason, order_no)
    return reply


def _apply_payment(provider: str, result: PaymentResult) -> tuple[str, str]:
    """Our business checks, then the credit. Returns (outcome, reason)."""
    topup = TopUp.objects.filter(order_no=result.order_no, provider=provider).first()
    if topup is None:
        return "rejected", "unknown order"
    if result.currency != topup.currency or result.amount != topup.amount:
        return "rejected", (f"amount differs: ours {topup.amount} {topup.currency}, "
                            f"theirs {result.amount} {result.currency}")
    if not result.paid:
        if result.status == "closed":
            TopUp.objects.filter(pk=topup.pk, status=TopUpStatus.PENDING).update(
                status=TopUpStatus.FAILED, failure_reason="closed at the provider", provider_trade_no=result.trade_no)
        return "not_paid", f"status {result.status}"
    return _credit_topup(topup, result.trade_no)


def _credit_topup(topup: TopUp, trade_no: str) -> tuple[str, str]:
    with transaction.atomic():
        changed = TopUp.objects.filter(pk=topup.pk).exclude(status=TopUpStatus.SUCCEEDED).update(
            status=TopUpStatus.SUCCEEDED, provider_trade_no=trade_no, paid_at=timezone.now(), failure_reason="")
        if not changed:
            current = TopUp.objects.get(pk=topup.pk)
            note = "" if current.provider_trade_no == trade_no else f"already paid by trade {current.provider_trade_no}"
            return "duplicate", note
        clearing = provider_clearing(topup.provider, topup.currency)
        wallet = wallet_for(topup.user_id, topup.currency)
        tx = post_transaction(TransactionKind.TOPUP, [(clearing, -topup.amount), (wallet, topup.amount)],
                              reference=f"topup:{topup.pk}", memo=f"{topup.provider} {trade_no}"[:200])
        TopUp.objects.filter(pk=topup.pk).update(transaction=tx)
    return "credited", ""


def do_query_topup(topup: TopUp) -> TopUp:
    """Ask the provider about a pending top-up (its notification may be lost) and credit it if paid.
    ``ProviderUnavailable`` propagates when the provider cannot answer now."""
    if topup.status == TopUpStatus.SUCCEEDED:
        return topup
    result = get_provider(topup.provider).query_trade(topup.order_no)
    if result is not None and result.order_no == topup.order_no:
        outcome, reason = _apply_payment(topup.provider, result)
        if outcome == "rejected":
            log.warning("payments: query of %s: %s", topup.order_no, reason)
    topup.refresh_from_db()
    return topup


# --- payout accounts and withdrawals ----------------------------------------------------------

def do_bind_payout_account(user: User, provider: str, identifier: str, holder_name: str) -> PayoutAccount:
    """Bind (or re-activate) where the user's withdrawals go at a provider. Binding it again, or with another
    holder name, restarts its cool-down (``payout_account_ready_at``)."""
    impl = get_provider(provider)
    identifier = impl.check_payout_identifier(identifier or "")
    holder_name = (holder_name or "").strip()
    if not identifier or len(identifier) > 100:
        raise ValidationFailed(_("Enter the account at the provider."), field="identifier")
    if not holder_name or len(holder_name) > 100:
        raise ValidationFailed(_("Enter the account holder's name."), field="holder_name")
    account, created = PayoutAccount.objects.get_or_create(
        user=user, provider=provider, identifier=identifier, defaults={"holder_name": holder_name})
    if not created and (not account.active or account.holder_name != holder_name):
        account.active, account.holder_name, account.bound_at = True, holder_name, timezone.now()
        account.save(update_fields=["active", "holder_name", "bound_at"])
    return account


def do_unbind_payout_account(user: User, payout_account: PayoutAccount) -> None:
    if payout_account.user_id != user.pk:
        raise Forbidden(_("This is not your payout account."))
    PayoutAccount.objects.filter(pk=payout_account.pk).update(active=False)


def do_request_withdrawal(user: User, amount: int, currency: str,
                          payout_account: PayoutAccount | None = None) -> Withdrawal:
    """Withdraw to a bound payout account (default: the most recently bound one). The money is held at
    once (``InsufficientFunds`` if the wallet lacks it); a background job pays out through the
    provider, then captures the hold (success) or releases it back to the wallet (failure)."""
    if user.is_suspended:  # payouts wait while an account is suspended (moderation); the balance stays its own
        raise Forbidden(_("This account is suspended: withdrawals wait until the suspension is lifted or an "
                          "appeal succeeds."))
    amount, currency = _amount(amount), check_currency(currency)
    if amount < settings.WITHDRAWAL_MIN:
        raise ValidationFailed(_("The smallest withdrawal is %(min)s.")
                               % {"min": format_amount(settings.WITHDRAWAL_MIN, currency)}, field="amount")
    if payout_account is None:
        payout_account = PayoutAccount.objects.filter(user=user, active=True).order_by("-bound_at").first()
        if payout_account is None:
            raise ValidationFailed(_("Bind a payout account first."), field="payout_account")
    elif payout_account.user_id != user.pk or not payout_account.active:
        raise Forbidden(_("This is not your payout account."))
    _check_cooldown(payout_account)
    if payout_account.provider != "sandbox" and "sandbox" in settings.PAYMENT_PROVIDERS:
        # the start-up check payments.E003 refuses this configuration; a server started without checks
        # still never pays sandbox money out for real
        log.error("payments: withdrawal through %s refused: the sandbox is enabled too", payout_account.provider)
        raise Conflict(_("Withdrawals are unavailable on this server."))
    impl = get_provider(payout_account.provider)
    check_provider_currency(impl, currency)
    with transaction.atomic():
        hold = _hold(user, amount, currency, _("withdrawal"), reference=None,
                     destination=provider_clearing(payout_account.provider, currency))
        withdrawal_id = new_id()
        withdrawal = Withdrawal.objects.create(
            id=withdrawal_id, user=user, payout_account=payout_account, provider=payout_account.provider,
            order_no=f"W{withdrawal_id}", amount=amount, currency=currency, hold=hold)
        transaction.on_commit(lambda: _enqueue_withdrawal(withdrawal_id))
    return withdrawal


def payout_account_ready_at(payout_account: PayoutAccount) -> datetime:
    """When a payout account may receive withdrawals: ``PAYOUT_ACCOUNT_COOLDOWN_HOURS`` after it was
    bound (or bound again), so a hijacked session cannot bind its own account and empty the wallet at once."""
    return payout_account.bound_at + timedelta(hours=settings.PAYOUT_ACCOUNT_COOLDOWN_HOURS)


def _check_cooldown(payout_account: PayoutAccount) -> None:
    ready = payout_account_ready_at(payout_account)
    if timezone.now() < ready:
        raise Conflict(
            _("This payout account was bound less than %(hours)d hours ago. Withdrawals to it are possible "
              "from %(when)s.")
            % {"hours": settings.PAYOUT_ACCOUNT_COOLDOWN_HOURS,
               "when": date_format(timezone.localtime(ready), "Y-m-d H:i T")},
            field="payout_account")


def _enqueue_withdrawal(withdrawal_id: int) -> None:
    """Queue the payout (run after commit). The one import from services up to tasks, and written in
    .importlinter: the huey job lives in ``tasks`` with its body, which calls ``do_process_withdrawal``
    here, and a job is enqueued through its task object. (The sweep resumes a withdrawal whose job was lost.)"""
    from .tasks import process_withdrawal

    process_withdrawal(withdrawal_id)


def do_process_withdrawal(withdrawal_id: int) -> Withdrawal:
    """Pay a withdrawal out (the background job; safe to run again: the provider call is idempotent by
    ``order_no`` and the outcome is applied once). A provider that cannot say yet leaves it processing."""
    started = Withdrawal.objects.filter(
        pk=withdrawal_id, status__in=[WithdrawalStatus.REQUESTED, WithdrawalStatus.PROCESSING]).update(
        status=WithdrawalStatus.PROCESSING, attempts=F("attempts") + 1)
    withdrawal = Withdrawal.objects.select_related("payout_account", "hold").get(pk=withdrawal_id)
    if not started:
        return withdrawal  # already finished
    try:
        result = get_provider(withdrawal.provider).payout(withdrawal, withdrawal.payout_account)
    except ProviderUnavailable as exc:
        log.warning("payments: payout %s: %s", withdrawal.order_no, exc)
        return withdrawal
    if result.status not in ("succeeded", "failed"):
        return withdrawal
    with transaction.atomic():
        final = WithdrawalStatus.SUCCEEDED if result.status == "succeeded" else WithdrawalStatus.FAILED
        changed = Withdrawal.objects.filter(pk=withdrawal.pk, status=WithdrawalStatus.PROCESSING).update(
            status=final, provider_ref=result.provider_ref[:64], failure_reason=result.reason[:200],
            finished_at=timezone.now())
        if changed:
            hold = withdrawal.hold
            if final == WithdrawalStatus.SUCCEEDED:
                clearing = provider_clearing(withdrawal.provider, withdrawal.currency)
                _resolve_hold(hold, hold.amount, clearing, TransactionKind.WITHDRAWAL, f"payout {withdrawal.order_no}")
                PayoutAccount.objects.filter(pk=withdrawal.payout_account_id).update(verified=True)
            else:
                _resolve_hold(hold, 0, None, TransactionKind.RELEASE, f"payout {withdrawal.order_no} failed")
    withdrawal.refresh_from_db()
    return withdrawal


# --- settlement -----------------------------------------------------------------------------

def clearing_movement(provider: str, currency: str, day: date) -> int:
    """Net change of the provider's clearing account on ``day`` (local date), settlements excluded."""
    start, end = day_bounds(day, day)
    clearing = provider_clearing(provider, currency)
    total = (Entry.objects.filter(account=clearing, transaction__created_at__gte=start,
                                  transaction__created_at__lt=end)
             .exclude(transaction__kind=TransactionKind.SETTLEMENT).aggregate(s=Sum("amount"))["s"])
    return total or 0


def do_settle(provider: str, currency: str, day: date, amount: int) -> Transaction | None:
    """Record that the provider settled ``day``'s business to the platform's bank: ``amount`` is the
    net the provider reports for the day (payments in minus payouts out), moved clearing ->
    settled. Once per provider, currency and day (reference ``settle:<provider>:<currency>:<day>``).
    After it, the clearing account's movements for that day net to zero exactly when our records and
    the provider's agree. Nothing is posted for a zero net."""
    currency = check_currency(currency)
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValidationFailed(_("Amounts are whole numbers of minor units."))
    if day >= timezone.localdate():
        raise ValidationFailed(_("Only a day that is over can be settled."))
    if amount == 0:
        return None
    clearing, settled = provider_clearing(provider, currency), provider_settled(provider, currency)
    return post_transaction(TransactionKind.SETTLEMENT, [(clearing, amount), (settled, -amount)],
                            reference=f"settle:{provider}:{currency}:{day.isoformat()}",
                            memo=f"{provider} settlement {day.isoformat()}")
