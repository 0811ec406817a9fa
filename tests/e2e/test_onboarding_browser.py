"""Interest onboarding in a real browser (Chromium through Playwright): sign up, pick two verticals,
follow the suggested experts, and see a non-empty home feed at once."""

from __future__ import annotations

import random

import pytest

from tastemaker.experts.corpus import VOCAB

PASSWORD = "Corr3ct-Horse-Battery"

PHONE = {"width": 390, "height": 844}  # a phone-sized viewport

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _expert(username: str, vertical: str, lang: str):
    from tastemaker.accounts.services import register
    from tastemaker.experts.services import do_recompute_labels
    from tastemaker.social.services import do_create_post

    user = register(username=username, email=f"{username}@example.org", password=PASSWORD,
                    display_name=username.title(), language=lang)
    rng = random.Random(username)
    items, descs, ctxs = VOCAB[vertical][lang]
    for _ in range(6):
        text = (f"Tried the {rng.choice(items)}: {rng.choice(descs)}, great {rng.choice(ctxs)}." if lang == "en"
                else f"用了一个月的{rng.choice(items)}，{rng.choice(descs)}，{rng.choice(ctxs)}很合适。")
        do_create_post(user, text=text)
    do_recompute_labels(user)
    return user


def test_pick_two_verticals_follow_experts_see_home_feed(browser, live_server):
    from tastemaker.experts.services import ensure_default_verticals

    ensure_default_verticals()  # a transactional test before this one may have flushed the data migration's rows
    _expert("glowup", "beauty", "en")
    _expert("meizhuang", "beauty", "zh")
    _expert("gadgetgal", "tech", "en")
    _expert("chefmike", "food", "en")  # a vertical the newcomer does not pick
    base = live_server.url
    page = browser.new_context(viewport=PHONE, locale="en-US").new_page()

    page.goto(f"{base}/signup")
    page.fill("input[name=username]", "newcomer")
    page.fill("input[name=email]", "newcomer@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.check("input[name=agreement]")
    page.click("form[action='/signup'] button[type=submit]")
    page.wait_for_url(f"{base}/onboarding")

    page.check("input[name=verticals][value=beauty]")
    page.check("input[name=verticals][value=tech]")
    page.click("form[action='/onboarding'] button[type=submit]")
    page.wait_for_url(f"{base}/onboarding/experts")
    text = page.inner_text("main")
    assert "@glowup" in text and "@meizhuang" in text and "@gadgetgal" in text
    assert "@chefmike" not in text
    assert "of recent posts are about Beauty" in text  # every suggestion has its reason
    assert page.locator("input[name=follow]:checked").count() == 3

    page.click("form[action='/onboarding/experts'] button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.locator("article").first.wait_for()
    feed = page.inner_text("section.timeline")
    assert "No posts yet" not in feed
    assert "@glowup" in feed and "@gadgetgal" in feed
