"""Campaign life cycle: validation, the credit gate, automatic review, the hold, pause/resume/end."""

from __future__ import annotations

import pytest

from tastemaker.core.errors import Conflict, Forbidden, ValidationFailed
from tastemaker.payments.ledger import InsufficientFunds, held_account_for, wallet_for
from tastemaker.promotion import selectors, services
from tastemaker.promotion.models import Campaign


def test_an_approved_campaign_holds_its_budget(creator, campaign, invariants):
    c = campaign("passerby", budget=10_000)
    assert c.status == "active" and c.hold is not None
    assert wallet_for(creator, "CNY").balance == 90_000
    assert held_account_for(creator, "CNY").balance == 10_000
    invariants()


@pytest.mark.parametrize("kw, field", [
    ({"budget": 0}, "budget"), ({"bid": 1}, "bid"), ({"price_model": "cpf", "tool": "fan_headline"}, "price_model"),
    ({"verticals": ["no-such"]}, "verticals"), ({"languages": ["not a tag!"]}, "languages"),
    ({"daily_budget": 20_000}, "daily_budget"),
])
def test_bad_input_is_refused_with_the_field(campaign, kw, field):
    tool = kw.pop("tool", "passerby")
    with pytest.raises(ValidationFailed) as err:
        campaign(tool, **kw)
    assert err.value.field == field
    assert not Campaign.objects.exists()


def test_the_credit_gate_and_someone_elses_post(make_user, creator, campaign, post_of):
    low = make_user()
    low.credit_score = 70
    low.save()
    with pytest.raises(Forbidden):
        campaign("passerby", owner=low)
    other = make_user()
    with pytest.raises(Forbidden):
        campaign("passerby", post=post_of(other))


def test_without_the_money_nothing_is_left_behind(make_user, campaign):
    poor = make_user()
    with pytest.raises(InsufficientFunds):
        campaign("passerby", owner=poor)
    assert not Campaign.objects.exists()


def test_a_private_post_is_refused_and_stuffing_goes_to_review(creator, campaign, post_of, make_user):
    with pytest.raises(ValidationFailed):
        campaign("passerby", post=post_of(creator, visibility="private"))
    stuffed = post_of(creator, text="cheap cheap cheap cheap cheap noodles cheap cheap cheap cheap")
    c = campaign("passerby", post=stuffed)
    assert c.status == "pending_review" and "keyword_stuffing" in c.review_flags and c.hold is None
    operator = make_user(is_staff=True)
    with pytest.raises(Forbidden):
        services.do_review_campaign(creator, c.pk, approve=True)
    c = services.do_review_campaign(operator, c.pk, approve=True)
    assert c.status == "active" and c.hold is not None


def test_pause_resume_end_release_the_rest(creator, campaign, invariants):
    c = campaign("passerby", budget=10_000)
    assert wallet_for(creator, "CNY").balance == 90_000
    services.do_pause_campaign(creator, c.pk)
    paused = Campaign.objects.get(pk=c.pk)
    assert paused.status == "paused" and paused.hold is None
    assert wallet_for(creator, "CNY").balance == 100_000  # the pause gave the budget back
    services.do_resume_campaign(creator, c.pk)
    resumed = Campaign.objects.get(pk=c.pk)
    assert resumed.status == "active" and resumed.hold.amount == 10_000
    assert wallet_for(creator, "CNY").balance == 90_000  # held again
    assert selectors.reconcile_campaigns([c.pk]) == []
    # resuming needs the money again: with the wallet spent elsewhere meanwhile it stays paused (409)
    services.do_pause_campaign(creator, c.pk)
    other = campaign("passerby", budget=95_000)
    with pytest.raises(InsufficientFunds):
        services.do_resume_campaign(creator, c.pk)
    assert Campaign.objects.get(pk=c.pk).status == "paused"
    services.do_end_campaign(creator, other.pk)
    services.do_resume_campaign(creator, c.pk)
    c = services.do_end_campaign(creator, c.pk)
    assert c.status == "ended" and c.closed
    assert wallet_for(creator, "CNY").balance == 100_000
    with pytest.raises(Conflict):
        services.do_resume_campaign(creator, c.pk)
    invariants()


def test_a_suspended_owner_campaigns_pause(creator, campaign, make_user):
    from tastemaker.moderation import services as moderation

    c = campaign("passerby")
    operator = make_user(is_staff=True)
    moderation.do_suspend(creator, operator=operator, reason="test")
    c.refresh_from_db()
    assert c.status == "paused" and c.paused_by_moderation


def test_creating_campaigns_is_rate_limited(creator, campaign, settings):
    from tastemaker.core.errors import RateLimited

    settings.RATE_PROMOTION = "2/3600"
    campaign("passerby")
    campaign("passerby")
    with pytest.raises(RateLimited):
        campaign("passerby")
    assert Campaign.objects.count() == 2
