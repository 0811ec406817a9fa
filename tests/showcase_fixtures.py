"""Showcase fixtures for every test directory (a plugin of tests/conftest.py): an operator, an approved partner store with its secrets, the store's webhook signer,
and showcase posts with a valid card. A module overrides ``card_defaults`` to change what every card
carries (e.g. a fixed vertical, or the size of the uploaded image), and ``store_funding`` to change what
the store has put in its deposit for commissions (0: nothing, so its commissions await funding)."""

from __future__ import annotations

import itertools

import pytest

from showcase_signer import StoreSigner

_fund_refs = itertools.count(1)

REASON = "I have used it every night for a month and my dry skin finally stopped flaking."


@pytest.fixture
def card_defaults() -> dict:
    return {}


@pytest.fixture
def operator(make_user):
    return make_user("ops_lead", is_staff=True)


@pytest.fixture
def store_funding() -> int:
    """What the default store has in its deposit for commissions (minor units)."""
    return 1_000_000


@pytest.fixture
def fund_store(db):
    """Fund a store's deposit the way a store does: the funder's wallet is topped up (provider clearing ->
    wallet, as a sandbox top-up posts it), then moves the money into the deposit
    (``showcase.stores.do_fund_store_deposit``). The funder: the brand that runs the store, else the
    operator who approved it."""
    from tastemaker.payments.ledger import post_transaction, provider_clearing, wallet_for
    from tastemaker.showcase.stores import do_fund_store_deposit

    def fund(store, amount: int, funder=None, currency: str = "CNY"):
        funder = funder or store.owner or store.decided_by
        post_transaction("topup", [(provider_clearing("sandbox", currency), -amount),
                                   (wallet_for(funder, currency), amount)], reference=f"test-store-fund:{next(_fund_refs)}")
        return do_fund_store_deposit(funder, store, amount, currency)

    return fund


@pytest.fixture
def store_and_secrets(operator, fund_store, store_funding):
    from tastemaker.showcase.stores import do_create_store

    store, secrets = do_create_store(operator, name="Good Shop", domains=["shop.example.com"], commission_bp=1000,
                                     attribution_days=7, return_days=15)
    if store_funding:
        fund_store(store, store_funding)
    return store, secrets


@pytest.fixture
def store(store_and_secrets):
    return store_and_secrets[0]


@pytest.fixture
def signer(store_and_secrets):
    return StoreSigner(store_and_secrets[1].webhook_secret)


@pytest.fixture
def card_input(png_bytes, card_defaults):
    """A valid card for ``user`` (an image uploaded for it unless one is given), with ``overrides``."""
    from tastemaker.showcase.cards import CardInput
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
    from tastemaker.showcase.cards import do_create_showcase_post

    def make(user, text="My pick of the month", **card):
        with run_jobs():
            return do_create_showcase_post(user, text=text, card=card_input(user, **card))

    return make

