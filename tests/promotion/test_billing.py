"""Billing: valid deliveries charged once, captured in batches from the hold, never past the budget, never
for invalid traffic; follows kept are billed, follows undone within the window refunded; reconcile agrees."""

from __future__ import annotations

from datetime import timedelta

from django.core.management import CommandError, call_command
from django.utils import timezone

from tastemaker.payments.ledger import platform_account, wallet_for
from tastemaker.promotion import selectors, services
from tastemaker.promotion.models import Campaign, Charge, PromotedFollow
from tastemaker.promotion.services import Delivered


def spend() -> int:
    return platform_account("promotion_spend", "CNY").balance


def test_valid_impressions_are_charged_once_and_captured_exactly(creator, campaign, make_user, invariants):
    c = campaign("passerby", budget=10_000, bid=2_500)  # 2.5 fen an impression
    viewers = [make_user() for _ in range(3)]
    for v in viewers:
        assert services.do_record_delivery(v, [Delivered(c.pk)]) == 1
        assert services.do_record_delivery(v, [Delivered(c.pk)]) == 0  # the same day again: not billed
    assert services.do_settle_charges() == 3
    assert services.do_settle_charges() == 0  # nothing twice
    c.refresh_from_db()
    assert (c.settled_milli, c.captured) == (7_500, 7) and spend() == 7
    assert selectors.reconcile_campaigns() == []
    invariants()


def test_invalid_traffic_is_never_billed(creator, campaign, make_user):
    c = campaign("passerby")
    bot = make_user(bot=True)
    assert services.do_record_delivery(bot, [Delivered(c.pk)]) == 0  # a bot account
    assert services.do_record_delivery(creator, [Delivered(c.pk)]) == 0  # the owner
    human = make_user()
    assert services.do_record_delivery(human, [Delivered(c.pk)], reason="prefetch") == 0  # a prefetch
    assert not Charge.objects.exists()


def test_the_budget_is_never_passed_and_the_rest_goes_back(creator, campaign, make_user, invariants):
    c = campaign("passerby", budget=1_000, bid=400_000)  # 400 fen an impression: two fit in 10.00
    made = sum(services.do_record_delivery(make_user(), [Delivered(c.pk)]) for _ in range(4))
    assert made == 2
    c.refresh_from_db()
    assert c.status == "exhausted"
    services.do_settle_charges()
    c.refresh_from_db()
    assert c.captured == 800 and c.closed
    assert wallet_for(creator, "CNY").balance == 100_000 - 800
    assert selectors.reconcile_campaigns() == []
    invariants()


def test_a_daily_budget_stops_the_day_not_the_campaign(creator, campaign, make_user):
    c = campaign("passerby", budget=10_000, daily_budget=1_000, bid=500_000)
    made = sum(services.do_record_delivery(make_user(), [Delivered(c.pk)]) for _ in range(3))
    assert made == 2
    c.refresh_from_db()
    assert c.status == "active"
    tomorrow = timezone.now() + timedelta(days=1)
    assert services.do_record_delivery(make_user(), [Delivered(c.pk)], at=tomorrow) == 1


def test_a_follow_kept_is_billed_and_one_undone_in_the_window_is_refunded(creator, campaign, make_user, follow,
                                                                         settings, invariants):
    from tastemaker.social.services import do_unfollow

    c = campaign("passerby", price_model="cpf", bid=300)
    kept, fickle = make_user(), make_user()
    services.do_record_delivery(kept, [Delivered(c.pk)])
    services.do_record_delivery(fickle, [Delivered(c.pk)])
    assert not Charge.objects.exists()  # CPF: impressions are free
    follow(kept, creator)
    follow(fickle, creator)
    assert Charge.objects.filter(kind="follow").count() == 2
    do_unfollow(fickle, creator)
    assert PromotedFollow.objects.get(follower=fickle).undone_at is not None
    assert services.do_settle_charges() == 0  # not billable before the window has passed
    later = timezone.now() + timedelta(seconds=settings.PROMOTION_FOLLOW_WINDOW + 1)
    assert services.do_settle_charges(now=later) == 1
    c.refresh_from_db()
    assert c.captured == 300 and spend() == 300
    assert selectors.reconcile_campaigns() == []
    invariants()


def test_a_campaign_spent_out_by_a_follow_that_is_undone_delivers_again(creator, campaign, make_user, follow,
                                                                          invariants):
    """A refunded follow frees its budget: an exhausted campaign whose hold is still open (a charge was
    pending) goes back to active; once its time or its money is gone it does not."""
    from tastemaker.social.services import do_unfollow

    c = campaign("passerby", price_model="cpf", bid=1_000, budget=1_000)  # exactly one follow
    fan, other = make_user(), make_user()
    services.do_record_delivery(fan, [Delivered(c.pk)])
    follow(fan, creator)
    c.refresh_from_db()
    assert c.committed_milli == 1_000_000  # the whole budget reserved by one pending follow
    services.do_record_delivery(other, [Delivered(c.pk)])
    follow(other, creator)  # no room: the campaign is spent out
    c.refresh_from_db()
    assert c.status == "exhausted" and Charge.objects.filter(campaign=c, status="pending").count() == 1
    assert c.pk not in {x.id for x in selectors.live_campaigns()}
    do_unfollow(fan, creator)  # within the window: refunded, and the budget is free again
    c.refresh_from_db()
    assert c.status == "active" and c.ended_at is None and c.committed_milli == 0 and not c.closed
    selectors.forget_active()
    assert c.pk in {x.id for x in selectors.live_campaigns()}
    invariants()


def test_fan_headline_charges_per_follower_reached(creator, campaign, make_user, follow):
    c = campaign("fan_headline", bid=1_000)
    fan = make_user()
    follow(fan, creator)
    assert services.do_record_delivery(fan, [Delivered(c.pk)]) == 1
    assert services.do_record_delivery(fan, [Delivered(c.pk)], at=timezone.now() + timedelta(days=1)) == 0
    assert Charge.objects.get().kind == "reach"


def test_reconcile_catches_a_tampered_spend(creator, campaign, make_user, capsys):
    import pytest

    c = campaign("passerby", bid=5_000)
    services.do_record_delivery(make_user(), [Delivered(c.pk)])
    call_command("reconcile_promotion", "--settle")
    Campaign.objects.filter(pk=c.pk).update(captured=99)
    with pytest.raises(CommandError):
        call_command("reconcile_promotion")
    assert {m.check for m in selectors.reconcile_campaigns()} >= {"captured", "ledger"}
