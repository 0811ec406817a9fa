"""Commissions are the store's money (issue 10, item 1): a store funds its creators' commissions from its
own deposit; a commission is paid only from what its store put in; the platform's accounts never carry a
store's debt; a brand changing what an operator reviewed goes back to review; limits are settings."""

from __future__ import annotations

import itertools
import os
import secrets
import subprocess
import sys
from collections import defaultdict
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from showcase_signer import StoreSigner
from tastemaker.core.errors import ValidationFailed
from tastemaker.payments.ledger import recompute_balances, store_deposit_for, store_held_for, wallet_for
from tastemaker.payments.models import NONNEGATIVE_KINDS, PLATFORM_KINDS, Account, Entry, Transaction
from tastemaker.showcase.commissions import do_confirm_due_commissions
from tastemaker.showcase.models import Commission, CommissionStatus, PartnerStore, StoreStatus
from tastemaker.showcase.orders import do_receive_webhook
from tastemaker.showcase.stores import (
    do_create_store,
    do_decide_store,
    do_fund_store_deposit,
    do_update_store,
    do_withdraw_store_deposit,
)

pytestmark = pytest.mark.django_db
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"
LATER = timedelta(days=16)  # past the 15-day return window


# --- helpers ---------------------------------------------------------------------------------

class Api:
    """An OAuth client of one user (tokens made directly, as the API tests do)."""

    def __init__(self, user, scope: str):
        from oauth2_provider.models import get_access_token_model, get_application_model

        app = get_application_model().objects.create(
            name="funding tests", client_type="confidential", authorization_grant_type="authorization-code",
            redirect_uris="urn:ietf:wg:oauth:2.0:oob", scopes=scope)
        token = get_access_token_model().objects.create(user=user, application=app, token=secrets.token_urlsafe(24),
                                                        scope=scope, expires=timezone.now() + timedelta(days=1))
        self.client, self.auth = Client(), {"HTTP_AUTHORIZATION": f"Bearer {token.token}"}

    def post(self, path, data=None, **headers):
        return self.client.post(path, data or {}, content_type="application/json", **self.auth, **headers)

    def patch(self, path, data):
        return self.client.patch(path, data, content_type="application/json", **self.auth)

    def get(self, path, data=None):
        return self.client.get(path, data, **self.auth)


def credit_wallet(user, amount: int) -> None:
    """Money in a wallet as a sandbox top-up posts it (provider clearing -> wallet)."""
    from tastemaker.payments.ledger import post_transaction, provider_clearing

    post_transaction("topup", [(provider_clearing("sandbox", "CNY"), -amount), (wallet_for(user, "CNY"), amount)],
                     reference=f"test-credit:{secrets.token_hex(6)}")


def assert_books_sound() -> None:
    """The ledger balances, no never-negative account is negative, no platform account moved at all, and
    each store holds exactly what its unpaid commissions say they hold."""
    totals: dict[str, int] = defaultdict(int)
    for currency, balance in Account.objects.values_list("currency", "balance"):
        totals[currency] += balance
    assert all(v == 0 for v in totals.values()), dict(totals)
    assert recompute_balances() == {}
    assert not Account.objects.filter(kind__in=NONNEGATIVE_KINDS, balance__lt=0).exists()
    assert not Entry.objects.filter(account__kind__in=PLATFORM_KINDS).exists(), "a platform account paid"
    for store in PartnerStore.objects.all():
        held = Commission.objects.filter(store=store).aggregate(s=Sum("held"))["s"] or 0
        assert store_held_for(store.pk, "CNY").balance == held


def click_through(client: Client, post) -> int:
    """A reader's click-out through /go (a browser with its visitor cookie); returns the click id."""
    token = post.card.links.get(primary=True).token
    response = client.get(f"/go/{token}", HTTP_USER_AGENT=BROWSER_UA)
    assert response.status_code == 302
    return int(parse_qs(urlsplit(response["Location"]).query)["tm_click"][0])


def paid(click_id, order="A-1", amount=20000, **extra):
    return {"order_id": order, "click_id": str(click_id), "amount": amount, "currency": "CNY", **extra}


@pytest.fixture
def brand_store(make_user, operator):
    """An approved brand store with an empty deposit, its secrets and its brand."""
    brand = make_user("brandco")
    store, store_secrets = do_create_store(brand, name="Brand Shop", domains=["brand.example.com"],
                                           commission_bp=1000, attribution_days=7, return_days=15)
    do_decide_store(operator, store, approve=True)
    return brand, store, store_secrets


