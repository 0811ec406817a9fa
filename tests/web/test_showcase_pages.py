"""Showcase pages: the composer (import, validation next to the field, nothing lost), cards in posts (disclosure,
stale and sold-out offers, tracked links), the storefront tab, product pages, earnings and commission trails,
partner stores (secrets shown once), who may see what, and no query per post on the home timeline."""

from __future__ import annotations

import hashlib
import re
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fetchserver import FixtureServer
from showcase_fixtures import REASON
from showcase_signer import StoreSigner
from tastemaker.showcase import services
from tastemaker.showcase.models import (
    CardLink,
    ClickOut,
    Commission,
    Offer,
    PartnerStore,
    ProductCard,
    StoreStatus,
)
from tastemaker.social import services as social
from tastemaker.social.models import Post

pytestmark = pytest.mark.django_db

@pytest.fixture(autouse=True)
def _verticals(db):
    from tastemaker.experts.services import ensure_default_verticals

    ensure_default_verticals()


@pytest.fixture
def card_defaults() -> dict:
    return {"vertical": "beauty"}


@pytest.fixture
def expert(make_user):
    return make_user("expert", display_name="Expert Eve")


def body(response) -> str:
    return response.content.decode()


def field_block(html: str, field_id: str) -> str:
    """The composer's <div class="field"> around the input with this id (its label, input, help, errors)."""
    start = html.index(f'id="{field_id}"')
    opening = html.rfind('<div class="field', 0, start)
    closing = html.find('<div class="field', start)
    return html[opening: closing if closing != -1 else len(html)]


def deliver(store_secret: str, event_type: str, data: dict) -> tuple[bytes, dict]:
    return StoreSigner(store_secret).deliver(event_type, data)


# --- the composer ---------------------------------------------------------------------------

def test_composer_needs_login(client):
    response = client.get("/compose/showcase")
    assert response.status_code == 302 and response["Location"].startswith("/login?next=")


def test_composer_renders_every_field(client, expert):
    client.force_login(expert)
    html = body(client.get("/compose/showcase"))
    for name in ("import_url", "title", "reason", "url", "price", "stock", "image", "text", "vertical"):
        assert f'name="{name}"' in html, name
    for value in ("own", "affiliate", "gifted", "paid"):
        assert f'name="disclosure" value="{value}"' in html
    assert "You earn a commission when someone buys through your link." in html
    assert 'value="beauty"' in html  # the verticals to choose from
    assert "No partner store is approved yet" in html


def test_composer_lists_the_stores_a_creator_may_link_to(client, expert, store):
    client.force_login(expert)
    html = body(client.get("/compose/showcase"))
    listed = html.split('<details class="sc-stores"')[1].split("</details>")[0]
    assert "1 partner store you can link to" in listed and "Good Shop" in listed
    assert "shop.example.com" in listed and "10% commission, 7-day window" in listed


def test_publish_with_an_uploaded_image(client, expert, store, png_bytes):
    client.force_login(expert)
    image = ("cream.png", png_bytes(), "image/png")
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post("/compose/showcase", {
        "action": "publish", "title": "Hydrating face cream", "reason": REASON,
        "url": "https://shop.example.com/p/cream-1", "price": "129.00", "currency": "CNY", "stock": "8",
        "disclosure": "paid", "vertical": "beauty", "text": "My pick of the month",
        "image": SimpleUploadedFile(*image)})
    assert response.status_code == 302, body(response)
    card = ProductCard.objects.get(creator=expert)
    assert response["Location"] == f"/posts/{card.pk}"
    assert (card.price, card.currency, card.stock, card.disclosure, card.vertical.slug) == (12900, "CNY", 8, "paid",
                                                                                            "beauty")
    page = body(client.get(response["Location"]))
    token = card.links.get().token
    assert "Your showcase post is published." in page
    assert f'href="/go/{token}" rel="nofollow sponsored noopener"' in page
    assert "Buy at Good Shop" in page and "¥129.00" in page
    assert 'class="sc-disclosure sc-disclosure-paid"' in page and ">Ad<" in page


