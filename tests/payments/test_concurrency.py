"""Races with real concurrent connections (threads, one connection each) on SQLite (a WAL file, as in
production) and PostgreSQL: money is spent once, totals stay constant, keyed requests act once."""

from __future__ import annotations

import json
import random

import pytest
from django.db import IntegrityError, connection, transaction

from tastemaker.core.errors import DomainError
from tastemaker.payments import idempotency, selectors, services
from tastemaker.payments.ledger import InsufficientFunds, wallet_for
from tastemaker.payments.models import Entry, IdempotencyRecord, Transaction, Withdrawal
from tastemaker.payments.providers import sandbox

from .conftest import assert_ledger_invariants, run_threads, store_holding

pytestmark = [pytest.mark.django_db(transaction=True)]
WORKERS = 8
ATTEMPTS = 100


def fresh(user_model, pk):
    return user_model.objects.get(pk=pk)


def test_100_concurrent_withdrawals_of_a_full_balance_one_succeeds(concurrent_db, make_user, fund, bind_payout):
    from tastemaker.accounts.models import User

    creator = make_user()
    fund(creator, 50_000)
    bind_payout(creator, "sandbox", "creator@example.org", "Creator")

    def withdraw(_n):
        return services.do_request_withdrawal(fresh(User, creator.pk), 50_000, "CNY")

    results = run_threads(WORKERS, list(range(ATTEMPTS)), withdraw)
    won = [r for r in results if isinstance(r, Withdrawal)]
    lost = [r for r in results if isinstance(r, InsufficientFunds)]
    assert len(won) == 1 and len(lost) == ATTEMPTS - 1, [r for r in results if not isinstance(r, DomainError | Withdrawal)]
    assert Withdrawal.objects.count() == 1
    assert Withdrawal.objects.get().status == "succeeded"  # the payout job ran after the commit (huey immediate)
    assert selectors.balance(creator) == selectors.Balance("CNY", available=0, held=0)
    assert_ledger_invariants()


def test_100_concurrent_transfers_of_a_full_balance_one_succeeds(concurrent_db, make_user, fund):
    from tastemaker.accounts.models import User

    payer = make_user()
    payees = [make_user() for _ in range(4)]
    fund(payer, 9_999)

    def pay(n):
        return services.do_transfer(fresh(User, payer.pk), payees[n % 4], 9_999, "CNY")

    results = run_threads(WORKERS, list(range(ATTEMPTS)), pay)
    assert sum(isinstance(r, Transaction) for r in results) == 1
    assert sum(isinstance(r, InsufficientFunds) for r in results) == ATTEMPTS - 1
    assert selectors.balance(payer).available == 0
    assert sum(selectors.balance(p).available for p in payees) == 9_999
    assert_ledger_invariants()


def test_random_concurrent_transfers_keep_the_total(concurrent_db, make_user, fund):
    from tastemaker.accounts.models import User

    users = [make_user() for _ in range(6)]
    for u in users:
        fund(u, 1_000)
        wallet_for(u, "CNY")
    rng = random.Random(6)
    jobs = []
    for _ in range(ATTEMPTS):
        a, b = rng.sample(users, 2)
        jobs.append((a.pk, b.pk, rng.randint(1, 700)))

    def move(job):
        a, b, amount = job
        return services.do_transfer(fresh(User, a), fresh(User, b), amount, "CNY")

    results = run_threads(WORKERS, jobs, move)
    unexpected = [r for r in results if not isinstance(r, Transaction | InsufficientFunds)]
    assert not unexpected, unexpected
    assert sum(isinstance(r, Transaction) for r in results) > ATTEMPTS // 3  # most went through
    assert sum(selectors.balance(u).available for u in users) == 6_000
    assert Transaction.objects.filter(kind="transfer").count() == sum(isinstance(r, Transaction) for r in results)
    assert_ledger_invariants()


def test_concurrent_holds_captures_and_releases(concurrent_db, make_user, fund):
    from tastemaker.accounts.models import User
    from tastemaker.payments.ledger import platform_account
    from tastemaker.payments.models import Hold

    brand = make_user()
    fund(brand, 10_000)
    spend = platform_account("promotion_spend", "CNY")
    holds = [services.do_hold(brand, 1_000, "CNY", destination=spend) for _ in range(5)]

    def act(job):
        n, hold_id = job
        hold = Hold.objects.get(pk=hold_id)
        if n % 3 == 0:
            return services.do_release(hold)
        if n % 3 == 1:
            return services.do_capture(hold, 400)
        return services.do_hold(fresh(User, brand.pk), 2_000, "CNY")

    jobs = [(n, holds[n % 5].pk) for n in range(60)]
    results = run_threads(WORKERS, jobs, act)
    assert not [r for r in results if not isinstance(r, Transaction | Hold | DomainError)]
    resolved = Hold.objects.filter(pk__in=[h.pk for h in holds]).exclude(status="pending").count()
    assert resolved == 5  # every hold resolved exactly once, whatever raced for it
    assert Transaction.objects.filter(reference__in=[f"hold:{h.pk}:resolve" for h in holds]).count() == 5
    assert_ledger_invariants()


def test_concurrent_notifications_credit_once(concurrent_db, make_user):
    fan = make_user()
    topup, _url = services.do_start_topup(fan, 4_200, "CNY", "sandbox")
    with transaction.atomic():
        sandbox.sandbox_approve(topup.order_no)  # delivers one notification after the commit
    note = sandbox.notification_for(topup.order_no)
    replies = run_threads(WORKERS, list(range(24)), lambda _n: services.do_handle_notification("sandbox", dict(note)))
    assert replies == ["success"] * 24
    assert selectors.balance(fan).available == 4_200
    assert Transaction.objects.filter(reference=f"topup:{topup.pk}").count() == 1
    assert_ledger_invariants()