# --- the exploit of the review, end to end over HTTP ------------------------------------------

def test_the_exploit_pays_nothing_the_store_did_not_fund(make_user, operator, store, showcase_post, settings):
    brand, colluder = make_user("brandco"), make_user("colluder")
    b = Api(brand, "read write stores payments")
    ops = Api(operator, "read write")
    created = b.post("/api/v1/tastemaker/showcase/stores", {
        "name": "Brand Shop", "domains": ["brand.example.com"], "commission_bp": 1000, "attribution_days": 7,
        "return_days": 15}).json()
    sid, key, whsec = created["id"], created["api_key"], created["webhook_secret"]
    assert ops.post(f"/api/v1/tastemaker/showcase/stores/{sid}/approve", {}).json()["status"] == "approved"

    # the windows and the name of the review: refused outright, or back to review
    r = b.patch(f"/api/v1/tastemaker/showcase/stores/{sid}", {"return_days": 0})
    assert r.status_code == 422 and r.json()["field"] == "return_days" and "from 7 to 365" in r.json()["error"]
    for impostor in ("Good Shop", "ＧＯＯＤ　ＳＨＯＰ", "good-shop!", "Good\u200bShop"):
        r = b.patch(f"/api/v1/tastemaker/showcase/stores/{sid}", {"name": impostor})
        assert r.status_code == 422 and r.json()["field"] == "name", impostor
    r = b.patch(f"/api/v1/tastemaker/showcase/stores/{sid}", {"attribution_days": 90})
    assert r.status_code == 200 and r.json()["status"] == "pending"
    catalog = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    item = {"external_id": "X1", "title": "Face cream", "url": "https://brand.example.com/p/1", "price": 100,
            "commission_bp": 9000}
    r = catalog.post("/api/v1/showcase/catalog", {"items": [item]}, content_type="application/json")
    assert r.status_code == 403  # not approved while under review
    assert ops.post(f"/api/v1/tastemaker/showcase/stores/{sid}/approve", {}).json()["status"] == "approved"
    r = catalog.post("/api/v1/showcase/catalog", {"items": [item]}, content_type="application/json")
    assert r.status_code == 422 and "3000" in r.json()["error"] and r.json()["field"] == "commission_bp"

    # even if an operator allows the outrageous rate, nothing the store has not funded is paid
    settings.SHOWCASE_MAX_ITEM_COMMISSION_BP = 9000
    r = catalog.post("/api/v1/showcase/catalog", {"items": [item]}, content_type="application/json")
    assert r.status_code == 200
    post = showcase_post(colluder, url="https://brand.example.com/p/1")
    click = click_through(Client(), post)
    body, headers = StoreSigner(whsec).deliver("order.paid", paid(click, order="BIG", amount=100_000_000))
    r = Client().post(f"/api/v1/showcase/stores/{sid}/webhooks", body, content_type="application/json",
                      headers=headers)
    assert r.status_code == 200
    c = Commission.objects.get(order__external_id="BIG")
    assert (c.rate_bp, c.amount, c.held, c.status) == (9000, 90_000_000, 0, CommissionStatus.PENDING)
    assert c.awaiting_funding and "awaiting_funding" in c.steps.values_list("kind", flat=True)

    assert do_confirm_due_commissions(now=timezone.now() + LATER) == 1
    assert do_confirm_due_commissions(now=timezone.now() + LATER + timedelta(hours=1)) == 0
    c.refresh_from_db()
    assert c.status == CommissionStatus.CONFIRMED and c.paid_at is None and c.payout_reference == ""
    assert wallet_for(colluder, "CNY").balance == 0
    assert not Transaction.objects.filter(reference=f"commission:{c.pk}").exists()
    assert list(c.steps.filter(kind="awaiting_funding").values_list("kind", flat=True)) == ["awaiting_funding"]
    assert_books_sound()

    # the brand puts in a little: still nothing paid (all or nothing), and the money stays the store's
    credit_wallet(brand, 1_000)
    r = b.post(f"/api/v1/tastemaker/showcase/stores/{sid}/deposit", {"amount": 1_000},
               HTTP_IDEMPOTENCY_KEY="fund-1")
    assert r.status_code == 201, r.content
    assert r.json()["deposit"][0]["available"] == 1_000
    assert r.json()["deposit"][0]["awaiting_funding"] == 90_000_000
    assert wallet_for(colluder, "CNY").balance == 0
    mine = Api(colluder, "read").get(f"/api/v1/tastemaker/showcase/commissions/{c.pk}").json()
    assert (mine["funding"], mine["paid_at"]) == ("awaiting_funding", None)
    earnings = Api(colluder, "read").get("/api/v1/tastemaker/showcase/earnings").json()
    assert earnings["awaiting_funding"] == 90_000_000 and earnings["awaiting_funding_count"] == 1
    assert_books_sound()


