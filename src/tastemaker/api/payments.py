"""The Payments API: wallet balances and holds, history, top-ups, withdrawals, payout accounts, transfers,
and the operators' platform accounts and reconciliation.

Money is integer minor units (fen, cents) with its currency, never a float; ``*_display`` fields are the
same amounts formatted for people. Ids are strings.

Every request that moves money (``POST`` top-ups, withdrawals, transfers, reconciliation) needs an
``Idempotency-Key`` header (any unique string of 1-255 printable ASCII characters): the same key with the
same body replays the first response byte for byte (same status, header ``Idempotent-Replayed: true``),
the same key with another body is refused (422), and concurrent duplicates have one effect
(``payments.idempotency``). Only the owner of a wallet, and operators, can read or move its money:
anyone else gets 404. Every operation here, reads included, needs a token with the ``payments`` scope
(403 without it): ``read`` and ``write``, which every Mastodon client asks for, do not include it.
Handlers are thin: check the shape, call payments.services / selectors, render.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field, StrictBool, StrictInt

from tastemaker.accounts.models import User
from tastemaker.core.errors import NotFound, ValidationFailed
from tastemaker.core.ids import parse_id
from tastemaker.core.money import check_currency, format_amount
from tastemaker.core.pagination import link_header, page_from
from tastemaker.payments import idempotency, reconcile, selectors, services
from tastemaker.payments.models import (
    Hold,
    IdempotencyRecord,
    PayoutAccount,
    ReconciliationRun,
    TopUp,
    TransactionKind,
    Withdrawal,
)
from tastemaker.payments.providers import ProviderUnavailable, enabled_providers, get_provider
from tastemaker.trust.ratelimit import check_and_hit

from . import serializers as ser
from .auth import BearerAuth, require_scope
from .errors import READ, WRITE, responses

router = Router(tags=["Payments"])
user_auth = BearerAuth()

SCOPE = "payments"  # its own OAuth scope: neither read nor write grants it
MONEY = "minor units (fen, cents) of `currency`"
MOVE = (*WRITE, 409)  # 409: insufficient funds, or a state that no longer allows it
READ_SCOPED = tuple(sorted({*READ, 403}))  # 403: the token lacks the payments scope
SCOPED = " Needs a token with the `payments` scope (403 without it; `read` and `write` do not grant it)."
MAX_RECONCILE_DAYS = 92
KEY_HEADER = {"parameters": [{
    "in": "header", "name": "Idempotency-Key", "required": True,
    "description": "A unique string (1-255 printable ASCII characters) per money request: repeating it with the "
                   "same body replays the first response; with another body it is refused (422); missing: 400.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255}}]}
KEYED = ("Send an `Idempotency-Key` header: a retry with the same key and body replays the first response "
         "byte for byte (same status; header `Idempotent-Replayed: true`) and moves nothing again.")


# --- schemas --------------------------------------------------------------------------------

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


# --- helpers --------------------------------------------------------------------------------

iso = ser.iso


def _id_or_404(value: str | None) -> int:
    number = parse_id(value) if value is not None else None
    if number is None:
        raise NotFound("Record not found")
    return number


def _subject(request, account_id: str | None) -> User:
    """Whose money: the caller's, or (operators only) another account's. Anyone else: 404."""
    me = request.user
    if account_id in (None, ""):
        return me
    number = _id_or_404(account_id)
    if number == me.pk:
        return me
    if not me.is_staff:
        raise NotFound("Record not found")
    user = User.objects.filter(pk=number).first()
    if user is None:
        raise NotFound("Record not found")
    return user


def _owned(request, model, object_id: str):
    """A top-up or withdrawal its owner (or an operator) may see; 404 for anyone else."""
    qs = model.objects.filter(pk=_id_or_404(object_id))
    if not request.user.is_staff:
        qs = qs.filter(user=request.user)
    found = qs.first()
    if found is None:
        raise NotFound("Record not found")
    return found


def _hold(h: Hold) -> dict:
    return {"id": str(h.pk), "amount": h.amount, "currency": h.currency,
            "amount_display": format_amount(h.amount, h.currency), "status": h.status, "captured": h.captured,
            "memo": h.memo, "created_at": iso(h.created_at), "resolved_at": iso(h.resolved_at)}


def _payout_account(a: PayoutAccount) -> dict:
    return {"id": str(a.pk), "provider": a.provider, "identifier": a.identifier, "holder_name": a.holder_name,
            "verified": a.verified, "active": a.active, "bound_at": iso(a.bound_at),
            "withdrawals_from": iso(services.payout_account_ready_at(a))}


def _topup(t: TopUp, redirect_url: str | None = None) -> dict:
    return {"id": str(t.pk), "order_no": t.order_no, "provider": t.provider, "amount": t.amount,
            "currency": t.currency, "amount_display": format_amount(t.amount, t.currency), "status": t.status,
            "redirect_url": redirect_url, "failure_reason": t.failure_reason, "created_at": iso(t.created_at),
            "paid_at": iso(t.paid_at)}


def _withdrawal(w: Withdrawal) -> dict:
    return {"id": str(w.pk), "order_no": w.order_no, "provider": w.provider, "amount": w.amount,
            "currency": w.currency, "amount_display": format_amount(w.amount, w.currency), "status": w.status,
            "payout_account": _payout_account(w.payout_account), "failure_reason": w.failure_reason,
            "created_at": iso(w.created_at), "finished_at": iso(w.finished_at)}


def _run(run: ReconciliationRun) -> dict:
    report = run.report or {}
    return {"id": str(run.pk), "provider": run.provider, "date_from": run.date_from.isoformat(),
            "date_to": run.date_to.isoformat(), "statement_lines": run.statement_lines, "matched": run.matched,
            "mismatch_count": run.mismatch_count, "ok": run.ok, "clearing_ok": bool(report.get("clearing_ok", True)),
            "mismatches": [{k: m.get(k, "") for k in ("kind", "record", "order_no", "ours", "theirs", "note")}
                           for m in report.get("mismatches", [])],
            "clearing": [{k: row[k] for k in ("date", "currency", "movement", "settled", "settlement", "net")}
                         for row in report.get("clearing", [])],
            "settled": list(report.get("settled", []))}


def _keyed(request, operation: str, payload: dict, act) -> HttpResponse:
    """Run ``act`` once per (user, Idempotency-Key) and answer with the stored response."""
    key = idempotency.require_key(request.headers.get("Idempotency-Key"))
    fingerprint = idempotency.request_fingerprint("POST", operation, payload)
    result = idempotency.run_idempotent(request.user, key, fingerprint, act)
    response = HttpResponse(result.body, status=result.status, content_type="application/json; charset=utf-8")
    if result.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _operator(request) -> None:
    if not request.user.is_staff:
        raise NotFound("Record not found")


# --- the wallet -----------------------------------------------------------------------------

@router.get("/v1/tastemaker/wallet", auth=user_auth, response=responses({200: WalletOut}, READ_SCOPED),
            summary="Your wallet: balance per currency (available and on hold), pending holds, payout accounts",
            description="Operators may pass `account_id` to read another account's wallet; for anyone else that "
                        "is 404." + SCOPED)
def wallet(request, account_id: str | None = Query(None, description="Operators: another account's id")):
    require_scope(request, SCOPE)
    user = _subject(request, account_id)
    return {"account_id": str(user.pk),
            "balances": [{"currency": b.currency, "available": b.available, "held": b.held, "total": b.total,
                          "available_display": b.available_display, "held_display": b.held_display}
                         for b in selectors.balances(user)],
            "holds": [_hold(h) for h in selectors.holds(user, page=page_from({"limit": "40"}))],
            "payout_accounts": [_payout_account(a) for a in selectors.payout_accounts(user)],
            "providers": enabled_providers()}


def _day(value: str | None, field: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"{field}: a date, YYYY-MM-DD", field=field) from None
    if not selectors.DATE_MIN <= day <= selectors.DATE_MAX:
        raise ValidationFailed(f"{field}: a date between {selectors.DATE_MIN} and {selectors.DATE_MAX}",
                               field=field)
    return day


@router.get("/v1/tastemaker/wallet/transactions", auth=user_auth,
            response=responses({200: list[TransactionOut]}, READ_SCOPED),
            summary="Your wallet's history: every movement, newest first",
            description="Filter by `kind`, `direction` (in / out), `currency`, and `since` / `until` (local days, "
                        "inclusive, YYYY-MM-DD, years 2000-2100). Page with `max_id` (older) or `min_id` (newer) "
                        "and `limit` (≤ 40), or follow the Link header. Operators may pass `account_id`." + SCOPED)
def transactions(request, response: HttpResponse,
                 kind: str | None = Query(None, description="A transaction kind: " + ", ".join(TransactionKind.values)),
                 direction: Literal["in", "out"] | None = None, currency: str | None = None,
                 since: str | None = None, until: str | None = None, max_id: str | None = None,
                 min_id: str | None = None, limit: str | None = None, account_id: str | None = None):
    require_scope(request, SCOPE)
    user = _subject(request, account_id)
    page = page_from({"max_id": max_id, "min_id": min_id, "limit": limit})
    rows = selectors.history(user, currency=check_currency(currency) if currency else None, kind=kind, direction=direction,
                             since=_day(since, "since"), until=_day(until, "until"), page=page)
    link = link_header(request.build_absolute_uri(request.path), request.GET.dict(),
                       rows[0].id if rows else None, rows[-1].id if rows else None)
    if link:
        response["Link"] = link
    return [{"id": str(r.id), "transaction_id": str(r.transaction_id), "kind": r.kind, "kind_display": r.kind_display,
             "direction": r.direction, "amount": r.amount, "currency": r.currency, "amount_display": r.amount_display,
             "memo": r.memo, "created_at": iso(r.created_at), "reversed": r.reversed,
             "reverses_id": str(r.reverses_id) if r.reverses_id else None} for r in rows]


@router.post("/v1/tastemaker/wallet/topups", auth=user_auth, response=responses({201: TopUpOut}, MOVE),
             openapi_extra=KEY_HEADER,
             summary="Start a top-up: returns the provider's checkout URL to send the payer to",
             description="The wallet is credited once the provider confirms the payment (its signed notification, "
                         "or a query), exactly once however many notifications arrive. " + KEYED + SCOPED)
def start_topup(request, payload: TopUpIn):
    require_scope(request, SCOPE)
    check_and_hit("payments_topup", request.user.pk, "RATE_POST")  # each one opens an order at the provider
    user = request.user

    def act():
        topup, url = services.do_start_topup(user, payload.amount, payload.currency, payload.provider)
        return 201, _topup(topup, request.build_absolute_uri(url))

    return _keyed(request, "wallet/topups", payload.model_dump(), act)


@router.get("/v1/tastemaker/wallet/topups/{topup_id}", auth=user_auth, response=responses({200: TopUpOut}, READ_SCOPED),
            summary="A top-up and its status (pending until the provider confirms)", description=SCOPED.strip())
def get_topup(request, topup_id: str):
    require_scope(request, SCOPE)
    return _topup(_owned(request, TopUp, topup_id))


@router.post("/v1/tastemaker/wallet/withdrawals", auth=user_auth, response=responses({201: WithdrawalOut}, MOVE),
             openapi_extra=KEY_HEADER,
             summary="Withdraw to one of your payout accounts",
             description="The amount is held at once (409 when the wallet lacks it), paid out by the provider in the "
                         "background, then taken (`succeeded`) or given back (`failed`). 409 also while the payout "
                         "account was bound less than the server's cool-down ago (24 hours by default; the "
                         "account's `withdrawals_from`). " + KEYED + SCOPED)
def request_withdrawal(request, payload: WithdrawalIn):
    require_scope(request, SCOPE)
    user = request.user

    def act():
        account = None
        if payload.payout_account_id:
            number = parse_id(payload.payout_account_id)
            account = (PayoutAccount.objects.filter(pk=number, user=user, active=True).first()
                       if number is not None else None)
            if account is None:
                raise NotFound("No such payout account.", field="payout_account_id")
        w = services.do_request_withdrawal(user, payload.amount, payload.currency, payout_account=account)
        w = Withdrawal.objects.select_related("payout_account").get(pk=w.pk)
        return 201, _withdrawal(w)

    return _keyed(request, "wallet/withdrawals", payload.model_dump(), act)


@router.get("/v1/tastemaker/wallet/withdrawals/{withdrawal_id}", auth=user_auth,
            response=responses({200: WithdrawalOut}, READ_SCOPED), summary="A withdrawal and its status",
            description=SCOPED.strip())
def get_withdrawal(request, withdrawal_id: str):
    require_scope(request, SCOPE)
    w = _owned(request, Withdrawal, withdrawal_id)
    return _withdrawal(Withdrawal.objects.select_related("payout_account").get(pk=w.pk))


@router.post("/v1/tastemaker/wallet/payout_accounts", auth=user_auth,
             response=responses({200: PayoutAccountOut}, WRITE),
             summary="Bind a payout account (where withdrawals go); binding it again re-activates it",
             description="A newly bound (or re-bound) account receives withdrawals only after the server's cool-down "
                         "(`withdrawals_from`)." + SCOPED)
def bind_payout_account(request, payload: PayoutAccountIn):
    require_scope(request, SCOPE)
    account = services.do_bind_payout_account(request.user, payload.provider, payload.identifier,
                                              payload.holder_name)
    return _payout_account(account)


@router.delete("/v1/tastemaker/wallet/payout_accounts/{payout_account_id}", auth=user_auth,
               response=responses({200: PayoutAccountOut}, WRITE), summary="Unbind a payout account",
               description=SCOPED.strip())
def unbind_payout_account(request, payout_account_id: str):
    require_scope(request, SCOPE)
    account = PayoutAccount.objects.filter(pk=_id_or_404(payout_account_id), user=request.user, active=True).first()
    if account is None:
        raise NotFound("Record not found")
    services.do_unbind_payout_account(request.user, account)
    account.active = False
    return _payout_account(account)


@router.post("/v1/tastemaker/wallet/transfers", auth=user_auth, response=responses({201: TransferOut}, MOVE),
             openapi_extra=KEY_HEADER,
             summary="Send money from your wallet to another account's",
             description="409 when your wallet lacks the amount; 404 for an unknown account. " + KEYED + SCOPED)
def transfer(request, payload: TransferIn):
    require_scope(request, SCOPE)
    user = request.user

    def act():
        number = parse_id(payload.to)
        target = User.objects.filter(pk=number, is_active=True).first() if number is not None else None
        if target is None:
            raise NotFound("Account not found.", field="to")
        tx = services.do_transfer(user, target, payload.amount, payload.currency, memo=payload.memo.strip())
        currency = payload.currency.strip().upper()
        return 201, {"transaction_id": str(tx.pk), "from_account_id": str(user.pk), "to_account_id": str(target.pk),
                     "amount": payload.amount, "currency": currency,
                     "amount_display": format_amount(payload.amount, currency), "memo": tx.memo,
                     "created_at": iso(tx.created_at)}

    return _keyed(request, "wallet/transfers", payload.model_dump(), act)


# --- operators ------------------------------------------------------------------------------

@router.get("/v1/tastemaker/ops/payments/accounts", auth=user_auth, response=responses({200: PlatformOut}, READ_SCOPED),
            summary="Operators: the platform's accounts (revenue, commissions payable, promotion spend, provider "
                    "clearing and settled) and per-currency totals",
            description="The sum of all balances of a currency is zero when the ledger balances. 404 for "
                        "anyone who is not an operator." + SCOPED)
def platform_accounts(request):
    require_scope(request, SCOPE)
    _operator(request)
    overview = selectors.platform_overview()
    return {"accounts": [{**a, "id": str(a["id"])} for a in overview["accounts"]],
            "currencies": [{"currency": c, **{k: v[k] for k in ("sum_of_all_balances", "balanced", "wallets", "held",
                                                                "wallet_count", "pending_holds")}}
                           for c, v in sorted(overview["currencies"].items())]}


@router.post("/v1/tastemaker/ops/payments/reconcile", auth=user_auth,
             response=responses({201: ReconcileOut}, (*MOVE, 503)), openapi_extra=KEY_HEADER,
             summary="Operators: reconcile a provider's statement with our records",
             description="Lists every mismatch (by order number: missing on either side, amount or status differs) "
                         "and checks that the provider's clearing account nets to zero for each settled day. With "
                         "`settle` and no mismatch, the period's days are settled first. 503 when the provider "
                         "cannot be reached. 404 for anyone who is not an operator. " + KEYED + SCOPED)
def reconcile_provider(request, payload: ReconcileIn):
    require_scope(request, SCOPE)
    _operator(request)
    key = idempotency.require_key(request.headers.get("Idempotency-Key"))
    if payload.provider not in enabled_providers():
        raise ValidationFailed("provider: not a payment provider of this server.", field="provider")
    if payload.date_to < payload.date_from:
        raise ValidationFailed("date_to: the end date is before the start date.", field="date_to")
    if (payload.date_to - payload.date_from).days >= MAX_RECONCILE_DAYS:
        raise ValidationFailed(f"date_to: reconcile at most {MAX_RECONCILE_DAYS} days at once.", field="date_to")
    if payload.date_to > timezone.localdate():
        raise ValidationFailed("date_to: the period cannot end in the future.", field="date_to")
    statement = None
    if not IdempotencyRecord.objects.filter(user=request.user, key=key).exists():
        try:  # a remote provider: fetched before the database transaction, and not at all for a replay
            statement = get_provider(payload.provider).statement(payload.date_from, payload.date_to)
        except ProviderUnavailable as exc:
            raise HttpError(503, f"The provider could not be reached: {str(exc)[:200]}") from None

    def act():
        run = reconcile.reconcile(payload.provider, payload.date_from, payload.date_to, statement=statement,
                                  settle=payload.settle)
        return 201, _run(run)

    return _keyed(request, "ops/payments/reconcile", payload.model_dump(mode="json"), act)