def test_card_image_uploads_count_against_the_upload_limit(client, expert, store, png_bytes, png_bomb, settings):
    """Issue 10, item 6: the composer's image goes through the same upload limit and header checks."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.RATE_MEDIA = "2/300"
    client.force_login(expert)
    form = {"action": "publish", "title": "Hydrating face cream", "reason": REASON,
            "url": "https://shop.example.com/p/cream-1", "price": "129.00", "currency": "CNY", "stock": "8",
            "disclosure": "paid", "vertical": "beauty", "text": "My pick"}
    bomb = client.post("/compose/showcase", {**form, "image": SimpleUploadedFile("b.png", png_bomb(6300, 6300),
                                                                                 "image/png")})
    assert bomb.status_code == 422 and "too many pixels" in body(bomb)
    ok = client.post("/compose/showcase", {**form, "image": SimpleUploadedFile("a.png", png_bytes(), "image/png")})
    assert ok.status_code == 302
    limited = client.post("/compose/showcase", {**form, "image": SimpleUploadedFile("a.png", png_bytes(),
                                                                                    "image/png")})
    assert limited.status_code in (422, 429) and "rate limit reached" in body(limited)
    assert ProductCard.objects.filter(creator=expert).count() == 1


def test_errors_show_at_their_field_and_nothing_is_lost(client, expert, store, png_bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(expert)
    typed = {"action": "publish", "title": "Best cheap hot sale face cream", "reason": REASON,
             "url": "https://shop.example.com/p/cream-1", "price": "129.00", "currency": "CNY", "stock": "3",
             "disclosure": "gifted", "vertical": "beauty", "text": "Winter skin care, part 2"}
    response = client.post("/compose/showcase", {**typed, "image": SimpleUploadedFile("a.png", png_bytes(),
                                                                                      "image/png")})
    assert response.status_code == 422
    html = body(response)
    title = field_block(html, "id_title")
    assert "has-error" in title and "stuffed with keywords" in title
    assert "stuffed with keywords" not in field_block(html, "id_reason")
    assert 'value="Best cheap hot sale face cream"' in html and REASON in html
    assert 'value="129.00"' in html and 'value="3"' in html and "Winter skin care, part 2" in html
    assert 'value="gifted" checked' in html and 'value="beauty" selected' in html
    held = re.search(r'name="image_media_id" value="(\d+)"', html)
    assert held, "the uploaded image is kept for the next try"
    assert not ProductCard.objects.exists()

    # fixed: the same uploaded image is used, without uploading it again
    from tastemaker.social.models import Media

    uploaded = Media.objects.get(pk=held.group(1), owner=expert, post__isnull=True)
    fixed = {**typed, "title": "Hydrating face cream", "image_media_id": held.group(1)}
    response = client.post("/compose/showcase", fixed)
    assert response.status_code == 302
    assert ProductCard.objects.get().image == uploaded.file
    assert not Media.objects.filter(owner=expert).exists()  # the one upload, used up by the card


@pytest.mark.parametrize(("changes", "field_id", "message"), [
    ({"price": "12.345"}, "id_price", "more decimals"),
    ({"price": "abc"}, "id_price", "not an amount"),
    ({"price": "１２９"}, "id_price", "for example 12 or 12.50"),
    ({"price": "129,5"}, "id_price", "for example 12 or 12.50"),
    ({"stock": "-1"}, "id_stock", "whole number"),
    ({"reason": "Great!"}, "id_reason", "at least a full sentence"),
    ({"url": "https://evil.example.org/p/1"}, "id_url", "partner store"),
    ({"url": "javascript:alert(1)"}, "id_url", "https://"),
    ({"disclosure": ""}, "id_disclosure_missing", "Choose a disclosure"),
    ({"image_media_id": ""}, "id_image", "needs an image"),
])
def test_each_refusal_names_its_field(client, expert, store, png_bytes, changes, field_id, message):
    client.force_login(expert)
    media = social.do_upload_media(expert, png_bytes())
    data = {"action": "publish", "title": "Hydrating face cream", "reason": REASON,
            "url": "https://shop.example.com/p/cream-1", "price": "129", "currency": "CNY", "stock": "",
            "disclosure": "own", "image_media_id": str(media.pk), **changes}
    response = client.post("/compose/showcase", data)
    assert response.status_code == 422
    html = body(response)
    if field_id == "id_disclosure_missing":
        fieldset = html[html.index('sc-disclosures'):html.index("</fieldset>", html.index('sc-disclosures'))]
        assert message in fieldset
    else:
        assert message in field_block(html, field_id), field_block(html, field_id)
    assert not ProductCard.objects.exists()


PRODUCT_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Kettle</title>
<script type="application/ld+json">{"@context": "https://schema.org/", "@type": "Product",
 "name": "Gooseneck pour-over kettle", "image": ["/img/kettle.png"], "sku": "K-1",
 "offers": {"@type": "Offer", "priceCurrency": "CNY", "price": "129.00",
            "availability": "https://schema.org/OutOfStock"}}</script></head>
<body><h1>Gooseneck pour-over kettle</h1></body></html>"""


