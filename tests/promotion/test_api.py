"""The promotion JSON API: create with an Idempotency-Key (a retry holds nothing again), 4xx with the
field, lists, the report, the review queue, standing orders and a viewer's controls."""

from __future__ import annotations

import json

from tastemaker.payments.ledger import held_account_for
from tastemaker.promotion.models import Campaign, HiddenPromotion, MutedAdvertiser, TargetingOptOut
from tastemaker.promotion.services import Delivered, do_record_delivery, do_settle_charges

BASE = "/api/v1/tastemaker/promotion"
ALL = "read write follow push payments"


def _post(client, path, body, key=None):
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(path, json.dumps(body), content_type="application/json", **extra)


def test_create_is_idempotent_and_lists(creator, api_as, post_of):
    c = api_as(creator, ALL)
    body = {"tool": "passerby", "post_id": str(post_of(creator).pk), "budget": 5_000, "bid": 1_000}
    first = _post(c, f"{BASE}/campaigns", body, key="k-1")
    assert first.status_code == 201, first.content
    again = _post(c, f"{BASE}/campaigns", body, key="k-1")
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert Campaign.objects.count() == 1 and held_account_for(creator, "CNY").balance == 5_000
    assert _post(c, f"{BASE}/campaigns", body).status_code == 400  # no key
    listed = c.get(f"{BASE}/campaigns").json()
    assert [x["id"] for x in listed] == [first.json()["id"]] and listed[0]["status"] == "active"


def test_bad_input_is_a_422_naming_the_field(creator, api_as, post_of):
    c = api_as(creator, ALL)
    cases = [({"tool": "passerby", "post_id": str(post_of(creator).pk), "budget": 5_000, "bid": 1}, "bid"),
             ({"tool": "fan_headline", "post_id": "nope", "budget": 5_000, "bid": 1_000}, "post_id"),
             ({"tool": "passerby", "post_id": str(post_of(creator).pk), "budget": 5_000, "bid": 1_000,
               "ends_at": "2020-01-01T00:00:00Z"}, "ends_at")]
    for n, (body, field) in enumerate(cases):
        r = _post(c, f"{BASE}/campaigns", body, key=f"bad-{n}")
        assert r.status_code == 422, r.content
        assert r.json()["field"] == field
    weird = _post(c, f"{BASE}/campaigns", {"tool": "x", "budget": "1e9", "bid": None}, key="weird")
    assert weird.status_code == 422
    assert c.get(f"{BASE}/campaigns/123").status_code == 404
    assert not Campaign.objects.exists()


def test_controls_report_and_estimate(creator, campaign, api_as, make_user):
    c = api_as(creator, ALL)
    camp = campaign("passerby", bid=2_000)
    viewer = make_user()
    do_record_delivery(viewer, [Delivered(camp.pk)])
    do_settle_charges()
    report = c.get(f"{BASE}/campaigns/{camp.pk}/report").json()
    assert report["delivered"] == 1 and report["impressions"] == 1 and report["spend"] == 2
    assert report["cpm"] == 2_000
    assert c.post(f"{BASE}/campaigns/{camp.pk}/pause").json()["status"] == "paused"
    assert c.post(f"{BASE}/campaigns/{camp.pk}/pause").json()["status"] == "paused"
    assert c.post(f"{BASE}/campaigns/{camp.pk}/resume").json()["status"] == "active"
    ended = c.post(f"{BASE}/campaigns/{camp.pk}/end").json()
    assert ended["status"] == "ended" and ended["spend"] == 2
    assert c.post(f"{BASE}/campaigns/{camp.pk}/resume").status_code == 409
    est = _post(c, f"{BASE}/estimate", {"tool": "passerby"})
    assert est.status_code == 200 and est.json()["audience"] >= 1
    assert api_as(viewer, ALL).get(f"{BASE}/campaigns/{camp.pk}").status_code == 404  # not the owner's


def test_review_queue(creator, campaign, post_of, api_as, make_user):
    stuffed = post_of(creator, text="cheap cheap cheap cheap cheap noodles cheap cheap cheap cheap")
    camp = campaign("passerby", post=stuffed)
    operator = make_user(is_staff=True)
    ops = api_as(operator, ALL)
    queue = ops.get(f"{BASE}/review").json()
    assert [x["id"] for x in queue] == [str(camp.pk)] and queue[0]["review_flags"] == ["keyword_stuffing"]
    assert api_as(creator, ALL).get(f"{BASE}/review").status_code == 404
    r = _post(ops, f"{BASE}/review/{camp.pk}/reject", {"note": "keyword stuffing"})
    assert r.json()["status"] == "rejected"
    assert _post(ops, f"{BASE}/review/{camp.pk}/approve", {}).status_code == 409


def test_standing_orders_and_viewer_controls(creator, campaign, api_as, make_user):
    c = api_as(creator, ALL)
    made = _post(c, f"{BASE}/standing_orders", {"tool": "account_rec", "weekly_budget": 3_000,
                                                "per_campaign_budget": 2_000, "bid": 200})
    assert made.status_code == 201, made.content
    oid = made.json()["id"]
    assert c.patch(f"{BASE}/standing_orders/{oid}", json.dumps({"active": False}),
                   content_type="application/json").json()["active"] is False
    bad = _post(c, f"{BASE}/standing_orders", {"tool": "passerby", "weekly_budget": 1, "per_campaign_budget": 1,
                                               "bid": 1})
    assert bad.status_code == 422
    assert c.delete(f"{BASE}/standing_orders/{oid}").status_code == 200
    assert c.delete(f"{BASE}/standing_orders/{oid}").status_code == 404
    camp = campaign("passerby")
    viewer = make_user()
    v = api_as(viewer)
    assert v.post(f"{BASE}/hidden/{camp.pk}").status_code == 200
    assert v.post(f"{BASE}/muted_advertisers/{creator.pk}").status_code == 200
    assert _post(v, f"{BASE}/targeting_opt_out", {"opted_out": True}).json() == {"opted_out": True}
    assert HiddenPromotion.objects.filter(user=viewer).exists()
    assert MutedAdvertiser.objects.filter(user=viewer, advertiser=creator).exists()
    assert TargetingOptOut.objects.filter(user=viewer).exists()
    assert v.delete(f"{BASE}/muted_advertisers/{creator.pk}").status_code == 200
    assert not MutedAdvertiser.objects.filter(user=viewer).exists()


def test_standing_orders_make_campaigns(creator, post_of, follow, make_user):
    from tastemaker.promotion import services

    services.do_create_standing_order(creator, tool="fan_headline", weekly_budget=2_500, per_campaign_budget=1_000,
                                      bid=1_000)
    services.do_create_standing_order(creator, tool="account_rec", weekly_budget=2_000, per_campaign_budget=1_000,
                                      bid=200)
    for i in range(3):
        post_of(creator, text=f"new noodle post {i}")
    # two Fan Headlines of 10.00; the third post finds 5.00 left of the week, under the minimum budget; and the
    # weekly recommendation
    assert services.do_run_standing_orders() == 3
    assert services.do_run_standing_orders() == 0  # nothing new, and the recommendation runs for the week
    budgets = sorted(Campaign.objects.filter(tool="fan_headline").values_list("budget", flat=True))
    assert budgets == [1_000, 1_000]
    assert Campaign.objects.filter(tool="account_rec", status="active").count() == 1
