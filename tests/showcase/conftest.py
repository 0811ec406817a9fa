"""Showcase fixtures: an operator, an approved partner store with its secrets, showcase posts, and a
store-side signer for Standard Webhooks deliveries."""

from __future__ import annotations

import pytest

from showcase_signer import StoreSigner


@pytest.fixture
def operator(make_user):
    return make_user("ops_lead", is_staff=True)


@pytest.fixture
def store_and_secrets(operator):
    from tastemaker.showcase.services import do_create_store

    return do_create_store(operator, name="Good Shop", domains=["shop.example.com"], commission_bp=1000,
                           attribution_days=7, return_days=15)


@pytest.fixture
def store(store_and_secrets):
    return store_and_secrets[0]


@pytest.fixture
def media_for(png_bytes):
    from tastemaker.social.services import do_upload_media

    def make(user):
        return do_upload_media(user, png_bytes()).pk

    return make


@pytest.fixture
def card_input(media_for):
    from tastemaker.showcase.services import CardInput

    def make(user, **overrides):
        fields = {"title": "Hydrating face cream", "disclosure": "affiliate",
                  "reason": "I have used it every night for a month and my dry skin finally stopped flaking.",
                  "url": "https://shop.example.com/p/cream-1", "price": 12900, "stock": 8}
        fields.update(overrides)
        if "image_media_id" not in fields and "image_url" not in fields:
            fields["image_media_id"] = media_for(user)
        return CardInput(**fields)

    return make


@pytest.fixture
def showcase_post(card_input, store, run_jobs):
    from tastemaker.showcase.services import do_create_showcase_post

    def make(user, text="My pick of the month", **card):
        with run_jobs():
            return do_create_showcase_post(user, text=text, card=card_input(user, **card))

    return make


@pytest.fixture
def signer(store_and_secrets):
    return StoreSigner(store_and_secrets[1].webhook_secret)
