"""OAuth token revocation: below ``services`` and ``models`` both (``User.save`` revokes on a password change)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model


def revoke_tokens(user: AbstractBaseUser, *, application=None) -> int:
    """Revoke every OAuth access and refresh token and pending authorization code of ``user`` (of one
    ``application`` only, when given). Returns how many access tokens were revoked."""
    only = {"user": user}
    if application is not None:
        only["application"] = application
    access = get_access_token_model().objects.filter(**only)
    now = timezone.now()
    with transaction.atomic():
        get_refresh_token_model().objects.filter(revoked__isnull=True, **only).update(revoked=now, updated=now)
        count = access.count()
        access.delete()
        get_grant_model().objects.filter(**only).delete()
    return count
