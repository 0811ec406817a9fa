"""Bearer-token authentication for the JSON API (tokens issued by django-oauth-toolkit)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from ninja.errors import HttpError
from ninja.security import HttpBearer

from tastemaker.accounts.bearer import active_token as _lookup

# Mastodon scope sets: a top-level scope grants all its granular children (read -> read:statuses, ...)
_TOP = ("read", "write", "follow", "push", "profile")


class BearerAuth(HttpBearer):
    """A user token is required."""

    def authenticate(self, request, token):
        row = _lookup(token)
        if row is None or row.user is None:
            return None
        request.user = row.user
        request.oauth_token = row
        return row.user


class AppOrUserAuth(HttpBearer):
    """Any valid token: a client-credentials (app) token or a user token."""

    def authenticate(self, request, token):
        row = _lookup(token)
        if row is None:
            return None
        request.oauth_token = row
        if row.user is not None:
            request.user = row.user
        return row


class OptionalAuth(HttpBearer):
    """No token: anonymous. A bad token is still refused (401), as Mastodon does."""

    def __call__(self, request):
        header = request.headers.get(self.header)
        if not header:
            request.user = AnonymousUser()
            return AnonymousUser()  # truthy placeholder is not needed: ninja accepts non-None
        return super().__call__(request)

    def authenticate(self, request, token):
        row = _lookup(token)
        if row is None:
            return None
        request.oauth_token = row
        request.user = row.user if row.user is not None else AnonymousUser()
        return request.user


def require_scope(request, scope: str) -> None:
    """403 unless the token carries ``scope`` (or its top-level parent, e.g. write for write:statuses)."""
    row = getattr(request, "oauth_token", None)
    if row is None:
        return  # anonymous reads never reach here for scoped operations
    granted = set(row.scope.split())
    top = scope.split(":")[0]
    if scope in granted or top in granted:
        return
    if top == "follow" and ("write" in granted or "write:follows" in granted):
        return
    raise HttpError(403, "This action is outside the authorized scopes")


def viewer(request):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None
