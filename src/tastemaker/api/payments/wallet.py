"""``/api/v1/tastemaker/wallet``: balances per currency, pending holds, payout accounts, and the history of
every movement."""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.http import HttpResponse
from ninja import Query, Router

from tastemaker.core.errors import ValidationFailed
from tastemaker.core.money import check_currency
from tastemaker.core.pagination import link_header, page_from
from tastemaker.payments import selectors
from tastemaker.payments.models import TransactionKind
from tastemaker.payments.providers import enabled_providers

from ..auth import require_scope
from ..errors import responses
from ..schemas.payments import TransactionOut, WalletOut
from ._common import READ_SCOPED, SCOPE, SCOPED, hold_json, iso, payout_account_json, subject, user_auth

router = Router()


@router.get("/v1/tastemaker/wallet", auth=user_auth, response=responses({200: WalletOut}, READ_SCOPED),
            summary="Your wallet: balance per currency (available and on hold), pending holds, payout accounts",
            description="Operators may pass `account_id` to read another account's wallet; for anyone else that "
                        "is 404." + SCOPED)
def wallet(request, account_id: str | None = Query(None, description="Operators: another account's id")):
    require_scope(request, SCOPE)
    user = subject(request, account_id)
    return {"account_id": str(user.pk),
            "balances": [{"currency": b.currency, "available": b.available, "held": b.held, "total": b.total,
                          "available_display": b.available_display, "held_display": b.held_display}
                         for b in selectors.balances(user)],
            "holds": [hold_json(h) for h in selectors.holds(user, page=page_from({"limit": "40"}))],
            "payout_accounts": [payout_account_json(a) for a in selectors.payout_accounts(user)],
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
    user = subject(request, account_id)
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