def test_concurrent_commission_payouts_with_one_reference_pay_once(concurrent_db, make_user):
    creator = make_user()
    store = store_holding(321)
    results = run_threads(WORKERS, list(range(40)), lambda _n: services.do_pay_commission(
        store_id=store.pk, user_id=creator.pk, amount=321, currency="CNY", reference="commission:race"))
    assert {r.pk for r in results if isinstance(r, Transaction)} == {Transaction.objects.get(
        reference="commission:race").pk}
    assert all(isinstance(r, Transaction) for r in results), results
    assert selectors.balance(creator).available == 321
    assert_ledger_invariants()


# --- idempotency keys -------------------------------------------------------------------------

def keyed_transfer(user_model, payer_id, payee_id, key, amount=700):
    payload = {"to": payee_id, "amount": amount, "currency": "CNY"}
    fingerprint = idempotency.request_fingerprint("POST", "/api/v1/wallet/transfers", payload)

    def act():
        tx = services.do_transfer(fresh(user_model, payer_id), fresh(user_model, payee_id), amount, "CNY")
        return 201, {"transaction_id": str(tx.pk), "amount": amount, "currency": "CNY"}

    return idempotency.run_idempotent(payer_id, key, fingerprint, act)


def test_100_repeats_of_a_keyed_request_50_concurrent_act_once(concurrent_db, make_user, fund):
    from tastemaker.accounts.models import User

    payer, payee = make_user(), make_user()
    fund(payer, 10_000)
    key = idempotency.new_key()
    concurrent = run_threads(WORKERS, list(range(50)), lambda _n: keyed_transfer(User, payer.pk, payee.pk, key))
    sequential = [keyed_transfer(User, payer.pk, payee.pk, key) for _ in range(50)]
    responses = concurrent + sequential
    assert all(isinstance(r, idempotency.IdempotentResponse) for r in responses), responses
    assert {(r.status, r.body) for r in responses} == {(responses[0].status, responses[0].body)}  # byte-identical
    assert sum(not r.replayed for r in responses) == 1
    assert responses[0].status == 201
    assert Transaction.objects.filter(kind="transfer").count() == 1
    assert json.loads(responses[0].body)["transaction_id"] == str(Transaction.objects.get(kind="transfer").pk)
    assert selectors.balance(payer).available == 9_300 and selectors.balance(payee).available == 700
    assert IdempotencyRecord.objects.count() == 1
    # the same key with a different body is refused, concurrently too, and moves nothing
    refused = run_threads(WORKERS, list(range(16)),
                          lambda _n: keyed_transfer(User, payer.pk, payee.pk, key, amount=701))
    assert all(isinstance(r, idempotency.IdempotencyKeyReused) and r.status == 422 for r in refused)
    assert Transaction.objects.filter(kind="transfer").count() == 1
    assert_ledger_invariants()


# --- the triggers on a file database (SQLite skips DELETE refusals only in memory) ----------

def test_deleting_ledger_rows_is_refused_on_a_real_database(concurrent_db, make_user, fund):
    tx = fund(make_user(), 1_000)
    entry = tx.entries.first()
    for sql, arg in (("DELETE FROM payments_entry WHERE id = %s", entry.pk),
                     ("DELETE FROM payments_entry", None),
                     ("DELETE FROM payments_transaction WHERE id = %s", tx.pk),
                     ("UPDATE payments_entry SET amount = 0 WHERE id = %s", entry.pk)):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [arg] if arg is not None else None)
    assert Entry.objects.filter(transaction=tx).count() == 2


# --- the sandbox notifying over HTTP, as a real provider does ----------------------------------

def test_sandbox_notification_over_http(concurrent_db, make_user, settings):
    """PAYMENT_SANDBOX_DELIVERY="http": the job POSTs the signed form to PAYMENT_NOTIFY_URL; the
    endpoint (here a minimal stand-in for the web layer's notify view) answers with the handler's reply."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qsl

    from django.db import connections

    from tastemaker.payments.tasks import NotAcknowledged, deliver_sandbox_notification

    received, outage = [], threading.Event()

    class NotifyView(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server hook
            form = dict(parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
            received.append((self.path, form))
            try:
                reply = "failure" if outage.is_set() else services.do_handle_notification("sandbox", form)
            finally:
                connections.close_all()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(reply.encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotifyView)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.PAYMENT_SANDBOX_DELIVERY = "http"
    settings.PAYMENT_NOTIFY_URL = f"http://127.0.0.1:{server.server_address[1]}/payments/notify/{{provider}}"
    try:
        fan = make_user()
        topup, _url = services.do_start_topup(fan, 3_300, "CNY", "sandbox")
        outage.set()  # the merchant is down: not acknowledged, the job raises so huey retries it
        with transaction.atomic():
            sandbox.sandbox_approve(topup.order_no)
        assert len(received) == 1 and selectors.balance(fan).available == 0
        with pytest.raises(NotAcknowledged):
            deliver_sandbox_notification.call_local(topup.order_no)
        outage.clear()  # back up: the retry is acknowledged and credits
        assert deliver_sandbox_notification.call_local(topup.order_no) == "success"
        assert deliver_sandbox_notification.call_local(topup.order_no) == "success"
    finally:
        server.shutdown()
        server.server_close()
    assert received[0][0] == "/payments/notify/sandbox" and received[0][1]["out_trade_no"] == topup.order_no
    assert len(received) == 4 and selectors.balance(fan).available == 3_300
    assert Transaction.objects.filter(reference=f"topup:{topup.pk}").count() == 1
