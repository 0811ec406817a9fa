"""The Payments API over HTTP: auth and the `payments` scope, owner-only reads, validation, Idempotency-Key
rules (with real concurrent connections), top-ups through the sandbox and its notify endpoint, withdrawals
(and the payout account cool-down), transfers, and the operators' accounts and reconciliation."""

from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

# the payments suite's real-concurrency fixtures: a WAL file database on SQLite, threads with their own connections
from payments.conftest import aged, assert_ledger_invariants, concurrent_db, run_threads  # noqa: F401
from tastemaker.payments import selectors, services
from tastemaker.payments.idempotency import new_key
from tastemaker.payments.ledger import post_transaction, provider_clearing, wallet_for
from tastemaker.payments.models import (
    IdempotencyRecord,
    PayoutAccount,
    ProviderNotification,
    SandboxTrade,
    TopUp,
    Transaction,
)
from tastemaker.payments.providers import sandbox

BASE = "/api/v1/tastemaker"
WALLET = f"{BASE}/wallet"
MONEY_SCOPES = "read write follow push payments"  # a client that asked for the payments scope
MASTODON_SCOPES = "read write follow"  # what every Mastodon client asks for


@pytest.fixture
def api(token_for):
    """API clients whose tokens carry the payments scope unless told otherwise."""
    from api.conftest import ApiClient

    def make(user=None, scope=MONEY_SCOPES):
        return ApiClient(token_for(user, scope) if user is not None else None)

    return make


def fund(user, amount, currency="CNY", ref=[0]):  # noqa: B006 - a counter shared by the calls
    ref[0] += 1
    return post_transaction("topup", [(provider_clearing("sandbox", currency), -amount),
                                      (wallet_for(user, currency), amount)], reference=f"api-fund:{ref[0]}:{user.pk}")


def keyed(client, path, body, key=None):
    return client.post(path, body, HTTP_IDEMPOTENCY_KEY=key or new_key())


# --- auth, scopes, who may see what -------------------------------------------------------------

@pytest.mark.django_db
def test_auth_and_scopes(api, make_user):
    user = make_user()
    anonymous = api()
    for method, path in (("get", WALLET), ("get", f"{WALLET}/transactions"), ("post", f"{WALLET}/topups"),
                         ("post", f"{WALLET}/transfers"), ("get", f"{BASE}/ops/payments/accounts")):
        assert getattr(anonymous, method)(path).status_code == 401, path
    # read and write (every Mastodon client has them) reach no money, not even balances
    for scope in ("read", "write", "read:accounts", "write:accounts", "read write follow push profile"):
        c = api(user, scope=scope)
        assert c.get(WALLET).status_code == 403, scope
        assert c.get(f"{WALLET}/transactions").status_code == 403, scope
        r = keyed(c, f"{WALLET}/topups", {"amount": 5_000, "currency": "CNY", "provider": "sandbox"})
        assert r.status_code == 403 and "scope" in r.json()["error"], scope
    assert not TopUp.objects.exists()
    payments = api(user, scope="payments")
    assert payments.get(WALLET).status_code == 200
    assert payments.get(f"{WALLET}/transactions").status_code == 200
    assert keyed(payments, f"{WALLET}/topups", {"amount": 5_000, "provider": "sandbox"}).status_code == 201