def test_import_fills_the_form_and_publishes_with_the_fetched_image(client, expert, store, png_bytes):
    client.force_login(expert)
    with FixtureServer() as server, server.allowed():
        server.respond("/p/kettle", PRODUCT_PAGE)
        server.respond("/img/kettle.png", png_bytes((300, 200)), content_type="image/png")
        typed = {"reason": REASON, "disclosure": "affiliate", "text": "kept"}
        response = client.post("/compose/showcase", {"action": "import", "import_url": server.url("/p/kettle"),
                                                     **typed})
        assert response.status_code == 200
        html = body(response)
        image_url = server.url("/img/kettle.png")
        assert 'value="Gooseneck pour-over kettle"' in html
        assert 'value="129.00"' in html and 'name="stock" value="0"' in html
        assert f'name="image_url" value="{image_url}" checked' in html
        # the fetched page is not on a partner store's domains: said at the purchase link, before publishing
        assert "partner store" in field_block(html, "id_url")
        assert REASON in html and 'value="affiliate" checked' in html and "kept" in html

        response = client.post("/compose/showcase", {
            "action": "publish", "title": "Gooseneck pour-over kettle", "price": "129.00", "currency": "CNY",
            "stock": "0", "url": "https://shop.example.com/p/kettle", "image_url": image_url,
            "imported_images": [image_url], **typed})
        assert response.status_code == 302, body(response)
    card = ProductCard.objects.get()
    assert card.image and card.price == 12900 and card.stock == 0
    assert "Sold out" in body(client.get(response["Location"]))


def test_import_refusal_is_shown_at_the_import_field(client, expert):
    client.force_login(expert)
    response = client.post("/compose/showcase", {"action": "import", "import_url": "http://169.254.169.254/latest",
                                                 "title": "typed title", "reason": "typed reason"})
    assert response.status_code == 422
    html = body(response)
    assert "has-error" in field_block(html, "id_import_url")
    assert 'value="typed title"' in html and "typed reason" in html


# --- cards in posts -------------------------------------------------------------------------

def test_card_shows_in_timeline_thread_and_profile(client, expert, make_user, showcase_post):
    fan = make_user("fan")
    social.do_follow(fan, expert)
    post = showcase_post(expert)
    token = post.card.links.get().token
    client.force_login(fan)
    for url in ("/", f"/posts/{post.pk}", "/@expert", "/public"):
        html = body(client.get(url))
        assert f'href="/go/{token}"' in html, url
        assert "Affiliate" in html and "Hydrating face cream" in html and "¥129.00" in html


def test_stale_price_is_not_shown_as_current(client, expert, showcase_post):
    post = showcase_post(expert)
    ProductCard.objects.filter(pk=post.pk).update(priced_at=timezone.now() - timedelta(hours=73))
    html = body(client.get(f"/posts/{post.pk}"))
    assert "Check the price at the store" in html
    assert "¥129.00" not in html


