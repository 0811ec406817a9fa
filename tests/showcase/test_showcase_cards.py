"""Product cards: every validation rule with its message, links to several stores, stale and sold-out display."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tastemaker.core.errors import ValidationFailed
from tastemaker.showcase import selectors
from tastemaker.showcase.cards import check_reason, check_title, do_create_showcase_post
from tastemaker.showcase.catalog import do_upsert_catalog
from tastemaker.showcase.models import CardLink, Disclosure, ProductCard
from tastemaker.showcase.stores import do_create_store

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("title", [
    "Hydrating face cream", "Apple iPhone 15 Pro Max 256GB Natural Titanium", "雅诗兰黛特润修护肌活精华露",
    "Dyson V15 Detect 无绳吸尘器", "Le Creuset cast-iron pot, 24 cm",
])
def test_good_titles_pass(title):
    assert check_title(title) == title


@pytest.mark.parametrize(("title", "why"), [
    ("", "needs a title"),
    ("x" * 61, "keep it to 60"),
    ("Cream || best || cheap", "repeats separator"),
    ("Cream ★★★ sale", "repeats separator"),
    ("Cream/serum/mask/toner/oil", "too many separators"),
    ("cream cream face cream", "repeats \"cream\" 3 times"),
    ("面霜 面霜 保湿", "repeats \"面霜\""),
    ("Best cheap hot sale face cream", "stuffed with keywords"),
    ("正品 包邮 爆款 面霜", "stuffed with keywords"),
    ("面霜 保湿 补水 美白 抗老", "list of keywords"),
])
def test_stuffed_or_bad_titles_refused_with_reason(title, why):
    with pytest.raises(ValidationFailed) as err:
        check_title(title)
    assert why in err.value.message
    assert err.value.field == "title"


@pytest.mark.parametrize("reason", ["", "   ", "Great!", "Love it so much", "好用"])
def test_reason_must_be_a_sentence(reason):
    with pytest.raises(ValidationFailed) as err:
        check_reason(reason)
    assert err.value.field == "reason"


def test_reason_sentences_pass():
    assert check_reason("我用了一个月，干皮终于不起皮了，很推荐。")
    assert check_reason("It kept my skin soft through a whole winter of cold wind.")


def test_showcase_post_with_card(make_user, showcase_post, store):
    author = make_user("expert")
    post = showcase_post(author)
    card = ProductCard.objects.get(post=post)
    assert card.title == "Hydrating face cream"
    assert card.disclosure == Disclosure.AFFILIATE and card.disclosure_label == "Affiliate"
    link = CardLink.objects.get(card=card)
    assert link.primary and link.url == "https://shop.example.com/p/cream-1" and link.store_id == store.pk
    assert len(link.token) >= 16


@pytest.mark.parametrize(("overrides", "field", "text"), [
    ({"title": "best best best"}, "title", "repeats"),
    ({"reason": "ok"}, "reason", "too short"),
    ({"disclosure": "secret"}, "disclosure", "Choose a disclosure"),
    ({"url": "https://evil.example.net/p/1"}, "url", "partner store"),
    ({"url": "javascript:alert(1)"}, "url", "https://"),
    ({"price": -1}, "price", "minor units"),
    ({"price": 12.5}, "price", "minor units"),
    ({"stock": -3}, "stock", "0 or more"),
    ({"currency": "XXX"}, "currency", "not an accepted currency"),
    ({"image_media_id": 123456789}, "image", "image"),
])
def test_invalid_cards_refused_and_nothing_written(make_user, card_input, store, overrides, field, text):
    from tastemaker.social.models import Post

    author = make_user()
    with pytest.raises(ValidationFailed) as err:
        do_create_showcase_post(author, text="hello", card=card_input(author, **overrides))
    assert text in err.value.message
    assert Post.objects.count() == 0 and ProductCard.objects.count() == 0


def test_card_without_image_refused(make_user, card_input, store):
    author = make_user()
    card = card_input(author)
    card.image_media_id = None
    with pytest.raises(ValidationFailed, match="needs an image"):
        do_create_showcase_post(author, text="hello", card=card)


def test_multi_store_card_lists_every_store(make_user, operator, showcase_post, store):
    other, _secrets = do_create_store(operator, name="Other Mall", domains=["mall.example.org"])
    do_upsert_catalog(store, [{"external_id": "c1", "title": "Hydrating face cream", "gtin": "6901234567892",
                               "url": "https://shop.example.com/p/cream-1", "price": 12900, "stock": 5}])
    do_upsert_catalog(other, [{"external_id": "X-9", "title": "Hydrating face cream 50 ml", "gtin": "6901234567892",
                               "url": "https://www.mall.example.org/item/9", "price": 11900, "stock": 0}])
    post = showcase_post(make_user())
    view = selectors.card_view(post.card)
    assert [(o.store_name, o.price, o.sold_out) for o in view.offers] == [
        ("Good Shop", 12900, False), ("Other Mall", 11900, True)]
    assert {link.url for link in post.card.links.all()} == {"https://shop.example.com/p/cream-1",
                                                            "https://www.mall.example.org/item/9"}


def test_stale_price_is_never_shown_as_current(make_user, showcase_post, settings):
    post = showcase_post(make_user())
    fresh = selectors.card_view(post.card)
    assert fresh.offers[0].price == 12900 and not fresh.offers[0].stale
    ProductCard.objects.filter(pk=post.pk).update(priced_at=timezone.now() - timedelta(hours=73))
    stale = selectors.card_view(ProductCard.objects.get(pk=post.pk))
    assert stale.offers[0].stale and stale.offers[0].price is None and stale.offers[0].stock is None


def test_sold_out(make_user, showcase_post):
    post = showcase_post(make_user(), stock=0)
    assert selectors.card_view(post.card).offers[0].sold_out


def test_store_api_keys_always_find_their_store(operator):
    from tastemaker.showcase.stores import do_rotate_store_secrets, store_for_api_key

    store, secrets = do_create_store(operator, name="Keys", domains=["keys.example.com"])
    keys = [secrets.api_key] + [do_rotate_store_secrets(operator, store).api_key for _ in range(40)]
    assert any("_" in k.split("_", 2)[2] for k in keys)  # random parts with "_" are covered
    assert store_for_api_key(keys[-1]) == store
    assert all(store_for_api_key(k) is None for k in keys[:-1])  # rotated away
    assert store_for_api_key(keys[-1] + "x") is None and store_for_api_key("") is None


def test_followers_only_cards_stay_off_storefront_and_product_page(make_user, showcase_post, store):
    from tastemaker.showcase.catalog import do_upsert_catalog

    do_upsert_catalog(store, [{"external_id": "c1", "title": "Cream", "url": "https://shop.example.com/p/cream-1"}])
    author = make_user()
    hidden = showcase_post(author)
    hidden.visibility = "private"
    hidden.save()
    shown = showcase_post(author)
    assert [c.post_id for c in selectors.storefront(author.pk)] == [shown.pk]
    assert {c.post_id for c in selectors.storefront(author.pk, viewer=author)} == {shown.pk, hidden.pk}
    _product, _offers, creators = selectors.product_detail(shown.card.product_id)
    assert creators == [(author.pk, 1)]


def test_products_by_vertical_on_the_discover_page(client, make_user, showcase_post, store, operator):
    from tastemaker.experts.services import ensure_default_verticals

    ensure_default_verticals()
    do_upsert_catalog(store, [{"external_id": "c1", "title": "Hydrating face cream", "price": 9900,
                               "url": "https://shop.example.com/p/cream-1"}])
    first, second = make_user(), make_user()
    showcase_post(first, vertical="beauty")
    hidden = showcase_post(second, vertical="beauty")
    hidden.visibility = "private"
    hidden.save()
    tiles = selectors.products_in_vertical("beauty")
    assert [(t.product.title, t.cards, t.price) for t in tiles] == [("Hydrating face cream", 1, 9900)]
    assert tiles[0].image and not tiles[0].image.startswith("http")  # our re-encoded picture, not the store's
    page = client.get("/discover/beauty").content.decode()
    assert "Hydrating face cream" in page and f"/products/{tiles[0].product.pk}" in page and "¥99.00" in page
    assert selectors.products_in_vertical("tech") == []
