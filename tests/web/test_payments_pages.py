"""Wallet pages, the operators' payments page, the sandbox checkout page and the notify endpoint."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from payments.conftest import aged
from tastemaker.payments import selectors, services
from tastemaker.payments.ledger import post_transaction, provider_clearing, wallet_for
from tastemaker.payments.models import (
    IdempotencyRecord,
    PayoutAccount,
    ProviderNotification,
    SandboxTrade,
    TopUp,
    Transaction,
    Withdrawal,
)
from tastemaker.payments.providers import sandbox

pytestmark = pytest.mark.django_db

KEY_RE = re.compile(r'name="idempotency_key" value="([^"]+)"')


def fund(user, amount, currency="CNY", ref=[0]):  # noqa: B006 - a counter shared by the calls
    ref[0] += 1
    return post_transaction("topup", [(provider_clearing("sandbox", currency), -amount),
                                      (wallet_for(user, currency), amount)], reference=f"web-fund:{ref[0]}:{user.pk}")


def keys(html: str) -> list[str]:
    return KEY_RE.findall(html)


def text(response) -> str:
    return response.content.decode()


def test_wallet_needs_login_and_renders(client, login, make_user):
    assert client.get("/wallet").status_code == 302
    user = make_user()
    fund(user, 12_345)
    c = login(user)
    r = c.get("/wallet")
    assert r.status_code == 200
    html = text(r)
    assert "¥123.45" in html and 'data-currency="CNY"' in html
    assert len(set(keys(html))) == 2  # a fresh key for each money form
    assert keys(html) != keys(text(c.get("/wallet")))  # and for each rendering
    assert 'href="/wallet"' in html  # the nav link
    assert "Withdrawals are paid out to a payout account" in html


def test_topup_through_the_sandbox_checkout(client, login, make_user, run_jobs, settings):
    user = make_user()
    c = login(user)
    key = keys(text(c.get("/wallet")))[0]
    r = c.post("/wallet/topup", {"idempotency_key": key, "topup_amount": "50.00", "topup_currency": "CNY",
                                 "topup_provider": "sandbox"})
    topup = TopUp.objects.get(user=user)
    assert r.status_code == 303 and r["Location"] == f"/payments/sandbox/checkout/{topup.order_no}"
    assert topup.amount == 5_000 and topup.status == "pending"
    # a double submit replays: the same checkout, no second top-up
    again = c.post("/wallet/topup", {"idempotency_key": key, "topup_amount": "50.00", "topup_currency": "CNY",
                                     "topup_provider": "sandbox"})
    assert again.status_code == 303 and again["Location"] == r["Location"] and TopUp.objects.count() == 1

    page = c.get(r["Location"])
    html = text(page)
    assert page.status_code == 200 and "SANDBOX" in html and "¥50.00" in html and topup.order_no in html
    assert 'value="approve"' in html and 'value="decline"' in html and "csrfmiddlewaretoken" in html
    with run_jobs():  # the signed notification goes out after the commit (huey runs inline in tests)
        done = c.post(r["Location"], {"decision": "approve"})
    assert done.status_code == 303
    back = urlsplit(done["Location"])
    assert back.path == f"/wallet/topups/{topup.order_no}"
    assert not back.netloc  # a path: the browser stays on the address it uses, whatever SITE_URL says
    topup.refresh_from_db()
    assert topup.status == "succeeded" and selectors.balance(user).available == 5_000
    landed = text(c.get(back.path))
    assert 'data-status="succeeded"' in landed and "¥50.00" in landed
    assert "hx-trigger" not in landed.split('id="wallet-live"')[1].split(">")[0]  # no more polling
    # the finished checkout shows its outcome and cannot be approved again
    assert 'value="approve"' not in text(c.get(r["Location"]))
    assert c.post(r["Location"], {"decision": "decline"}).status_code == 409
    # a replay of the original form after the payment shows the outcome instead of the checkout
    replay = c.post("/wallet/topup", {"idempotency_key": key, "topup_amount": "50.00", "topup_currency": "CNY",
                                      "topup_provider": "sandbox"})
    assert replay["Location"] == f"/wallet/topups/{topup.order_no}"


def test_pending_topup_return_page_polls_and_declined_shows_failure(client, login, make_user, run_jobs):
    user = make_user()
    c = login(user)
    topup, url = services.do_start_topup(user, 800, "CNY", "sandbox")
    pending = text(c.get(f"/wallet/topups/{topup.order_no}"))
    assert 'data-status="pending"' in pending and 'hx-trigger="every 2s"' in pending
    fragment = c.get(f"/wallet/topups/{topup.order_no}", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and text(fragment).startswith('<div id="wallet-live"')
    with run_jobs():
        c.post(url, {"decision": "decline"})
    declined = text(c.get(f"/wallet/topups/{topup.order_no}"))
    assert 'data-status="failed"' in declined and selectors.balance(user).available == 0
    # someone else's top-up is not found; so is an unknown order or a bad decision
    other = login(make_user())
    assert other.get(f"/wallet/topups/{topup.order_no}").status_code == 404
    c = login(user)
    assert c.get("/payments/sandbox/checkout/T-nope").status_code == 404
    topup2, url2 = services.do_start_topup(user, 900, "CNY", "sandbox")
    assert c.post(url2, {"decision": "maybe"}).status_code == 422


def test_only_the_payer_sees_and_answers_the_sandbox_checkout(client, login, make_user, run_jobs):
    """The sandbox makes money up: nobody approves an order but the user who started it (was: anyone)."""
    payer, stranger = make_user(), make_user()
    topup, url = services.do_start_topup(payer, 5_000, "CNY", "sandbox")
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login?next=")
    assert client.post(url, {"decision": "approve"}).status_code == 302
    login(stranger)
    for attempt in (lambda: client.get(url), lambda: client.post(url, {"decision": "approve"}),
                    lambda: client.post(url, {"decision": "decline"})):
        with run_jobs():
            assert attempt().status_code == 404
    assert SandboxTrade.objects.get(order_no=topup.order_no).status == "pending"
    assert TopUp.objects.get(pk=topup.pk).status == "pending" and selectors.balance(stranger).available == 0
    assert not ProviderNotification.objects.exists()
    login(payer)
    assert client.get(url).status_code == 200
    with run_jobs():
        assert client.post(url, {"decision": "approve"}).status_code == 303
    assert selectors.balance(payer).available == 5_000


def test_sandbox_checkout_is_gone_when_the_sandbox_is_disabled(client, login, make_user, settings):
    user = make_user()
    topup, url = services.do_start_topup(user, 800, "CNY", "sandbox")
    login(user)
    settings.PAYMENT_PROVIDERS = []
    assert client.get(url).status_code == 404
    assert client.post(url, {"decision": "approve"}).status_code == 404


def test_topup_form_errors_stay_at_their_field(client, login, make_user):
    c = login(make_user())
    key = keys(text(c.get("/wallet")))[0]
    for amount, message in (("", "Enter an amount"), ("abc", "not an amount"), ("1.234", "more decimals"),
                            ("0", "greater than zero"), ("0.50", "A top-up is between")):
        r = c.post("/wallet/topup", {"idempotency_key": idem(), "topup_amount": amount, "topup_currency": "CNY",
                                     "topup_provider": "sandbox"})
        assert r.status_code == 422, amount
        html = text(r)
        assert message in html and f'value="{amount}"' in html  # the value as typed stays in the form
    r = c.post("/wallet/topup", {"idempotency_key": key, "topup_amount": "5", "topup_provider": "paypal"})
    assert r.status_code == 422 and "Choose a payment provider" in text(r)
    r = c.post("/wallet/topup", {"topup_amount": "5", "topup_provider": "sandbox"})  # no key: nothing happens
    assert r.status_code == 400 and "out of date" in text(r)
    assert not TopUp.objects.exists()


@pytest.mark.parametrize("amount", ["１２", "٣", "12,5", "1,200", "12 50", "+12", "-12", "1e3", "12.", ".5", "١٢.٥٠"])
def test_money_fields_accept_one_format_and_say_which(client, login, make_user, amount):
    """ASCII digits with an optional "." and decimals: no other digits, commas, inner spaces, signs, exponents."""
    user = make_user()
    fund(user, 100_000)
    c = login(user)
    r = c.post("/wallet/topup", {"idempotency_key": idem(), "topup_amount": amount, "topup_currency": "CNY",
                                 "topup_provider": "sandbox"})
    assert r.status_code == 422 and "for example 12 or 12.50" in text(r)
    r = c.post("/wallet/withdraw", {"idempotency_key": idem(), "withdraw_amount": amount, "withdraw_currency": "CNY"})
    assert r.status_code == 422 and "for example 12 or 12.50" in text(r)
    assert not TopUp.objects.exists() and not Withdrawal.objects.exists()


def idem() -> str:
    from tastemaker.payments.idempotency import new_key

    return new_key()


def test_withdrawal_needs_a_payout_account_then_moves_once(client, login, make_user, run_jobs):
    user = make_user()
    fund(user, 10_000)
    c = login(user)
    r = c.post("/wallet/withdraw", {"idempotency_key": idem(), "withdraw_amount": "10", "withdraw_currency": "CNY"})
    assert r.status_code == 422 and "Bind a payout account first" in text(r)
    # bind one (errors at their field first)
    r = c.post("/wallet/payout-accounts", {"bind_provider": "sandbox", "bind_identifier": "me@example.org",
                                           "bind_holder_name": ""})
    assert r.status_code == 422 and "holder" in text(r)
    r = c.post("/wallet/payout-accounts", {"bind_provider": "sandbox", "bind_identifier": "me@example.org",
                                           "bind_holder_name": "Me Myself"})
    assert r.status_code == 303
    account = PayoutAccount.objects.get(user=user, active=True)
    html = text(c.get("/wallet"))
    assert "me@example.org" in html and f'value="{account.pk}"' in html
    # newly bound: no withdrawal to it before the cool-down is over, and the page says from when
    ready = timezone.localtime(account.bound_at + timedelta(hours=24)).strftime("%Y-%m-%d %H:%M")
    assert f"withdrawals from {ready}" in html
    r = c.post("/wallet/withdraw", {"idempotency_key": keys(html)[1], "withdraw_amount": "30.00",
                                    "withdraw_currency": "CNY", "withdraw_payout_account": str(account.pk)})
    assert r.status_code == 409 and f"Withdrawals to it are possible from {ready}" in text(r)
    assert not Withdrawal.objects.exists() and selectors.balance(user).available == 10_000
    aged(account)
    html = text(c.get("/wallet"))
    assert "withdrawals from" not in html
    key = keys(html)[1]
    form = {"idempotency_key": key, "withdraw_amount": "30.00", "withdraw_currency": "CNY",
            "withdraw_payout_account": str(account.pk)}
    with run_jobs():
        first = c.post("/wallet/withdraw", form)
    assert first.status_code == 303
    followed = text(c.get("/wallet"))
    assert "Withdrawal of ¥30.00" in followed and "¥70.00" in followed
    # the same form submitted again (double click, refresh, back and resubmit): replayed, nothing moves
    with run_jobs():
        second = c.post("/wallet/withdraw", form)
    assert second.status_code == 303 and "already submitted" in text(c.get("/wallet"))
    assert Withdrawal.objects.count() == 1 and selectors.balance(user).available == 7_000
    assert Withdrawal.objects.get().status == "succeeded"
    # the same key with another amount is refused, with a fresh form
    r = c.post("/wallet/withdraw", {**form, "withdraw_amount": "31.00"})
    assert r.status_code == 422 and "other values" in text(r) and key not in keys(text(r))
    # more than the balance: 409 with the reason, nothing held
    r = c.post("/wallet/withdraw", {**form, "idempotency_key": idem(), "withdraw_amount": "1000"})
    assert r.status_code == 409 and "Insufficient funds" in text(r)
    assert IdempotencyRecord.objects.filter(user=user).count() == 3  # the refused early one too
    # someone else's payout account cannot be chosen or unbound
    stranger = PayoutAccount.objects.create(user=make_user(), provider="sandbox", identifier="x", holder_name="X")
    r = c.post("/wallet/withdraw", {**form, "idempotency_key": idem(), "withdraw_payout_account": str(stranger.pk)})
    assert r.status_code == 422 and "Choose one of your payout accounts" in text(r)
    assert c.post(f"/wallet/payout-accounts/{stranger.pk}/unbind").status_code == 404
    assert c.post("/wallet/payout-accounts/99999999999999999999999/unbind").status_code == 404
    r = c.post(f"/wallet/payout-accounts/{account.pk}/unbind")
    assert r.status_code == 303 and not PayoutAccount.objects.get(pk=account.pk).active
    assert Withdrawal.objects.count() == 1


def test_history_filters_and_older_pages(client, login, make_user):
    user, friend = make_user(), make_user()
    fund(user, 100_000)
    for n in range(24):
        services.do_transfer(user, friend, 100 + n, "CNY", memo=f"gift {n}")
    services.do_transfer(friend, user, 555, "CNY", memo="thanks")
    c = login(user)
    html = text(c.get("/wallet"))
    rows = re.findall(r'<tr data-entry="(\d+)" data-kind="(\w+)" class="pay-(in|out)', html)
    assert len(rows) == 20 and rows[0][2] == "in" and "thanks" in html
    older = re.search(r'href="(\?[^"]*max_id=\d+[^"]*)"', html).group(1).replace("&amp;", "&")
    page2 = re.findall(r'<tr data-entry="(\d+)"', text(c.get("/wallet" + older.split("#")[0])))
    assert len(page2) == 6 and not set(page2) & {r[0] for r in rows}  # 26 entries in all, none twice
    incoming = re.findall(r'data-kind="(\w+)" class="pay-(in|out)', text(c.get("/wallet?direction=in")))
    assert incoming == [("transfer", "in"), ("topup", "in")]
    topups = re.findall(r'data-kind="(\w+)"', text(c.get("/wallet?kind=topup")))
    assert topups == ["topup"]
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert "Nothing matches these filters" in text(c.get(f"/wallet?since={tomorrow}"))
    today = timezone.localdate().isoformat()
    assert len(re.findall(r"data-entry=", text(c.get(f"/wallet?since={today}&until={today}&direction=out")))) == 20
    # filters keep their values in the older link
    out = text(c.get("/wallet?direction=out"))
    assert re.search(r'href="\?direction=out&amp;max_id=\d+#history"', out)
    # bad filters are explained, never a 500
    for query in ("since=yesterday", "kind=bogus", "direction=sideways", "until=2024-02-30", "max_id=abc",
                  "since=2024-05-02&until=2024-05-01", "currency=XYZ"):
        r = c.get(f"/wallet?{query}")
        assert r.status_code == 200, query
        assert 'class="msg msg-error"' in text(r) or query == "max_id=abc", query
    # far dates were a 500 (an overflow): the filter says which dates it takes, the rest of the page works
    for query in ("until=9999-12-31", "since=9999-12-31", "since=0001-01-01", "until=2101-01-01",
                  "since=2024-05-01&until=9999-12-31"):
        r = c.get(f"/wallet?{query}")
        assert r.status_code == 200, query
        assert "Choose a date between 2000-01-01 and 2100-12-31." in text(r), query
    edges = text(c.get("/wallet?since=2000-01-01&until=2100-12-31&direction=in"))
    assert re.findall(r'data-kind="(\w+)" class="pay-(in|out)', edges) == [("transfer", "in"), ("topup", "in")]


def yesterday():
    return timezone.localdate() - timedelta(days=1)


def at_noon_yesterday():
    noon = datetime.combine(yesterday(), time(12), tzinfo=timezone.get_current_timezone())
    return mock.patch("django.utils.timezone.now", return_value=noon)


def paid_topup(user, amount):
    topup, _url = services.do_start_topup(user, amount, "CNY", "sandbox")
    sandbox.sandbox_approve(topup.order_no)
    assert services.do_handle_notification("sandbox", sandbox.notification_for(topup.order_no)) == "success"
    return topup


def test_operator_page_is_404_for_everyone_else(client, login, make_user):
    assert client.get("/ops/payments").status_code == 302  # anonymous: log in first
    c = login(make_user())
    assert c.get("/ops/payments").status_code == 404
    assert c.post("/ops/payments", {"provider": "sandbox", "date_from": "2024-01-01",
                                    "idempotency_key": idem()}).status_code == 404
    assert 'href="/ops/payments"' not in text(c.get("/wallet"))


def test_operator_page_shows_accounts_and_a_planted_mismatch(client, login, make_user):
    fan = make_user()
    with at_noon_yesterday():
        good = paid_topup(fan, 10_000)
        changed = paid_topup(fan, 900)
        SandboxTrade.objects.filter(order_no=changed.order_no).update(amount=990)  # the provider says 9.90
    ops = login(make_user(is_staff=True))
    html = text(ops.get("/ops/payments"))
    assert 'data-account="provider_clearing:sandbox:CNY"' in html and "-¥109.00" in html
    assert "balanced" in html and good.order_no in html
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
    day = yesterday().isoformat()
    form = {"idempotency_key": key, "provider": "sandbox", "date_from": day, "date_to": day, "settle": "1"}
    r = ops.post("/ops/payments", form)
    assert r.status_code == 303
    run_url = r["Location"]
    page = text(ops.get(run_url))
    assert re.search(rf'data-mismatch="amount_differs" data-order="{changed.order_no}"', page)
    assert f"sandbox, {day} to {day}" in page and "2 statement lines, 1 matched, 1 mismatch." in page
    assert "9.90" in page and "1 mismatch" in page and good.order_no not in re.findall(r'data-order="([^"]+)"', page)
    assert 'data-clearing="unsettled"' in page  # nothing is settled while anything mismatches
    # the refreshed POST replays the same run instead of reconciling twice
    again = ops.post("/ops/payments", form)
    assert again["Location"] == run_url
    from tastemaker.payments.models import ReconciliationRun

    assert ReconciliationRun.objects.count() == 1
    # bad input is explained at the form
    r = ops.post("/ops/payments", {**form, "idempotency_key": idem(), "date_from": "not a day"})
    assert r.status_code == 422 and "YYYY-MM-DD" in text(r)
    r = ops.post("/ops/payments", {**form, "idempotency_key": idem(), "date_from": day, "date_to": "2000-01-01"})
    assert r.status_code == 422 and "before the start date" in text(r)
    r = ops.post("/ops/payments", {**form, "idempotency_key": idem(), "provider": "paypal"})
    assert r.status_code == 422
    assert ops.get("/ops/payments?run=123").status_code == 404


def test_operator_reconciles_a_clean_day_and_the_clearing_account_nets_to_zero(client, login, make_user):
    fan = make_user()
    with at_noon_yesterday():
        paid_topup(fan, 2_345)
        paid_topup(fan, 5_000)
    ops = login(make_user(is_staff=True))
    day = yesterday().isoformat()
    r = ops.post("/ops/payments", {"idempotency_key": idem(), "provider": "sandbox", "date_from": day, "date_to": day,
                                   "settle": "1"})
    page = text(ops.get(r["Location"]))
    assert "Every statement line matches" in page and 'data-clearing="ok"' in page and 'data-ok="true"' in page
    assert "¥73.45" in page  # settled now
    assert provider_clearing("sandbox", "CNY").balance == 0


def test_notify_endpoint_replies_in_plain_text(client, make_user, run_jobs):
    url = "/payments/notify/sandbox"
    assert client.get(url).status_code == 405
    r = client.post(url, {"garbage": "yes"})
    assert (r.status_code, r.content, r["Content-Type"].split(";")[0]) == (200, b"failure", "text/plain")
    assert client.post("/payments/notify/nonexistent", {"a": "b"}).content == b"failure"
    assert client.post(url, b"\xff\xfe not a form", content_type="application/octet-stream").content == b"failure"
    assert client.post(url, "{}", content_type="application/json").content == b"failure"
    fan = make_user()
    topup, _url = services.do_start_topup(fan, 4_200, "CNY", "sandbox")
    sandbox.sandbox_approve(topup.order_no)  # paid at the sandbox; no notification yet (no commit in this test)
    note = sandbox.notification_for(topup.order_no)
    forged = client.post(url, {**note, "total_amount": "4200.00"})
    assert forged.content == b"failure" and selectors.balance(fan).available == 0
    for _ in range(8):
        assert client.post(url, note).content == b"success"
    assert selectors.balance(fan).available == 4_200
    assert Transaction.objects.filter(reference=f"topup:{topup.pk}").count() == 1
    assert ProviderNotification.objects.filter(order_no=topup.order_no, outcome="credited").count() == 1


def test_notify_endpoint_is_rate_limited_per_client_ip(client, settings):
    settings.RATE_PAYMENT_NOTIFY = "3/60"
    url = "/payments/notify/sandbox"
    for _ in range(3):
        assert client.post(url, {"out_trade_no": "T1"}).content == b"failure"
    r = client.post(url, {"out_trade_no": "T1"})
    assert (r.status_code, r.content, r["Content-Type"].split(";")[0]) == (429, b"rate limited", "text/plain")
    assert int(r["Retry-After"]) > 0
    assert ProviderNotification.objects.count() == 3  # the refused one is not stored
    other = client.post(url, {"out_trade_no": "T1"}, REMOTE_ADDR="203.0.113.7")  # another address: its own count
    assert (other.status_code, other.content) == (200, b"failure")


def test_notify_endpoint_survives_a_non_ascii_signature(client, make_user, caplog):
    fan = make_user()
    topup, _url = services.do_start_topup(fan, 4_200, "CNY", "sandbox")
    sandbox.sandbox_approve(topup.order_no)
    note = sandbox.notification_for(topup.order_no)
    r = client.post("/payments/notify/sandbox", {**note, "sign": "签名" * 32})
    assert (r.status_code, r.content) == (200, b"failure")
    assert not [rec for rec in caplog.records if rec.exc_info]  # refused as invalid: no traceback logged
    row = ProviderNotification.objects.get()
    assert (row.verified, row.outcome, row.reason) == (False, "rejected", "signature missing or malformed")
    assert set(row.raw) == {"summary", "fields", "truncated"}
    assert selectors.balance(fan).available == 0
