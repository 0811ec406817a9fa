"""Mastodon.py reads a showcase post's product card as the status's ``card`` (and the extension field)."""

from __future__ import annotations

import io
import os

import pytest
import requests
from mastodon import Mastodon
from PIL import Image

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.client, pytest.mark.django_db(transaction=True)]

PASSWORD = "Corr3ct-Horse-Battery"
REASON = "I have used it every night for a month and my dry skin finally stopped flaking."


def test_showcase_card_through_mastodon_py(live_server, make_user, tmp_path):
    from tastemaker.experts.services import ensure_default_verticals
    from tastemaker.showcase.stores import do_create_store

    ensure_default_verticals()
    do_create_store(make_user("ops", is_staff=True), name="Good Shop", domains=["shop.example.com"])
    base = live_server.url
    client_id, client_secret = Mastodon.create_app("tastemaker-tests", scopes=["read", "write", "follow"],
                                                   api_base_url=base, redirect_uris="urn:ietf:wg:oauth:2.0:oob")
    anon = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)
    token = anon.create_account("expert", PASSWORD, "expert@example.org", agreement=True,
                                scopes=["read", "write", "follow"])
    expert = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base, access_token=token)
    fan_token = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base).create_account(
        "fan", PASSWORD, "fan@example.org", agreement=True, scopes=["read", "write", "follow"])
    fan = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base, access_token=fan_token)
    fan.account_follow(expert.account_verify_credentials().id)

    image = tmp_path / "card.png"
    buf = io.BytesIO()
    Image.new("RGB", (90, 60), (200, 120, 10)).save(buf, "PNG")
    image.write_bytes(buf.getvalue())
    media = expert.media_post(str(image), mime_type="image/png")
    card = {"title": "Hydrating face cream", "reason": REASON, "url": "https://shop.example.com/p/cream-1",
            "disclosure": "affiliate", "media_id": media.id, "price": 12900, "stock": 4, "vertical": "beauty"}
    # the extension endpoint (Mastodon.py has no method for it): the same token, plain HTTP
    r = requests.post(f"{base}/api/v1/tastemaker/showcase/posts", json={"status": "My pick", "card": card},
                      headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200, r.text
    status_id = r.json()["id"]

    status = fan.status(status_id)
    assert status.card.title == "Hydrating face cream"
    assert status.card.url.startswith(f"{base}/go/") and status.card.description == REASON
    assert status.card.provider_name == "Good Shop"
    assert status.tastemaker_card.offers[0].price == 12900
    assert status.tastemaker_card.disclosure_label == "Affiliate"
    [home] = fan.timeline_home()
    assert home.id == status.id and home.card.url == status.card.url
    landing = requests.get(status.card.url, allow_redirects=False, timeout=30)
    assert landing.status_code == 302 and landing.headers["Location"].startswith("https://shop.example.com/p/cream-1?")
