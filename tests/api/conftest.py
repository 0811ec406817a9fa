from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone


@pytest.fixture
def token_for(oauth_app):
    from oauth2_provider.models import get_access_token_model

    def make(user, scope="read write follow push"):
        return get_access_token_model().objects.create(
            user=user, application=oauth_app, token=secrets.token_urlsafe(24), scope=scope,
            expires=timezone.now() + timedelta(days=1),
        ).token

    return make


class ApiClient:
    def __init__(self, token: str | None):
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def get(self, path, data=None, **kw):
        return self.client.get(path, data, **self.headers, **kw)

    def post(self, path, data=None, json=True, **kw):
        if json:
            return self.client.post(path, data or {}, content_type="application/json", **self.headers, **kw)
        return self.client.post(path, data or {}, **self.headers, **kw)

    def delete(self, path, **kw):
        return self.client.delete(path, **self.headers, **kw)

    def patch(self, path, data, **kw):
        return self.client.patch(path, data, content_type="application/json", **self.headers, **kw)


@pytest.fixture
def api(token_for):
    def make(user=None, scope="read write follow push"):
        return ApiClient(token_for(user, scope) if user is not None else None)

    return make
