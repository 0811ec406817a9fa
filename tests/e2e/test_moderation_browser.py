"""Reports, the moderation console and appeals in a real browser (Debian's Chromium through Playwright)
against the live server (issue 12):

a fan reports a post from the public timeline (the form opens inline under the post); operator A decides
the case from the console (remove, −10 credit); the author — on a phone (390×844), in Chinese — sees the
notice, the action and the credit change (80 → 70) on the credit page and appeals; operator B (also on a
phone, in Chinese) overturns it; the credit returns to 80 and the post is visible again.

The Chinese pages are checked through their structure (classes, data attributes, form names), not their
words, so the test holds before and after the translations of the new strings land.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
              "Safari/537.36")
PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36")
PHONE = {"width": 390, "height": 844}
POST_TEXT = "Miracle cream: cures everything, DM me for the wholesale price"


def logged_in_page(browser, live_server, user, *, phone=False, language="en"):
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    context = browser.new_context(user_agent=PHONE_UA if phone else DESKTOP_UA,
                                  viewport=PHONE if phone else {"width": 1000, "height": 900})
    context.set_default_timeout(10_000)
    context.add_cookies([
        {"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": live_server.url},
        {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url},
    ])
    return context.new_page()


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_report_act_appeal_overturn(browser, live_server, make_user):
    from playwright.sync_api import expect

    from tastemaker.accounts.models import CreditChange, User
    from tastemaker.moderation.models import Action, Appeal, Case, Report
    from tastemaker.social import services as social
    from tastemaker.social.models import Post

    author = make_user("maker", display_name="Mei", language="zh-hans")
    fan = make_user("fan")
    op_a = make_user("op_a", is_staff=True)
    op_b = make_user("op_b", is_staff=True)
    post = social.do_create_post(author, text=POST_TEXT)

    # 1. the fan reports the post from the public timeline: the form opens under it, no page load
    fan_page = logged_in_page(browser, live_server, fan)
    fan_page.goto(f"{live_server.url}/public")
    article = fan_page.locator(f"article[data-tm-post='{post.pk}']")
    article.get_by_role("link", name="Report").click()
    form = article.locator("form.flag-form")
    form.get_by_label("Spam").check()
    form.get_by_label("Note for the moderators (optional)").fill("Health claims and a wholesale pitch")
    form.get_by_role("button", name="Send report").click()
    done = article.locator(".flag-done")
    done.wait_for()
    assert "the moderators will look at it" in done.inner_text()
    assert fan_page.url == f"{live_server.url}/public"  # answered in place
    report = Report.objects.get()
    assert (report.reporter_id, report.target_id, report.reason) == (fan.pk, post.pk, "spam")

    # 2. operator A: the queue (the navigation shows one open case), the case file, remove with −10
    ops = logged_in_page(browser, live_server, op_a)
    ops.goto(f"{live_server.url}/")
    assert ops.locator(".nav-moderation .badge").inner_text().startswith("1")
    ops.locator(".nav-moderation").click()
    ops.locator(f"li[data-case='{report.case_id}'] a").click()
    assert POST_TEXT in ops.locator("#evidence").inner_text()
    assert "Health claims and a wholesale pitch" in ops.locator("#reports").inner_text()
    assert ops.locator("#act-credit").input_value() == "10"  # what spam costs by default
    ops.get_by_label("Remove the content").check()
    ops.get_by_label("Reason (sent to the account)").fill("Medical claims in an ad")
    ops.get_by_label("Credit to deduct").fill("10")
    ops.get_by_role("button", name="Decide the case").click()
    ops.locator(".msg-success").wait_for()
    assert ops.locator(".mod-status").get_attribute("data-status") == "actioned"
    assert Post.objects.get(pk=post.pk).held
    fan_page.goto(f"{live_server.url}/posts/{post.pk}")
    assert fan_page.locator("article.post").count() == 0  # removed: the fan no longer sees it

    # 3. the author, on a phone in Chinese: the notice in the navigation, the action, the credit, the appeal
    mine = logged_in_page(browser, live_server, author, phone=True, language="zh-hans")
    mine.goto(f"{live_server.url}/")
    assert mine.locator("html").get_attribute("lang") == "zh-hans"
    me_tab = mine.locator("nav.tabbar a", has_text="我")  # a phone: the notice shows on the "Me" tab
    assert me_tab.locator(".badge").is_visible() and me_tab.locator(".badge").inner_text().startswith("1")
    assert no_horizontal_scroll(mine)  # the badge's words for screen readers stay inside the tab
    me_tab.click()
    mine.locator(".me-menu .nav-credit .badge").wait_for()
    mine.locator(".me-menu .nav-credit").click()
    mine.wait_for_url(f"{live_server.url}/settings/credit")
    standing = mine.locator(".mod-standing")
    assert (standing.get_attribute("data-score"), standing.get_attribute("data-state")) == ("70", "active")
    assert mine.locator(".mod-credit-change").first.get_attribute("data-delta") == "-10"
    assert "Medical claims in an ad" in mine.locator("#actions").inner_text()
    assert "Medical claims in an ad" in mine.locator("#notices").inner_text()
    assert mine.locator(".mod-notice.unread").count() >= 1
    assert no_horizontal_scroll(mine)
    action = Action.objects.get(kind="remove")
    appeal_form = mine.locator(f"li[data-action='{action.pk}'] form.mod-appeal-form")
    appeal_form.locator("textarea[name=text]").fill("这是真实的使用体验，不是广告")
    appeal_form.locator("button[type=submit]").click()
    mine.locator(".mod-appeal-status[data-status='pending']").wait_for()
    assert mine.locator(".nav-credit .badge").count() == 0  # the notices are read now
    assert mine.locator("nav.tabbar .badge").count() == 0
    assert no_horizontal_scroll(mine)
    assert Appeal.objects.get().text == "这是真实的使用体验，不是广告"

    # 4. operator A may not decide the appeal of their own action; operator B (phone, Chinese) overturns it
    ops.goto(f"{live_server.url}/moderation/appeals")
    card = ops.locator(".mod-appeal-card")
    card.get_by_label("Overturn: undo the action and give the credit back").check()
    card.get_by_label("Reason (sent to the account)").fill("mine")
    card.get_by_role("button", name="Decide the appeal").click()
    # the refusal is a new page: wait for it (reading the card at once may read the page that was submitted)
    expect(ops.locator(".mod-appeal-card")).to_contain_text(
        "Another operator must decide an appeal of your own action.", timeout=10_000)
    other = logged_in_page(browser, live_server, op_b, phone=True, language="zh-hans")
    other.goto(f"{live_server.url}/moderation/appeals")
    assert no_horizontal_scroll(other)
    card = other.locator(".mod-appeal-card")
    assert "这是真实的使用体验，不是广告" in card.inner_text()
    card.locator("input[name=decision][value=overturn]").check()
    card.locator("textarea[name=reason]").fill("A genuine review with a disclosure")
    card.locator("button[type=submit]").click()
    other.locator(".msg-success").wait_for()
    assert other.locator(".mod-appeal-card").count() == 0

    # 5. the credit is back, the post is visible again
    mine.reload()
    standing = mine.locator(".mod-standing")
    assert standing.get_attribute("data-score") == "80"
    assert mine.locator(".mod-credit-change").first.get_attribute("data-delta") == "10"
    assert mine.locator(".mod-appeal-status").get_attribute("data-status") == "overturned"
    assert no_horizontal_scroll(mine)
    fan_page.goto(f"{live_server.url}/posts/{post.pk}")
    assert POST_TEXT in fan_page.locator("article.post").first.inner_text()
    assert User.objects.get(pk=author.pk).credit_score == 80
    assert list(CreditChange.objects.filter(account=author).order_by("id").values_list("delta", flat=True)) == [-10, 10]
    assert Case.objects.get().status == "actioned"
    for page in (fan_page, ops, mine, other):
        page.context.close()
