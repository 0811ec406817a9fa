"""What the Payments resources share: the scope, the declared error codes, whose money a request is about,
and rendering holds, payout accounts, top-ups, withdrawals and reconciliation runs."""

from __future__ import annotations

from tastemaker.core.errors import NotFound
from tastemaker.core.money import format_amount
from tastemaker.payments import selectors, services
from tastemaker.payments.models import Hold, PayoutAccount, ReconciliationRun, TopUp, Withdrawal

from .. import serializers as ser
from ..auth import BearerAuth
from ..common import id_or_404
from ..errors import READ, WRITE

user_auth = BearerAuth()

SCOPE = "payments"  # its own OAuth scope: neither read nor write grants it
MONEY = "minor units (fen, cents) of `currency`"
MOVE = (*WRITE, 409)  # 409: insufficient funds, or a state that no longer allows it
READ_SCOPED = tuple(sorted({*READ, 403}))  # 403: the token lacks the payments scope
SCOPED = " Needs a token with the `payments` scope (403 without it; `read` and `write` do not grant it)."
KEYED = ("Send an `Idempotency-Key` header: a retry with the same key and body replays the first response "
         "byte for byte (same status; header `Idempotent-Replayed: true`) and moves nothing again.")

iso = ser.iso


def subject(request, account_id: str | None):
    """Whose money: the caller's, or (operators only) another account's. Anyone else: 404."""
    user = selectors.wallet_subject(request.user, None if account_id in (None, "") else id_or_404(account_id))
    if user is None:
        raise NotFound("Record not found")
    return user


def hold_json(h: Hold) -> dict:
    return {"id": str(h.pk), "amount": h.amount, "currency": h.currency,
            "amount_display": format_amount(h.amount, h.currency), "status": h.status, "captured": h.captured,
            "memo": h.memo, "created_at": iso(h.created_at), "resolved_at": iso(h.resolved_at)}


def payout_account_json(a: PayoutAccount) -> dict:
    return {"id": str(a.pk), "provider": a.provider, "identifier": a.identifier, "holder_name": a.holder_name,
            "verified": a.verified, "active": a.active, "bound_at": iso(a.bound_at),
            "withdrawals_from": iso(services.payout_account_ready_at(a))}


def topup_json(t: TopUp, redirect_url: str | None = None) -> dict:
    return {"id": str(t.pk), "order_no": t.order_no, "provider": t.provider, "amount": t.amount,
            "currency": t.currency, "amount_display": format_amount(t.amount, t.currency), "status": t.status,
            "redirect_url": redirect_url, "failure_reason": t.failure_reason, "created_at": iso(t.created_at),
            "paid_at": iso(t.paid_at)}


def withdrawal_json(w: Withdrawal) -> dict:
    return {"id": str(w.pk), "order_no": w.order_no, "provider": w.provider, "amount": w.amount,
            "currency": w.currency, "amount_display": format_amount(w.amount, w.currency), "status": w.status,
            "payout_account": payout_account_json(w.payout_account), "failure_reason": w.failure_reason,
            "created_at": iso(w.created_at), "finished_at": iso(w.finished_at)}


def run_json(run: ReconciliationRun) -> dict:
    report = run.report or {}
    return {"id": str(run.pk), "provider": run.provider, "date_from": run.date_from.isoformat(),
            "date_to": run.date_to.isoformat(), "statement_lines": run.statement_lines, "matched": run.matched,
            "mismatch_count": run.mismatch_count, "ok": run.ok, "clearing_ok": bool(report.get("clearing_ok", True)),
            "mismatches": [{k: m.get(k, "") for k in ("kind", "record", "order_no", "ours", "theirs", "note")}
                           for m in report.get("mismatches", [])],
            "clearing": [{k: row[k] for k in ("date", "currency", "movement", "settled", "settlement", "net")}
                         for row in report.get("clearing", [])],
            "settled": list(report.get("settled", []))}


def check_operator(request) -> None:
    if not request.user.is_staff:
        raise NotFound("Record not found")
