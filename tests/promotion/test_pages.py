"""The promotion web pages (issue 13): composer, campaigns list and page, standing orders, the review queue,
the revenue page, promoted-content settings and the controls on a promoted item. Permissions (anonymous ->
login, someone else's campaign -> 404, non-staff -> 404), bad input (422, a message, nothing written)."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from tastemaker.promotion.models import (
    AutoPromotion,
    Campaign,
    CampaignStatus,
    HiddenPromotion,
    MutedAdvertiser,
    TargetingOptOut,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _verticals(db):
    from tastemaker.experts.services import ensure_default_verticals

    ensure_default_verticals()


@pytest.fixture
def as_user(client):
    def do(user):
        client.force_login(user)
        return client

    return do


def _key(response) -> str:
    import re

    found = re.search(r'name="idempotency_key" value="([^"]+)"', response.content.decode())
    assert found, "the composer must carry an idempotency key"
    return found.group(1)


def _compose(client, post, **fields):
    page = client.get(reverse("web:promote_post", args=[post.pk]))
    assert page.status_code == 200
    data = {"idempotency_key": _key(page), "tool": "fan_headline", "budget_amount": "50", "bid_amount": "20",
            "name": "Noodles"}
    data.update(fields)
    return client.post(reverse("web:promote_post", args=[post.pk]), data), data


# --- permissions ------------------------------------------------------------------------------

def test_anonymous_is_sent_to_login(client, creator, campaign):
    c = campaign("fan_headline")
    for url in (reverse("web:promote"), reverse("web:promote_account"), reverse("web:promote_post", args=[c.post_id]),
                reverse("web:promote_campaign", args=[c.pk]), reverse("web:promote_campaign_csv", args=[c.pk]),
                reverse("web:promote_auto"), reverse("web:promotion_settings"), reverse("web:promote_review"),
                reverse("web:promote_revenue"), reverse("web:promote_estimate")):
        response = client.get(url)
        assert response.status_code == 302 and reverse("web:login") in response["Location"], url
    response = client.post(reverse("web:promote_campaign_action", args=[c.pk, "pause"]))
    assert response.status_code == 302 and reverse("web:login") in response["Location"]
    assert Campaign.objects.get(pk=c.pk).status == CampaignStatus.ACTIVE


def test_someone_elses_campaign_and_post_are_404(as_user, make_user, creator, campaign, post_of):
    c = campaign("fan_headline")
    bob = as_user(make_user("bob"))
    assert bob.get(reverse("web:promote_campaign", args=[c.pk])).status_code == 404
    assert bob.get(reverse("web:promote_campaign_csv", args=[c.pk])).status_code == 404
    assert bob.post(reverse("web:promote_campaign_action", args=[c.pk, "end"])).status_code == 404
    assert Campaign.objects.get(pk=c.pk).status == CampaignStatus.ACTIVE
    # someone else's post cannot be promoted: no composer, no campaign
    assert bob.get(reverse("web:promote_post", args=[c.post_id])).status_code == 404
    assert bob.post(reverse("web:promote_post", args=[c.post_id]),
                    {"tool": "fan_headline", "budget_amount": "50", "bid_amount": "20",
                     "idempotency_key": "k" * 20}).status_code == 404
    assert Campaign.objects.count() == 1
    # and his list does not show Alice's campaign
    assert f"campaign-{c.pk}" not in bob.get(reverse("web:promote")).content.decode()


def test_review_and_revenue_are_staff_only(as_user, make_user, creator, campaign):
    c = campaign("fan_headline")
    bob = as_user(make_user("bob"))
    assert bob.get(reverse("web:promote_review")).status_code == 404
    assert bob.get(reverse("web:promote_revenue")).status_code == 404
    assert bob.post(reverse("web:promote_review_decide", args=[c.pk]), {"decision": "reject",
                                                                        "note": "no"}).status_code == 404


# --- the composer -------------------------------------------------------------------------------

def test_composer_offers_the_tools_of_the_subject_with_balance_and_estimate(as_user, creator, post_of, make_user,
                                                                            follow):
    post = post_of(creator)
    for n in range(3):
        follow(make_user(f"fan{n}"), creator)
    client = as_user(creator)
    body = client.get(reverse("web:promote_post", args=[post.pk])).content.decode()
    assert "promo-gate" not in body
    assert 'value="fan_headline"' in body and 'value="passerby"' in body and 'value="account_rec"' not in body
    assert "¥1,000.00" in body  # the creator's wallet (100,000 fen)
    assert 'data-estimate="3"' in body  # a Fan Headline reaches the three followers
    body = client.get(reverse("web:promote_account")).content.decode()
    assert 'value="account_rec"' in body and 'value="fan_headline"' not in body


def test_promote_links_on_own_posts_and_profile_only(as_user, creator, make_user, post_of):
    mine = post_of(creator)
    theirs = post_of(make_user("other"))
    client = as_user(creator)
    assert reverse("web:promote_post", args=[mine.pk]) in client.get(reverse("web:post", args=[mine.pk])).content.decode()
    assert reverse("web:promote_post", args=[theirs.pk]) not in client.get(
        reverse("web:post", args=[theirs.pk])).content.decode()
    assert reverse("web:promote_account") in client.get(reverse("web:profile", args=[creator.username])).content.decode()
    assert reverse("web:promote_account") not in client.get(reverse("web:profile", args=["other"])).content.decode()


def test_create_fan_headline_holds_the_budget_once_per_key(as_user, creator, post_of):
    from tastemaker.payments.selectors import balance

    post = post_of(creator)
    client = as_user(creator)
    response, data = _compose(client, post, budget_amount="50.50")
    assert response.status_code == 303
    c = Campaign.objects.get()
    assert response["Location"] == reverse("web:promote_campaign", args=[c.pk])
    assert (c.tool, c.budget, c.bid, c.status, c.post_id) == ("fan_headline", 5050, 2000, CampaignStatus.ACTIVE, post.pk)
    assert balance(creator, "CNY").held == 5050
    again = client.post(reverse("web:promote_post", args=[post.pk]), data)  # a double submit
    assert again.status_code == 303 and Campaign.objects.count() == 1 and balance(creator, "CNY").held == 5050


def test_create_passerby_per_follow_with_targeting(as_user, creator, post_of):
    client = as_user(creator)
    response, _data = _compose(client, post_of(creator), tool="passerby", price_model="cpf", bid_amount="1.50",
                               verticals=["beauty", "food"], languages="zh, en", regions="cn-31", lookalike="on",
                               daily_amount="10")
    assert response.status_code == 303
    c = Campaign.objects.get()
    assert (c.tool, c.price_model, c.bid, c.daily_budget) == ("passerby", "cpf", 150, 1000)
    assert (c.verticals, c.languages, c.regions, c.lookalike) == (["beauty", "food"], ["en", "zh"], ["CN-31"], True)


@pytest.mark.parametrize(("fields", "message"), [
    ({"budget_amount": "12.345"}, "decimal"),
    ({"budget_amount": "abc"}, ""),
    ({"bid_amount": ""}, "Enter an amount"),
    ({"bid_amount": "0.50"}, "The bid is at least"),
    ({"budget_amount": "5"}, "The budget is at least"),
    ({"verticals": "no-such-vertical", "tool": "passerby"}, "Unknown vertical"),
    ({"verticals": "beauty"}, "takes no targeting"),
    ({"languages": "not a tag!", "tool": "passerby"}, "Not a language tag"),
    ({"ends_at": "2001-01-01T10:00"}, "ends after it starts"),
    ({"starts_at": "tomorrow"}, "YYYY-MM-DD"),
])
def test_bad_input_is_422_with_a_message_and_nothing_written(as_user, creator, post_of, fields, message):
    from tastemaker.payments.selectors import balance

    client = as_user(creator)
    response, _data = _compose(client, post_of(creator), **fields)
    assert response.status_code == 422
    body = response.content.decode()
    assert 'class="field-error"' in body or 'msg-error' in body
    assert message in body
    assert not Campaign.objects.exists() and balance(creator, "CNY").held == 0


def test_credit_gate_says_why_and_what_restores_access(as_user, creator, post_of):
    post = post_of(creator)
    creator.credit_score = 60
    creator.save(update_fields=["credit_score"])
    client = as_user(creator)
    page = client.get(reverse("web:promote_post", args=[post.pk])).content.decode()
    assert "promo-gate" in page and "needs a credit score of at least" in page  # said before paying
    response, _data = _compose(client, post)
    assert response.status_code == 403
    body = response.content.decode()
    assert "needs a credit score of at least" in body and "rises by" in body
    assert not Campaign.objects.exists()


def test_insufficient_funds_is_a_form_message(as_user, make_user, post_of):
    poor = make_user("poor")
    response, _data = _compose(as_user(poor), post_of(poor))
    assert response.status_code == 409
    assert "msg-error" in response.content.decode()
    assert not Campaign.objects.exists()


def test_estimate_fragment_counts_targeted_non_followers(as_user, creator, make_user, follow):
    from tastemaker.discovery.models import UserInterest
    from tastemaker.experts.models import Vertical

    beauty = Vertical.objects.get(slug="beauty")
    for n in range(4):
        u = make_user(f"reader{n}")
        if n < 2:
            UserInterest.objects.create(user=u, vertical=beauty, picked=True)
        if n == 0:
            follow(u, creator)  # a follower is not a passer-by
    opted = make_user("optedout")
    UserInterest.objects.create(user=opted, vertical=beauty, picked=True)
    TargetingOptOut.objects.create(user=opted)
    client = as_user(creator)
    r = client.get(reverse("web:promote_estimate"), {"tool": "passerby", "verticals": "beauty"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and 'data-estimate="1"' in r.content.decode()
    r = client.get(reverse("web:promote_estimate"), {"tool": "fan_headline"})
    assert 'data-estimate="1"' in r.content.decode()
    r = client.get(reverse("web:promote_estimate"), {"tool": "passerby", "verticals": "nope"})
    assert r.status_code == 422 and "Unknown vertical" in r.content.decode()


# --- campaigns list and page ------------------------------------------------------------------------

def test_campaign_list_paginates_with_pills_and_controls(as_user, creator, campaign, settings):
    from tastemaker.web import views_promotion

    made = [campaign("fan_headline", budget=1000) for _ in range(3)]
    client = as_user(creator)
    old = views_promotion.PAGE
    views_promotion.PAGE = 2
    try:
        body = client.get(reverse("web:promote")).content.decode()
        assert f"campaign-{made[2].pk}" in body and f"campaign-{made[0].pk}" not in body
        assert f"?max_id={made[1].pk}" in body
        older = client.get(reverse("web:promote") + f"?max_id={made[1].pk}").content.decode()
        assert f"campaign-{made[0].pk}" in older
    finally:
        views_promotion.PAGE = old
    assert 'data-status="active"' in body and reverse("web:promote_campaign_action", args=[made[2].pk, "pause"]) in body


def test_pause_resume_end_by_post(as_user, creator, campaign):
    from tastemaker.payments.selectors import balance

    c = campaign("fan_headline")
    client = as_user(creator)
    assert client.get(reverse("web:promote_campaign_action", args=[c.pk, "pause"])).status_code == 405
    assert client.post(reverse("web:promote_campaign_action", args=[c.pk, "pause"])).status_code == 303
    assert Campaign.objects.get(pk=c.pk).status == CampaignStatus.PAUSED
    client.post(reverse("web:promote_campaign_action", args=[c.pk, "resume"]))
    assert Campaign.objects.get(pk=c.pk).status == CampaignStatus.ACTIVE
    client.post(reverse("web:promote_campaign_action", args=[c.pk, "end"]))
    assert Campaign.objects.get(pk=c.pk).status == CampaignStatus.ENDED
    assert balance(creator, "CNY").held == 0  # nothing was spent: all of it came back
    assert client.post(reverse("web:promote_campaign_action", args=[c.pk, "explode"])).status_code == 404
    # resuming an ended campaign is refused with a message, not a 500
    assert client.post(reverse("web:promote_campaign_action", args=[c.pk, "resume"])).status_code == 409


def test_campaign_page_shows_delivery_and_spend_live(as_user, creator, campaign, make_user, follow):
    from tastemaker.promotion import services

    c = campaign("fan_headline", bid=5000)  # ¥50 per 1,000 followers reached: 5 fen each
    client = as_user(creator)
    page = client.get(reverse("web:promote_campaign", args=[c.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in page and 'data-minor="0"' in page
    assert reverse("web:promote_campaign_action", args=[c.pk, "pause"]) in page
    fan = make_user("fan")
    follow(fan, creator)
    assert services.do_record_delivery(fan, [services.Delivered(c.pk, "why", 0)], device="mobile") == 1
    live = client.get(reverse("web:promote_campaign", args=[c.pk]), HTTP_HX_REQUEST="true")
    body = live.content.decode()
    assert 'id="campaign-live"' in body and "<html" not in body
    assert '<div class="figure" data-figure="delivered"><dt>Delivered</dt><dd>1</dd>' in body
    assert 'data-minor="5"' in body and "¥0.05" in body
    csv = client.get(reverse("web:promote_campaign_csv", args=[c.pk])).content.decode()
    assert csv.splitlines()[0] == "bucket_start_utc,delivered,billed" and csv.splitlines()[-1].endswith(",1,1")
    # breakdowns by the existing dimensions (the rollup's counters, the "<5" privacy rule): the promoted surface
    from tastemaker.analytics.rollup import do_rollup

    do_rollup()
    body = client.get(reverse("web:promote_campaign", args=[c.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-dimension="surface"' in body and 'data-dimension="device"' in body
    table = client.get(reverse("web:promote_campaign_csv", args=[c.pk]) + "?table=breakdown").content.decode()
    assert table.splitlines()[0] == "metric,dimension,value,count"
    assert "impression,surface,promoted,<5" in table.splitlines()


# --- standing orders ------------------------------------------------------------------------------

def test_standing_orders_create_pause_delete(as_user, creator, make_user):
    client = as_user(creator)
    r = client.post(reverse("web:promote_auto"), {"tool": "fan_headline", "vertical": "beauty", "weekly_amount": "100",
                                                  "each_amount": "20", "bid_amount": "20"})
    assert r.status_code == 303
    order = AutoPromotion.objects.get()
    assert (order.weekly_budget, order.per_campaign_budget, order.bid, order.vertical.slug) == (10000, 2000, 2000,
                                                                                                "beauty")
    assert f"order-{order.pk}" in client.get(reverse("web:promote_auto")).content.decode()
    bob = as_user(make_user("bob"))
    assert bob.post(reverse("web:promote_auto_action", args=[order.pk, "delete"])).status_code == 404
    client = as_user(creator)
    client.post(reverse("web:promote_auto_action", args=[order.pk, "pause"]))
    assert not AutoPromotion.objects.get().active
    client.post(reverse("web:promote_auto_action", args=[order.pk, "delete"]))
    assert not AutoPromotion.objects.exists()


@pytest.mark.parametrize(("fields", "message"), [
    ({"weekly_amount": "x"}, ""),
    ({"each_amount": "200"}, "at most the weekly budget"),
    ({"tool": "passerby"}, "Fan Headline or an Account Recommendation"),
])
def test_standing_order_bad_input_is_422(as_user, creator, fields, message):
    data = {"tool": "fan_headline", "vertical": "", "weekly_amount": "100", "each_amount": "20", "bid_amount": "20"}
    data.update(fields)
    r = as_user(creator).post(reverse("web:promote_auto"), data)
    assert r.status_code == 422 and message in r.content.decode()
    assert not AutoPromotion.objects.exists()


# --- operators ----------------------------------------------------------------------------------

def test_review_queue_approve_and_reject_with_a_note(as_user, creator, campaign, post_of, make_user):
    stuffed = "noodles noodles noodles noodles best noodles noodles here"
    flagged = campaign("fan_headline", post=post_of(creator, stuffed))
    other = campaign("fan_headline", post=post_of(creator, stuffed + " again"))
    assert flagged.status == CampaignStatus.PENDING_REVIEW
    ops = as_user(make_user("ops", is_staff=True))
    body = ops.get(reverse("web:promote_review")).content.decode()
    assert f"review-{flagged.pk}" in body and "keyword_stuffing" in body
    r = ops.post(reverse("web:promote_review_decide", args=[flagged.pk]), {"decision": "reject", "note": ""})
    assert r.status_code == 422 and Campaign.objects.get(pk=flagged.pk).status == CampaignStatus.PENDING_REVIEW
    ops.post(reverse("web:promote_review_decide", args=[flagged.pk]), {"decision": "approve"})
    assert Campaign.objects.get(pk=flagged.pk).status == CampaignStatus.ACTIVE
    ops.post(reverse("web:promote_review_decide", args=[other.pk]), {"decision": "reject", "note": "Stuffed."})
    rejected = Campaign.objects.get(pk=other.pk)
    assert rejected.status == CampaignStatus.REJECTED and rejected.review_note == "Stuffed."
    # the advertiser reads the note on the campaign page
    assert "Stuffed." in as_user(creator).get(reverse("web:promote_campaign", args=[other.pk])).content.decode()


def test_revenue_by_day_and_top_campaigns(as_user, creator, campaign, make_user, follow):
    from tastemaker.promotion import services

    c = campaign("fan_headline", bid=100_000)  # ¥1,000 per 1,000: ¥1 per follower reached
    for n in range(3):
        fan = make_user(f"fan{n}")
        follow(fan, creator)
        services.do_record_delivery(fan, [services.Delivered(c.pk, "why", 0)])
    services.do_settle_charges()
    body = as_user(make_user("ops", is_staff=True)).get(reverse("web:promote_revenue")).content.decode()
    assert "¥3.00" in body and reverse("web:promote_campaign", args=[c.pk]) in body and "reach 3" in body


# --- everyone: settings and the promoted item's controls ----------------------------------------------

def test_settings_opt_out_and_unmute(as_user, creator, make_user):
    reader = make_user("reader")
    MutedAdvertiser.objects.create(user=reader, advertiser=creator)
    client = as_user(reader)
    body = client.get(reverse("web:promotion_settings")).content.decode()
    assert f"muted-{creator.pk}" in body
    client.post(reverse("web:promotion_settings"), {"action": "targeting", "opt_out": "on"})
    assert TargetingOptOut.objects.filter(user=reader).exists()
    client.post(reverse("web:promotion_settings"), {"action": "targeting"})
    assert not TargetingOptOut.objects.filter(user=reader).exists()
    client.post(reverse("web:promotion_settings"), {"action": "unmute", "account": str(creator.pk)})
    assert not MutedAdvertiser.objects.exists()
    assert client.post(reverse("web:promotion_settings"), {"action": "unmute", "account": "x"}).status_code == 422
    assert client.post(reverse("web:promotion_settings"), {"action": "nope"}).status_code == 422


def test_promoted_item_controls_hide_and_mute(as_user, creator, campaign, make_user):
    from tastemaker.promotion.selectors import Pick

    c = campaign("passerby")
    reader = make_user("reader")
    post = c.post
    post.promoted = Pick(c.pk, creator.pk, post.pk, None, 2000, "why", 0, "passerby")
    request = RequestFactory().get("/")
    request.user = reader
    html = render_to_string("web/_post.html", {"post": post, "state": {}, "user": reader, "here": "/"}, request)
    assert reverse("web:promoted_action", args=[c.pk, "hide"]) in html
    assert reverse("web:promoted_action", args=[c.pk, "mute"]) in html
    client = as_user(reader)
    r = client.post(reverse("web:promoted_action", args=[c.pk, "hide"]), HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "promo-hidden-note" in r.content.decode()
    assert HiddenPromotion.objects.filter(user=reader, campaign=c).exists()
    assert client.post(reverse("web:promoted_action", args=[c.pk, "mute"])).status_code == 303
    assert MutedAdvertiser.objects.filter(user=reader, advertiser=creator).exists()
    assert client.post(reverse("web:promoted_action", args=[999, "hide"])).status_code == 404
    assert client.post(reverse("web:promoted_action", args=[c.pk, "boom"])).status_code == 404
    # the advertiser sees no controls on their own promotion
    html = render_to_string("web/_post.html", {"post": post, "state": {}, "user": creator, "here": "/"}, request)
    assert reverse("web:promoted_action", args=[c.pk, "hide"]) not in html


def test_pages_render_in_chinese(as_user, creator, campaign):
    c = campaign("fan_headline")
    client = as_user(creator)
    client.cookies["django_language"] = "zh-hans"
    for url in (reverse("web:promote"), reverse("web:promote_campaign", args=[c.pk]),
                reverse("web:promote_post", args=[c.post_id]), reverse("web:promote_auto"),
                reverse("web:promotion_settings")):
        r = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert r.status_code == 200 and 'lang="zh-hans"' in r.content.decode(), url
