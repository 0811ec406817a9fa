"""Creators' showcase posts: ``/api/v1/tastemaker/showcase/import`` (read a product page for a draft),
``.../posts`` (publish a post with a product card), a post's card, and an account's storefront."""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Router

from tastemaker.accounts import services as account_services
from tastemaker.core.errors import NotFound
from tastemaker.core.pagination import page_from
from tastemaker.showcase import selectors
from tastemaker.showcase.cards import CardInput, do_create_showcase_post, read_product_page
from tastemaker.social import selectors as social
from tastemaker.trust.ratelimit import check_and_hit

from .. import schemas as S
from .. import serializers as ser
from ..auth import require_scope, viewer
from ..common import id_or_404, money, next_link, optional_id, status
from ..errors import READ, WRITE, responses
from ..schemas.showcase import ImportIn, ProductDraftOut, ShowcasePostIn
from ._common import IMPORT_RATE, optional_auth, user_auth

router = Router()


@router.post("/v1/tastemaker/showcase/import", auth=user_auth, response=responses({200: ProductDraftOut}, WRITE),
             summary="Read a product page: title, description, images, price, stock (for a card)",
             description=(
                 "The server fetches the page (public addresses only; size, time and redirects capped) and reads "
                 "schema.org Product / Offer (JSON-LD, microdata) or Open Graph `product:` tags. Nothing is saved: "
                 "confirm the draft, then create the post. 422 says why a page could not be read."))
def import_product(request, payload: ImportIn):
    require_scope(request, "write:statuses")
    check_and_hit("showcase_import", request.user.pk, IMPORT_RATE)
    draft, store = read_product_page(payload.url)
    partner = {"id": str(store.pk), "name": store.name} if store is not None else None
    return {"url": draft.url, "title": draft.title, "description": draft.description, "images": list(draft.images),
            "price": draft.price, "currency": draft.currency, "price_display": money(draft.price, draft.currency),
            "in_stock": draft.in_stock, "brand": draft.brand, "sku": draft.sku, "source": draft.source,
            "partner_store": partner}


@router.post("/v1/tastemaker/showcase/posts", auth=user_auth, response=responses({200: S.Status}, WRITE),
             summary="Publish a showcase post: a status with a product card",
             description=(
                 "The card is checked in full before anything is written (title not a keyword list, a reason of "
                 "at least a sentence, a disclosure, an image, a purchase link on a partner store); a refused card "
                 "leaves no post. Returns the Mastodon status, with `card` (Mastodon's preview card; its url is the "
                 "tracked link) and `tastemaker_card`."))
def create_showcase_post(request, payload: ShowcasePostIn):
    require_scope(request, "write:statuses")
    c = payload.card
    card = CardInput(
        title=c.title, reason=c.reason, url=c.url, disclosure=c.disclosure,
        image_media_id=optional_id(c.media_id, "media_id"), image_url=(c.image_url or None),
        price=c.price, currency=c.currency or None, stock=c.stock,
        product_id=optional_id(c.product_id, "product_id"), vertical=(c.vertical or None))
    language = (payload.language or None) and account_services.normalise_language(payload.language)
    post = do_create_showcase_post(
        request.user, text=payload.status or "", card=card, visibility=payload.visibility,
        sensitive=payload.sensitive, spoiler_text=payload.spoiler_text or "", language=language)
    return status(request, post)


@router.get("/v1/tastemaker/showcase/posts/{status_id}/card", auth=optional_auth,
            response=responses({200: S.ShowcaseCard}, READ), summary="The product card of a showcase post")
def get_card(request, status_id: str):
    post = social.get_post(viewer(request), id_or_404(status_id))
    shown = (post.reblog_of_id or post.pk) if post is not None else None
    view = selectors.cards_for_posts([shown]).get(shown) if shown is not None else None
    if view is None:
        raise NotFound("Record not found")
    return ser.tastemaker_card(view, ser.Ctx(request))


@router.get("/v1/tastemaker/showcase/accounts/{account_id}/storefront", auth=optional_auth,
            response=responses({200: list[S.ShowcaseCard]}, READ),
            summary="An account's storefront: its product cards, newest first",
            description="Filter by `vertical` (a slug); page with `max_id` and `limit` (≤ 40), or the Link header.")
def storefront(request, response: HttpResponse, account_id: str, vertical: str | None = None,
               max_id: str | None = None, limit: str | None = None):
    account = social.get_account(id_or_404(account_id))
    if account is None:
        raise NotFound("Record not found")
    page = page_from({"max_id": max_id, "limit": limit})
    # the web's Showcase tab reads the same (one rule: blocks either way, then social's visibility rule)
    views = selectors.visible_storefront(viewer(request), account, vertical=(vertical or "").strip() or None,
                                         max_id=page.max_id, limit=page.limit)
    next_link(request, response, views[-1].post_id if views else None, len(views) == page.limit)
    ctx = ser.Ctx(request)
    return [ser.tastemaker_card(v, ctx) for v in views]
