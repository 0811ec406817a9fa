"""Operators: ``/api/v1/tastemaker/ops/payments/accounts`` (the platform's accounts and per-currency totals) and
``.../reconcile`` (a provider's statement against our records)."""

from __future__ import annotations

from ninja import Router
from ninja.errors import HttpError

from tastemaker.payments import reconcile, selectors
from tastemaker.payments.providers import ProviderUnavailable

from ..auth import require_scope
from ..common import KEY_HEADER, keyed_response
from ..errors import responses
from ..schemas.payments import PlatformOut, ReconcileIn, ReconcileOut
from ._common import KEYED, MOVE, READ_SCOPED, SCOPE, SCOPED, check_operator, run_json, user_auth

router = Router()


@router.get("/v1/tastemaker/ops/payments/accounts", auth=user_auth, response=responses({200: PlatformOut}, READ_SCOPED),
            summary="Operators: the platform's accounts (revenue, commissions payable, promotion spend, provider "
                    "clearing and settled) and per-currency totals",
            description="The sum of all balances of a currency is zero when the ledger balances. 404 for "
                        "anyone who is not an operator." + SCOPED)
def platform_accounts(request):
    require_scope(request, SCOPE)
    check_operator(request)
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
    check_operator(request)
    try:  # one rule with the operators' web page (payments.reconcile.do_reconcile_request)
        result = reconcile.do_reconcile_request(
            request.user, request.headers.get("Idempotency-Key"), "ops/payments/reconcile", payload.provider,
            payload.date_from, payload.date_to, payload.settle, respond=run_json)
    except ProviderUnavailable as exc:
        raise HttpError(503, f"The provider could not be reached: {str(exc)[:200]}") from None
    return keyed_response(result)
