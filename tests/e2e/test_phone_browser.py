"""The web UI on a phone, in Chinese, in a real browser (issue 18): a bottom tab bar instead of a sideways
row of eleven links, everything else on "我" (Me), nothing wider than the screen."""

from __future__ import annotations

import pytest

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# what a person's phone sends (headless Chromium announces itself as HeadlessChrome, which the analytics
# filter rightly counts as a bot): for tests whose clicks and impressions must count
PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36")


def page_for(browser, live_server, user, viewport, language="zh-hans", user_agent=None):
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    extra = {"user_agent": user_agent} if user_agent else {}
    context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=viewport == PHONE,
                                  has_touch=viewport == PHONE, **extra)
    cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    if user is not None:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        cookies.append({"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": live_server.url})
    context.add_cookies(cookies)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return page, errors


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_phone_tabs_reach_everything_in_chinese(browser, live_server, make_user):
    user = make_user("mei", language="zh-hans")
    page, errors = page_for(browser, live_server, user, PHONE)
    page.goto(f"{live_server.url}/")
    assert not page.locator("nav.mainnav").is_visible()
    tabs = page.locator("nav.tabbar a")
    assert tabs.count() == 5
    labels = [t.inner_text().strip() for t in tabs.all()]
    assert labels[0] == "首页" and labels[-1] == "我", labels
    for tab in tabs.all():  # every tab on screen, a thumb's size
        box = tab.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 0.5
        assert box["y"] + box["height"] <= PHONE["height"] + 0.5 and box["height"] >= 44
    assert page.locator("nav.tabbar a[aria-current=page]").inner_text().strip() == "首页"
    assert no_sideways_scroll(page)
    page.locator("nav.tabbar a", has_text="我").click()
    page.wait_for_url(f"{live_server.url}/me")
    menu = page.locator("nav.me-menu")
    for label in ("数据报告", "收益", "钱包", "设置", "退出登录"):  # off-screen in the old sideways row
        item = menu.get_by_text(label, exact=True)
        assert item.is_visible(), label
        assert item.bounding_box()["height"] >= 44
    assert no_sideways_scroll(page)
    menu.get_by_text("钱包", exact=True).click()
    page.wait_for_url(f"{live_server.url}/wallet")
    assert no_sideways_scroll(page) and not errors, errors


def test_visitor_tabs_on_a_phone_and_top_navigation_on_a_desktop(browser, live_server, make_user):
    page, errors = page_for(browser, live_server, None, PHONE)
    page.goto(f"{live_server.url}/public")
    labels = [t.inner_text().strip() for t in page.locator("nav.tabbar a").all()]
    assert labels == ["广场", "发现", "登录", "注册"], labels
    assert no_sideways_scroll(page)
    desk, desk_errors = page_for(browser, live_server, make_user("wen"), DESKTOP, language="en")
    desk.goto(f"{live_server.url}/")
    assert desk.locator("nav.mainnav").is_visible() and not desk.locator("nav.tabbar").is_visible()
    assert "Wallet" in desk.locator("nav.mainnav").inner_text()
    assert not errors and not desk_errors, errors + desk_errors


def test_discover_is_a_two_column_waterfall_on_a_phone(browser, live_server, make_user, png_bytes):
    from tastemaker.experts.models import PostLabel, Vertical
    from tastemaker.social.services import do_create_post, do_upload_media

    chef = make_user("chef")
    # a transactional test's flush empties the migration-seeded verticals: make the one this test needs
    food, _ = Vertical.objects.get_or_create(slug="food", defaults={"name_en": "Food", "name_zh": "美食"})
    for i in range(4):
        media = do_upload_media(chef, png_bytes(size=(120, 90 + 40 * i)))
        post = do_create_post(chef, text=f"红烧肉做法 第{i}步 🍖", media_ids=[media.pk])
        PostLabel.objects.update_or_create(post_id=post.pk, defaults={"vertical": food, "author": chef,
                                                                      "confidence": 0.9})
    page, errors = page_for(browser, live_server, None, PHONE)
    page.goto(f"{live_server.url}/discover")
    tiles = page.locator("ul.waterfall li.tile")
    assert tiles.count() == 4
    lefts = {round(t.bounding_box()["x"]) for t in tiles.all()}
    assert len(lefts) == 2, lefts  # two columns
    assert all(t.bounding_box()["width"] < PHONE["width"] / 2 for t in tiles.all())
    assert no_sideways_scroll(page) and not errors, errors
    assert page.locator("nav.tabbar a[aria-current=page]").inner_text().strip() == "发现"
