"""Account reads: the apps an account has authorised."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model, get_refresh_token_model

from tastemaker.core.pagination import Page, apply_keyset

from .models import CreditChange, User


@dataclass
class AuthorisedApp:
    application: object
    scopes: list[str] = field(default_factory=list)
    since: datetime | None = None  # the oldest live token
    expires: datetime | None = None  # the latest live access token's expiry (None: only a refresh token)


def authorised_apps(user: User) -> list[AuthorisedApp]:
    """Apps holding a live token of ``user`` (an unexpired access token or an unrevoked refresh
    token), newest first, with the scopes they hold."""
    now = timezone.now()
    found: dict[int, AuthorisedApp] = {}
    for app_id, scope, created, expires in get_access_token_model().objects.filter(
            user=user, application__isnull=False, expires__gt=now).values_list(
            "application_id", "scope", "created", "expires"):
        entry = found.setdefault(app_id, AuthorisedApp(application=None))
        _merge(entry, scope, created)
        entry.expires = max(entry.expires or expires, expires)
    # a refresh token is live while its access token is not older than REFRESH_TOKEN_LIFETIME past expiry
    refreshable_after = now - timedelta(seconds=settings.REFRESH_TOKEN_LIFETIME)
    for app_id, scope, created in get_refresh_token_model().objects.filter(
            user=user, revoked__isnull=True, access_token__expires__gt=refreshable_after).values_list(
            "application_id", "access_token__scope", "created"):
        _merge(found.setdefault(app_id, AuthorisedApp(application=None)), scope or "", created)
    apps = get_application_model().objects.in_bulk(list(found))
    out = []
    for app_id, entry in found.items():
        if app_id in apps:
            entry.application = apps[app_id]
            out.append(entry)
    out.sort(key=lambda e: cast(datetime, e.since), reverse=True)  # _merge sets since on every entry
    return out


def _merge(entry: AuthorisedApp, scope: str, created: datetime) -> None:
    for s in scope.split():
        if s not in entry.scopes:
            entry.scopes.append(s)
    entry.since = min(entry.since or created, created)


# --- single accounts for the HTTP layers ------------------------------------------------------

def active_account(user_id: int | None) -> User | None:
    """An account that is active (suspended ones included: they can still receive), by id; else None."""
    if user_id is None:
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


# --- for the web pages (issue 11: no ORM in web/) ---------------------------------------------

def oauth_application(app_id: int) -> Any:
    """A registered OAuth application by id, or None."""
    return get_application_model().objects.filter(pk=app_id).first()


# --- credit score (issue 12) ------------------------------------------------------------------

def credit_history(user: User, page: Page) -> list[CreditChange]:
    """The account's credit changes, newest first (keyset by id): each with its reason and case."""
    return apply_keyset(CreditChange.objects.filter(account_id=user.pk), page)
