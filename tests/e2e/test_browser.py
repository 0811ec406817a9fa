"""A real browser (Debian's Chromium through Playwright) against the live server.

Two people sign up, one follows the other, the other posts a picture, the follower sees it in
the home feed (fan-out runs after commit in the live server) and switches the UI to Chinese.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from PIL import Image

PASSWORD = "Corr3ct-Horse-Battery"
SCREENSHOT_DIR = Path(os.environ.get("TASTEMAKER_SCREENSHOT_DIR", "/tmp/tastemaker-screenshots"))

PHONE = {"width": 390, "height": 844}  # a phone-sized viewport

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def png(color=(217, 72, 15), size=(600, 400)) -> bytes:
    buf = io.BytesIO()
    img = Image.new("RGB", size, color)
    for x in range(0, size[0], 40):  # some stripes, so the re-encoded image is visibly an image
        for y in range(size[1]):
            img.putpixel((x, y), (255, 255, 255))
    img.save(buf, "PNG")
    return buf.getvalue()


def sign_up(page, base: str, username: str, display_name: str) -> None:
    page.goto(f"{base}/signup")
    page.fill("input[name=username]", username)
    page.fill("input[name=email]", f"{username}@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=display_name]", display_name)
    page.check("input[name=agreement]")  # never pre-ticked: the person agrees to the linked rules
    page.click("form[action='/signup'] button[type=submit]")
    page.wait_for_url(f"{base}/onboarding")  # interest onboarding; skipped here
    page.click("a.skip-onboarding")
    page.wait_for_url(f"{base}/")
    assert page.locator("text=No posts yet — follow people to fill your home feed.").is_visible()


def test_follow_post_with_image_and_switch_to_chinese(browser, live_server):
    base = live_server.url
    alice = browser.new_context(viewport=PHONE, locale="en-US").new_page()
    bob = browser.new_context(viewport=PHONE, locale="en-US").new_page()

    sign_up(alice, base, "alice", "Alice Tastemaker")
    sign_up(bob, base, "bob", "Bob Fan")

    # B follows A with the htmx-enhanced button: the button turns into "Unfollow" in place
    bob.goto(f"{base}/@alice")
    bob.click("form[action='/@alice/follow'] button")
    bob.locator("form[action='/@alice/unfollow'] button").wait_for()
    assert bob.url == f"{base}/@alice"
    assert "/@alice" in bob.url

    # A posts with an image
    alice.goto(f"{base}/")
    alice.fill("textarea[name=text]", "My favourite #notebook this spring")
    alice.set_input_files("input[name=images]", files=[{"name": "notebook.png", "mimeType": "image/png",
                                                        "buffer": png()}])
    alice.click("form.compose button[type=submit]")
    alice.wait_for_url(f"{base}/")
    assert alice.locator("article.post").first.inner_text().count("My favourite") == 1

    # B sees A's post with the image in the home feed
    bob.goto(f"{base}/")
    post = bob.locator("article.post").first
    assert "My favourite" in post.inner_text() and "Alice Tastemaker" in post.inner_text()
    img = post.locator(".media-grid img")
    assert re.match(r"^/media/.+\.(jpg|png|webp)$", img.get_attribute("src"))
    img.scroll_into_view_if_needed()
    bob.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    assert img.evaluate("img => img.naturalWidth") == 480  # the preview: re-encoded, downscaled

    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    bob.screenshot(path=str(SCREENSHOT_DIR / "home-en.png"), full_page=False)

    # htmx like button: swaps in place, no page load
    post.locator("button:has-text('♡')").click()
    post.locator("button[aria-pressed=true]:has-text('♥')").wait_for()

    # B switches the UI to Chinese with the picker
    bob.select_option("#language-select", "zh-hans")
    bob.click("form.langpicker button[type=submit]")
    bob.wait_for_load_state()
    bob.locator("nav.tabbar >> text=首页").wait_for()  # a phone: the bottom tabs, the rest on 我 (Me)
    assert bob.locator("html").get_attribute("lang") == "zh-hans"
    assert "退出登录" in bob.locator("nav.mainnav").text_content()
    assert "今天想推荐点什么？" == bob.get_attribute("textarea[name=text]", "placeholder")
    bob.screenshot(path=str(SCREENSHOT_DIR / "home-zh.png"), full_page=False)
