"""The fan service platform in a real browser, on phones in Chinese (issue 14): a fan subscribes on a brand's
profile; the brand broadcasts its Showcase card to a segment (Chinese-speaking subscribers), the audience
preview counting them first; the fan reads it in the service inbox and clicks out on the card (the store's host
answered by Playwright, so the tracked redirect is real); the brand's report shows the read and the
click-out. A subscriber outside the segment gets nothing."""

from __future__ import annotations

import re
import time

import pytest
from test_phone_browser import PHONE, PHONE_UA, no_sideways_scroll, page_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _figure(page, label: str) -> int:
    text = page.locator(".fs-stat", has_text=label).locator("b").inner_text()
    return int(text.strip())


def test_subscribe_broadcast_to_a_segment_read_and_click_out(browser, live_server, make_user, showcase_post):
    from tastemaker.fanservice import services as fanservice
    from tastemaker.fanservice.models import Broadcast, InboxItem

    brand = make_user("brand", language="zh-hans")
    card_post = showcase_post(brand, text="新款保温杯，双十二上新")
    fan = make_user("fan", language="zh-hans")
    outsider = make_user("outsider", language="en")
    fanservice.do_subscribe(outsider, brand)  # subscribed, but not in the segment below

    # the fan subscribes on the brand's profile
    page, errors = page_for(browser, live_server, fan, PHONE, user_agent=PHONE_UA)  # a person: her click counts
    page.goto(f"{live_server.url}/@brand")
    page.locator("form.fs-subscribe button").click()
    page.locator("form.fs-subscribe button.on").wait_for()

    # the brand writes a broadcast with its card to Chinese-speaking subscribers; the preview counts one
    brand_page, brand_errors = page_for(browser, live_server, brand, PHONE)
    brand_page.goto(f"{live_server.url}/fanservice/compose")
    assert no_sideways_scroll(brand_page)
    brand_page.fill("#fs-text", "双十二特惠：保温杯直降")
    brand_page.select_option("#fs-card", str(card_post.pk))
    brand_page.fill("#fs-lang", "zh-hans")
    brand_page.locator("#fs-lang").dispatch_event("change")
    brand_page.locator("#fs-audience", has_text="1").wait_for()
    brand_page.locator("form.fs-form button.primary[type=submit]").click()
    brand_page.wait_for_load_state()
    broadcast = Broadcast.objects.get(owner=brand)
    deadline = time.monotonic() + 10
    while not InboxItem.objects.filter(recipient=fan).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert InboxItem.objects.filter(recipient=fan, message=broadcast.message).count() == 1
    assert not InboxItem.objects.filter(recipient=outsider).exists()  # outside the segment

    # the fan reads it in the service inbox (a tab of 私信) and clicks out on the card
    page.goto(f"{live_server.url}/messages/service")
    item = page.locator(".fs-item", has_text="保温杯直降")
    item.wait_for()
    assert no_sideways_scroll(page)
    item.locator("form button", has_text="标为已读").click()
    page.locator(".fs-item", has_text="保温杯直降").locator("form button", has_text="标为已读").wait_for(state="detached")
    page.route("https://shop.example.com/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<html><body>Good Shop</body></html>"))
    page.locator(".fs-item", has_text="保温杯直降").locator(".fs-offers a.button").first.click()
    page.wait_for_url("https://shop.example.com/**", wait_until="commit")

    # the brand's report shows the read and the click-out (the events pipeline: seconds, not a day)
    deadline = time.monotonic() + 15
    while True:
        brand_page.goto(f"{live_server.url}/fanservice/broadcasts/{broadcast.pk}")
        read, click_outs = _figure(brand_page, "已读"), _figure(brand_page, "跳转购买")
        if (read, click_outs) == (1, 1) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert (read, click_outs) == (1, 1)
    assert _figure(brand_page, "已送达") == 1
    assert re.search(r"\d", brand_page.locator(".fs-stat").first.inner_text())
    assert not errors and not brand_errors, (errors, brand_errors)