def test_sold_out_shows(client, expert, showcase_post):
    post = showcase_post(expert, stock=0)
    html = body(client.get(f"/posts/{post.pk}"))
    assert "Sold out" in html and "Check the price at the store" not in html


def test_multi_store_card_and_product_page(client, expert, operator, showcase_post):
    other, _secrets = services.do_create_store(operator, name="Other Mall", domains=["mall.example.net"])
    good = PartnerStore.objects.get(name="Good Shop")
    services.do_upsert_catalog(good, [{"external_id": "c1", "title": "Hydrating face cream", "gtin": "6901234567892",
                                       "url": "https://shop.example.com/p/cream-1", "price": 12900, "stock": 5}])
    services.do_upsert_catalog(other, [{"external_id": "x9", "title": "Hydrating face cream", "gtin": "6901234567892",
                                        "url": "https://mall.example.net/i/x9", "price": 11900, "stock": 0}])
    post = showcase_post(expert)
    card = ProductCard.objects.get(pk=post.pk)
    assert card.product_id and card.links.count() == 2
    html = body(client.get(f"/posts/{post.pk}"))
    assert "Buy at Good Shop" in html and "Buy at Other Mall" in html
    assert f'href="/products/{card.product_id}"' in html
    assert "Sold out" in html  # the other store's offer

    page = body(client.get(f"/products/{card.product_id}"))
    assert "Good Shop" in page and "Other Mall" in page and "¥129.00" in page and "Sold out" in page
    assert "Recommended by" in page and "@expert" in page and "/@expert/showcase" in page
    offers = page.split('<ul class="sc-offers">')[1].split("</ul>")[0]
    good_token = card.links.get(store=good).token
    assert f'href="/go/{good_token}"' in offers and "Buy at Good Shop" in offers  # the creator's tracked link
    assert "Buy at Other Mall" not in offers  # sold out there: no button
    assert client.get("/products/999999").status_code == 404
    assert client.get("/products/99999999999999999999").status_code == 404


def test_product_page_shows_our_image_never_the_stores(client, expert, operator, showcase_post):
    """The store's product images are hot-linked nowhere: the newest card's re-encoded picture, or none."""
    good = PartnerStore.objects.get(name="Good Shop")
    services.do_upsert_catalog(good, [{"external_id": "c1", "title": "Hydrating face cream", "gtin": "6901234567892",
                                       "url": "https://shop.example.com/p/cream-1", "price": 12900,
                                       "images": ["https://img.tracker.example/cream.jpg"]}])
    product_id = Offer.objects.get(external_id="c1").product_id

    def img_sources(html):
        return re.findall(r'<img[^>]*\ssrc="([^"]*)"', html)

    bare = body(client.get(f"/products/{product_id}"))  # no card yet: no picture at all
    assert "img.tracker.example" not in bare and not [s for s in img_sources(bare) if "://" in s]
    post = showcase_post(expert)
    card = ProductCard.objects.get(pk=post.pk)
    assert card.product_id == product_id
    page = body(client.get(f"/products/{product_id}"))
    sources = img_sources(page)
    assert "img.tracker.example" not in page
    assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources)
    assert f'class="sc-product-img" src="/media/{card.image_preview or card.image}"' in page


# --- storefront ---------------------------------------------------------------------------

def test_storefront_filters_by_vertical_and_pages(client, expert, make_user, showcase_post):
    showcase_post(expert, title="Hydrating face cream", vertical="beauty")
    showcase_post(expert, title="Noise cancelling headphones", vertical="tech",
              reason="They made my daily commute quiet enough to read a book again.")
    html = body(client.get("/@expert/showcase"))
    assert "Hydrating face cream" in html and "Noise cancelling headphones" in html
    assert html.index("Noise cancelling headphones") < html.index("Hydrating face cream")  # newest first
    assert "?vertical=tech" in html and "?vertical=beauty" in html
    tech = body(client.get("/@expert/showcase?vertical=tech"))
    assert "Noise cancelling headphones" in tech and "Hydrating face cream" not in tech
    assert "Nothing in this vertical yet." in body(client.get("/@expert/showcase?vertical=pets"))
    make_user("quiet")
    assert "No products recommended yet." in body(client.get("/@quiet/showcase"))
    assert client.get("/@nobody_here/showcase").status_code == 404
    assert 'href="/@expert/showcase"' in body(client.get("/@expert"))  # the profile's tab


