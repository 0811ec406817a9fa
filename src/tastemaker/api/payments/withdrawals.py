"""``/api/v1/tastemaker/wallet/withdrawals`` and ``.../payout_accounts``: taking money out of the wallet to a
bound payout account."""

from __future__ import annotations

from ninja import Router

from tastemaker.core.errors import NotFound
from tastemaker.core.ids import parse_id
from tastemaker.payments import selectors, services

from ..auth import require_scope
from ..common import KEY_HEADER, id_or_404, keyed
from ..errors import WRITE, responses
from ..schemas.payments import PayoutAccountIn, PayoutAccountOut, WithdrawalIn, WithdrawalOut
from ._common import KEYED, MOVE, READ_SCOPED, SCOPE, SCOPED, payout_account_json, user_auth, withdrawal_json

router = Router()


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
            account = selectors.payout_account_for(user, parse_id(payload.payout_account_id))
            if account is None:
                raise NotFound("No such payout account.", field="payout_account_id")
        w = services.do_request_withdrawal(user, payload.amount, payload.currency, payout_account=account)
        return 201, withdrawal_json(selectors.withdrawal_visible_to(user, w.pk))

    return keyed(request, "wallet/withdrawals", payload.model_dump(), act)


@router.get("/v1/tastemaker/wallet/withdrawals/{withdrawal_id}", auth=user_auth,
            response=responses({200: WithdrawalOut}, READ_SCOPED), summary="A withdrawal and its status",
            description=SCOPED.strip())
def get_withdrawal(request, withdrawal_id: str):
    require_scope(request, SCOPE)
    w = selectors.withdrawal_visible_to(request.user, id_or_404(withdrawal_id))
    if w is None:
        raise NotFound("Record not found")
    return withdrawal_json(w)


@router.post("/v1/tastemaker/wallet/payout_accounts", auth=user_auth,
             response=responses({200: PayoutAccountOut}, WRITE),
             summary="Bind a payout account (where withdrawals go); binding it again re-activates it",
             description="A newly bound (or re-bound) account receives withdrawals only after the server's cool-down "
                         "(`withdrawals_from`)." + SCOPED)
def bind_payout_account(request, payload: PayoutAccountIn):
    require_scope(request, SCOPE)
    account = services.do_bind_payout_account(request.user, payload.provider, payload.identifier,
                                              payload.holder_name)
    return payout_account_json(account)


@router.delete("/v1/tastemaker/wallet/payout_accounts/{payout_account_id}", auth=user_auth,
               response=responses({200: PayoutAccountOut}, WRITE), summary="Unbind a payout account",
               description=SCOPED.strip())
def unbind_payout_account(request, payout_account_id: str):
    require_scope(request, SCOPE)
    account = selectors.payout_account_for(request.user, id_or_404(payout_account_id))
    if account is None:
        raise NotFound("Record not found")
    services.do_unbind_payout_account(request.user, account)
    account.active = False
    return payout_account_json(account)
