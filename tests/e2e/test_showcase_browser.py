"""The Showcase loop in a real browser (Debian's Chromium through Playwright) against the live server:

an expert imports a product from a fixture store page (a real HTTP server on loopback, reached through the
guarded fetcher's test-only allowance), confirms the card and publishes it; a fan clicks "Buy at …" and lands on
the store's page through the tracked redirect (the store's host is answered by Playwright, so the redirect is
real); the store reports the order with a signed webhook; the expert sees the commission and its trail.
"""

from __future__ import annotations

import json
import re
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest

from fetchserver import FixtureServer
from showcase_signer import StoreSigner

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# what a person's browser sends (headless Chromium announces itself as HeadlessChrome, which counts as a bot)
PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36")
DESKTOP_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
              "Safari/537.36")
PHONE = {"width": 390, "height": 844}

REASON = "It pours a slow, steady stream, so my pour-over finally tastes the same every morning."
PRODUCT_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Gooseneck kettle - Fixture Shop</title>
<script type="application/ld+json">{"@context": "https://schema.org/", "@type": "Product",
 "name": "Gooseneck pour-over kettle", "image": ["/img/kettle.png"], "sku": "K-1", "brand": "Fixture",
 "offers": {"@type": "Offer", "priceCurrency": "CNY", "price": "129.00",
            "availability": "https://schema.org/InStock"}}</script></head>
<body><h1>Gooseneck pour-over kettle</h1></body></html>"""
STORE_LANDING = """<!doctype html><html><head><title>Fixture Shop</title></head>
<body><h1>Fixture Shop</h1><p id="landing">Gooseneck pour-over kettle: add to cart</p></body></html>"""


def logged_in_page(browser, live_server, user, ua=DESKTOP_UA, viewport=None):
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    context = browser.new_context(user_agent=ua, viewport=viewport or {"width": 1000, "height": 900})
    context.set_default_timeout(10_000)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key,
                          "url": live_server.url}])
    return context.new_page()


def send_webhook(live_server, store, body: bytes, headers: dict) -> None:
    """What the store does: POST the signed delivery to its webhook URL on the running server."""
    path = f"/api/v1/showcase/stores/{store.pk}/webhooks"
    request = urllib.request.Request(live_server.url + path, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the live test server
        assert response.status == 200
        assert json.loads(response.read())["status"] == "processed"


def test_import_publish_click_out_and_see_the_commission(browser, live_server, make_user, png_bytes):
    from tastemaker.experts.services import ensure_default_verticals
    from tastemaker.showcase.models import Commission, ProductCard
    from tastemaker.showcase.stores import do_create_store
    from tastemaker.social import services as social

    ensure_default_verticals()  # a transactional test may have flushed the data migration's rows
    operator = make_user("ops", is_staff=True)
    store, secrets = do_create_store(operator, name="Fixture Shop", domains=["shop.test"], commission_bp=1000,
                                     attribution_days=7, return_days=15)
    expert = make_user("expert", display_name="Kettle Kate")
    fan = make_user("fan")
    social.do_follow(fan, expert)

    with FixtureServer() as server, server.allowed():
        server.respond("/p/1", PRODUCT_PAGE)
        server.respond("/img/kettle.png", png_bytes((400, 300), color=(40, 90, 160)), content_type="image/png")

        # the expert imports the product page and confirms the card
        page = logged_in_page(browser, live_server, expert)
        page.goto(f"{live_server.url}/compose/showcase")
        page.fill("#id_import_url", server.url("/p/1"))
        page.click("button[name=action][value=import]")
        page.wait_for_selector(".msg-error, .msg-success")
        assert page.input_value("#id_title") == "Gooseneck pour-over kettle"
        assert page.input_value("#id_price") == "129.00"
        image = page.locator(".sc-image-choice input[name=image_url]")
        assert image.first.is_checked() and image.first.get_attribute("value") == server.url("/img/kettle.png")
        page.wait_for_function("() => document.querySelector('.sc-image-choice img').naturalWidth === 400")
        # the page lives on loopback in this test, not on a partner store's domain: the form says so at once
        assert page.input_value("#id_url") == server.url("/p/1")
        assert "port" in page.locator("#id_url ~ .field-error").first.inner_text()
        page.fill("#id_url", "https://shop.test/p/1")
        page.fill("#id_reason", REASON)
        page.check("input[name=disclosure][value=affiliate]")
        page.select_option("#id_vertical", "home")
        page.click(".compose-row button[name=action][value=publish]")
        page.wait_for_url(re.compile(r"/posts/\d+$"))
        card = page.locator(".focus .sc-card")
        assert "Affiliate" in card.locator(".sc-disclosure").inner_text()
        assert "¥129.00" in card.inner_text()
        post_id = int(page.url.rsplit("/", 1)[1])
        assert ProductCard.objects.get(pk=post_id).image  # the chosen image, fetched through the guard

    # a fan clicks out from the home timeline and lands on the store's page
    fan_page = logged_in_page(browser, live_server, fan, ua=PHONE_UA, viewport=PHONE)
    fan_page.route("https://shop.test/**", lambda route: route.fulfill(status=200, content_type="text/html",
                                                                       body=STORE_LANDING))
    fan_page.goto(f"{live_server.url}/")
    fan_page.locator(f"article[data-tm-post='{post_id}'] a.sc-buy", has_text="Buy at Fixture Shop").click()
    fan_page.wait_for_url("https://shop.test/**", wait_until="commit")  # the landing URL is what counts
    landed = urlsplit(fan_page.url)
    query = parse_qs(landed.query)
    assert (landed.hostname, landed.path) == ("shop.test", "/p/1")
    assert query["utm_source"] == ["tastemaker"] and query["utm_medium"] == ["showcase"]
    assert query["utm_campaign"] == [str(post_id)] and query["utm_content"] == ["expert"]
    click_id = query["tm_click"][0]
    assert fan_page.locator("#landing").inner_text() == "Gooseneck pour-over kettle: add to cart"

    # the store reports the order, signed with its webhook secret and carrying the click id
    send_webhook(live_server, store, *StoreSigner(secrets.webhook_secret).deliver("order.paid", {
        "order_id": "FS-1001", "click_id": click_id, "amount": 12900, "currency": "CNY"}))
    commission = Commission.objects.get()
    assert commission.amount == 1290  # 10 % of 129.00

    # the expert sees it on the earnings page, and its trail
    page.goto(f"{live_server.url}/earnings")
    assert page.locator(".figure[data-metric=click_outs] dd").inner_text() == "1"
    assert page.locator(".figure[data-metric=orders] dd").inner_text() == "1"
    assert page.locator(".figure[data-metric=pending] dd").inner_text() == "¥12.90"
    page.locator(f"a[href='/earnings/commissions/{commission.pk}']").click()
    page.wait_for_url(f"**/earnings/commissions/{commission.pk}")
    assert page.locator(".sc-click-id").inner_text() == click_id
    assert page.locator(".sc-order-id").inner_text() == "FS-1001"
    assert "¥129.00" in page.locator(".sc-events tr[data-type='order.paid']").inner_text()
    assert page.locator(".sc-steps tr[data-kind=attributed] .sc-step-amounts").inner_text() == "¥0.00 → ¥12.90"
    assert "10%" in page.locator(".sc-facts").first.inner_text()
    page.context.close()
    fan_page.context.close()