def test_storefront_older_link(client, expert, showcase_post, monkeypatch):
    from tastemaker.web import views_showcase

    monkeypatch.setattr(views_showcase, "STOREFRONT_PAGE", 2)
    posts = [showcase_post(expert, title=f"Face cream number {n}") for n in range(3)]
    html = body(client.get("/@expert/showcase"))
    assert f"max_id={posts[1].pk}" in html and "Face cream number 0" not in html
    older = body(client.get(f"/@expert/showcase?max_id={posts[1].pk}"))
    assert "Face cream number 0" in older and "Face cream number 2" not in older


def test_storefront_hides_followers_only_posts_from_others(client, expert, make_user, showcase_post):
    post = showcase_post(expert, title="Secret face cream")
    type(post).objects.filter(pk=post.pk).update(visibility="private")
    assert "Secret face cream" not in body(client.get("/@expert/showcase"))
    client.force_login(expert)
    assert "Secret face cream" in body(client.get("/@expert/showcase"))


@pytest.mark.parametrize("who_blocks", ["creator", "viewer"])
def test_storefront_shows_nothing_across_a_block(client, expert, make_user, showcase_post, who_blocks):
    fan = make_user("fan")
    showcase_post(expert, title="Hydrating face cream", vertical="beauty")
    client.force_login(fan)
    assert "Hydrating face cream" in body(client.get("/@expert/showcase"))
    if who_blocks == "creator":
        social.do_block(expert, fan)
    else:
        social.do_block(fan, expert)
    html = body(client.get("/@expert/showcase"))
    assert "Hydrating face cream" not in html and 'class="sc-card"' not in html and "?vertical=beauty" not in html
    client.force_login(make_user("someone"))  # everyone else still sees it
    assert "Hydrating face cream" in body(client.get("/@expert/showcase"))


# --- earnings and commissions --------------------------------------------------------------

@pytest.fixture
def commission(expert, make_user, showcase_post, store_and_secrets):
    store, secrets = store_and_secrets
    fan = make_user("fan")
    post = showcase_post(expert)
    target = services.link_target(post.card.links.get().token)
    click = services.do_click_out(target, viewer_id=fan.pk, visitor="", reason="", device="mobile", language="en")
    services.do_receive_webhook(store, *deliver(secrets.webhook_secret, "order.paid", {
        "order_id": "A-1001", "click_id": str(click.pk), "amount": 20000, "currency": "CNY"}))
    return Commission.objects.get()


def test_earnings_page_and_trail(client, expert, commission):
    assert client.get("/earnings").status_code == 302
    client.force_login(expert)
    html = body(client.get("/earnings"))
    assert commission.amount == 2000
    assert 'data-metric="click_outs"><dt>Click-outs</dt><dd>1</dd>' in html
    assert 'data-metric="orders"><dt>Orders</dt><dd>1</dd>' in html
    assert "100.0%" in html and "¥20.00" in html
    assert html.count('<svg class="chart"') == 2 and 'data-total="1"' in html
    assert f'href="/earnings/commissions/{commission.pk}"' in html
    assert 'data-table="posts"' in html and "Hydrating face cream" in html

    trail = body(client.get(f"/earnings/commissions/{commission.pk}"))
    assert str(commission.click_id) in trail and "A-1001" in trail
    assert "Order paid" in trail and "¥200.00" in trail
    assert "10%" in trail and "the store&#x27;s default rate" in trail
    assert "¥0.00 → ¥20.00" in trail and "Pending" in trail
    assert "The last valid click-out within 7 days earns it, at the store&#x27;s rate of 10%" in trail
    assert "minor units" not in trail and "20000" not in trail.replace(str(commission.click_id), "")
    assert "Order paid: ¥200.00." in trail and "¥20.00 of the store&#x27;s deposit held; ¥20.00 held in all." in trail

    client.cookies["django_language"] = "zh-hans"  # the same trail in Chinese: no English, money formatted
    zh = body(client.get(f"/earnings/commissions/{commission.pk}"))
    assert "订单已付款：¥200.00。" in zh and "7 天内最后一次有效点击" in zh
    for english in ("order paid", "minor units", "last valid click-out", "held now", "store's deposit"):
        assert english not in zh.lower().replace("&#x27;", "'"), english


