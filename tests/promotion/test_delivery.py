"""Delivery: Fan Headline on top for followers once, Passer-by slotted for non-followers by targeting, the
auction and pacing, the frequency caps, and hidden / muted / opted-out / blocked never reached."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tastemaker.promotion import selectors, services
from tastemaker.promotion.models import Serve
from tastemaker.promotion.selectors import Live, auction, home_promotions, paced_out


def _live(i, unit, rate=1.0):
    return Live(i, 1000 + i, f"u{i}", "passerby", i, "cpm" if rate == 1.0 else "cpf", unit, rate, frozenset(),
                frozenset(), frozenset(), False)


@given(st.lists(st.tuples(st.integers(1, 10**7), st.sampled_from([1.0, 0.5, 0.05, 0.01])), min_size=1, max_size=8))
def test_second_price_auction(bids):
    cands = [_live(i, unit, rate) for i, (unit, rate) in enumerate(bids)]
    winner, price = auction(cands, reserve_milli=100)
    assert winner.ecpm == max(c.ecpm for c in cands)
    assert 1 <= price <= winner.unit_milli  # never more than the bid
    others = sorted((c.ecpm for c in cands if c is not winner), reverse=True)
    second = max(others[0] if others else 100, 100)
    # what the winner pays per impression covers the runner-up (up to rounding) unless capped at its bid
    assert price * winner.rate >= min(second, winner.ecpm) - 1e-6


@given(st.integers(0, 10**6), st.integers(1, 10**4), st.floats(0, 1), st.integers(1, 10**5))
def test_pacing_spreads_the_day(committed, daily, day_fraction, unit):
    out = paced_out(committed, daily, day_fraction, unit)
    if committed + unit > daily * 1000:
        assert out
    elif committed / (daily * 1000) <= day_fraction:
        assert not out  # behind the clock: always in
    assert not paced_out(committed, None, day_fraction, unit)


def test_fan_headline_tops_a_followers_feed_once(creator, campaign, make_user, follow, api_as, post_of):
    fan, stranger = make_user(), make_user()
    follow(fan, creator)
    for i in range(3):
        post_of(creator, text=f"organic noodle news {i}")
    c = campaign("fan_headline", bid=1_000)
    items = api_as(fan).get("/api/v1/timelines/home").json()
    assert items[0]["id"] == str(c.post_id)
    mark = items[0]["tastemaker_promoted"]
    assert mark["campaign_id"] == str(c.pk) and mark["tool"] == "fan_headline" and mark["why"]
    assert items[0]["content"].startswith("<p>推广 · Promoted</p>")
    assert [i["id"] for i in items].count(str(c.post_id)) == 1  # shown once on the page
    assert all(i["tastemaker_promoted"] is None for i in items[1:])
    again = api_as(fan).get("/api/v1/timelines/home").json()
    assert all(i["tastemaker_promoted"] is None for i in again)  # once
    assert not home_promotions(stranger, 0)  # not a follower: no Fan Headline
    assert Serve.objects.filter(campaign=c).count() == 1


def test_passerby_reaches_non_followers_by_targeting(creator, campaign, make_user, follow):
    from tastemaker.experts.models import Vertical

    food = Vertical.objects.first()
    c = campaign("passerby", verticals=[food.slug], languages=["zh"])
    eater = make_user(language="zh-hans")
    eater.vertical_interests.create(vertical=food, picked=True)
    english = make_user(language="en")
    english.vertical_interests.create(vertical=food, picked=True)
    fan = make_user(language="zh-hans")
    fan.vertical_interests.create(vertical=food, picked=True)
    follow(fan, creator)
    picks = home_promotions(eater, 20)
    assert [(p.campaign_id, p.position) for p in picks] == [(c.pk, 10)]
    assert str(food.name) in picks[0].why
    assert not home_promotions(english, 20)
    assert not home_promotions(fan, 20)  # already a follower
    services.do_set_targeting_opt_out(eater, True)
    assert not home_promotions(eater, 20)  # opted out of interest targeting


def test_hidden_muted_blocked_and_invisible_never_shown(creator, campaign, make_user):
    from tastemaker.social.services import do_block, do_mute

    c = campaign("passerby")
    viewers = [make_user() for _ in range(5)]
    services.do_hide_promotion(viewers[0], c.pk)
    services.do_mute_advertiser(viewers[1], creator.pk)
    do_block(viewers[2], creator)
    do_mute(viewers[3], creator)
    for v in viewers[:4]:
        assert not home_promotions(v, 20), v
    assert home_promotions(viewers[4], 20)
    # the post became followers-only (or held, or its author suspended): the one visibility rule keeps it
    # from non-followers once the list of campaigns is read again (PROMOTION_CACHE_SECONDS; whether everyone
    # may see a campaign's post is read with it), and a page that showed it meanwhile is never billed (the
    # analytics ingest checks the rule again when the delivery is written)
    from tastemaker.promotion.models import Charge
    from tastemaker.promotion.services import Delivered
    from tastemaker.social.models import Post

    Post.objects.filter(pk=c.post_id).update(visibility="private")
    stale = home_promotions(viewers[4], 20)
    assert [p.campaign_id for p in stale] == [c.pk]
    services.do_record_delivery(viewers[4], [Delivered(p.campaign_id, p.why, p.price_milli) for p in stale])
    assert not Charge.objects.filter(campaign=c).exists()
    selectors.forget_active()
    assert not home_promotions(viewers[4], 20)
    assert not home_promotions(make_user(), 20)


def test_frequency_caps(creator, campaign, make_user, post_of, settings):
    from tastemaker.promotion.services import Delivered

    settings.PROMOTION_DAILY_CAP = 3
    others = [make_user() for _ in range(5)]
    for o in others:
        o.credit_score = 80
    from tastemaker.payments.ledger import post_transaction, provider_clearing, wallet_for

    camps = [campaign("passerby")]
    for i, o in enumerate(others):
        post_transaction("topup", [(provider_clearing("sandbox", "CNY"), -50_000), (wallet_for(o, "CNY"), 50_000)],
                         reference=f"cap-fund:{i}")
        camps.append(campaign("passerby", owner=o, post=post_of(o)))
    viewer = make_user()
    seen = []
    for _request in range(6):
        picks = home_promotions(viewer, 20)
        assert len(picks) <= 2 and len({p.owner_id for p in picks}) == len(picks)
        services.do_record_delivery(viewer, [Delivered(p.campaign_id, p.why, p.price_milli) for p in picks])
        seen += [p.campaign_id for p in picks]
    assert len(seen) == 3 and len(set(seen)) == 3  # the global cap, and each campaign once a day
    selectors.forget_active()


def test_the_ad_decision_costs_no_query_while_warm_and_none_without_campaigns(make_user, settings,
                                                                              django_assert_num_queries):
    viewer = make_user()
    settings.PROMOTION_CACHE_SECONDS = 300
    with django_assert_num_queries(1):  # cold: the list of deliverable campaigns (empty)
        assert home_promotions(viewer, 20) == []
    with django_assert_num_queries(0):  # warm, and nothing to deliver: free
        assert home_promotions(viewer, 20) == []


def test_account_recommendation_in_suggestions_and_the_web(creator, campaign, make_user, api_as, client):
    from tastemaker.promotion.models import PromotedFollow

    c = campaign("account_rec", bid=300)
    viewer = make_user()
    body = api_as(viewer).get("/api/v2/suggestions").json()
    assert body[0]["account"]["id"] == str(creator.pk)
    assert body[0]["tastemaker_promoted"]["campaign_id"] == str(c.pk)
    assert body[0]["tastemaker"]["kind"] == "promoted"
    assert all(s["tastemaker_promoted"] is None for s in body[1:])
    from tastemaker.social.services import do_follow

    do_follow(viewer, creator)  # the follow is attributed to the campaign (CPF, billable after the window)
    assert PromotedFollow.objects.filter(campaign=c, follower=viewer).exists()
    other = make_user()
    client.force_login(other)
    page = client.get("/suggestions").content.decode()
    assert "Promoted" in page and f"@{creator.username}" in page


def test_the_web_home_marks_a_promoted_post(creator, campaign, make_user, follow, client):
    fan = make_user()
    follow(fan, creator)
    c = campaign("fan_headline", bid=1_000)
    client.force_login(fan)
    page = client.get("/").content.decode()
    assert "promoted-label" in page and "Why am I seeing this?" in page
    first = page[page.index("<article"):]
    assert first.startswith('<article class="post promoted"') and f'data-tm-post="{c.post_id}"' in first[:200]


def test_queued_deliveries_keep_the_caps_and_are_written_by_the_background_writer(
        creator, campaign, make_user, follow, api_as, settings):
    """Production mode (``PROMOTION_DELIVERIES = "thread"``): the home page answers without writing; until
    the writer has written the page's deliveries, the decision counts them (the Fan Headline is not shown
    twice), then the serve, the impression event and the charge are all there."""

    from tastemaker.analytics.models import Event
    from tastemaker.promotion import pending
    from tastemaker.promotion.models import Charge

    fan = make_user()
    follow(fan, creator)
    c = campaign("fan_headline", bid=1_000)
    settings.PROMOTION_DELIVERIES = "thread"
    settings.PROMOTION_DELIVERY_INTERVAL_MS = 60_000  # the writer waits: the caps must hold meanwhile
    client = api_as(fan)
    client.defaults["HTTP_USER_AGENT"] = PHONE  # a person's app (no user agent would be invalid traffic)
    first = client.get("/api/v1/timelines/home").json()
    assert first[0]["tastemaker_promoted"]["campaign_id"] == str(c.pk)
    assert not Serve.objects.filter(campaign=c).exists()  # nothing written by the request
    assert pending.served(fan.pk, _time_today()) == {c.pk}
    again = client.get("/api/v1/timelines/home").json()
    assert all(i["tastemaker_promoted"] is None for i in again)  # once, although not yet written
    assert services.flush_deliveries() == 1
    assert Serve.objects.filter(campaign=c, viewer=fan).count() == 1
    assert Event.objects.filter(surface="promoted", subject_id=c.post_id, viewer_key=f"u{fan.pk}").count() == 1
    assert Charge.objects.filter(campaign=c, viewer_id=fan.pk).count() == 1
    assert pending.served(fan.pk, _time_today()) == set()  # forgotten once written
    assert all(i["tastemaker_promoted"] is None for i in client.get("/api/v1/timelines/home").json())


PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


def _time_today():
    from django.utils import timezone

    return timezone.now().date()


@pytest.mark.django_db(transaction=True)
def test_the_background_writer_writes_within_a_second(creator, campaign, make_user, follow, api_as, settings):
    import time as _time

    from tastemaker.promotion.models import Charge

    fan = make_user()
    follow(fan, creator)
    c = campaign("fan_headline", bid=1_000)
    settings.PROMOTION_DELIVERIES = "thread"
    settings.PROMOTION_DELIVERY_INTERVAL_MS = 50
    assert api_as(fan).get("/api/v1/timelines/home", HTTP_USER_AGENT=PHONE).json()[0]["tastemaker_promoted"]
    from django.db import OperationalError

    def charged() -> bool:
        try:
            return Charge.objects.filter(campaign=c, viewer_id=fan.pk).exists()
        except OperationalError:  # the test database (SQLite in memory, shared cache) while the writer writes
            return False

    deadline = _time.monotonic() + 1.0
    while not charged() and _time.monotonic() < deadline:
        _time.sleep(0.02)
    assert Charge.objects.filter(campaign=c, viewer_id=fan.pk).exists()
    assert Serve.objects.filter(campaign=c, viewer=fan).count() == 1
