from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import AbstractApplication

from tastemaker.core.ids import new_id

from .tokens import revoke_tokens


class AccountManager(UserManager):
    def get_by_natural_key(self, username):
        return self.get(username__iexact=username)


class User(AbstractUser):
    """An account: fan, tastemaker, brand or operator (staff). Profile fields live here."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    display_name = models.CharField(_("display name"), max_length=60, blank=True)
    bio = models.TextField(_("bio"), max_length=500, blank=True)
    avatar = models.CharField(max_length=255, blank=True)  # path under MEDIA_ROOT
    header = models.CharField(max_length=255, blank=True)
    language = models.CharField(_("language"), max_length=10, default="en")
    interests = models.JSONField(_("interests"), default=list, blank=True)
    locked = models.BooleanField(default=False)
    bot = models.BooleanField(default=False)
    is_suspended = models.BooleanField(_("suspended"), default=False)
    followers_count = models.PositiveIntegerField(default=0)
    following_count = models.PositiveIntegerField(default=0)
    statuses_count = models.PositiveIntegerField(default=0)
    last_status_at = models.DateTimeField(null=True, blank=True)

    objects = AccountManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci"),
            # one account per e-mail address (operators created without one are exempt)
            models.UniqueConstraint(Lower("email"), condition=~models.Q(email=""), name="accounts_user_email_ci_unique"),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        # a new password (set_password; not a hash upgrade at log-in, which Django keeps apart) revokes
        # every OAuth token of the account, whichever path set it: settings page, admin, command line
        password_changed = self._password is not None and not self._state.adding
        super().save(*args, **kwargs)
        if password_changed:
            revoke_tokens(self)

    @property
    def name(self) -> str:
        return self.display_name or self.username

    def __str__(self) -> str:
        return f"@{self.username}"


class OAuthApplication(AbstractApplication):
    """A Mastodon-style client app: one app may use code, password and client-credential grants."""

    website = models.URLField(blank=True)
    scopes = models.CharField(max_length=255, default="read")

    GRANTS = {"authorization-code", "password", "client-credentials", "refresh_token"}

    def allows_grant_type(self, *grant_types):
        return bool(self.GRANTS & set(grant_types))

    def get_allowed_schemes(self):
        """https, http, the out-of-band urn, and the private-use schemes of this app's own redirect URIs
        (``myapp://cb`` for a native app, as Mastodon allows). Checked again when redirecting."""
        from .oauth import native_schemes

        return [*settings.OAUTH2_PROVIDER["ALLOWED_REDIRECT_URI_SCHEMES"], *native_schemes(self.redirect_uris)]

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"
