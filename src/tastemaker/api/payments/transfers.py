"""``/api/v1/tastemaker/wallet/transfers``: sending money from your wallet to another account's."""

from __future__ import annotations

from ninja import Router

from tastemaker.accounts import selectors as accounts
from tastemaker.core.errors import NotFound
from tastemaker.core.ids import parse_id
from tastemaker.core.money import format_amount
from tastemaker.payments import services

from ..auth import require_scope
from ..common import KEY_HEADER, keyed
from ..errors import responses
from ..schemas.payments import TransferIn, TransferOut
from ._common import KEYED, MOVE, SCOPE, SCOPED, iso, user_auth

router = Router()


@router.post("/v1/tastemaker/wallet/transfers", auth=user_auth, response=responses({201: TransferOut}, MOVE),
             openapi_extra=KEY_HEADER,
             summary="Send money from your wallet to another account's",
             description="409 when your wallet lacks the amount; 404 for an unknown account. " + KEYED + SCOPED)
def transfer(request, payload: TransferIn):
    require_scope(request, SCOPE)
    user = request.user

    def act():
        target = accounts.active_account(parse_id(payload.to))
        if target is None:
            raise NotFound("Account not found.", field="to")
        tx = services.do_transfer(user, target, payload.amount, payload.currency, memo=payload.memo.strip())
        currency = payload.currency.strip().upper()
        return 201, {"transaction_id": str(tx.pk), "from_account_id": str(user.pk), "to_account_id": str(target.pk),
                     "amount": payload.amount, "currency": currency,
                     "amount_display": format_amount(payload.amount, currency), "memo": tx.memo,
                     "created_at": iso(tx.created_at)}

    return keyed(request, "wallet/transfers", payload.model_dump(), act)
