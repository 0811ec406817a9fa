"""Store management for brand owners and operators (``/api/v1/tastemaker/showcase/stores``): creating,
changing, approving stores, rotating their secrets, and funding their deposit (it pays the commissions of
the creators who sell for the store) or taking back what is free in it."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from ninja import Router

from tastemaker.core.errors import NotFound
from tastemaker.core.money import format_amount
from tastemaker.showcase import selectors
from tastemaker.showcase.stores import (
    check_store_operator,
    do_create_store,
    do_decide_store,
    do_fund_store_deposit,
    do_rotate_store_secrets,
    do_update_store,
    do_withdraw_store_deposit,
)
from tastemaker.trust.ratelimit import check_and_hit

from ..auth import require_scope
from ..common import KEY_HEADER, id_or_404, keyed
from ..errors import READ, WRITE, responses
from ..payments._common import SCOPE as PAYMENTS_SCOPE
from ..schemas.showcase import (
    StoreDecisionIn,
    StoreDepositIn,
    StoreDepositMoveOut,
    StoreIn,
    StoreOut,
    StorePatchIn,
    StoreSecretsOut,
)
from ._common import deposit_json, managed_store, store_json, user_auth, with_secrets

router = Router()


@router.post("/v1/tastemaker/showcase/stores", auth=user_auth, response=responses({200: StoreSecretsOut}, WRITE),
             summary="Create a partner store (an operator's is approved at once; a brand's waits for one)",
             description="The answer carries the API key and the webhook signing secret: shown this once. Needs a "
                         "token with the `stores` scope (403 without it; `write` does not grant it).")
def create_store(request, payload: StoreIn):
    require_scope(request, "stores")  # it answers with secrets: not for every client holding `write`
    check_and_hit("showcase_store", request.user.pk, "RATE_POST")
    store, created = do_create_store(
        request.user, name=payload.name, domains=payload.domains, commission_bp=payload.commission_bp,
        attribution_days=payload.attribution_days, return_days=payload.return_days)
    return with_secrets(store, created, request)


@router.get("/v1/tastemaker/showcase/stores", auth=user_auth, response=responses({200: list[StoreOut]}, READ),
            summary="The partner stores you manage (operators: all)")
def list_stores(request):
    require_scope(request, "read:accounts")
    return [store_json(s, request) for s in selectors.stores_for(request.user)]


@router.get("/v1/tastemaker/showcase/stores/{store_id}", auth=user_auth, response=responses({200: StoreOut}, READ),
            summary="A partner store you manage")
def get_store(request, store_id: str):
    require_scope(request, "read:accounts")
    return store_json(managed_store(request, store_id), request)


@router.patch("/v1/tastemaker/showcase/stores/{store_id}", auth=user_auth, response=responses({200: StoreOut}, WRITE),
              summary="Change a partner store",
              description="A brand changing anything an operator reviewed on an approved store (its name, domains, "
                          "rate, attribution or return window) sends it back for approval. Rates and windows must "
                          "be within the instance's limits (422 names them); a name another store has (in any "
                          "letter case, width, spacing or punctuation) is refused (422).")
def update_store(request, store_id: str, payload: StorePatchIn):
    require_scope(request, "write:accounts")
    store = managed_store(request, store_id)
    changes = payload.model_dump(exclude_unset=True)
    return store_json(do_update_store(request.user, store, **changes), request)


@router.post("/v1/tastemaker/showcase/stores/{store_id}/rotate_secrets", auth=user_auth,
             response=responses({200: StoreSecretsOut}, WRITE),
             summary="New API key and webhook secret (the old ones stop working at once); shown this once",
             description="Needs a token with the `stores` scope (403 without it; `write` does not grant it).")
def rotate_store_secrets(request, store_id: str):
    require_scope(request, "stores")
    store = managed_store(request, store_id)
    created = do_rotate_store_secrets(request.user, store)
    return with_secrets(store, created, request)


def _decide(request, store_id: str, payload: StoreDecisionIn, approve: bool) -> dict:
    require_scope(request, "write:accounts")
    check_store_operator(request.user)  # first: the same 403 whether the store exists or not
    store = selectors.get_store(id_or_404(store_id))
    if store is None:
        raise NotFound("Record not found")
    return store_json(do_decide_store(request.user, store, approve=approve, note=payload.note), request)


@router.post("/v1/tastemaker/showcase/stores/{store_id}/approve", auth=user_auth,
             response=responses({200: StoreOut}, WRITE), summary="Operators: approve a partner store")
def approve_store(request, store_id: str, payload: StoreDecisionIn):
    return _decide(request, store_id, payload, approve=True)


@router.post("/v1/tastemaker/showcase/stores/{store_id}/reject", auth=user_auth,
             response=responses({200: StoreOut}, WRITE), summary="Operators: reject a partner store")
def reject_store(request, store_id: str, payload: StoreDecisionIn):
    return _decide(request, store_id, payload, approve=False)


# --- a store's deposit: it funds the commissions of the creators who sell for it --------------

def _deposit_move(request, store_id: str, payload: StoreDepositIn, operation: str, move) -> HttpResponse:
    require_scope(request, PAYMENTS_SCOPE)
    store = managed_store(request, store_id)
    data = payload.model_dump()

    def act():
        currency = (payload.currency or settings.DEFAULT_CURRENCY).strip().upper()
        tx = move(request.user, store, payload.amount, currency)
        return 201, {"transaction_id": str(tx.pk), "store_id": str(store.pk), "amount": payload.amount,
                     "currency": currency, "amount_display": format_amount(payload.amount, currency),
                     "deposit": deposit_json(store)}

    return keyed(request, f"showcase/stores/{store.pk}/{operation}", data, act)


@router.post("/v1/tastemaker/showcase/stores/{store_id}/deposit", auth=user_auth,
             response=responses({201: StoreDepositMoveOut}, (*WRITE, 409)), openapi_extra=KEY_HEADER,
             summary="Fund a store's deposit from your wallet (it pays the store's commissions)",
             description="Moves money from your wallet into the store's deposit, then holds (or pays, once confirmed) "
                         "its commissions awaiting funding, oldest first. A brand store is funded by its brand, an "
                         "operator-run store by an operator. 409 when your wallet lacks the amount. Send an "
                         "`Idempotency-Key` header (a retry replays the first response). Needs the `payments` scope.")
def fund_store_deposit(request, store_id: str, payload: StoreDepositIn):
    return _deposit_move(request, store_id, payload, "deposit", do_fund_store_deposit)


@router.post("/v1/tastemaker/showcase/stores/{store_id}/deposit/withdraw", auth=user_auth,
             response=responses({201: StoreDepositMoveOut}, (*WRITE, 409)), openapi_extra=KEY_HEADER,
             summary="Take back what is free in a store's deposit (not held for pending commissions)",
             description="To the brand's wallet (only the brand that runs the store); an operator-run store's to the "
                         "acting operator's. 409 when the free deposit lacks the amount. Send an `Idempotency-Key` "
                         "header. Needs the `payments` scope.")
def withdraw_store_deposit(request, store_id: str, payload: StoreDepositIn):
    return _deposit_move(request, store_id, payload, "deposit/withdraw", do_withdraw_store_deposit)
