"""``/api/v1/showcase/catalog``: a partner store upserts its offers, with its API key."""

from __future__ import annotations

from django.conf import settings
from ninja import Router

from tastemaker.showcase.catalog import do_upsert_catalog
from tastemaker.trust.ratelimit import check_and_hit

from ..errors import responses
from ..schemas.showcase import CatalogIn, CatalogOut
from ._common import STORE_CODES, STORE_RATE, store_auth

router = Router()


@router.post("/v1/showcase/catalog", auth=store_auth, response=responses({200: CatalogOut}, STORE_CODES),
             summary="Store: upsert catalog items (batch of up to 500, all or nothing)",
             description=(
                 "Create items, replace them, or update price and stock, by the store's own `external_id`. "
                 "All or nothing: one bad item refuses the whole batch with a 422 whose message names the item "
                 "(\"Item 3: …\", counted from 0). Prices are integers in minor units (fen, cents). Purchase URLs "
                 "must be on the store's domains. Each upsert marks price and stock as confirmed now; cards show "
                 f"prices older than {settings.SHOWCASE_STALE_HOURS} h as \"check the price at the store\". "
                 "Authenticate with `Authorization: Bearer <store API key>`."))
def upsert_catalog(request, payload: CatalogIn):
    store = request.store
    check_and_hit("showcase_catalog", store.pk, STORE_RATE)
    items = [item.model_dump(exclude_unset=True) for item in payload.items]
    return do_upsert_catalog(store, items)
