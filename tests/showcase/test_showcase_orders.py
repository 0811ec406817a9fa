"""Click-outs, store webhooks and commissions: attribution, refunds, replays, forgeries, any order of arrival."""

from __future__ import annotations

import base64
import itertools
import json
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tastemaker.core.errors import ValidationFailed
from tastemaker.showcase import selectors
from tastemaker.showcase.clicks import do_click_out, link_target
from tastemaker.showcase.commissions import FUNDING_STEPS, do_confirm_due_commissions
from tastemaker.showcase.models import (
    ClickOut,
    Commission,
    CommissionStatus,
    Order,
    OrderEvent,
)
from tastemaker.showcase.orders import WebhookRejected, do_receive_webhook

pytestmark = pytest.mark.django_db


@pytest.fixture
def clicked(make_user, showcase_post):
    """A showcase post (10 % store rate) and a fan's valid click-out on it."""
    expert = make_user("expert")
    fan = make_user("fan")
    post = showcase_post(expert)
    target = link_target(post.card.links.get(primary=True).token)
    click = do_click_out(target, viewer_id=fan.pk, visitor="", reason="", device="mobile", language="en")
    return expert, fan, post, target, click


def paid(click_id, order="A-1", amount=20000, **extra):
    return {"order_id": order, "click_id": str(click_id), "amount": amount, "currency": "CNY", **extra}


def test_click_out_is_recorded_valid(clicked):
    expert, fan, post, _target, click = clicked
    row = ClickOut.objects.get(pk=click.pk)
    assert row.valid and row.viewer_key == f"u{fan.pk}" and row.creator_id == expert.pk and row.post_id == post.pk


def test_repeat_and_self_clicks_are_invalid(clicked, make_user):
    expert, fan, _post, target, _click = clicked
    again = do_click_out(target, viewer_id=fan.pk, visitor="", reason="", device="mobile", language="en")
    own = do_click_out(target, viewer_id=expert.pk, visitor="", reason="", device="mobile", language="en")
    bot = do_click_out(target, viewer_id=None, visitor="b" * 32, reason="bot", device="unknown", language="")
    assert (again.valid, again.invalid_reason) == (False, "duplicate")
    assert (own.valid, own.invalid_reason) == (False, "self")
    assert (bot.valid, bot.invalid_reason) == (False, "bot")


def test_paid_order_attributes_commission(clicked, store, signer):
    expert, _fan, post, _t, click = clicked
    result = do_receive_webhook(store, *signer.deliver("order.paid", paid(click.pk)))
    assert result.status == "processed"
    c = Commission.objects.get()
    assert (c.creator_id, c.post_id, c.click_id, c.rate_bp, c.rate_source) == (expert.pk, post.pk, click.pk, 1000, "store")
    assert (c.basis, c.amount, c.status) == (20000, 2000, CommissionStatus.PENDING)
    assert c.confirm_after == Order.objects.get().paid_at + timedelta(days=15)
    t = selectors.trail(c)
    assert t["click"].pk == click.pk and [e.type for e in t["events"]] == ["order.paid"]
    assert [s.kind for s in t["steps"]] == ["attributed", "held"] and "7 days" in t["rule"]
    assert c.held == 2000  # the store's deposit holds the commission while it is pending


def test_deleting_the_post_keeps_the_commission_and_its_click(clicked, store, signer):
    """The post's card, links and click-outs go with it; the commission keeps the click's id and time, and
    later events of the order still apply."""
    from tastemaker.social.services import do_delete_post

    expert, _fan, post, _t, click = clicked
    post_id, clicked_at = post.pk, ClickOut.objects.get(pk=click.pk).created_at
    do_receive_webhook(store, *signer.deliver("order.paid", paid(click.pk)))
    do_delete_post(expert, post)
    assert not ClickOut.objects.filter(pk=click.pk).exists()
    c = Commission.objects.get()
    assert (c.click_out_id, c.click_id, c.clicked_at, c.post_id, c.amount) == (None, click.pk, clicked_at, post_id, 2000)
    t = selectors.trail(c)
    assert (t["click"].pk, t["click"].created_at, t["click"].post_id, t["click"].deleted) == (
        click.pk, clicked_at, post_id, True)
    do_receive_webhook(store, *signer.deliver("order.refunded", paid(click.pk, amount=5000, refund_id="r1")))
    c.refresh_from_db()
    assert (c.amount, c.click_id) == (1500, click.pk)
    assert [s.kind for s in c.steps.order_by("id")] == ["attributed", "held", "refunded", "released"]


