"""``/api/v1/tastemaker/wallet/topups``: paying money into the wallet through a provider's checkout."""

from __future__ import annotations

from ninja import Router

from tastemaker.core.errors import NotFound
from tastemaker.payments import selectors, services
from tastemaker.trust.ratelimit import check_and_hit

from ..auth import require_scope
from ..common import KEY_HEADER, id_or_404, keyed
from ..errors import responses
from ..schemas.payments import TopUpIn, TopUpOut
from ._common import KEYED, MOVE, READ_SCOPED, SCOPE, SCOPED, topup_json, user_auth

router = Router()


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
        return 201, topup_json(topup, request.build_absolute_uri(url))

    return keyed(request, "wallet/topups", payload.model_dump(), act)


@router.get("/v1/tastemaker/wallet/topups/{topup_id}", auth=user_auth, response=responses({200: TopUpOut}, READ_SCOPED),
            summary="A top-up and its status (pending until the provider confirms)", description=SCOPED.strip())
def get_topup(request, topup_id: str):
    require_scope(request, SCOPE)
    topup = selectors.topup_visible_to(request.user, id_or_404(topup_id))
    if topup is None:
        raise NotFound("Record not found")
    return topup_json(topup)