# --- a funded store pays exactly what it funded -----------------------------------------------

def test_a_funded_store_pays_its_commission_from_its_deposit(make_user, brand_store, showcase_post):
    brand, store, store_secrets = brand_store
    expert = make_user("expert")
    credit_wallet(brand, 10_000)
    b = Api(brand, "read payments")
    first = b.post(f"/api/v1/tastemaker/showcase/stores/{store.pk}/deposit", {"amount": 5_000},
                   HTTP_IDEMPOTENCY_KEY="k1")
    again = b.post(f"/api/v1/tastemaker/showcase/stores/{store.pk}/deposit", {"amount": 5_000},
                   HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert first.content == again.content
    assert wallet_for(brand, "CNY").balance == 5_000 and store_deposit_for(store.pk, "CNY").balance == 5_000
    assert b.post(f"/api/v1/tastemaker/showcase/stores/{store.pk}/deposit", {"amount": 1}).status_code == 400
    assert Api(brand, "read write").post(f"/api/v1/tastemaker/showcase/stores/{store.pk}/deposit", {"amount": 1},
                                         HTTP_IDEMPOTENCY_KEY="k2").status_code == 403  # needs `payments`

    post = showcase_post(expert, url="https://brand.example.com/p/1")
    click = click_through(Client(), post)
    do_receive_webhook(store, *StoreSigner(store_secrets.webhook_secret).deliver("order.paid", paid(click)))
    c = Commission.objects.get()
    assert (c.amount, c.held) == (2_000, 2_000)
    assert store_deposit_for(store.pk, "CNY").balance == 3_000 and store_held_for(store.pk, "CNY").balance == 2_000
    assert do_confirm_due_commissions(now=timezone.now() + LATER) == 1
    c.refresh_from_db()
    assert c.paid_at is not None and c.held == 0 and c.payout_reference == f"commission:{c.pk}"
    assert wallet_for(expert, "CNY").balance == 2_000  # exactly the commission
    assert store_deposit_for(store.pk, "CNY").balance == 3_000 and store_held_for(store.pk, "CNY").balance == 0
    assert [s.kind for s in c.steps.order_by("id")] == ["attributed", "held", "confirmed", "paid_out"]
    assert do_confirm_due_commissions(now=timezone.now() + LATER) == 0
    assert wallet_for(expert, "CNY").balance == 2_000
    # what is free comes back to the brand; what is not there cannot
    do_withdraw_store_deposit(brand, store, 3_000)
    assert wallet_for(brand, "CNY").balance == 8_000 and store_deposit_for(store.pk, "CNY").balance == 0
    assert_books_sound()


@pytest.mark.parametrize("store_funding", [0])
def test_a_top_up_pays_commissions_that_waited(make_user, operator, store, signer, showcase_post, fund_store):
    expert = make_user("expert")
    click = click_through(Client(), showcase_post(expert))
    do_receive_webhook(store, *signer.deliver("order.paid", paid(click)))
    c = Commission.objects.get()
    assert c.awaiting_funding and c.held == 0
    for hours in (0, 1, 2):  # the job retries each run; the trail says it once
        do_confirm_due_commissions(now=timezone.now() + LATER + timedelta(hours=hours))
    c.refresh_from_db()
    assert c.status == CommissionStatus.CONFIRMED and c.paid_at is None
    fund_store(store, 1_500)  # not enough: nothing moves for it
    c.refresh_from_db()
    assert c.paid_at is None and store_deposit_for(store.pk, "CNY").balance == 1_500
    fund_store(store, 500)
    c.refresh_from_db()
    assert c.paid_at is not None and wallet_for(expert, "CNY").balance == 2_000
    assert store_deposit_for(store.pk, "CNY").balance == 0
    assert [s.kind for s in c.steps.order_by("id")] == ["attributed", "awaiting_funding", "confirmed", "held",
                                                        "paid_out"]
    assert_books_sound()


@pytest.mark.parametrize("store_funding", [0])
def test_an_operator_store_is_funded_by_an_operator_and_pending_commissions_get_held(
        make_user, operator, store, signer, showcase_post):
    expert, stranger = make_user("expert"), make_user("stranger")
    click = click_through(Client(), showcase_post(expert))
    do_receive_webhook(store, *signer.deliver("order.paid", paid(click)))
    credit_wallet(stranger, 5_000)
    with pytest.raises(Exception) as err:  # noqa: PT011 - NotFound: not a store the stranger manages
        do_fund_store_deposit(stranger, store, 5_000)
    assert err.value.status == 404
    credit_wallet(operator, 5_000)
    do_fund_store_deposit(operator, store, 5_000)
    c = Commission.objects.get()
    assert c.held == 2_000 and not c.awaiting_funding and c.status == CommissionStatus.PENDING
    assert store_deposit_for(store.pk, "CNY").balance == 3_000
    assert_books_sound()


# --- refunds, voids, replays and any order of arrival keep the books right ---------------------

def test_refunds_and_voids_release_what_was_held(make_user, store, signer, showcase_post):
    expert = make_user("expert")
    before = store_deposit_for(store.pk, "CNY").balance
    click = click_through(Client(), showcase_post(expert))
    do_receive_webhook(store, *signer.deliver("order.paid", paid(click)))
    do_receive_webhook(store, *signer.deliver("order.refunded", paid(click, amount=5000, refund_id="r1")))
    c = Commission.objects.get()
    assert (c.amount, c.held) == (1_500, 1_500) and store_deposit_for(store.pk, "CNY").balance == before - 1_500
    do_receive_webhook(store, *signer.deliver("order.cancelled", {"order_id": "A-1"}))
    c.refresh_from_db()
    assert (c.status, c.amount, c.held) == (CommissionStatus.VOIDED, 0, 0)
    assert store_deposit_for(store.pk, "CNY").balance == before
    assert do_confirm_due_commissions(now=timezone.now() + LATER) == 0
    assert wallet_for(expert, "CNY").balance == 0
    assert_books_sound()


def test_replays_and_every_arrival_order_hold_the_same(make_user, store, signer, showcase_post):
    expert = make_user("expert")
    funded = store_deposit_for(store.pk, "CNY").balance
    click = click_through(Client(), showcase_post(expert))
    events = [("order.paid", paid(click, amount=30000), "m1"),
              ("order.refunded", paid(click, amount=1000, refund_id="r1"), "m2"),
              ("order.refunded", paid(click, amount=2500, refund_id="r2"), "m3"),
              ("order.refunded", paid(click, amount=1000, refund_id="r1"), "m4")]
    perms = list(itertools.permutations(events))
    for n, perm in enumerate(perms):
        for kind, data, mid in perm:
            body, headers = signer.deliver(kind, {**data, "order_id": f"P-{n}"}, msg_id=f"{mid}-{n}")
            do_receive_webhook(store, body, headers)
            do_receive_webhook(store, body, headers)  # a re-delivery changes nothing
    assert set(Commission.objects.values_list("amount", "held", "status")) == {(2650, 2650, "pending")}
    assert store_held_for(store.pk, "CNY").balance == 2650 * len(perms)
    assert store_deposit_for(store.pk, "CNY").balance == funded - 2650 * len(perms)
    do_confirm_due_commissions(now=timezone.now() + LATER)
    assert wallet_for(expert, "CNY").balance == 2650 * len(perms)
    assert store_deposit_for(store.pk, "CNY").balance + wallet_for(expert, "CNY").balance == funded
    assert not Commission.objects.filter(held__gt=0).exists()
    assert Commission.objects.filter(paid_at__isnull=False, held=0, amount=2650).count() == len(perms)
    assert_books_sound()


# --- store changes go back to review; limits are settings --------------------------------------

@pytest.mark.parametrize("change", [{"name": "Brand Shop Two"}, {"domains": ["brand.example.com", "b2.example.com"]},
                                    {"commission_bp": 1100}, {"attribution_days": 8}, {"return_days": 16}])
def test_any_reviewed_change_by_the_brand_goes_back_to_review(brand_store, operator, change):
    brand, store, _s = brand_store
    do_update_store(brand, store, **change)
    assert PartnerStore.objects.get(pk=store.pk).status == StoreStatus.PENDING
    do_decide_store(operator, store, approve=True)
    do_update_store(operator, store, name="Brand Shop Three")  # an operator's change is the review itself
    assert PartnerStore.objects.get(pk=store.pk).status == StoreStatus.APPROVED


def test_saving_the_same_values_keeps_the_approval(brand_store):
    brand, store, _s = brand_store
    do_update_store(brand, store, name="Brand Shop", domains=["brand.example.com"], commission_bp=1000,
                    attribution_days=7, return_days=15)
    assert PartnerStore.objects.get(pk=store.pk).status == StoreStatus.APPROVED


def test_limits_are_settings_and_names_are_unique(make_user, operator, store, settings):
    brand = make_user("brandco")
    for fields, field in (({"return_days": 6}, "return_days"), ({"commission_bp": 3001}, "commission_bp"),
                          ({"attribution_days": 91}, "attribution_days"), ({"name": "good  SHOP"}, "name"),
                          ({"name": "!!!"}, "name")):
        with pytest.raises(ValidationFailed) as err:
            do_create_store(brand, **{"name": "New Shop", "domains": ["new.example.com"], **fields})
        assert err.value.field == field, fields
    settings.SHOWCASE_MIN_RETURN_DAYS, settings.SHOWCASE_MAX_COMMISSION_BP = 3, 5000
    new, _s = do_create_store(brand, name="New Shop", domains=["new.example.com"], return_days=3, commission_bp=5000)
    assert (new.return_days, new.commission_bp, new.name_key) == (3, 5000, "newshop")


@pytest.mark.parametrize(("env", "named"), [
    ({"TASTEMAKER_SHOWCASE_MIN_RETURN_DAYS": "400"}, "SHOWCASE_MIN_RETURN_DAYS"),
    ({"TASTEMAKER_SHOWCASE_MAX_ITEM_COMMISSION_BP": "10001"}, "SHOWCASE_MAX_ITEM_COMMISSION_BP"),
    ({"TASTEMAKER_SHOWCASE_RETURN_DAYS": "3"}, "SHOWCASE_RETURN_DAYS"),
    ({"TASTEMAKER_SHOWCASE_MAX_COMMISSION_BP": "100"}, "SHOWCASE_COMMISSION_BP"),
])
def test_a_bad_limit_stops_the_start(env, named, tmp_path):
    result = subprocess.run([sys.executable, "-c", "import tastemaker.settings"], capture_output=True, text=True,
                            env={**os.environ, "TASTEMAKER_DATA_DIR": str(tmp_path), **env}, timeout=60)
    assert result.returncode != 0 and named in result.stderr


# --- the pages -------------------------------------------------------------------------------

def test_store_page_shows_the_deposit_and_funds_it_once(client, make_user, brand_store, showcase_post):
    import re

    brand, store, store_secrets = brand_store
    expert = make_user("expert")
    click = click_through(Client(), showcase_post(expert, url="https://brand.example.com/p/1"))
    do_receive_webhook(store, *StoreSigner(store_secrets.webhook_secret).deliver("order.paid", paid(click)))
    client.force_login(brand)
    html = client.get(f"/stores/{store.pk}").content.decode()
    assert 'id="deposit"' in html and "sc-awaiting-funding" in html
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
    credit_wallet(brand, 5_000)
    form = {"idempotency_key": key, "deposit_amount": "30.00", "action": "fund"}
    assert client.post(f"/stores/{store.pk}/deposit", form).status_code == 302
    assert client.post(f"/stores/{store.pk}/deposit", form).status_code == 302  # a double submit: once
    assert wallet_for(brand, "CNY").balance == 2_000
    c = Commission.objects.get()
    assert c.held == 2_000 and not c.awaiting_funding
    assert store_deposit_for(store.pk, "CNY").balance == 1_000
    too_much = {"idempotency_key": "another", "deposit_amount": "1000.00", "action": "fund"}
    response = client.post(f"/stores/{store.pk}/deposit", too_much)
    assert response.status_code == 409 and "Insufficient funds" in response.content.decode()
    client.force_login(expert)
    assert client.post(f"/stores/{store.pk}/deposit", form).status_code == 404


def test_earnings_and_trail_say_awaiting_store_funding(client, make_user, brand_store, showcase_post):
    _brand, store, store_secrets = brand_store
    expert = make_user("expert")
    click = click_through(Client(), showcase_post(expert, url="https://brand.example.com/p/1"))
    do_receive_webhook(store, *StoreSigner(store_secrets.webhook_secret).deliver("order.paid", paid(click)))
    client.force_login(expert)
    html = client.get("/earnings").content.decode()
    assert 'data-metric="awaiting_funding"' in html and "Awaiting store funding" in html
    trail = client.get(f"/earnings/commissions/{Commission.objects.get().pk}").content.decode()
    assert 'data-kind="awaiting_funding"' in trail and "sc-awaiting-funding" in trail
