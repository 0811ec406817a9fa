"""Hypothesis stateful test: random sequences of ledger operations against a simple model.

After every step: every transaction balanced per currency, the sum of all balances zero per
currency, cached balances equal to the sum of entries, no wallet negative, and every wallet and
held balance equal to what the model expects.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tastemaker.core.errors import Conflict
from tastemaker.payments import selectors, services
from tastemaker.payments.ledger import InsufficientFunds, platform_account
from tastemaker.payments.models import Hold, Transaction
from tastemaker.payments.providers import sandbox
from tastemaker.showcase.models import PartnerStore

from .conftest import assert_ledger_invariants, store_holding

pytestmark = pytest.mark.django_db

CURRENCIES = ("CNY", "USD")
amounts = st.integers(min_value=1, max_value=30_000)


class _Rollback(Exception):
    pass


class LedgerMachine(RuleBasedStateMachine):
    users: list = []
    store = None  # the partner store whose deposit funds the commissions

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()  # each example runs in a savepoint rolled back at the end
        self._atomic.__enter__()
        self.wallet = {(u.pk, c): 0 for u in self.users for c in CURRENCIES}
        self.pending: dict[int, tuple[int, int, str]] = {}  # hold id -> (user id, amount, currency)
        self.resolved: list[int] = []
        self.reversible: list[int] = []  # transfer and commission transaction ids
        self.reversed: set[int] = set()
        self.commissions: dict[str, tuple[int, int, str]] = {}

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def user(self, index: int):
        return self.users[index]

    # --- rules ---------------------------------------------------------------------------

    @rule(who=st.integers(0, 3), currency=st.sampled_from(CURRENCIES), amount=st.integers(100, 50_000))
    def topup(self, who, currency, amount):
        user = self.user(who)
        topup, _url = services.do_start_topup(user, amount, currency, "sandbox")
        sandbox.sandbox_approve(topup.order_no)
        note = sandbox.notification_for(topup.order_no)
        assert services.do_handle_notification("sandbox", note) == "success"
        assert services.do_handle_notification("sandbox", note) == "success"  # a retry credits nothing more
        self.wallet[(user.pk, currency)] += amount

    @rule(a=st.integers(0, 3), b=st.integers(0, 3), currency=st.sampled_from(CURRENCIES), amount=amounts)
    def transfer(self, a, b, currency, amount):
        if a == b:
            return
        payer, payee = self.user(a), self.user(b)
        if self.wallet[(payer.pk, currency)] >= amount:
            tx = services.do_transfer(payer, payee, amount, currency)
            self.wallet[(payer.pk, currency)] -= amount
            self.wallet[(payee.pk, currency)] += amount
            self.reversible.append(tx.pk)
        else:
            with pytest.raises(InsufficientFunds):
                services.do_transfer(payer, payee, amount, currency)

    @rule(who=st.integers(0, 3), currency=st.sampled_from(CURRENCIES), amount=amounts)
    def hold(self, who, currency, amount):
        user = self.user(who)
        if self.wallet[(user.pk, currency)] >= amount:
            hold = services.do_hold(user, amount, currency, destination=platform_account("promotion_spend", currency))
            self.wallet[(user.pk, currency)] -= amount
            self.pending[hold.pk] = (user.pk, amount, currency)
        else:
            with pytest.raises(InsufficientFunds):
                services.do_hold(user, amount, currency)

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def capture(self, data):
        hold_id = data.draw(st.sampled_from(sorted(self.pending)))
        user_id, amount, currency = self.pending.pop(hold_id)
        part = data.draw(st.integers(1, amount))
        services.do_capture(Hold.objects.get(pk=hold_id), part)
        self.wallet[(user_id, currency)] += amount - part
        self.resolved.append(hold_id)

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def release(self, data):
        hold_id = data.draw(st.sampled_from(sorted(self.pending)))
        user_id, amount, currency = self.pending.pop(hold_id)
        services.do_release(Hold.objects.get(pk=hold_id))
        self.wallet[(user_id, currency)] += amount
        self.resolved.append(hold_id)

    @precondition(lambda self: self.resolved)
    @rule(data=st.data(), capture=st.booleans())
    def resolve_again(self, data, capture):
        hold = Hold.objects.get(pk=data.draw(st.sampled_from(self.resolved)))
        with pytest.raises(Conflict):
            if capture:
                services.do_capture(hold, 1)
            else:
                services.do_release(hold)

    @precondition(lambda self: self.reversible)
    @rule(data=st.data())
    def reverse(self, data):
        tx = Transaction.objects.get(pk=data.draw(st.sampled_from(self.reversible)))
        moves = [(e.account.owner_id, e.account.kind, e.currency, -e.amount)
                 for e in tx.entries.select_related("account")]
        if tx.pk in self.reversed:
            assert services.do_reverse(tx).reverses_id == tx.pk  # the same reversal, nothing moves
            return
        short = any(kind == "wallet" and self.wallet[(owner, cur)] + delta < 0 for owner, kind, cur, delta in moves)
        if short:
            with pytest.raises(InsufficientFunds):
                services.do_reverse(tx)
            return
        services.do_reverse(tx)
        self.reversed.add(tx.pk)
        for owner, kind, cur, delta in moves:
            if kind == "wallet":
                self.wallet[(owner, cur)] += delta

    @rule(who=st.integers(0, 3), currency=st.sampled_from(CURRENCIES), amount=amounts, ref=st.integers(0, 5))
    def pay_commission(self, who, currency, amount, ref):
        user, reference = self.user(who), f"commission:{ref}"
        previous = self.commissions.get(reference)
        if previous is not None and previous != (user.pk, amount, currency):
            with pytest.raises(Conflict):
                services.do_pay_commission(store_id=self.store.pk, user_id=user.pk, amount=amount, currency=currency,
                                           reference=reference)
            return
        if previous is None:  # the store funds it first: a commission is paid only from what its store holds
            store_holding(amount, currency, store=self.store)
        tx = services.do_pay_commission(store_id=self.store.pk, user_id=user.pk, amount=amount, currency=currency,
                                        reference=reference)
        if previous is None:
            self.commissions[reference] = (user.pk, amount, currency)
            self.wallet[(user.pk, currency)] += amount
            self.reversible.append(tx.pk)

    # --- invariants ----------------------------------------------------------------------

    @invariant()
    def books_balance(self):
        assert_ledger_invariants()

    @invariant()
    def balances_match_the_model(self):
        for user in self.users:
            for b in selectors.balances(user):
                assert b.available == self.wallet[(user.pk, b.currency)]
                held = sum(amount for uid, amount, cur in self.pending.values() if uid == user.pk and cur == b.currency)
                assert b.held == held


def test_ledger_against_a_model(make_user, settings):
    settings.CURRENCIES = CURRENCIES
    LedgerMachine.users = [make_user() for _ in range(4)]
    LedgerMachine.store = PartnerStore.objects.create(name="Model Shop", name_key="modelshop")
    run_state_machine_as_test(LedgerMachine, settings=hsettings(
        max_examples=20, stateful_step_count=20, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture]))