@pytest.mark.django_db
def test_a_mastodon_clients_token_cannot_move_money(api, make_user):
    """A `read write follow` token (what a Mastodon app gets) is refused every way money leaves a wallet."""
    user, friend = make_user(), make_user()
    fund(user, 10_000)
    account = aged(services.do_bind_payout_account(user, "sandbox", "me@example.org", "Me"))
    c = api(user, scope=MASTODON_SCOPES)
    attempts = {
        "transfer": keyed(c, f"{WALLET}/transfers", {"to": str(friend.pk), "amount": 5_000}),
        "withdrawal": keyed(c, f"{WALLET}/withdrawals", {"amount": 5_000, "payout_account_id": str(account.pk)}),
        "payout account": c.post(f"{WALLET}/payout_accounts", {"provider": "sandbox", "identifier": "thief",
                                                                 "holder_name": "Thief"}),
        "unbind": c.delete(f"{WALLET}/payout_accounts/{account.pk}"),
        "top-up": keyed(c, f"{WALLET}/topups", {"amount": 5_000, "provider": "sandbox"}),
        "withdrawal read": c.get(f"{WALLET}/withdrawals/1"),
    }
    for what, r in attempts.items():
        assert r.status_code == 403, what
        assert r.json()["error"] == "This action is outside the authorized scopes", what
    assert selectors.balance(user).available == 10_000 and selectors.balance(friend).available == 0
    assert list(PayoutAccount.objects.filter(active=True).values_list("identifier", flat=True)) == ["me@example.org"]
    assert not IdempotencyRecord.objects.exists()
    operator = api(make_user(is_staff=True), scope=MASTODON_SCOPES)
    assert operator.get(f"{BASE}/ops/payments/accounts").status_code == 403
    body = {"provider": "sandbox", "date_from": "2025-01-01", "date_to": "2025-01-01"}
    assert keyed(operator, f"{BASE}/ops/payments/reconcile", body).status_code == 403


@pytest.mark.django_db
def test_the_payments_scope_is_granted_only_to_apps_registered_for_it(client, make_user):
    """An app registered for `read write follow` cannot obtain a payments token; one registered for it can."""
    make_user("saver")
    scopes = {}
    for registered in ("read write follow", "read write follow payments"):
        app = client.post("/api/v1/apps", {"client_name": "app", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                                           "scopes": registered}, content_type="application/json").json()
        r = client.post("/oauth/token", {"grant_type": "password", "client_id": app["client_id"],
                                         "client_secret": app["client_secret"], "username": "saver@example.org",
                                         "password": "Corr3ct-Horse-Battery", "scope": "read write payments"})
        scopes[registered] = (r.status_code, r.json().get("scope"))
    assert scopes["read write follow"][0] == 400
    assert scopes["read write follow payments"] == (200, "read write payments")


@pytest.mark.django_db
def test_wallet_is_for_its_owner_and_operators(api, make_user):
    owner, stranger, operator = make_user(), make_user(), make_user(is_staff=True)
    fund(owner, 12_345)
    services.do_hold(owner, 345, "CNY", memo="campaign budget")
    me = api(owner).get(WALLET).json()
    assert me["account_id"] == str(owner.pk) and me["providers"] == ["sandbox"]
    assert me["balances"] == [{"currency": "CNY", "available": 12_000, "held": 345, "total": 12_345,
                               "available_display": "¥120.00", "held_display": "¥3.45"}]
    assert [(h["amount"], h["status"], h["memo"]) for h in me["holds"]] == [(345, "pending", "campaign budget")]
    assert api(owner).get(WALLET, {"account_id": owner.pk}).json() == me
    for who in (stranger,):
        assert api(who).get(WALLET, {"account_id": owner.pk}).status_code == 404
        assert api(who).get(f"{WALLET}/transactions", {"account_id": owner.pk}).status_code == 404
    assert api(operator).get(WALLET, {"account_id": owner.pk}).json()["balances"] == me["balances"]
    assert len(api(operator).get(f"{WALLET}/transactions", {"account_id": owner.pk}).json()) == 2
    assert api(operator).get(WALLET, {"account_id": "999999999"}).status_code == 404
    assert api(stranger).get(WALLET, {"account_id": "x"}).status_code == 404


