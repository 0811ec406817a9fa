"""Direct messages in a real browser on a phone (issue 14): the fan opens the inbox from the "Me" tab's badge,
reads the conversation, answers, and a new message from the shop arrives by the page's own polling, with
nothing wider than the screen."""

from __future__ import annotations

import pytest
from test_phone_browser import PHONE, no_sideways_scroll, page_for

from tastemaker.social import services as social

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_conversation_on_a_phone_updates_by_itself(browser, live_server, make_user):
    shop, fan = make_user("shop"), make_user("fan", language="zh-hans")
    social.do_follow(fan, shop)
    first = social.do_create_post(shop, text="@fan 您的订单已发货，单号 SF123456", visibility="direct")
    page, errors = page_for(browser, live_server, fan, PHONE)
    page.goto(f"{live_server.url}/")
    me_tab = page.locator("nav.tabbar a", has_text="我")
    assert me_tab.locator(".badge").inner_text().startswith("1")  # an unread conversation
    me_tab.click()
    page.wait_for_url(f"{live_server.url}/me")
    page.locator(".me-menu .nav-messages").click()
    page.wait_for_url(f"{live_server.url}/messages")
    assert no_sideways_scroll(page)
    page.locator(".conversation-link").first.click()
    page.wait_for_url(f"{live_server.url}/messages/{first.conversation_id}")
    assert "SF123456" in page.locator("#thread-messages").inner_text()
    page.locator("#id_text").fill("谢谢！")
    page.locator("form.dm-reply button[type=submit]").click()
    page.locator(".dm-message.mine", has_text="谢谢！").wait_for()
    # the shop answers while the page is open: the polling brings it in without a reload
    social.do_create_post(shop, text="不客气，欢迎再来", visibility="direct", in_reply_to_id=first.pk)
    page.locator(".dm-message", has_text="不客气").wait_for(timeout=15_000)
    assert no_sideways_scroll(page) and not errors, errors