def test_author_deletes_the_post_over_the_api_and_the_trail_stays(clicked, store, signer, oauth_app):
    from datetime import timedelta as _td

    from django.test import Client
    from oauth2_provider.models import get_access_token_model

    expert, _fan, post, _t, click = clicked
    do_receive_webhook(store, *signer.deliver("order.paid", paid(click.pk)))
    token = get_access_token_model().objects.create(user=expert, application=oauth_app, token="tok-expert",
                                                    scope="read write", expires=timezone.now() + _td(days=1))
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token.token}"}
    post_id = post.pk
    response = Client().delete(f"/api/v1/statuses/{post_id}", **auth)
    assert response.status_code == 200
    c = Commission.objects.get()
    assert (c.click_out_id, c.click_id) == (None, click.pk)
    detail = Client().get(f"/api/v1/tastemaker/showcase/commissions/{c.pk}", **auth)
    assert detail.status_code == 200
    data = detail.json()
    assert data["click_id"] == str(click.pk) and data["status_id"] == str(post_id)
    assert data["trail"]["click"]["id"] == str(click.pk) and data["trail"]["click"]["created_at"]


def test_partial_and_full_refunds(clicked, store, signer):
    *_rest, click = clicked
    do_receive_webhook(store, *signer.deliver("order.paid", paid(click.pk)))
    do_receive_webhook(store, *signer.deliver("order.refunded", paid(click.pk, amount=5000, refund_id="r1")))
    c = Commission.objects.get()
    assert (c.basis, c.amount, c.status) == (15000, 1500, CommissionStatus.PENDING)
    do_receive_webhook(store, *signer.deliver("order.refunded", paid(click.pk, amount=15000, refund_id="r2")))
    c.refresh_from_db()
    assert (c.basis, c.amount, c.status) == (0, 0, CommissionStatus.VOIDED)
    order_steps = c.steps.exclude(kind__in=FUNDING_STEPS).order_by("id")
    assert [s.kind for s in order_steps] == ["attributed", "refunded", "refunded"]
    assert [(s.amount_before, s.amount_after) for s in order_steps] == [(0, 2000), (2000, 1500), (1500, 0)]
    # what the store's deposit held followed: 2000 held, 500 then 1500 released
    assert [s.kind for s in c.steps.filter(kind__in=FUNDING_STEPS).order_by("id")] == ["held", "released", "released"]
    assert c.held == 0


def test_cancel_voids(clicked, store, signer):
    *_rest, click = clicked
    do_receive_webhook(store, *signer.deliver("order.paid", paid(click.pk)))
    do_receive_webhook(store, *signer.deliver("order.cancelled", {"order_id": "A-1"}))
    c = Commission.objects.get()
    assert c.status == CommissionStatus.VOIDED and c.amount == 0 and Order.objects.get().status == "cancelled"


def test_hundred_replays_give_one_commission(clicked, store, signer):
    *_rest, click = clicked
    body, headers = signer.deliver("order.paid", paid(click.pk), msg_id="msg_same")
    results = [do_receive_webhook(store, body, headers).status for _ in range(100)]
    assert results.count("processed") == 1 and results.count("duplicate") == 99
    assert Commission.objects.count() == 1 and OrderEvent.objects.count() == 1
    assert Commission.objects.get().amount == 2000


def test_no_click_or_foreign_click_means_no_commission(clicked, store, signer, operator):
    from tastemaker.showcase.stores import do_create_store

    *_rest, click = clicked
    do_receive_webhook(store, *signer.deliver("order.paid", {"order_id": "N-1", "amount": 100, "currency": "CNY"}))
    do_receive_webhook(store, *signer.deliver("order.paid", paid(999_999_999, order="N-2")))
    assert Order.objects.count() == 2 and Commission.objects.count() == 0
    other, secrets = do_create_store(operator, name="Other", domains=["other.example.com"])
    from showcase_signer import StoreSigner

    do_receive_webhook(other, *StoreSigner(secrets.webhook_secret).deliver("order.paid", paid(click.pk, order="X")))
    assert Commission.objects.count() == 0  # a click at another store does not count for this one