@pytest.mark.parametrize("deleter", ["author", "operator"])
def test_post_whose_click_earned_a_commission_can_be_deleted(client, expert, operator, commission, deleter):
    """The card, its links and click-outs go with the post; the commission stays, with its click's id and time."""
    click_id, post_id = commission.click_id, commission.post_id
    clicked_at = ClickOut.objects.get(pk=click_id).created_at
    assert commission.clicked_at == clicked_at
    client.force_login(expert if deleter == "author" else operator)
    response = client.post(f"/posts/{post_id}/delete")
    assert response.status_code == 302
    assert not Post.objects.filter(pk=post_id).exists()
    assert not ClickOut.objects.filter(pk=click_id).exists()
    kept = Commission.objects.get(pk=commission.pk)
    assert (kept.click_out_id, kept.click_id, kept.clicked_at, kept.post_id) == (None, click_id, clicked_at, post_id)
    assert (kept.amount, kept.status, kept.held) == (2000, "pending", 2000)
    assert list(kept.steps.order_by("id").values_list("kind", flat=True)) == ["attributed", "held"]

    client.force_login(expert)
    trail = client.get(f"/earnings/commissions/{commission.pk}")
    assert trail.status_code == 200
    html = body(trail)
    assert f'<code class="sc-click-id">{click_id}</code>' in html
    assert clicked_at.strftime("%Y-%m-%d %H:%M:%S") in html
    assert "Deleted post" in html and f'href="/posts/{post_id}"' not in html and "A-1001" in html
    assert f'href="/earnings/commissions/{commission.pk}"' in body(client.get("/earnings"))


def test_commission_is_visible_to_creator_store_and_operators_only(client, expert, operator, make_user, commission):
    url = f"/earnings/commissions/{commission.pk}"
    for user, status in ((expert, 200), (operator, 200), (make_user("someone"), 404)):
        client.force_login(user)
        assert client.get(url).status_code == status, user
    client.force_login(expert)
    assert client.get("/earnings/commissions/123").status_code == 404


# --- partner stores -------------------------------------------------------------------------

