"""Showcase fixtures for every test directory (a plugin of tests/conftest.py): an operator, an approved partner store with its secrets, the store's webhook signer,
and showcase posts with a valid card. A module overrides ``card_defaults`` to change what every card
carries (e.g. a fixed vertical, or the size of the uploaded image)."""

from __future__ import annotations

import pytest

from showcase_signer import StoreSigner

REASON = "I have used it every night for a month and my dry skin finally stopped flaking."


@pytest.fixture
def card_defaults() -> dict:
    return {}


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
def signer(store_and_secrets):
    return StoreSigner(store_and_secrets[1].webhook_secret)


@pytest.fixture
def card_input(png_bytes, card_defaults):
    """A valid card for ``user`` (an image uploaded for it unless one is given), with ``overrides``."""
    from tastemaker.showcase.services import CardInput
    from tastemaker.social.services import do_upload_media

    def make(user, **overrides):
        fields = {"title": "Hydrating face cream", "disclosure": "affiliate", "reason": REASON,
                  "url": "https://shop.example.com/p/cream-1", "price": 12900, "stock": 8, **card_defaults,
                  **overrides}
        image_size = fields.pop("image_size", (64, 48))
        if "image_media_id" not in fields and "image_url" not in fields:
            fields["image_media_id"] = do_upload_media(user, png_bytes(image_size)).pk
        return CardInput(**fields)

    return make


@pytest.fixture
def showcase_post(card_input, store, run_jobs):
    from tastemaker.showcase.services import do_create_showcase_post

    def make(user, text="My pick of the month", **card):
        with run_jobs():
            return do_create_showcase_post(user, text=text, card=card_input(user, **card))

    return make

