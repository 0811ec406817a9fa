"""Fan service fixtures: an owner with subscribers, broadcasts made the way the API does."""

from __future__ import annotations

from datetime import timedelta

import pytest

from payments.conftest import concurrent_db, run_threads  # noqa: F401


@pytest.fixture
def subscribed(make_user, request):
    """``subscribed(owner, n)``: n new fans subscribed to owner (returned in id order; the after-commit
    events run, except in transactional tests where commits are real)."""
    from contextlib import nullcontext

    from tastemaker.fanservice.services import do_subscribe

    def make(owner, n: int, **extra):
        fans = [make_user(**extra) for _ in range(n)]
        transactional = "transactional_db" in request.fixturenames
        runner = nullcontext() if transactional else request.getfixturevalue("run_jobs")()
        with runner:
            for fan in fans:
                do_subscribe(fan, owner)
        return sorted(fans, key=lambda f: f.pk)

    return make


@pytest.fixture
def later():
    """A broadcast scheduled in the future, then made due (so no job ran it when it was created)."""
    from django.utils import timezone

    from tastemaker.fanservice.models import Broadcast
    from tastemaker.fanservice.services import do_create_broadcast

    def make(owner, text: str = "Hello fans", **kw):
        b = do_create_broadcast(owner, text=text, scheduled_at=timezone.now() + timedelta(hours=1), **kw)
        Broadcast.objects.filter(pk=b.pk).update(scheduled_at=timezone.now() - timedelta(seconds=1))
        b.refresh_from_db()
        return b

    return make


@pytest.fixture
def card_post(showcase_post, store):
    """A public showcase post of ``user`` whose card names the store's catalog product (price 129.00)."""
    from tastemaker.showcase.services import do_upsert_catalog

    def make(user, external_id: str = "c1", price: int = 12900, stock: int = 5):
        url = f"https://shop.example.com/p/{external_id}"
        do_upsert_catalog(store, [{"external_id": external_id, "title": "Hydrating face cream", "url": url,
                                   "price": price, "stock": stock}])
        post = showcase_post(user, url=url, price=price)
        assert post.card.product_id
        return post

    return make


@pytest.fixture
def api_as(oauth_app):
    """A Django test client with a bearer token for ``user``."""
    import secrets

    from django.test import Client
    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model

    def make(user, scope="read write"):
        token = get_access_token_model().objects.create(
            user=user, application=oauth_app, token=secrets.token_urlsafe(24), scope=scope,
            expires=timezone.now() + timedelta(days=1)).token
        return Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    return make
