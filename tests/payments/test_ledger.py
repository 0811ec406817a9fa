"""The ledger: posting, balances, holds, reversals, the commission hook, and the database triggers."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from tastemaker.core.errors import Conflict, NotFound, ValidationFailed
from tastemaker.payments import selectors, services
from tastemaker.payments.ledger import (
    InsufficientFunds,
    platform_account,
    post_transaction,
    provider_clearing,
    store_deposit_for,
    store_held_for,
    wallet_for,
)
from tastemaker.payments.models import PLATFORM_KINDS, Account, Entry, Hold, HoldStatus, Transaction

from .conftest import store_holding

pytestmark = pytest.mark.django_db


def balance(user, currency="CNY") -> int:
    return Account.objects.get(kind="wallet", owner=user, currency=currency).balance


def test_transfer_moves_money_and_keeps_the_books(make_user, fund, invariants):
    alice, bob = make_user(), make_user()
    fund(alice, 10_000)
    tx = services.do_transfer(alice, bob, 2_550, "CNY", memo="dinner")
    assert (balance(alice), balance(bob)) == (7_450, 2_550)
    assert sorted(tx.entries.values_list("amount", flat=True)) == [-2_550, 2_550]
    assert tx.kind == "transfer" and tx.memo == "dinner"
    invariants()


def test_transfer_beyond_balance_is_refused_and_moves_nothing(make_user, fund, invariants):
    alice, bob = make_user(), make_user()
    fund(alice, 1_000)
    before = Transaction.objects.count()
    with pytest.raises(InsufficientFunds) as exc:
        services.do_transfer(alice, bob, 1_001, "CNY")
    assert exc.value.status == 409 and "Insufficient" in exc.value.message
    assert Transaction.objects.count() == before
    assert balance(alice) == 1_000 and selectors.balance(bob).available == 0
    invariants()


@pytest.mark.parametrize("amount", [0, -5, 1.5, "10", True, 10**16])
def test_amounts_must_be_positive_whole_minor_units(make_user, fund, amount):
    alice, bob = make_user(), make_user()
    fund(alice, 1_000)
    with pytest.raises(ValidationFailed):
        services.do_transfer(alice, bob, amount, "CNY")


def test_unknown_currency_and_self_transfer_are_refused(make_user, fund):
    alice, bob = make_user(), make_user()
    fund(alice, 1_000)
    with pytest.raises(ValidationFailed):
        services.do_transfer(alice, bob, 10, "XXX")
    with pytest.raises(ValidationFailed):
        services.do_transfer(alice, alice, 10, "CNY")


def test_post_transaction_checks_its_legs(make_user):
    alice = make_user()
    wallet, clearing = wallet_for(alice, "CNY"), provider_clearing("sandbox", "CNY")
    with pytest.raises(ValidationFailed):
        post_transaction("topup", [(clearing, -5)])  # one leg
    with pytest.raises(ValidationFailed):
        post_transaction("topup", [(clearing, -5), (wallet, 4)])  # does not balance
    with pytest.raises(ValidationFailed):
        post_transaction("topup", [(clearing, 0), (wallet, 0)])
    with pytest.raises(ValidationFailed):
        post_transaction("nonsense", [(clearing, -5), (wallet, 5)])


def test_reference_makes_a_posting_idempotent(make_user, invariants):
    alice = make_user()
    legs = [(provider_clearing("sandbox", "CNY"), -500), (wallet_for(alice, "CNY"), 500)]
    first = post_transaction("topup", legs, reference="test:once")
    again = post_transaction("topup", legs, reference="test:once")
    assert again.pk == first.pk and balance(alice) == 500
    with pytest.raises(Conflict):  # same reference, different money
        post_transaction("topup", [(legs[0][0], -600), (legs[1][0], 600)], reference="test:once")
    invariants()


def test_commission_hook_pays_once_per_reference(make_user, invariants):
    creator = make_user()
    store = store_holding(1_234)
    pay = dict(store_id=store.pk, user_id=creator.pk, currency="CNY")
    tx1 = services.do_pay_commission(**pay, amount=1_234, reference="commission:77")
    tx2 = services.do_pay_commission(**pay, amount=1_234, reference="commission:77")
    assert tx1.pk == tx2.pk and tx1.kind == "commission"
    assert balance(creator) == 1_234
    # paid from what the store held for it; no platform account moved
    assert store_held_for(store.pk, "CNY").balance == 0 and store_deposit_for(store.pk, "CNY").balance == 0
    assert platform_account("commissions_payable", "CNY").balance == 0
    assert not Entry.objects.filter(account__kind__in=PLATFORM_KINDS).exists()
    with pytest.raises(Conflict):
        services.do_pay_commission(**pay, amount=999, reference="commission:77")
    with pytest.raises(NotFound):
        services.do_pay_commission(store_id=store.pk, user_id=123, amount=5, currency="CNY", reference="commission:78")
    invariants()


def test_commission_is_paid_only_from_what_the_store_holds(make_user, invariants):
    """A store that holds less than the commission pays nothing, and nothing else pays for it."""
    creator = make_user()
    store = store_holding(1_000)
    with pytest.raises(InsufficientFunds):
        services.do_pay_commission(store_id=store.pk, user_id=creator.pk, amount=1_001, currency="CNY",
                                   reference="commission:short")
    assert balance(creator) == 0 and store_held_for(store.pk, "CNY").balance == 1_000
    assert not Transaction.objects.filter(reference="commission:short").exists()
    invariants()


def test_store_hold_release_and_withdrawal_of_what_is_free(make_user, fund, invariants):
    from tastemaker.showcase.models import PartnerStore

    brand = make_user()
    store = PartnerStore.objects.create(name="Deposit Shop", name_key="depositshop", owner=brand)
    fund(brand, 5_000)
    services.do_fund_store(brand, store.pk, 3_000, "CNY", reference="dep:1")
    services.do_fund_store(brand, store.pk, 3_000, "CNY", reference="dep:1")  # the same reference: once
    assert balance(brand) == 2_000 and store_deposit_for(store.pk, "CNY").balance == 3_000
    services.do_hold_for_commission(store.pk, 2_500, "CNY", reference="h:1")
    with pytest.raises(InsufficientFunds):  # only 500 free
        services.do_hold_for_commission(store.pk, 501, "CNY", reference="h:2")
    with pytest.raises(InsufficientFunds):  # what is held cannot be taken back
        services.do_withdraw_store_deposit(store.pk, brand, 501, "CNY")
    services.do_release_for_commission(store.pk, 1_000, "CNY", reference="r:1")
    services.do_withdraw_store_deposit(store.pk, brand, 1_500, "CNY")
    assert balance(brand) == 3_500 and store_deposit_for(store.pk, "CNY").balance == 0
    assert store_held_for(store.pk, "CNY").balance == 1_500
    invariants()


def test_commission_reversal_for_a_refund(make_user, fund, invariants):
    creator = make_user()
    assert services.do_reverse_commission(reference="commission:never") is None
    store = store_holding(500)
    paid = services.do_pay_commission(store_id=store.pk, user_id=creator.pk, amount=500, currency="CNY",
                                      reference="commission:80")
    rev = services.do_reverse_commission(reference="commission:80")
    assert rev.reverses_id == paid.pk and balance(creator) == 0
    assert store_held_for(store.pk, "CNY").balance == 500  # back to the store
    assert services.do_reverse_commission(reference="commission:80").pk == rev.pk
    services.do_pay_commission(store_id=store.pk, user_id=creator.pk, amount=500, currency="CNY",
                               reference="commission:81")
    services.do_transfer(creator, make_user(), 1, "CNY")
    with pytest.raises(InsufficientFunds):  # partly spent already
        services.do_reverse_commission(reference="commission:81")
    invariants()


def test_hold_capture_in_part_returns_the_rest(make_user, fund, invariants):
    brand = make_user()
    fund(brand, 10_000)
    spend = platform_account("promotion_spend", "CNY")
    hold = services.do_hold(brand, 6_000, "CNY", "campaign budget", destination=spend)
    assert selectors.balance(brand) == selectors.Balance("CNY", available=4_000, held=6_000)
    services.do_capture(hold, 2_500)
    hold.refresh_from_db()
    assert hold.status == HoldStatus.CAPTURED and hold.captured == 2_500
    assert selectors.balance(brand) == selectors.Balance("CNY", available=7_500, held=0)
    assert Account.objects.get(pk=spend.pk).balance == 2_500
    with pytest.raises(Conflict):  # resolves once
        services.do_capture(hold, 100)
    with pytest.raises(Conflict):
        services.do_release(hold)
    invariants()


def test_hold_release_and_limits(make_user, fund, invariants):
    brand = make_user()
    fund(brand, 1_000)
    with pytest.raises(InsufficientFunds):
        services.do_hold(brand, 1_001, "CNY")
    hold = services.do_hold(brand, 1_000, "CNY", "budget")
    with pytest.raises(InsufficientFunds):  # held money cannot be spent
        services.do_transfer(brand, make_user(), 1, "CNY")
    with pytest.raises(ValidationFailed):  # no destination given anywhere
        services.do_capture(hold, 10)
    with pytest.raises(ValidationFailed):
        services.do_capture(hold, 1_001, to=platform_account("platform_revenue", "CNY"))
    services.do_release(hold)
    assert balance(brand) == 1_000 and Hold.objects.get(pk=hold.pk).status == HoldStatus.RELEASED
    again = services.do_hold(brand, 300, "CNY", reference="campaign:9")
    assert services.do_hold(brand, 300, "CNY", reference="campaign:9").pk == again.pk
    assert balance(brand) == 700
    invariants()


def test_reversal_restores_balances_once(make_user, fund, invariants):
    alice, bob = make_user(), make_user()
    fund(alice, 1_000)
    tx = services.do_transfer(alice, bob, 400, "CNY")
    rev = services.do_reverse(tx)
    assert (balance(alice), balance(bob)) == (1_000, 0)
    assert rev.reverses_id == tx.pk and services.do_reverse(tx).pk == rev.pk  # once
    with pytest.raises(ValidationFailed):
        services.do_reverse(rev)  # a reversal is not reversed
    items = selectors.history(alice)
    assert [i.kind for i in items[:2]] == ["reversal", "transfer"] and items[1].reversed
    # a reversal cannot push a wallet below zero
    tx2 = services.do_transfer(alice, bob, 1_000, "CNY")
    services.do_transfer(bob, alice, 10, "CNY")
    with pytest.raises(InsufficientFunds):
        services.do_reverse(tx2)
    hold = services.do_hold(alice, 5, "CNY")
    with pytest.raises(ValidationFailed):
        services.do_reverse(hold.hold_transaction)
    invariants()


def test_history_filters_and_keyset_pages(make_user, fund):
    from tastemaker.core.pagination import Page

    alice, bob = make_user(), make_user()
    fund(alice, 10_000)
    for i in range(5):
        services.do_transfer(alice, bob, 100 + i, "CNY")
    services.do_transfer(bob, alice, 50, "CNY")
    everything = selectors.history(alice, page=Page(limit=40))
    assert len(everything) == 7
    assert [i.amount for i in selectors.history(alice, direction="in")] == [50, 10_000]
    assert len(selectors.history(alice, kind="transfer", direction="out")) == 5
    first = selectors.history(alice, page=Page(limit=3))
    second = selectors.history(alice, page=Page(limit=3, max_id=first[-1].id))
    assert [i.id for i in first + second] == [i.id for i in everything[:6]]
    newer = selectors.history(alice, page=Page(limit=2, min_id=second[0].id))
    assert [i.id for i in newer] == [i.id for i in everything[1:3]]
    from django.utils import timezone

    today = timezone.localdate()
    assert len(selectors.history(alice, since=today, until=today, page=Page(limit=40))) == 7
    assert selectors.history(alice, since=today.replace(year=today.year + 1)) == []
    with pytest.raises(ValidationFailed):
        selectors.history(alice, direction="sideways")


def test_platform_overview_sums_to_zero(make_user, fund):
    alice = make_user()
    fund(alice, 700)
    store = store_holding(300)
    services.do_pay_commission(store_id=store.pk, user_id=alice.pk, amount=300, currency="CNY", reference="c:1")
    services.do_hold(alice, 200, "CNY")
    overview = selectors.platform_overview()
    cny = overview["currencies"]["CNY"]
    assert cny["balanced"] and cny["sum_of_all_balances"] == 0
    assert cny["wallets"] == 800 and cny["held"] == 200 and cny["pending_holds"] == 1
    assert cny["store_deposits"] == 0  # the store's 300 went to alice
    kinds = {(a["kind"], a["provider"]): a["balance"] for a in overview["accounts"]}
    # the commission came from the store's money (its funder's top-up): the platform paid nothing
    assert kinds[("provider_clearing", "sandbox")] == -1_000 and ("commissions_payable", "") not in kinds
    assert not any(a["kind"].startswith("store_") for a in overview["accounts"])


def test_wallet_cannot_go_negative_even_by_raw_sql(make_user):
    wallet = wallet_for(make_user(), "CNY")
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=wallet.pk).update(balance=-1)


# --- triggers -------------------------------------------------------------------------------

def _an_entry(make_user, fund):
    alice = make_user()
    tx = fund(alice, 1_000)
    return tx, tx.entries.first()


def test_triggers_refuse_updating_entries_and_transactions(make_user, fund):
    tx, entry = _an_entry(make_user, fund)
    for sql in ("UPDATE payments_entry SET amount = amount + 1 WHERE id = %s",
                "UPDATE payments_entry SET account_id = account_id WHERE id = %s"):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [entry.pk])
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE payments_transaction SET memo = 'edited' WHERE id = %s", [tx.pk])
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).update(amount=5)
    assert Entry.objects.get(pk=entry.pk).amount == entry.amount


def test_triggers_refuse_unbalanced_or_late_entries(make_user, fund):
    from tastemaker.core.ids import new_id

    tx, entry = _an_entry(make_user, fund)
    wallet = Account.objects.get(pk=entry.account_id)
    # an entry added to a posted transaction
    with pytest.raises(IntegrityError, match="already posted"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("INSERT INTO payments_entry (id, transaction_id, account_id, amount, currency) "
                    "VALUES (%s, %s, %s, %s, %s)", [new_id(), tx.pk, wallet.pk, 5, "CNY"])
    # a transaction whose entries do not sum to zero
    with pytest.raises(IntegrityError, match="sum to zero"), transaction.atomic(), connection.cursor() as cur:
        tid = new_id()
        cur.execute("INSERT INTO payments_entry (id, transaction_id, account_id, amount, currency) "
                    "VALUES (%s, %s, %s, %s, %s)", [new_id(), tid, wallet.pk, 5, "CNY"])
        cur.execute("INSERT INTO payments_entry (id, transaction_id, account_id, amount, currency) "
                    "VALUES (%s, %s, %s, %s, %s)", [new_id(), tid, entry.account_id, -4, "CNY"])
        cur.execute("INSERT INTO payments_transaction (id, kind, memo, created_at) VALUES (%s, 'adjustment', '', %s)",
                    [tid, tx.created_at])
    # an entry in another currency than its account
    with pytest.raises(IntegrityError, match="currency"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("INSERT INTO payments_entry (id, transaction_id, account_id, amount, currency) "
                    "VALUES (%s, %s, %s, %s, %s)", [new_id(), new_id(), wallet.pk, 5, "USD"])


@pytest.mark.skipif("connection.vendor != 'postgresql'",
                    reason="PostgreSQL only (make test runs the suite on both); on SQLite the same refusal is tested "
                           "on a file database by test_concurrency.test_deleting_ledger_rows_is_refused_on_a_real_database")
def test_postgres_refuses_deleting_entries_and_transactions(make_user, fund):
    tx, entry = _an_entry(make_user, fund)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM payments_entry WHERE id = %s", [entry.pk])
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM payments_transaction WHERE id = %s", [tx.pk])
    assert Entry.objects.filter(pk=entry.pk).exists()
