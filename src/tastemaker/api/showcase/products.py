"""``/api/v1/tastemaker/showcase/products/{id}``: a product, every partner store's offer of it, and the
accounts that recommend it."""

from __future__ import annotations

from ninja import Router

from tastemaker.core.errors import NotFound
from tastemaker.showcase import products

from .. import serializers as ser
from ..auth import viewer
from ..common import id_or_404, money
from ..errors import READ, responses
from ..schemas.showcase import ProductOut
from ._common import optional_auth

router = Router()


@router.get("/v1/tastemaker/showcase/products/{product_id}", auth=optional_auth,
            response=responses({200: ProductOut}, READ),
            summary="A product: every partner store's offer, and the accounts that recommend it")
def product(request, product_id: str):
    page = products.product_page(id_or_404(product_id), viewer=viewer(request))
    if page is None:
        raise NotFound("Record not found")
    item = page.product
    ctx = ser.Ctx(request)
    return {"id": str(item.pk), "title": item.title, "description": item.description,
            "images": list(item.images or []), "brand": item.brand, "gtin": item.gtin, "vertical": page.vertical,
            "offers": [{"store_id": str(o.store_id), "store_name": o.store_name, "url": o.url,
                        "price": o.price, "currency": o.currency, "price_display": money(o.price, o.currency),
                        "stock": o.stock, "stale": o.stale, "sold_out": o.sold_out,
                        "refreshed_at": ser.iso(o.refreshed_at)} for o in page.offers],
            "recommended_by": [{"account": ser.account(account, ctx), "cards": n} for account, n in page.recommended_by]}
