"""Mastodon.py sees a promoted status marked in the home timeline (the extension field and the paragraph
stock clients display) and a promoted account in suggestions."""

from __future__ import annotations

import os

import pytest
import requests
from mastodon import Mastodon

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.client, pytest.mark.django_db(transaction=True)]

PASSWORD = "Corr3ct-Horse-Battery"


def test_promotion_through_mastodon_py(live_server):
    from tastemaker.accounts.models import User
    from tastemaker.payments.ledger import post_transaction, provider_clearing, wallet_for
    from tastemaker.promotion import selectors, services

    selectors.forget_active()
    base = live_server.url
    client_id, client_secret = Mastodon.create_app("tastemaker-tests", scopes=["read", "write", "follow"],
                                                   api_base_url=base, redirect_uris="urn:ietf:wg:oauth:2.0:oob")

    def account(name):
        token = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base).create_account(
            name, PASSWORD, f"{name}@example.org", agreement=True, scopes=["read", "write", "follow"])
        return Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base, access_token=token)

    creator, fan = account("creator"), account("fan")
    account("brand")  # the advertiser of the Account Recommendation
    fan.account_follow(creator.account_verify_credentials().id)
    creator.status_post("An organic post first")
    promoted = creator.status_post("Hand-pulled noodles, the whole story")
    creator.status_post("And a later organic post")
    for i, name in enumerate(("creator", "brand")):
        post_transaction("topup", [(provider_clearing("sandbox", "CNY"), -50_000),
                                   (wallet_for(User.objects.get(username=name), "CNY"), 50_000)],
                         reference=f"mastodon-py-promotion:{i}")
    headline = services.do_create_campaign(User.objects.get(username="creator"), tool="fan_headline",
                                           post_id=int(promoted.id), budget=5_000, bid=1_000)
    rec = services.do_create_campaign(User.objects.get(username="brand"), tool="account_rec", budget=5_000, bid=200)
    selectors.forget_active()

    home = fan.timeline_home()
    assert home[0].id == promoted.id
    assert home[0].tastemaker_promoted.campaign_id == str(headline.pk)
    assert home[0].tastemaker_promoted.tool == "fan_headline" and home[0].tastemaker_promoted.why
    assert home[0].content.startswith("<p>推广 · Promoted</p>")
    assert all(s.tastemaker_promoted is None for s in home[1:])
    assert [s.id for s in home].count(promoted.id) == 1

    # Mastodon.py's suggestions() gives the accounts (the promoted one first); the wrapper with the marks is
    # read over plain HTTP, by another follower (a campaign reaches a person once a day)
    first = creator.suggestions()[0]
    assert (first.account if "account" in first else first).acct == "brand"
    raw = requests.get(f"{base}/api/v2/suggestions", headers={"Authorization": f"Bearer {fan.access_token}"},
                       timeout=30).json()
    assert raw[0]["account"]["acct"] == "brand" and raw[0]["tastemaker"]["kind"] == "promoted"
    assert raw[0]["tastemaker_promoted"]["campaign_id"] == str(rec.pk)
