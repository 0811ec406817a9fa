"""The product page (``/products/<id>`` and ``GET /api/v1/tastemaker/showcase/products/{id}``): one read
for both, built on the Showcase selectors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tastemaker.social.visibility import Surface, ViewerLike, accounts_q, posts_q

from .models import Product, ProductCard
from .selectors import CardView, card_views, product_detail, stale_before


@dataclass
class ProductOffer:
    """A partner store's offer on the product page: a stale offer shows no price or stock."""
    store_id: int
    store_name: str
    url: str
    price: int | None
    currency: str
    stock: int | None
    stale: bool
    sold_out: bool
    refreshed_at: datetime


@dataclass
class ProductPage:
    product: Product
    vertical: str | None  # slug
    offers: list[ProductOffer]
    recommended_by: list[tuple]  # (User, number of public cards), active and not suspended accounts only
    recent_cards: list[CardView]  # the newest public cards of the product
    image: str  # our re-encoded picture of the newest card, never a store's hot-linked image


def product_page(product_id: int, *, recent: int = 5, viewer: ViewerLike = None) -> ProductPage | None:
    """Everything a product page shows (the web page and ``GET /showcase/products/{id}``): offers at approved
    stores with stale prices hidden, who recommends it, its newest public cards — the cards ``viewer`` may see
    listed (``social.visibility``, ``Surface.PUBLIC``). None: no such product."""
    from tastemaker.accounts.models import User
    from tastemaker.experts.models import Vertical

    found = product_detail(product_id, viewer)
    if found is None:
        return None
    product, offers, creators = found
    cutoff = stale_before()
    rows = []
    for o in offers:
        stale = o.refreshed_at < cutoff
        price, stock = (None, None) if stale else (o.price, o.stock)
        rows.append(ProductOffer(store_id=o.store_id, store_name=o.store.name, url=o.url, price=price,
                                 currency=o.currency, stock=stock, stale=stale,
                                 sold_out=not stale and stock is not None and stock <= 0,
                                 refreshed_at=o.refreshed_at))
    users = {u.pk: u for u in User.objects.filter(pk__in=[c for c, _n in creators]).filter(accounts_q())}
    vertical = (Vertical.objects.filter(pk=product.vertical_id).values_list("slug", flat=True).first()
                if product.vertical_id else None)
    cards = list(ProductCard.objects.select_related("vertical")
                 .filter(product=product).filter(posts_q(viewer, Surface.PUBLIC, "post__", originals=False))
                 .order_by("-pk")[:recent])
    views = card_views(cards)
    return ProductPage(product=product, vertical=vertical, offers=rows,
                       recommended_by=[(users[c], n) for c, n in creators if c in users],
                       recent_cards=[views[c.pk] for c in cards],
                       image=(cards[0].image_preview or cards[0].image) if cards else "")
