"""``/api/v1/showcase/stores/{id}/webhooks``: a partner store's signed order webhooks (Standard Webhooks):
no key, the signature is the proof, checked before anything is read or written."""

from __future__ import annotations

from django.conf import settings
from ninja import Router

from tastemaker.core.errors import NotFound
from tastemaker.core.ids import parse_id
from tastemaker.showcase import selectors
from tastemaker.showcase.orders import do_receive_webhook, verify_webhook
from tastemaker.trust.ratelimit import check_and_hit

from ..errors import responses
from ..schemas.showcase import WEBHOOK_BODY, WebhookOut
from ._common import STORE_RATE, WEBHOOK_CODES

router = Router()


@router.post("/v1/showcase/stores/{store_id}/webhooks", response=responses({200: WebhookOut}, WEBHOOK_CODES),
             url_name="showcase_webhook", summary="Store: an order webhook (Standard Webhooks)",
             openapi_extra=WEBHOOK_BODY,
             description=(
                 "`order.paid`, `order.refunded` (full or partial, with `refund_id`) and `order.cancelled`, signed "
                 "per Standard Webhooks: headers `webhook-id`, `webhook-timestamp` (±"
                 f"{settings.SHOWCASE_WEBHOOK_TOLERANCE} s) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "
                 "id.timestamp.body>` with the store's `whsec_` secret). A delivery that is forged, altered or too old "
                 "is refused with 401 and nothing is written. Deliveries are deduplicated by `webhook-id` "
                 "(`duplicate`), and may arrive in any order. `data.click_id` is the `tm_click` parameter of the "
                 "landing URL; amounts are integers in minor units."))
def receive_webhook(request, store_id: str):
    store = selectors.get_store(parse_id(store_id))
    if store is None:
        raise NotFound("Record not found")
    body, headers = request.body, dict(request.headers)
    verify_webhook(store, body, headers)  # first: a forged delivery costs no more than this
    check_and_hit("showcase_webhook", store.pk, STORE_RATE)
    return {"status": do_receive_webhook(store, body, headers).status}
