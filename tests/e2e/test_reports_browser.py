"""Reports in a real browser (Debian's Chromium through Playwright) against the live server.

* the author opens a post's report; a fan scrolls past the post in the public timeline; the page
  reports the impression (IntersectionObserver, batched) and the author's open report shows the new
  number and chart without a reload (htmx polling);
* for every invalid-traffic rule, the real-browser case it must keep: an ordinary browser (not a
  bot), an ordinary navigation (not a prefetch, not HEAD), someone other than the author, the first
  view of a viewer (not a repeat), a different metric (a link click after the impression).
"""

from __future__ import annotations

import time

import pytest

from sqlite_locks import retry_locked

# what a person's browser sends (headless Chromium announces itself as HeadlessChrome, a bot)
PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36")
DESKTOP_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
              "Safari/537.36")

PHONE = {"width": 390, "height": 844}  # a phone-sized viewport

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def read(query, timeout=30.0):
    """Run a read while the live server writes (``sqlite_locks.retry_locked``: a full run failed on one while
    the server wrote an event)."""
    return retry_locked(query, timeout=timeout)


def wait_until(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if read(predicate):
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


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
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key,
                          "url": live_server.url}])
    return context.new_page()


def figure(page, metric: str) -> int:
    return int(page.locator(f".report-totals .figure[data-metric={metric}] dd").inner_text().replace(",", ""))


def test_report_updates_live_after_an_impression(browser, live_server, make_user):
    from tastemaker.analytics.models import Event
    from tastemaker.social import services as social

    author = make_user("maker")
    fan = make_user("fan")
    post = social.do_create_post(author, text="The best pour-over kettle I have used")

    report = logged_in_page(browser, live_server, author)
    report.goto(f"{live_server.url}/posts/{post.pk}/report?granularity=minute")
    chart = report.locator("#report-live svg.chart")
    assert chart.is_visible()
    assert figure(report, "impression") == 0 and chart.get_attribute("data-total") == "0"

    viewer = logged_in_page(browser, live_server, fan, ua=PHONE_UA, viewport=PHONE)
    viewer.goto(f"{live_server.url}/public")
    viewer.locator(f"article[data-tm-post='{post.pk}']").wait_for()
    wait_until(lambda: Event.objects.filter(metric="impression", valid=True).exists(), what="the impression")

    # the open report picks it up by itself (htmx polls the fragment every 2 s)
    report.wait_for_function("() => document.querySelector(\".figure[data-metric=impression] dd\").textContent"
                             ".trim() === '1'", timeout=8000)
    assert report.locator("#report-live svg.chart").get_attribute("data-total") == "1"
    assert report.locator("#report-live svg.chart rect.bar").count() == 60
    assert "Mobile" in report.locator("table.breakdown[data-dimension=device]").inner_text()
    report.context.close()
    viewer.context.close()


def test_each_filter_rule_keeps_real_browser_traffic(browser, live_server, make_user):
    from tastemaker.analytics import selectors
    from tastemaker.analytics.models import Event
    from tastemaker.social import services as social

    author = make_user("maker")
    fan = make_user("fan")
    post = social.do_create_post(author, text="Where to buy: https://shop.example.org/kettle")

    page = logged_in_page(browser, live_server, fan, ua=PHONE_UA, viewport=PHONE)
    page.route("https://shop.example.org/**", lambda route: route.fulfill(status=200, body="shop"))
    # bot rule keeps a real browser; self rule keeps someone else; duplicate rule keeps the first view
    page.goto(f"{live_server.url}/public")
    page.locator(f"article[data-tm-post='{post.pk}']").wait_for()
    wait_until(lambda: Event.objects.filter(metric="impression").exists(), what="the impression")
    # prefetch and HEAD rules keep an ordinary navigation (a GET, no Sec-Purpose)
    page.goto(f"{live_server.url}/posts/{post.pk}")
    wait_until(lambda: Event.objects.filter(metric="read").exists(), what="the read")
    # a click on the post's link: another metric, not a repeat
    page.locator(".focus .post-text a[href^='https://shop.example.org']").click()
    wait_until(lambda: Event.objects.filter(metric="link_click").exists(), what="the link click")
    # an anonymous visitor in another browser is another viewer
    anon = browser.new_context(user_agent=DESKTOP_UA).new_page()
    anon.goto(f"{live_server.url}/posts/{post.pk}")
    wait_until(lambda: Event.objects.filter(metric="read").count() == 2, what="the anonymous read")

    events = read(lambda: list(Event.objects.order_by("id")))
    assert [(e.metric, e.valid, e.invalid_reason) for e in events if e.metric != "impression"] == [
        ("read", True, ""), ("link_click", True, ""), ("read", True, "")]
    # every event is valid, except that a slow run may keep the thread page open past the 1 s dwell, so
    # the fan sees the post a second time there: that repeat is (rightly) the duplicate rule's to drop
    seen: set[str] = set()
    for e in events:
        repeat = e.metric == "impression" and e.viewer_key in seen
        if e.metric == "impression":
            seen.add(e.viewer_key)
        expected = (False, "duplicate") if repeat else (True, "")
        assert (e.valid, e.invalid_reason) == expected, [(x.metric, x.viewer_key, x.invalid_reason) for x in events]
    fan_events = [e for e in events if e.viewer_key == f"u{fan.pk}"]
    assert {e.device for e in fan_events} == {"mobile"} and {e.surface for e in fan_events} >= {"public", "thread"}
    totals = read(lambda: selectors.totals("post", post.pk))
    assert totals["read"] == 2 and totals["link_click"] == 1 and totals["impression"] >= 1
    page.context.close()
    anon.context.close()


def test_headless_agent_and_own_views_are_filtered_in_a_browser(browser, live_server, make_user):
    """The removing side, in a browser too: HeadlessChrome is a bot; the author's own view is not counted."""
    from tastemaker.analytics.models import Event
    from tastemaker.social import services as social

    author = make_user("maker")
    post = social.do_create_post(author, text="My own post")
    headless = browser.new_context().new_page()  # Playwright's default: the HeadlessChrome user agent
    headless.goto(f"{live_server.url}/posts/{post.pk}")
    wait_until(lambda: Event.objects.filter(metric="read").exists(), what="the read")
    own = logged_in_page(browser, live_server, author)
    own.goto(f"{live_server.url}/posts/{post.pk}")
    wait_until(lambda: Event.objects.filter(metric="read").count() == 2, what="the author's read")
    reasons = read(lambda: [e.invalid_reason for e in Event.objects.filter(metric="read").order_by("id")])
    assert reasons == ["bot", "self"]
    headless.context.close()
    own.context.close()


def test_report_chart_is_readable_on_a_phone_in_chinese(browser, live_server, make_user):
    from tastemaker.social import services as social

    author = make_user("maker", language="zh-hans")
    post = social.do_create_post(author, text="手冲壶测评")
    page = logged_in_page(browser, live_server, author, ua=PHONE_UA, viewport=PHONE)
    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_server.url}])
    page.goto(f"{live_server.url}/posts/{post.pk}/report?granularity=hour")
    sizes = page.eval_on_selector_all(
        "svg.chart text", "els => els.map(e => parseFloat(getComputedStyle(e).fontSize) * e.getScreenCTM().a)")
    assert sizes and min(sizes) >= 12, sizes  # on screen, after the SVG is scaled to the phone's width
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.click("details.chart-table summary")  # the table alternative opens and holds the hours, with dates
    assert page.locator("details.chart-table tbody tr").count() >= 24
