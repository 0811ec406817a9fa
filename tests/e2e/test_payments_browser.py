"""A top-up in a real browser (Debian's Chromium through Playwright) against the live server.

A user logs in, asks to top up 50.00 on the wallet page, is sent to the sandbox provider's checkout page,
clicks Approve and comes back to the wallet. The sandbox delivers its signed notification over HTTP to the
live server's notify endpoint, as a real provider would, and the wallet shows ¥50.00.
"""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Corr3ct-Horse-Battery"


def test_top_up_through_the_sandbox_checkout_and_see_the_balance(browser, live_server, make_user, settings):
    from tastemaker.payments.models import ProviderNotification, TopUp

    base = live_server.url
    # where the live server really is (the defaults name SITE_URL); the notification goes over HTTP
    settings.PAYMENT_RETURN_URL = base + "/wallet/topups/{order_no}"
    settings.PAYMENT_NOTIFY_URL = base + "/payments/notify/{provider}"
    settings.PAYMENT_SANDBOX_DELIVERY = "http"
    make_user("payer", password=PASSWORD)

    context = browser.new_context(viewport={"width": 420, "height": 900}, locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "payer")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/")

    page.click("nav.tabbar >> text=\"Me\"")  # a phone: the wallet is on "Me"
    page.click("nav.me-menu >> text=Wallet")
    page.wait_for_url(f"{base}/wallet")
    balance = page.locator(".pay-balance[data-currency=CNY] .pay-available")
    assert balance.inner_text() == "¥0.00"

    page.fill("#topup-amount", "50.00")
    page.select_option("#topup-provider", "sandbox")
    page.click("#topup button[type=submit]")
    page.wait_for_url(re.compile(r"/payments/sandbox/checkout/T\d+$"))
    checkout = page.locator(".pay-sandbox")
    assert "SANDBOX" in page.locator(".pay-sandbox-banner").inner_text()
    assert page.locator(".pay-sandbox-amount").inner_text() == "¥50.00"
    order_no = checkout.get_attribute("data-order")
    assert order_no in checkout.inner_text()

    page.click("button[value=approve]")
    page.wait_for_url(f"{base}/wallet/topups/{order_no}")
    # the notification may still be on its way: the page polls until the provider has confirmed
    page.locator(f".pay-topup-status[data-topup='{order_no}'][data-status=succeeded]").wait_for()
    assert balance.inner_text() == "¥50.00"
    assert "Top-up" in page.locator(".pay-topup-status").inner_text()
    assert page.locator(f"#topups li[data-topup='{order_no}'] .pay-status-succeeded").count() == 1
    assert TopUp.objects.get(order_no=order_no).status == "succeeded"
    # it came through the notify endpoint over HTTP, verified, and credited once
    assert list(ProviderNotification.objects.filter(order_no=order_no).values_list("verified", "outcome")) == [
        (True, "credited")]
    context.close()
