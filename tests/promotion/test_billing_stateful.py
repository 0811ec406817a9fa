"""Hypothesis state machine over campaign create / deliver / follow / unfollow / pause / resume / end / settle.

After every step: the ledger's invariants; the owner's wallet + held + promotion spend add up to what was
funded; no campaign reserved past its budget or captured more than it reserved; no (campaign, viewer, day)
billed twice; invalid traffic (bots, the owner) never billed; reconcile finds nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
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

from payments.conftest import assert_ledger_invariants
from tastemaker.core.errors import Conflict
from tastemaker.payments.ledger import held_account_for, platform_account, wallet_for
from tastemaker.promotion import selectors, services
from tastemaker.promotion.models import Campaign, Charge
from tastemaker.promotion.services import Delivered
from tastemaker.social.services import do_create_post, do_follow, do_unfollow

pytestmark = pytest.mark.django_db
FUNDED = 1_000_000


class PromotionMachine(RuleBasedStateMachine):
    owner = None
    viewers: list = []  # the last one is a bot
    posts: list = []

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.campaigns: list[int] = []
        self.clock = timezone.now()

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    @rule(post=st.integers(0, 2), budget=st.integers(1_000, 20_000), bid=st.integers(100, 900_000),
          cpf=st.booleans(), daily=st.booleans())
    def create(self, post, budget, bid, cpf, daily):
        c = services.do_create_campaign(self.owner, tool="passerby", post_id=self.posts[post].pk, budget=budget,
                                        bid=min(bid, budget) if cpf else bid, price_model="cpf" if cpf else "cpm",
                                        daily_budget=max(budget // 2, -(-bid // 1000), bid if cpf else 0)
                                        if daily and (not cpf or bid <= budget // 2) else None)
        self.campaigns.append(c.pk)

    @precondition(lambda self: self.campaigns)
    @rule(data=st.data(), viewer=st.integers(0, 4), days=st.integers(0, 2), own=st.booleans())
    def deliver(self, data, viewer, days, own):
        cid = data.draw(st.sampled_from(self.campaigns))
        who = self.owner if own else self.viewers[viewer]
        services.do_record_delivery(who, [Delivered(cid, price_milli=data.draw(st.integers(0, 10_000)))],
                                    at=self.clock + timedelta(days=days))

    @rule(viewer=st.integers(0, 3))
    def follow_or_unfollow(self, viewer):
        v = self.viewers[viewer]
        if not do_unfollow(v, self.owner):
            do_follow(v, self.owner)

    @precondition(lambda self: self.campaigns)
    @rule(data=st.data(), action=st.sampled_from(["pause", "resume", "end"]))
    def control(self, data, action):
        cid = data.draw(st.sampled_from(self.campaigns))
        try:
            getattr(services, f"do_{action}_campaign")(self.owner, cid)
        except Conflict:
            pass

    @rule(later=st.booleans())
    def settle(self, later):
        services.do_settle_charges(now=timezone.now() + timedelta(days=2 if later else 0))

    @invariant()
    def books_balance(self):
        assert_ledger_invariants()
        total = (wallet_for(self.owner, "CNY").balance + held_account_for(self.owner, "CNY").balance
                 + platform_account("promotion_spend", "CNY").balance)
        assert total == FUNDED

    @invariant()
    def within_budget_and_billed_once(self):
        for c in Campaign.objects.filter(pk__in=self.campaigns):
            assert c.settled_milli <= c.committed_milli
            assert c.committed_milli <= c.budget * 1000
            assert c.captured <= c.budget
        assert not Charge.objects.filter(viewer_id__in=[self.owner.pk, self.viewers[-1].pk]).exists()
        assert selectors.reconcile_campaigns(self.campaigns) == []


def test_billing_against_the_books(make_user, fund, settings):
    settings.RATE_PROMOTION = "100000/60"  # the machine creates many campaigns; the limit is tested elsewhere
    owner = make_user()
    fund(owner, FUNDED)
    PromotionMachine.owner = owner
    PromotionMachine.viewers = [make_user() for _ in range(4)] + [make_user(bot=True)]
    PromotionMachine.posts = [do_create_post(owner, text=f"Hand-pulled noodles, take {i}") for i in range(3)]
    run_state_machine_as_test(PromotionMachine, settings=hsettings(
        max_examples=25, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                               HealthCheck.function_scoped_fixture]))