@pytest.mark.django_db
def test_transactions_filters_and_link_pagination(api, make_user):
    user, friend = make_user(), make_user()
    fund(user, 50_000)
    for n in range(7):
        services.do_transfer(user, friend, 100 + n, "CNY", memo=f"gift {n}")
    services.do_transfer(friend, user, 99, "CNY", memo="thanks")
    c = api(user)
    r = c.get(f"{WALLET}/transactions", {"limit": 3})
    rows = r.json()
    assert [row["memo"] for row in rows] == ["thanks", "gift 6", "gift 5"]
    assert rows[0]["direction"] == "in" and rows[1]["amount"] == -106 and rows[1]["amount_display"] == "-¥1.06"
    links = dict((rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', r["Link"]))
    nxt = urlsplit(links["next"])
    assert f"max_id={rows[-1]['id']}" in nxt.query and "limit=3" in nxt.query
    older = c.get(f"{nxt.path}?{nxt.query}").json()
    assert [row["memo"] for row in older] == ["gift 4", "gift 3", "gift 2"]
    newer = c.get(f"{WALLET}/transactions", {"min_id": older[0]["id"], "limit": 2}).json()
    assert [row["memo"] for row in newer] == ["gift 6", "gift 5"]
    assert [row["kind"] for row in c.get(f"{WALLET}/transactions", {"kind": "topup"}).json()] == ["topup"]
    assert len(c.get(f"{WALLET}/transactions", {"direction": "out", "limit": 40}).json()) == 7
    today = timezone.localdate()
    assert len(c.get(f"{WALLET}/transactions", {"since": today.isoformat(), "until": today.isoformat()}).json()) == 9
    assert c.get(f"{WALLET}/transactions", {"since": (today + timedelta(days=1)).isoformat()}).json() == []
    for bad in ({"since": "yesterday"}, {"until": "2024-02-30"}, {"kind": "bogus"}, {"direction": "up"},
                {"max_id": "abc"}, {"limit": "0"}, {"currency": "XYZ"}):
        r = c.get(f"{WALLET}/transactions", bad)
        assert r.status_code == 422 and r.json()["error"], bad
    # far dates: a clear 422, not an overflow (was a 500 for 9999-12-31)
    for bad in ({"until": "9999-12-31"}, {"since": "9999-12-31"}, {"since": "0001-01-01"}, {"until": "2101-01-01"},
                {"since": "1999-12-31"}):
        r = c.get(f"{WALLET}/transactions", bad)
        field = next(iter(bad))
        assert r.status_code == 422, bad
        assert r.json() == {"error": f"{field}: a date between 2000-01-01 and 2100-12-31", "field": field}
    assert len(c.get(f"{WALLET}/transactions", {"since": "2000-01-01", "until": "2100-12-31", "limit": 40}).json()) == 9


# --- top-ups -----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_topup_idempotency_key_rules(api, make_user):
    user = make_user()
    c = api(user)
    body = {"amount": 5_000, "currency": "CNY", "provider": "sandbox"}
    missing = c.post(f"{WALLET}/topups", body)
    assert missing.status_code == 400 and "Idempotency-Key" in missing.json()["error"]
    for bad in ("x" * 256, "ключ", " "):
        assert c.post(f"{WALLET}/topups", body, HTTP_IDEMPOTENCY_KEY=bad).status_code in (400,), bad
    assert not TopUp.objects.exists()
    key = new_key()
    first = keyed(c, f"{WALLET}/topups", body, key)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    data = first.json()
    topup = TopUp.objects.get()
    assert data["id"] == str(topup.pk) and data["status"] == "pending" and data["amount_display"] == "¥50.00"
    assert data["redirect_url"] == f"http://testserver/payments/sandbox/checkout/{topup.order_no}"
    # the same key and body (keys in another order): the stored answer, byte for byte
    again = c.client.post(f"{WALLET}/topups", '{"provider": "sandbox", "currency": "CNY", "amount": 5000}',
                          content_type="application/json", HTTP_IDEMPOTENCY_KEY=key, **c.headers)
    assert (again.status_code, again.content, again["Idempotent-Replayed"]) == (201, first.content, "true")
    # the same key with another body is refused
    other = keyed(c, f"{WALLET}/topups", {**body, "amount": 5_001}, key)
    assert other.status_code == 422 and "different request" in other.json()["error"]
    # the same key on another operation is another request too
    assert keyed(c, f"{WALLET}/transfers", {"to": "1", "amount": 1}, key).status_code == 422
    assert TopUp.objects.count() == 1
    # another user's same key is theirs
    assert keyed(api(make_user()), f"{WALLET}/topups", body, key).status_code == 201


@pytest.mark.django_db
def test_topup_validation(api, make_user):
    c = api(make_user())
    for body, status, field in (({"amount": 50.0, "provider": "sandbox"}, 422, "amount"),
                                ({"amount": "5000", "provider": "sandbox"}, 422, "amount"),
                                ({"amount": 5_000}, 422, "provider"),
                                ({"amount": 50, "provider": "sandbox"}, 422, "amount"),  # below the minimum
                                ({"amount": 5_000, "provider": "sandbox", "currency": "USD"}, 422, "currency"),
                                ({"amount": -5, "provider": "sandbox"}, 422, "amount"),
                                ({"amount": 5_000, "provider": "paypal"}, 404, None)):
        r = keyed(c, f"{WALLET}/topups", body)
        assert r.status_code == status, body
        assert r.json()["error"] and (field is None or r.json()["field"] == field), (body, r.json())
    r = c.client.post(f"{WALLET}/topups", "not json", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k",
                      **c.headers)
    assert 400 <= r.status_code < 500
    assert not TopUp.objects.exists()


@pytest.mark.django_db
def test_topup_through_the_sandbox_credits_once_however_often_notified(api, make_user, client, run_jobs):
    fan, stranger, operator = make_user(), make_user(), make_user(is_staff=True)
    c = api(fan)
    created = keyed(c, f"{WALLET}/topups", {"amount": 5_000, "provider": "sandbox"}).json()
    checkout = urlsplit(created["redirect_url"]).path
    # the sandbox's checkout is the payer's alone: login first, and nobody else's approval counts
    assert client.get(checkout)["Location"].startswith("/login")
    assert client.post(checkout, {"decision": "approve"})["Location"].startswith("/login")
    client.force_login(stranger)
    assert client.get(checkout).status_code == 404
    assert client.post(checkout, {"decision": "approve"}).status_code == 404
    assert SandboxTrade.objects.get(order_no=created["order_no"]).status == "pending"
    client.force_login(fan)
    assert "SANDBOX" in client.get(checkout).content.decode()
    with run_jobs():  # approve: the sandbox sends its signed notification after the commit
        assert client.post(checkout, {"decision": "approve"}).status_code == 303
    assert c.get(f"{WALLET}/topups/{created['id']}").json()["status"] == "succeeded"
    note = sandbox.notification_for(created["order_no"])
    for _ in range(8):  # the provider retries: "success" each time, one credit
        r = client.post("/payments/notify/sandbox", note)
        assert (r.status_code, r.content) == (200, b"success")
    assert selectors.balance(fan).available == 5_000
    assert Transaction.objects.filter(reference=f"topup:{created['id']}").count() == 1
    outcomes = list(ProviderNotification.objects.filter(order_no=created["order_no"]).values_list("outcome",
                                                                                                   flat=True))
    assert outcomes.count("credited") == 1 and outcomes.count("duplicate") == 8
    got = c.get(f"{WALLET}/topups/{created['id']}").json()
    assert got["paid_at"] and got["redirect_url"] is None
    assert api(stranger).get(f"{WALLET}/topups/{created['id']}").status_code == 404
    assert api(operator).get(f"{WALLET}/topups/{created['id']}").status_code == 200
    for bad in ("0", "abc", "9" * 30):
        assert c.get(f"{WALLET}/topups/{bad}").status_code == 404
    assert_ledger_invariants()


@pytest.mark.django_db
@pytest.mark.parametrize("forgery", ["wrong_key", "altered_amount", "wrong_app", "unknown_order", "closed", "empty"])
def test_forged_notifications_get_failure_and_no_credit(api, make_user, client, forgery):
    fan = make_user()
    created = keyed(api(fan), f"{WALLET}/topups", {"amount": 1_000, "provider": "sandbox"}).json()
    sandbox.sandbox_approve(created["order_no"])  # paid at the sandbox; its notification is not sent (no commit)
    good = sandbox.notification_for(created["order_no"])

    def signed(params, key=None):
        params = {k: v for k, v in params.items() if k != "sign"}
        return {**params, "sign": sandbox.sign(params, key)}

    bad = {"wrong_key": lambda p: signed(p, b"not-the-sandbox-secret"),
           "altered_amount": lambda p: {**p, "total_amount": "1000.00"},
           "wrong_app": lambda p: signed({**p, "app_id": "someone-else"}),
           "unknown_order": lambda p: signed({**p, "out_trade_no": "T123"}),
           "closed": lambda p: signed({**p, "trade_status": "TRADE_CLOSED"}),
           "empty": lambda p: {}}[forgery](good)
    r = client.post("/payments/notify/sandbox", bad)
    assert (r.status_code, r.content) == (200, b"failure")
    assert selectors.balance(fan).available == 0 and TopUp.objects.get().status != "succeeded"
    assert client.post("/payments/notify/alipay", good).content == b"failure"  # not enabled here


# --- withdrawals, payout accounts, transfers ----------------------------------------------------

@pytest.mark.django_db
def test_withdrawals_and_payout_accounts(api, make_user, run_jobs):
    user, stranger = make_user(), make_user()
    fund(user, 10_000)
    c = api(user)
    r = keyed(c, f"{WALLET}/withdrawals", {"amount": 1_000})
    assert r.status_code == 422 and r.json()["field"] == "payout_account"
    r = c.post(f"{WALLET}/payout_accounts", {"provider": "sandbox", "identifier": "me@example.org",
                                              "holder_name": ""})
    assert r.status_code == 422 and r.json()["field"] == "holder_name"
    account = c.post(f"{WALLET}/payout_accounts", {"provider": "sandbox", "identifier": "me@example.org",
                                                    "holder_name": "Me"}).json()
    assert account["active"] and not account["verified"]
    # a newly bound account receives withdrawals only after the cool-down: 409, saying from when
    ready = datetime.fromisoformat(account["withdrawals_from"].replace("Z", "+00:00"))
    assert ready - datetime.fromisoformat(account["bound_at"].replace("Z", "+00:00")) == timedelta(hours=24)
    r = keyed(c, f"{WALLET}/withdrawals", {"amount": 3_000, "payout_account_id": account["id"]})
    assert r.status_code == 409 and r.json()["field"] == "payout_account"
    assert timezone.localtime(ready).strftime("%Y-%m-%d %H:%M") in r.json()["error"]
    assert selectors.balance(user).available == 10_000
    aged(PayoutAccount.objects.get(pk=account["id"]))
    with run_jobs():  # the payout runs in the background after the commit
        r = keyed(c, f"{WALLET}/withdrawals", {"amount": 3_000, "payout_account_id": account["id"]})
    assert r.status_code == 201 and r.json()["status"] == "requested" and r.json()["amount_display"] == "¥30.00"
    got = c.get(f"{WALLET}/withdrawals/{r.json()['id']}").json()
    assert got["status"] == "succeeded" and got["payout_account"]["verified"]
    assert selectors.balance(user).available == 7_000
    assert api(stranger).get(f"{WALLET}/withdrawals/{got['id']}").status_code == 404
    r = keyed(c, f"{WALLET}/withdrawals", {"amount": 100_000})
    assert r.status_code == 409 and r.json()["error"] == "Insufficient funds."
    theirs = api(stranger).post(f"{WALLET}/payout_accounts", {"provider": "sandbox", "identifier": "them",
                                                              "holder_name": "Them"}).json()
    r = keyed(c, f"{WALLET}/withdrawals", {"amount": 100, "payout_account_id": theirs["id"]})
    assert r.status_code == 404
    assert c.delete(f"{WALLET}/payout_accounts/{theirs['id']}").status_code == 404
    gone = c.delete(f"{WALLET}/payout_accounts/{account['id']}")
    assert gone.status_code == 200 and gone.json()["active"] is False
    assert c.delete(f"{WALLET}/payout_accounts/{account['id']}").status_code == 404
    assert c.get(WALLET).json()["payout_accounts"] == []
    assert_ledger_invariants()


@pytest.mark.django_db
def test_transfers(api, make_user):
    payer, payee = make_user(), make_user()
    fund(payer, 1_000)
    c = api(payer)
    r = keyed(c, f"{WALLET}/transfers", {"to": str(payee.pk), "amount": 600, "memo": "lunch"})
    assert r.status_code == 201
    assert r.json()["to_account_id"] == str(payee.pk) and r.json()["amount_display"] == "¥6.00"
    assert selectors.balance(payee).available == 600
    for body, status in (({"to": str(payee.pk), "amount": 600}, 409), ({"to": str(payer.pk), "amount": 1}, 422),
                         ({"to": "123", "amount": 1}, 404), ({"to": "x", "amount": 1}, 404),
                         ({"to": str(payee.pk), "amount": 0}, 422), ({"to": str(payee.pk), "amount": 1.5}, 422),
                         ({"to": str(payee.pk), "amount": 1, "memo": "x" * 201}, 422)):
        assert keyed(c, f"{WALLET}/transfers", body).status_code == status, body
    assert selectors.balance(payer).available == 400
    payee.is_active = False
    payee.save()
    assert keyed(c, f"{WALLET}/transfers", {"to": str(payee.pk), "amount": 1}).status_code == 404


def _transfer(token, key, body):
    client = Client()
    return client.post(f"{WALLET}/transfers", body, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db(transaction=True)
def test_100_repeats_50_concurrent_of_one_keyed_transfer_move_money_once(concurrent_db, make_user,  # noqa: F811
                                                                         token_for):
    payer, payee = make_user(), make_user()
    fund(payer, 10_000)
    token, key = token_for(payer, MONEY_SCOPES), new_key()
    body = {"to": str(payee.pk), "amount": 700, "currency": "CNY", "memo": "once"}
    concurrent = run_threads(50, list(range(50)), lambda _n: _transfer(token, key, body))
    sequential = [_transfer(token, key, body) for _ in range(50)]
    answers = concurrent + sequential
    assert all(not isinstance(a, Exception) for a in answers), [a for a in answers if isinstance(a, Exception)]
    assert {(a.status_code, a.content) for a in answers} == {(201, answers[0].content)}  # byte-identical
    assert sum(not a.has_header("Idempotent-Replayed") for a in answers) == 1
    tx = Transaction.objects.get(kind="transfer")
    assert json.loads(answers[0].content)["transaction_id"] == str(tx.pk)
    assert selectors.balance(payer).available == 9_300 and selectors.balance(payee).available == 700
    assert IdempotencyRecord.objects.count() == 1
    # the same key with another body, concurrently too: refused, nothing moves
    refused = run_threads(16, list(range(16)), lambda _n: _transfer(token, key, {**body, "amount": 701}))
    assert {r.status_code for r in refused} == {422}
    assert Transaction.objects.filter(kind="transfer").count() == 1
    assert_ledger_invariants()


# --- operators ----------------------------------------------------------------------------------

def yesterday():
    return timezone.localdate() - timedelta(days=1)


@pytest.mark.django_db
def test_operator_accounts_and_reconciliation(api, make_user):
    fan, operator = make_user(), make_user(is_staff=True)
    noon = datetime.combine(yesterday(), time(12), tzinfo=timezone.get_current_timezone())
    with mock.patch("django.utils.timezone.now", return_value=noon):
        paid = []
        for amount in (2_000, 900):
            topup, _url = services.do_start_topup(fan, amount, "CNY", "sandbox")
            sandbox.sandbox_approve(topup.order_no)
            assert services.do_handle_notification("sandbox", sandbox.notification_for(topup.order_no)) == "success"
            paid.append(topup)
        SandboxTrade.objects.filter(order_no=paid[1].order_no).update(amount=990)  # planted: the provider says 9.90
    user = api(fan)
    assert user.get(f"{BASE}/ops/payments/accounts").status_code == 404
    body = {"provider": "sandbox", "date_from": yesterday().isoformat(), "date_to": yesterday().isoformat()}
    assert keyed(user, f"{BASE}/ops/payments/reconcile", body).status_code == 404
    ops = api(operator)
    accounts = ops.get(f"{BASE}/ops/payments/accounts").json()
    clearing = next(a for a in accounts["accounts"] if a["kind"] == "provider_clearing")
    assert (clearing["provider"], clearing["balance"], clearing["balance_display"]) == ("sandbox", -2_900, "-¥29.00")
    assert accounts["currencies"] == [{"currency": "CNY", "sum_of_all_balances": 0, "balanced": True,
                                       "wallets": 2_900, "held": 0, "wallet_count": 1, "pending_holds": 0}]
    assert ops.post(f"{BASE}/ops/payments/reconcile", body).status_code == 400  # no key
    key = new_key()
    r = keyed(ops, f"{BASE}/ops/payments/reconcile", {**body, "settle": True}, key)
    assert r.status_code == 201
    run = r.json()
    assert (run["statement_lines"], run["matched"], run["mismatch_count"], run["ok"]) == (2, 1, 1, False)
    assert run["mismatches"][0]["kind"] == "amount_differs" and run["mismatches"][0]["order_no"] == paid[1].order_no
    assert run["settled"] == [] and run["clearing"][0]["settled"] is False
    again = keyed(ops, f"{BASE}/ops/payments/reconcile", {**body, "settle": True}, key)
    assert again.content == r.content and again["Idempotent-Replayed"] == "true"
    for bad in ({**body, "date_to": "2000-01-01"}, {**body, "provider": "paypal"}, {**body, "date_from": "x"},
                {**body, "date_to": (timezone.localdate() + timedelta(days=3)).isoformat()},
                {**body, "date_from": "2020-01-01"}, {**body, "settle": "yes"}):
        assert keyed(ops, f"{BASE}/ops/payments/reconcile", bad).status_code == 422, bad


# --- fuzzing with a payments token (test_schemathesis.py's token lacks the scope: it only reaches the 403s) --

def _payments_operations() -> list[str]:
    import schemathesis
    from django.core.handlers.wsgi import WSGIHandler

    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", WSGIHandler())
    return sorted(op.label for op in (r.ok() for r in schema.get_all_operations())
                  if "/tastemaker/wallet" in op.label or "/tastemaker/ops/payments" in op.label)


@pytest.fixture
def _keep_test_connection():
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_every_money_operation_is_fuzzed_with_the_scope():
    assert len(_payments_operations()) == 11


@pytest.mark.django_db
@pytest.mark.parametrize("label", _payments_operations())
def test_payments_operations_fuzzed_with_a_payments_token(label, _keep_test_connection, make_user, token_for):
    import schemathesis
    from django.core.handlers.wsgi import WSGIHandler
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hsettings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", WSGIHandler())
    operation = next(op for op in (r.ok() for r in schema.get_all_operations()) if op.label == label)
    me = make_user(is_staff=True)  # an operator: the ops operations answer too
    fund(me, 1_000_000)
    aged(services.do_bind_payout_account(me, "sandbox", "me@example.org", "Me"))
    token = token_for(me, MONEY_SCOPES)

    @given(case=operation.as_strategy())
    @hsettings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
               database=None)
    def run(case):
        case.call_and_validate(headers={"Authorization": f"Bearer {token}", "Idempotency-Key": new_key()},
                               checks=[not_a_server_error, status_code_conformance, response_schema_conformance])

    run()
