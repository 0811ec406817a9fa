"""Promotion in a real browser (Debian's Chromium through Playwright), on a phone, in Chinese (issue 13):
a funded creator promotes a post as a Fan Headline from the post's "Promote" action; a follower's home shows
it first, marked as promoted; the creator's open campaign page shows the delivery and the spend by itself
(htmx polling), within a couple of seconds. The pages fit a 390 px screen and their buttons are ≥ 44 px.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings as django_settings
from django.utils import translation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# what a person's phone sends (headless Chromium announces itself as HeadlessChrome, a bot)
PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36")
PHONE = {"width": 390, "height": 844}


def logged_in_page(browser, live_server, user):
    """A phone-sized page signed in as ``user`` (a session made directly), in Chinese."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = django_settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    context = browser.new_context(user_agent=PHONE_UA, viewport=PHONE, locale="zh-CN")
    context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": live_server.url},
                         {"name": django_settings.LANGUAGE_COOKIE_NAME, "value": "zh-hans", "url": live_server.url}])
    return context.new_page()


def _fits_the_phone(page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways: {width} px wide"


def _touch_target(page, selector: str) -> None:
    box = page.locator(selector).first.bounding_box()
    assert box is not None and box["height"] >= 44, f"{selector} is {box} on {page.url}"


def test_fan_headline_from_the_post_to_a_followers_home_and_the_live_campaign_page(browser, live_server, make_user,
                                                                                   settings):
    from tastemaker.payments.ledger import post_transaction, provider_clearing, wallet_for
    from tastemaker.promotion import selectors as promotion
    from tastemaker.promotion.models import Campaign
    from tastemaker.social import services as social

    if not hasattr(promotion, "splice_home_posts"):
        pytest.skip("the web home slots promoted posts in with the backend's splice_home_posts (branch promo)")
    # a lone campaign pays the reserve (the second price): make it ¥50 per 1,000, so one reach costs 5 fen
    settings.PROMOTION_MIN_BID = 5_000
    creator = make_user("maker", language="zh-hans")
    fan = make_user("fan", language="zh-hans")
    social.do_follow(fan, creator)
    # the creator's top-up, as the sandbox provider's paid notification books it
    post_transaction("topup", [(provider_clearing("sandbox", "CNY"), -20_000), (wallet_for(creator, "CNY"), 20_000)],
                     reference="e2e-promotion-topup")
    post = social.do_create_post(creator, text="我最喜欢的手冲壶，用了一年")

    maker = logged_in_page(browser, live_server, creator)
    maker.goto(f"{live_server.url}/posts/{post.pk}")
    assert maker.locator("html").get_attribute("lang") == "zh-hans"
    maker.locator(f"a.promote-link[href='/promote/post/{post.pk}']").first.click()
    maker.wait_for_url(f"**/promote/post/{post.pk}")
    _fits_the_phone(maker)
    assert maker.locator("input[name=tool][value=fan_headline]").is_checked()
    assert maker.locator("input[name=tool][value=account_rec]").count() == 0
    assert maker.locator("#estimate").get_attribute("data-estimate") == "1"  # the one follower
    assert maker.locator(".promo-balance [data-balance]").get_attribute("data-balance") == "20000"
    _touch_target(maker, ".promo-submit")
    _touch_target(maker, "input[name=tool] >> xpath=..")
    maker.fill("#promo-budget", "50")
    maker.fill("#promo-bid", "50")  # ¥50 per 1,000 followers reached: ¥0.05 each
    maker.locator(".promo-submit").click()
    maker.wait_for_url(re.compile(r"/promote/\d+$"))
    campaign = Campaign.objects.get()
    assert (campaign.tool, campaign.budget, campaign.bid, campaign.status) == ("fan_headline", 5_000, 5_000, "active")
    assert maker.locator("#campaign-live [data-status]").get_attribute("data-status") == "active"
    assert maker.locator("[data-figure=delivered] dd").inner_text().strip() == "0"
    _fits_the_phone(maker)
    _touch_target(maker, ".promo-controls button")

    # the follower opens the home feed: the promoted post comes first, marked
    reader = logged_in_page(browser, live_server, fan)
    reader.goto(f"{live_server.url}/")
    first = reader.locator("article.post").first
    assert first.get_attribute("data-tm-post") == str(post.pk)
    assert "promoted" in (first.get_attribute("class") or "")
    with translation.override("zh-hans"):
        marker = translation.gettext("Promoted")  # 推广 once the catalog has it
    assert marker in first.locator(".promoted-label").inner_text()
    _fits_the_phone(reader)

    # the creator's open campaign page picks up the delivery and the spend by itself
    maker.wait_for_function(
        "() => document.querySelector('[data-figure=delivered] dd').textContent.trim() === '1'"
        " && document.querySelector('[data-figure=spend]').dataset.minor === '5'", timeout=4000)
    assert "¥0.05" in maker.locator("[data-figure=spend] dd").inner_text()
    assert maker.locator("[data-figure=impressions] dd").inner_text().strip() == "1"

    # the follower hides it: the item is replaced at once (htmx) and the hide is recorded
    from tastemaker.promotion.models import HiddenPromotion

    _touch_target(reader, ".promo-item-controls button")
    reader.locator(".promo-item-controls form[action$='/hide'] button").click()
    reader.locator(".promo-hidden-note").wait_for()
    assert HiddenPromotion.objects.filter(user=fan, campaign=campaign).exists()
    assert reader.locator(f"article[data-tm-post='{post.pk}']").count() == 0
    maker.context.close()
    reader.context.close()