def test_attribution_window_and_last_valid_click(make_user, showcase_post, store, signer):
    expert1, expert2, fan = make_user("exp1"), make_user("exp2"), make_user("buyer")
    t1 = link_target(showcase_post(expert1).card.links.get().token)
    t2 = link_target(showcase_post(expert2, url="https://shop.example.com/p/other").card.links.get().token)
    first = do_click_out(t1, viewer_id=fan.pk, visitor="", reason="", device="mobile", language="en")
    second = do_click_out(t2, viewer_id=fan.pk, visitor="", reason="", device="mobile", language="en")
    # the store reports the first click (its cookie was older); the fan's last valid click wins
    do_receive_webhook(store, *signer.deliver("order.paid", paid(first.pk)))
    assert Commission.objects.get().creator_id == expert2.pk and Commission.objects.get().click_id == second.pk
    # outside the 7-day window: nothing
    ClickOut.objects.update(created_at=timezone.now() - timedelta(days=8))
    do_receive_webhook(store, *signer.deliver("order.paid", paid(first.pk, order="late")))
    assert Commission.objects.count() == 1


def test_product_rate_overrides_store_rate(make_user, showcase_post, store, signer):
    from tastemaker.showcase.catalog import do_upsert_catalog

    do_upsert_catalog(store, [{"external_id": "c1", "title": "Cream", "url": "https://shop.example.com/p/cream-1",
                               "price": 100, "commission_bp": 2500}])
    expert, fan = make_user(), make_user()
    target = link_target(showcase_post(expert).card.links.get().token)
    click = do_click_out(target, viewer_id=fan.pk, visitor="", reason="", device="mobile", language="en")
    do_receive_webhook(store, *signer.deliver("order.paid", paid(click.pk, amount=999)))
    c = Commission.objects.get()
    assert (c.rate_bp, c.rate_source, c.amount) == (2500, "product", 250)  # 249.75 rounds to 250


def test_confirmation_after_return_window(clicked, store, signer):
    *_rest, click = clicked
    do_receive_webhook(store, *signer.deliver("order.paid", paid(click.pk)))
    assert do_confirm_due_commissions() == 0
    later = timezone.now() + timedelta(days=16)
    assert do_confirm_due_commissions(now=later) == 1
    assert do_confirm_due_commissions(now=later) == 0
    c = Commission.objects.get()
    assert c.status == CommissionStatus.CONFIRMED and c.payout_reference == f"commission:{c.pk}"
    # a refund after confirmation is recorded on the order and in the trail, the commission stands
    do_receive_webhook(store, *signer.deliver("order.refunded", paid(click.pk, amount=20000, refund_id="late")))
    c.refresh_from_db()
    assert c.status == CommissionStatus.CONFIRMED and c.amount == 2000
    assert c.steps.order_by("-id").first().kind == "late_event"


def _events(click_id):
    return [("order.paid", paid(click_id, amount=30000), "m1"),
            ("order.refunded", paid(click_id, amount=1000, refund_id="r1"), "m2"),
            ("order.refunded", paid(click_id, amount=2500, refund_id="r2"), "m3"),
            ("order.refunded", paid(click_id, amount=1000, refund_id="r1"), "m4")]  # r1 again, new delivery id


def test_every_permutation_gives_the_same_commission(clicked, store, signer):
    *_rest, click = clicked
    finals = set()
    for n, perm in enumerate(itertools.permutations(_events(click.pk))):
        Commission.objects.all().delete()
        OrderEvent.objects.all().delete()
        Order.objects.all().delete()
        for kind, data, mid in perm:
            do_receive_webhook(store, *signer.deliver(kind, data, msg_id=f"{mid}-{n}"))
        c = Commission.objects.get()
        o = Order.objects.get()
        finals.add((c.basis, c.amount, c.status, o.paid_amount, o.refunded_amount, o.status))
    assert finals == {(26500, 2650, "pending", 30000, 3500, "partial")}


# --- forged, altered, expired, replayed: rejected with no writes --------------------------------

def _no_writes():
    return OrderEvent.objects.count() == 0 and Order.objects.count() == 0 and Commission.objects.count() == 0


def test_expired_and_future_deliveries_rejected(clicked, store, signer):
    *_rest, click = clicked
    for at in (time.time() - 301, time.time() + 301):
        with pytest.raises(WebhookRejected):
            do_receive_webhook(store, *signer.deliver("order.paid", paid(click.pk), at=at))
    assert _no_writes()


