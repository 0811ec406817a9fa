"""Promotion fixtures: a creator with money and followers, a public post, campaigns made the way the API does."""

from __future__ import annotations

import itertools

import pytest

from payments.conftest import assert_ledger_invariants, concurrent_db, fund, invariants, run_threads  # noqa: F401

_n = itertools.count(1)


@pytest.fixture(autouse=True)
def _fresh_promotion_cache():
    from tastemaker.promotion import selectors

    selectors.forget_active()
    yield
    selectors.forget_active()


@pytest.fixture
def creator(make_user, fund):  # noqa: F811 - the fixture imported above
    user = make_user()
    fund(user, 100_000)
    return user


@pytest.fixture
def post_of(db):
    from tastemaker.social.services import do_create_post

    def make(author, text: str | None = None, **kw):
        return do_create_post(author, text=text or f"A fine bowl of noodles, number {next(_n)}", **kw)

    return make


@pytest.fixture
def follow(db):
    from tastemaker.social.services import do_follow

    return do_follow


@pytest.fixture
def campaign(creator, post_of):
    from tastemaker.promotion import services

    def make(tool: str = "passerby", owner=None, post=None, **kw):
        owner = owner or creator
        if tool != "account_rec" and "post_id" not in kw:
            kw["post_id"] = (post or post_of(owner)).pk
        kw.setdefault("budget", 10_000)
        kw.setdefault("bid", 2_000 if kw.get("price_model") != "cpf" and tool != "account_rec" else 200)
        return services.do_create_campaign(owner, tool=tool, **kw)

    return make


@pytest.fixture
def api_as(oauth_app):
    """A Django test client with a bearer token for ``user`` (all scopes)."""
    import secrets
    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model

    def make(user, scope="read write follow push"):
        token = get_access_token_model().objects.create(
            user=user, application=oauth_app, token=secrets.token_urlsafe(24), scope=scope,
            expires=timezone.now() + timedelta(days=1)).token
        return Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    return make
