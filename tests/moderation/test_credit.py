"""The credit score: bounds, history, gates, good standing, the Showcase's refund rates, and what
suspension holds (withdrawals, commission payouts)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tastemaker.accounts.models import CreditChange, CreditReason, User
from tastemaker.accounts.services import do_change_credit
from tastemaker.accounts.standing import CREDIT_START, Feature, State, gate, require, standing
from tastemaker.core.errors import Forbidden
from tastemaker.moderation import credit, services
from tastemaker.moderation.models import Case

pytestmark = pytest.mark.django_db

REASONS = [r for r in CreditReason.values]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=st.lists(st.tuples(st.integers(-60, 60), st.sampled_from(REASONS)), max_size=25))
def test_score_stays_in_bounds_and_history_sums_to_it(make_user, moves):
    user = make_user()
    for delta, reason in moves:
        if user.is_suspended:
            break
        do_change_credit(user, delta, reason)
        user.refresh_from_db()
        assert 0 <= user.credit_score <= 100
        total = sum(CreditChange.objects.filter(account=user).values_list("delta", flat=True))
        assert CREDIT_START + total == user.credit_score
        last = CreditChange.objects.filter(account=user).order_by("-id").first()
        assert last is None or last.score_after == user.credit_score
        # the gates follow the score, nothing else
        s = standing(user)
        assert gate(user, Feature.SHOWCASE).allowed == (s.state != State.SUSPENDED and user.credit_score >= 60
                                                        and not user.is_limited)
        assert gate(user, Feature.PROMOTION).allowed == (s.state == State.ACTIVE and user.credit_score >= 75)
        assert (s.state == State.LIMITED) == (0 < user.credit_score < 40 and not user.is_suspended)
    User.objects.filter(pk=user.pk).delete()


def test_zero_moves_record_nothing(make_user):
    user = make_user()
    assert do_change_credit(user, 0, "operator") is None
    assert do_change_credit(user, +5, "good_standing", cap=CREDIT_START) is None  # already at the cap
    assert not CreditChange.objects.exists()


def test_gates_say_why_and_what_restores(make_user):
    user = make_user()
    do_change_credit(user, -25, "spam")  # 55
    refused = gate(user, Feature.SHOWCASE)
    assert not refused.allowed and "60" in refused.reason and "55" in refused.reason and refused.restore
    with pytest.raises(Forbidden) as err:
        require(user, Feature.PROMOTION)
    assert "75" in err.value.message
    assert gate(user, Feature.PUBLIC_REACH).allowed


@override_settings(CREDIT_SHOWCASE_MIN=90)
def test_thresholds_are_settings(make_user):
    assert not gate(make_user(), Feature.SHOWCASE).allowed


def test_low_credit_refuses_showcase_cards_and_expert_applications(make_user, card_input, store):
    from tastemaker.experts.models import Vertical
    from tastemaker.experts.services import do_apply_for_expert
    from tastemaker.showcase.cards import do_create_showcase_post
    from tastemaker.social.models import Post

    user = make_user()
    do_change_credit(user, -30, "scam")  # 50
    with pytest.raises(Forbidden) as err:
        do_create_showcase_post(user, text="pick", card=card_input(user))
    assert "60" in err.value.message
    assert not Post.objects.filter(author=user).exists()
    vertical = Vertical.objects.filter(active=True).first()
    with pytest.raises(Forbidden):
        do_apply_for_expert(user, vertical, "I know skincare")


def test_good_standing_restores_one_point_a_week_up_to_80(make_user):
    user, clean = make_user(), make_user()
    do_change_credit(user, -3, "flooding")
    now = timezone.now()
    assert credit.restore_good_standing(now) == 0  # the deduction is less than a week old
    CreditChange.objects.filter(account=user).update(created_at=now - timedelta(days=8))
    assert credit.restore_good_standing(now) == 1
    assert credit.restore_good_standing(now) == 0  # once a week
    later = now + timedelta(days=8)
    assert credit.restore_good_standing(later) == 1
    assert credit.restore_good_standing(later + timedelta(days=8)) == 1
    assert credit.restore_good_standing(later + timedelta(days=16)) == 0  # back at 80
    user.refresh_from_db()
    clean.refresh_from_db()
    assert user.credit_score == CREDIT_START and clean.credit_score == CREDIT_START
    assert not CreditChange.objects.filter(account=clean).exists()


def _orders(store, creator, n, refunded):
    from tastemaker.showcase.models import Commission, Order

    for i in range(n):
        order = Order.objects.create(store=store, external_id=f"R-{creator.pk}-{i}",
                                     status="refunded" if i < refunded else "paid", paid_amount=1000)
        Commission.objects.create(order=order, click_id=i + 1, clicked_at=timezone.now(), creator=creator,
                                  store=store, post_id=1, rate_bp=500, rate_source="store", rule="test")


def test_showcase_refund_rates_feed_the_score(make_user, store):
    honest, dodgy, small = make_user(), make_user(), make_user()
    _orders(store, honest, 20, 2)
    _orders(store, dodgy, 20, 12)
    _orders(store, small, 4, 4)  # too few orders to judge
    assert credit.apply_showcase_rates() == 1
    assert credit.apply_showcase_rates() == 0  # once a month
    dodgy.refresh_from_db()
    assert dodgy.credit_score == CREDIT_START - 5
    change = CreditChange.objects.get(account=dodgy)
    assert change.reason == "showcase_rates" and "12 of 20" in change.note
    assert Case.objects.get(account=dodgy).source == "showcase"
    assert not CreditChange.objects.filter(account__in=[honest, small]).exists()


def test_suspension_holds_withdrawals_and_commission_payouts(make_user, store, signer, showcase_post):
    from tastemaker.payments.models import Withdrawal
    from tastemaker.payments.services import do_request_withdrawal
    from tastemaker.showcase.clicks import do_click_out, link_target
    from tastemaker.showcase.commissions import do_confirm_due_commissions
    from tastemaker.showcase.models import Commission
    from tastemaker.showcase.orders import do_receive_webhook

    expert, fan = make_user("expert"), make_user("fan")
    op_a, op_b = make_user("op_a", is_staff=True), make_user("op_b", is_staff=True)
    post = showcase_post(expert)
    click = do_click_out(link_target(post.card.links.get(primary=True).token), viewer_id=fan.pk, visitor="",
                         reason="", device="mobile", language="en")
    do_receive_webhook(store, *signer.deliver("order.paid", {"order_id": "S-1", "click_id": str(click.pk),
                                                             "amount": 20000, "currency": "CNY"}))
    case = Case.objects.get(pk=services.do_report(fan, "account", expert.pk, "harassment").case_id)
    action = services.do_act(op_a, case, "suspend", "abuse")
    expert.refresh_from_db()
    with pytest.raises(Forbidden):
        do_request_withdrawal(expert, 1000, "CNY")
    assert not Withdrawal.objects.exists()
    later = timezone.now() + timedelta(days=16)
    do_confirm_due_commissions(now=later)
    c = Commission.objects.get()
    assert c.status == "confirmed" and c.paid_at is None and c.held == c.amount
    assert "payout_on_hold" in list(c.steps.values_list("kind", flat=True))
    do_confirm_due_commissions(now=later)
    assert c.steps.filter(kind="payout_on_hold").count() == 1
    appeal = services.do_appeal(expert, action, "mistaken identity")
    services.do_decide_appeal(op_b, appeal, overturn=True, decision="wrong account")
    do_confirm_due_commissions(now=later)
    c.refresh_from_db()
    assert c.paid_at is not None