def test_missing_headers_rejected(clicked, store, signer):
    *_rest, click = clicked
    body, headers = signer.deliver("order.paid", paid(click.pk))
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        partial = {k: v for k, v in headers.items() if k != name}
        with pytest.raises(WebhookRejected):
            do_receive_webhook(store, body, partial)
    assert _no_writes()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    mutation=st.sampled_from(["body", "signature", "id", "timestamp", "secret", "garbage_sig", "v2"]),
    flip=st.integers(min_value=0, max_value=10_000),
    junk=st.text(max_size=40),
)
def test_forged_or_altered_deliveries_write_nothing(clicked, store, signer, mutation, flip, junk):
    # every example in a savepoint rolled back at its end: the database fixture is the test's, shared by all
    # examples, so an example that was wrongly accepted must fail alone (not leave writes that fail every later
    # example, which hypothesis then reports as "Flaky" instead of the forgery that got through)
    with transaction.atomic():
        _forged_delivery_writes_nothing(clicked, store, signer, mutation, flip, junk)
        transaction.set_rollback(True)


def _forged_delivery_writes_nothing(clicked, store, signer, mutation, flip, junk):
    from showcase_signer import StoreSigner

    *_rest, click = clicked
    body, headers = signer.deliver("order.paid", paid(click.pk, amount=20000 + flip % 97))
    headers = dict(headers)
    if mutation == "body":
        data = json.loads(body)
        data["data"]["amount"] += 1 + flip
        body = json.dumps(data).encode()
    elif mutation == "signature":
        # Flip bits of the signature itself, not of its base64 text: the last base64 digit carries two
        # unused bits, so changing a character can leave the decoded signature (and its validity) unchanged.
        raw = bytearray(base64.b64decode(headers["webhook-signature"].split(",", 1)[1]))
        raw[flip % len(raw)] ^= 1 + flip % 255
        headers["webhook-signature"] = "v1," + base64.b64encode(bytes(raw)).decode()
    elif mutation == "id":
        headers["webhook-id"] = headers["webhook-id"] + "x" + junk
    elif mutation == "timestamp":
        headers["webhook-timestamp"] = str(int(headers["webhook-timestamp"]) + 1 + flip % 200)
    elif mutation == "secret":
        body, headers = StoreSigner("whsec_" + "QUJD" * 8).deliver("order.paid", paid(click.pk))
    elif mutation == "garbage_sig":
        headers["webhook-signature"] = junk or ","
    elif mutation == "v2":
        headers["webhook-signature"] = headers["webhook-signature"].replace("v1,", "v2,")
    with pytest.raises(WebhookRejected):
        do_receive_webhook(store, body, headers)
    assert _no_writes()


@pytest.mark.parametrize(("data", "field"), [
    ({"amount": 100, "currency": "CNY"}, "order_id"),
    ({"order_id": "A", "amount": 0, "currency": "CNY"}, "amount"),
    ({"order_id": "A", "amount": 1.5, "currency": "CNY"}, "amount"),
    ({"order_id": "A", "amount": "100", "currency": "CNY"}, "amount"),
    ({"order_id": "A", "amount": 100, "currency": "USD"}, "data.currency"),
    ({"order_id": "A", "amount": 100, "currency": "CNY", "click_id": "abc"}, "click_id"),
    ({"order_id": "A", "amount": 100, "currency": "CNY", "occurred_at": "yesterday"}, "occurred_at"),
])
def test_verified_but_malformed_events_refused_without_writes(store, signer, data, field):
    with pytest.raises(ValidationFailed) as err:
        do_receive_webhook(store, *signer.deliver("order.paid", data))
    assert err.value.field == field and not isinstance(err.value, WebhookRejected)
    assert _no_writes()


def test_unknown_type_refused(store, signer):
    with pytest.raises(ValidationFailed, match="type must be"):
        do_receive_webhook(store, *signer.deliver("order.shipped", {"order_id": "A"}))
    assert _no_writes()


def test_earnings_summary(clicked, store, signer):
    expert, _fan, post, _t, click = clicked
    do_receive_webhook(store, *signer.deliver("order.paid", paid(click.pk)))
    e = selectors.earnings(expert.pk)
    assert (e.click_outs, e.orders, e.pending, e.confirmed) == (1, 1, 2000, 0)
    assert e.conversion_rate == 1.0
    assert e.by_post[0].key == post.pk and e.by_post[0].orders == 1 and e.by_post[0].pending == 2000
    assert sum(e.daily["click_outs"]) == 1 and sum(e.daily["orders"]) == 1
