"""The Showcase reads and checks the HTTP layers share (api/showcase and the web pages call the same ones):
reading a product page for a draft, the storefront's visibility, a product page, a store by id."""

from __future__ import annotations

import pytest

from tastemaker.core.errors import ValidationFailed
from tastemaker.showcase import cards, importer, products, selectors
from tastemaker.showcase.importer import ProductDraft
from tastemaker.social import services as social
from tastemaker.social.models import Post

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("failure", [RuntimeError("parser bug"), KeyError("price"), UnicodeDecodeError(
    "utf-8", b"\xff", 0, 1, "bad")])
def test_reading_a_product_page_never_fails_with_a_500(monkeypatch, failure):
    """Any failure to read a page is the page's problem: a 422 on the url (the web page used to let a
    non-domain error through as a 500; the API answered 422)."""
    def broken(url):
        raise failure

    monkeypatch.setattr(importer, "import_product", broken)
    with pytest.raises(ValidationFailed) as exc:
        cards.read_product_page("https://shop.example.com/p/1")
    assert exc.value.field == "url" and exc.value.status == 422


def test_reading_a_product_page_finds_its_partner_store(monkeypatch, store):
    def draft_for(url):
        return ProductDraft(url=url, title="Hydrating face cream", description="", images=[], price=12900,
                            currency="CNY", in_stock=True, brand="", sku="", source="json-ld")

    monkeypatch.setattr(importer, "import_product", draft_for)
    draft, found = cards.read_product_page("  https://shop.example.com/p/cream-1 ")
    assert draft.url == "https://shop.example.com/p/cream-1" and found.pk == store.pk
    draft, found = cards.read_product_page("https://elsewhere.example.org/p/1")
    assert draft.title == "Hydrating face cream" and found is None


def test_the_storefront_shows_what_the_visibility_rule_shows(make_user, showcase_post):
    expert, fan, stranger, blocked = (make_user(n) for n in ("expert", "fan", "stranger", "blocked"))
    public = showcase_post(expert)
    private = showcase_post(expert, text="for fans only")
    Post.objects.filter(pk=private.pk).update(visibility="private")
    social.do_follow(fan, expert)
    social.do_block(expert, blocked)
    views = selectors.storefront(expert.pk, viewer=expert)
    assert [v.post_id for v in views] == [private.pk, public.pk]

    def shown(viewer):
        return [v.post_id for v in selectors.visible_storefront(viewer, expert)]

    assert shown(expert) == [private.pk, public.pk]
    assert shown(fan) == [private.pk, public.pk]
    assert shown(stranger) == [public.pk] and shown(None) == [public.pk]
    assert shown(blocked) == []  # the creator blocked them: none of the creator's posts


def test_a_product_page_hides_stale_prices_and_suspended_recommenders(make_user, store, showcase_post):
    from datetime import timedelta

    from django.utils import timezone

    from tastemaker.showcase.catalog import do_upsert_catalog
    from tastemaker.showcase.models import Offer, Product

    do_upsert_catalog(store, [{"external_id": "c1", "title": "Hydrating face cream", "gtin": "6901234567892",
                               "url": "https://shop.example.com/p/cream-1", "price": 12900, "stock": 0}])
    product = Product.objects.get(gtin="6901234567892")
    fresh = products.product_page(product.pk)
    assert [(o.price, o.stock, o.stale, o.sold_out) for o in fresh.offers] == [(12900, 0, False, True)]
    Offer.objects.filter(product=product).update(refreshed_at=timezone.now() - timedelta(days=30))
    stale = products.product_page(product.pk)
    assert [(o.price, o.stock, o.stale, o.sold_out) for o in stale.offers] == [(None, None, True, False)]
    expert, gone = make_user("expert"), make_user("gone")
    showcase_post(expert, product_id=product.pk)
    showcase_post(gone, product_id=product.pk)
    gone.is_suspended = True
    gone.save(update_fields=["is_suspended"])
    assert [(a.pk, n) for a, n in products.product_page(product.pk).recommended_by] == [(expert.pk, 1)]
    assert products.product_page(product.pk + 999_999) is None


def test_a_store_by_id(store):
    assert selectors.get_store(store.pk) == store
    assert selectors.get_store(None) is None and selectors.get_store(store.pk + 1) is None
