"""Payments test fixtures: funding wallets, ledger invariants, a real file database for races, and
Alipay key pairs made on the spot."""

from __future__ import annotations

import itertools
import sqlite3
import threading
from collections import defaultdict
from datetime import timedelta

import pytest

_refs = itertools.count(1)


def aged(account):
    """Back-date a payout account's binding past the cool-down (``PAYOUT_ACCOUNT_COOLDOWN_HOURS``), so it
    can receive withdrawals now; returns it."""
    from django.conf import settings
    from django.utils import timezone

    from tastemaker.payments.models import PayoutAccount

    account.bound_at = timezone.now() - timedelta(hours=settings.PAYOUT_ACCOUNT_COOLDOWN_HOURS + 1)
    PayoutAccount.objects.filter(pk=account.pk).update(bound_at=account.bound_at)
    return account


@pytest.fixture
def bind_payout(db):
    """``services.do_bind_payout_account``, bound long enough ago to receive withdrawals at once."""
    from tastemaker.payments import services

    def bind(user, provider: str, identifier: str, holder_name: str):
        return aged(services.do_bind_payout_account(user, provider, identifier, holder_name))

    return bind


@pytest.fixture
def fund(db):
    """Put money in a user's wallet the way a top-up does (provider clearing -> wallet)."""
    from tastemaker.payments.ledger import post_transaction, provider_clearing, wallet_for

    def give(user, amount: int, currency: str = "CNY"):
        return post_transaction("topup", [(provider_clearing("sandbox", currency), -amount),
                                          (wallet_for(user, currency), amount)], reference=f"test-fund:{next(_refs)}")

    return give


def store_holding(amount: int, currency: str = "CNY", *, store=None):
    """A partner store (made unless given) whose deposit holds ``amount`` for a commission, the way the
    Showcase does it: a funder's wallet is credited as by a top-up, moved into the store's deposit, and
    held (deposit -> store held). Returns the store."""
    from tastemaker.accounts.models import User
    from tastemaker.payments import services
    from tastemaker.payments.ledger import post_transaction, provider_clearing, wallet_for
    from tastemaker.showcase.models import PartnerStore

    n = next(_refs)
    if store is None:
        store = PartnerStore.objects.create(name=f"Store {n}", name_key=f"store{n}", domains=[f"s{n}.example.com"])
    funder = User.objects.create(username=f"funder{n}", email=f"funder{n}@example.com")
    post_transaction("topup", [(provider_clearing("sandbox", currency), -amount), (wallet_for(funder, currency), amount)],
                     reference=f"test-fund:{n}")
    services.do_fund_store(funder, store.pk, amount, currency, reference=f"test-store-fund:{n}")
    services.do_hold_for_commission(store.pk, amount, currency, reference=f"test-hold:{n}")
    return store


def assert_ledger_invariants() -> None:
    """Every transaction balanced per currency with >= 2 entries; all balances sum to zero per currency;
    cached balances equal the sum of entries; no wallet or held account negative."""
    from django.db.models import Count, Sum

    from tastemaker.payments.ledger import recompute_balances
    from tastemaker.payments.models import NONNEGATIVE_KINDS, Account, Entry, Transaction

    unbalanced = (Entry.objects.values("transaction_id", "currency").annotate(s=Sum("amount")).exclude(s=0))
    assert not list(unbalanced), "a transaction does not balance"
    short = Transaction.objects.annotate(n=Count("entries")).filter(n__lt=2)
    assert not short.exists(), "a transaction with fewer than two entries"
    orphans = Entry.objects.exclude(transaction_id__in=Transaction.objects.values("id"))
    assert not orphans.exists(), "entries without a transaction"
    totals: dict[str, int] = defaultdict(int)
    for currency, balance in Account.objects.values_list("currency", "balance"):
        totals[currency] += balance
    assert all(v == 0 for v in totals.values()), f"balances do not sum to zero: {dict(totals)}"
    assert recompute_balances() == {}, "a cached balance differs from the sum of its entries"
    assert not Account.objects.filter(kind__in=NONNEGATIVE_KINDS, balance__lt=0).exists()


@pytest.fixture
def invariants():
    return assert_ledger_invariants


@pytest.fixture
def concurrent_db(transactional_db, tmp_path):
    """A database real concurrent connections can share, as in production.

    PostgreSQL: the test database itself (each thread opens its own connection).
    SQLite: the test database is in memory with a shared cache, where a writer makes every other
    connection fail at once with "table is locked" (no busy timeout) — nothing like the WAL file the
    product runs on. So for the test, the in-memory database (schema, triggers and all) is copied to
    a WAL file in tmp_path and every connection, in every thread, is pointed at it: real
    ``BEGIN IMMEDIATE`` transactions and the 20 s busy timeout from settings. Afterwards the
    original in-memory database is put back (and pytest-django empties it as usual).
    Worker threads must call ``django.db.connections.close_all()`` when they finish.
    """
    from django.db import connections

    if connections["default"].vendor != "sqlite":
        yield "postgresql"
        return
    from django.db.backends.sqlite3.base import DatabaseWrapper

    old_wrapper = connections["default"]
    old_settings = connections.settings["default"]
    old_wrapper.ensure_connection()
    path = tmp_path / "concurrent.sqlite3"
    target = sqlite3.connect(path)
    old_wrapper.connection.backup(target)
    target.execute("PRAGMA journal_mode=WAL")
    target.close()
    new_settings = {**old_settings, "NAME": str(path)}
    connections.settings["default"] = new_settings
    connections["default"] = DatabaseWrapper(new_settings, "default")
    try:
        yield "sqlite"
    finally:
        connections["default"].close()
        connections["default"] = old_wrapper
        connections.settings["default"] = old_settings


def run_threads(n_workers: int, jobs: list, fn) -> list:
    """Run ``fn(job)`` for every job on ``n_workers`` threads (each with its own DB connection),
    released together by a barrier. Returns the results (or raised exceptions) in job order."""
    from django.db import connections

    results: list = [None] * len(jobs)
    queue = list(enumerate(jobs))
    lock = threading.Lock()
    barrier = threading.Barrier(n_workers)

    def worker():
        try:
            barrier.wait()
            while True:
                with lock:
                    if not queue:
                        return
                    index, job = queue.pop()
                try:
                    results[index] = fn(job)
                except Exception as exc:  # collected for the test to inspect
                    results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(n_workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    return results


@pytest.fixture(scope="session")
def rsa_pair():
    """Make RSA key pairs (PEM) locally: no network, no fixtures on disk."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    def make() -> tuple[str, str]:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption()).decode()
        public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        return private, public

    return make


@pytest.fixture(scope="session")
def alipay_keys(rsa_pair):
    """Three key pairs: ours (the app), Alipay's (signs notifications), and a stranger's."""
    return {"app": rsa_pair(), "alipay": rsa_pair(), "stranger": rsa_pair()}
