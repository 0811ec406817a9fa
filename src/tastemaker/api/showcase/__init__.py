"""The Showcase API (橱窗): partner stores' catalog and order webhooks, creators' showcase posts, storefronts,
products, earnings and commissions, and store management.

Two kinds of caller:

* a **partner store**, with ``Authorization: Bearer <store API key>`` (``/api/v1/showcase/catalog``), or
  with Standard Webhooks signatures (``/api/v1/showcase/stores/{id}/webhooks``: no key, the signature
  is the proof, checked before anything is read or written);
* a **user** with an OAuth token (``/api/v1/tastemaker/showcase/...``).

Money is always integer minor units (fen, cents) with its currency, never a float; ``*_display`` fields
are the same amounts formatted for people. Ids are strings. Showcase posts are Mastodon statuses whose
``card`` is the product card and whose ``tastemaker_card`` is the full card (schemas.ShowcaseCard).
Handlers are thin: check the shape, call a showcase service or selector, render. One module per resource:
``catalog`` and ``webhooks`` (partner stores), ``cards`` (imports, showcase posts, cards, storefronts),
``products``, ``commissions`` (earnings and commissions), ``stores`` (store management and deposits);
schemas in api/schemas/showcase.py.
"""

from ninja import Router

from . import cards, catalog, commissions, products, stores, webhooks

router = Router(tags=["Showcase"])
for _resource in (catalog, webhooks, cards, products, commissions, stores):
    router.add_router("", _resource.router)