def test_brand_creates_a_store_and_sees_the_secrets_once(client, make_user, operator):
    brand = make_user("brand")
    client.force_login(brand)
    assert client.get("/stores/new").status_code == 200
    response = client.post("/stores/new", {"name": "Brand Shop", "domains": "brand.example.com\nwww.brand.example.com",
                                           "commission_percent": "7.5", "attribution_days": "10",
                                           "return_days": "30"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    store = PartnerStore.objects.get(name="Brand Shop")
    assert (store.commission_bp, store.attribution_days, store.return_days, store.status) == (750, 10, 30,
                                                                                             StoreStatus.PENDING)
    assert store.domains == ["brand.example.com", "www.brand.example.com"]
    html = body(response)
    api_key = re.search(r'id="api-key" class="sc-secret" value="([^"]+)"', html).group(1)
    secret = re.search(r'id="webhook-secret" class="sc-secret" value="([^"]+)"', html).group(1)
    assert hashlib.sha256(api_key.encode()).hexdigest() == store.api_key_hash and secret == store.webhook_secret
    assert "shown only once" in html
    assert f"/api/v1/showcase/stores/{store.pk}/webhooks" in html and "/api/v1/showcase/catalog" in html

    detail = body(client.get(f"/stores/{store.pk}"))
    assert api_key not in detail and secret not in detail and store.api_key_prefix in detail
    assert "Brand Shop" in body(client.get("/stores"))

    rotated = client.post(f"/stores/{store.pk}/rotate")
    assert rotated.status_code == 200
    new_key = re.search(r'id="api-key" class="sc-secret" value="([^"]+)"', body(rotated)).group(1)
    store.refresh_from_db()
    assert new_key != api_key and hashlib.sha256(new_key.encode()).hexdigest() == store.api_key_hash

    # others see nothing of it; the operator approves it
    client.force_login(make_user("stranger"))
    for url in (f"/stores/{store.pk}", f"/stores/{store.pk}/rotate"):
        assert (client.post(url) if url.endswith("rotate") else client.get(url)).status_code == 404
    assert "Brand Shop" not in body(client.get("/stores"))
    client.force_login(operator)
    assert f'id="pending-{store.pk}"' in body(client.get("/stores"))
    response = client.post(f"/stores/{store.pk}/decide", {"decision": "approve", "note": "ok"})
    assert response.status_code == 302
    store.refresh_from_db()
    assert store.status == StoreStatus.APPROVED


def test_store_form_errors_keep_what_was_typed(client, make_user):
    client.force_login(make_user("brand"))
    response = client.post("/stores/new", {"name": "Brand Shop", "domains": "http://127.0.0.1:8000",
                                           "commission_percent": "7.5", "attribution_days": "10", "return_days": "30"})
    assert response.status_code == 422
    html = body(response)
    assert "is not a domain name" in field_block(html, "id_domains")
    assert 'value="Brand Shop"' in html and 'value="7.5"' in html
    response = client.post("/stores/new", {"name": "Brand Shop", "domains": "brand.example.com",
                                           "commission_percent": "95", "attribution_days": "0", "return_days": "30"})
    html = body(response)
    assert "at most 30%" in field_block(html, "id_commission_percent")  # TASTEMAKER_SHOWCASE_MAX_COMMISSION_BP
    assert "from 1 to 90" in field_block(html, "id_attribution_days")
    assert not PartnerStore.objects.filter(name="Brand Shop").exists()


@pytest.mark.parametrize("field, value", [
    ("commission_percent", "1e999997"), ("commission_percent", "1e1000000"), ("commission_percent", "1E2"),
    ("commission_percent", "9" * 5000), ("commission_percent", "5.123"), ("commission_percent", "Infinity"),
    ("commission_percent", "NaN"), ("commission_percent", "-1"), ("commission_percent", "\u0665"),
    ("commission_percent", ".5"), ("attribution_days", "7" * 5000), ("return_days", "1" * 5000),
    ("return_days", "1e3"), ("attribution_days", "\u0667"), ("attribution_days", "-1"),
])
def test_store_form_refuses_oversized_numbers_quickly(client, make_user, field, value):
    """Numbers are checked for shape before anything converts them: no CPU burnt on exponents, no 500."""
    client.force_login(make_user("brand"))
    data = {"name": "Brand Shop", "domains": "brand.example.com", "commission_percent": "7.5",
            "attribution_days": "10", "return_days": "30", field: value}
    started = time.perf_counter()
    response = client.post("/stores/new", data)
    assert time.perf_counter() - started < 2
    assert response.status_code == 422
    assert field_block(body(response), f"id_{field}").count('class="field-error"') == 1
    assert not PartnerStore.objects.filter(name="Brand Shop").exists()


@pytest.mark.parametrize("typed, basis_points", [("7.5", 750), ("7,5", 750), ("0.05", 5), ("12%", 1200),
                                                 ("30", 3000), ("0", 0), (" 3.25 ", 325)])
def test_store_form_reads_percentages(client, make_user, typed, basis_points):
    client.force_login(make_user("brand"))
    response = client.post("/stores/new", {"name": "Brand Shop", "domains": "brand.example.com",
                                           "commission_percent": typed, "attribution_days": "10",
                                           "return_days": "30"})
    assert response.status_code == 200
    assert PartnerStore.objects.get(name="Brand Shop").commission_bp == basis_points


def test_store_creation_on_the_web_is_rate_limited(client, make_user, settings):
    settings.RATE_STORE_CREATE = "2/86400"
    client.force_login(make_user("brand"))
    statuses = [client.post("/stores/new", {"name": f"Brand Shop {n}", "domains": "brand.example.com",
                                            "commission_percent": "5", "attribution_days": "7",
                                            "return_days": "15"}) for n in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert int(statuses[2]["Retry-After"]) > 0 and "Slow down" in body(statuses[2])
    assert 'value="Brand Shop 2"' in body(statuses[2])  # what was typed is kept
    assert PartnerStore.objects.filter(name__startswith="Brand Shop").count() == 2


@pytest.fixture
def brand_store(make_user, operator):
    brand = make_user("brand")
    store, _secrets = services.do_create_store(brand, name="Brand Shop", domains=["brand.example.com"],
                                               commission_bp=750, attribution_days=10, return_days=30)
    services.do_decide_store(operator, store, approve=True)
    return brand, store


def test_brand_saving_the_same_values_keeps_an_approved_store_approved(client, brand_store):
    brand, store = brand_store
    client.force_login(brand)
    form = {"name": "Brand Shop", "domains": "brand.example.com", "commission_percent": "7.5",
            "attribution_days": "10", "return_days": "30"}
    assert client.post(f"/stores/{store.pk}", form).status_code == 302
    store.refresh_from_db()
    assert (store.name, store.attribution_days, store.status) == ("Brand Shop", 10, StoreStatus.APPROVED)
    # the same domains typed in another order are the same domains
    services.do_update_store(brand, store, domains=["brand.example.com"], commission_bp=750)
    store.refresh_from_db()
    assert store.status == StoreStatus.APPROVED


@pytest.mark.parametrize("change", [{"commission_percent": "5"}, {"domains": "brand.example.com\nother.example.com"},
                                    {"name": "Brand Shop Renamed"}, {"attribution_days": "12"},
                                    {"return_days": "20"}])
def test_brand_changing_rate_or_domains_needs_approval_again(client, brand_store, change):
    brand, store = brand_store
    client.force_login(brand)
    form = {"name": "Brand Shop", "domains": "brand.example.com", "commission_percent": "7.5",
            "attribution_days": "10", "return_days": "30", **change}
    response = client.post(f"/stores/{store.pk}", form, follow=True)
    store.refresh_from_db()
    assert store.status == StoreStatus.PENDING
    assert "needs an operator&#x27;s approval again" in body(response)


def test_store_owner_edits_and_sees_store_commissions(client, operator, commission, store):
    client.force_login(operator)
    html = body(client.get(f"/stores/{store.pk}"))
    assert f'href="/earnings/commissions/{commission.pk}"' in html
    response = client.post(f"/stores/{store.pk}", {"name": "Good Shop 2", "domains": "shop.example.com",
                                                   "commission_percent": "12", "attribution_days": "7",
                                                   "return_days": "15"})
    assert response.status_code == 302
    store.refresh_from_db()
    assert store.name == "Good Shop 2" and store.commission_bp == 1200


def test_pages_need_login(client):
    for url in ("/earnings", "/stores", "/stores/new", "/stores/1", "/earnings/commissions/1"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"], url


# --- queries --------------------------------------------------------------------------------

def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_home_timeline_queries_do_not_grow_with_showcase_posts(client, expert, make_user, showcase_post):
    fan = make_user("fan")
    social.do_follow(fan, expert)
    client.force_login(fan)
    for n in range(5):
        showcase_post(expert, title=f"Face cream number {n}")
    client.get("/")  # per-process caches (the deliverable campaigns) filled once, not per post
    few = _count(client, "/")
    for n in range(5, 15):
        showcase_post(expert, title=f"Face cream number {n}")
    html = body(client.get("/"))
    assert html.count('class="sc-card"') == 15
    assert _count(client, "/") == few
    assert CardLink.objects.count() == 15
