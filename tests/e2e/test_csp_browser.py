"""The Content-Security-Policy in a real browser: no page breaks under it (issue 10, item 13).

Chromium reports every blocked inline script, handler or style on the console; the pages that used
inline handlers (rotating a store's secrets asks first; a secret selects itself on focus) still work
through web/ui.js, htmx still swaps, and the admin and the API docs load.
"""

from __future__ import annotations

import pytest

PASSWORD = "Corr3ct-Horse-Battery"  # what make_user gives (tests/conftest.py)
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pages_work_under_the_csp(browser, live_server, store, operator):
    base = live_server.url
    page = browser.new_context(locale="en-US").new_page()
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)

    response = page.goto(f"{base}/login")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.fill("input[name=username]", operator.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.locator(".who-to-follow-slot").wait_for(state="detached")  # htmx loaded the box in place

    # the rotate form asks first: cancelling keeps the page, accepting rotates
    page.goto(f"{base}/stores/{store.pk}")
    questions = []
    page.once("dialog", lambda d: (questions.append(d.message), d.dismiss()))
    page.click("form[action$='/rotate'] button")
    for _ in range(100):  # the dialog's event reaches us while Playwright runs (a slow machine: up to 10 s)
        if questions:
            break
        page.wait_for_timeout(100)
    assert questions and "new API key" in questions[0]
    assert page.url == f"{base}/stores/{store.pk}"
    page.once("dialog", lambda d: d.accept())
    page.click("form[action$='/rotate'] button")
    page.locator("#api-key").wait_for()
    page.focus("#api-key")
    selected = page.evaluate("() => { const i = document.getElementById('api-key'); "
                             "return i.selectionEnd - i.selectionStart === i.value.length && i.value.length > 0; }")
    assert selected

    for path in ("/settings/apps", "/admin/", "/api/docs"):
        page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
    assert page.locator(".swagger-ui").count() == 1
    assert not violations, violations
