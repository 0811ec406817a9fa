from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import AbstractApplication

from tastemaker.core.ids import new_id

from .tokens import revoke_tokens


class AccountManager(UserManager):
    def get_by_natural_key(self, username):
        return self.get(username__iexact=username)


class MessagesFrom(models.TextChoices):
    """Who may send an account direct messages (``User.messages_from``; social enforces it)."""
    EVERYONE = "everyone", _("Everyone")
    FOLLOWING = "following", _("Only people I follow")
    NOBODY = "nobody", _("Nobody")


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
    # who may send this account direct messages (issue 14): from people it does not follow, they arrive as
    # message requests
    messages_from = models.CharField(_("who can message me"), max_length=10, choices=MessagesFrom.choices,
                                     default=MessagesFrom.EVERYONE)
    is_suspended = models.BooleanField(_("suspended"), default=False)
    # limited by an operator (a moderation action): posts reach followers only, out of discovery and
    # promotion. A low credit score limits the same way (accounts.standing decides; never test this alone)
    is_limited = models.BooleanField(_("limited"), default=False)
    # the credit score (信用分): 80 at sign-up, moved only by accounts.credit.change_credit, which writes a
    # CreditChange for each move (the history sums to the score)
    credit_score = models.SmallIntegerField(_("credit score"), default=80)
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
            models.CheckConstraint(condition=models.Q(credit_score__gte=0, credit_score__lte=100),
                                   name="accounts_user_credit_score_bounds"),
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


class CreditReason(models.TextChoices):
    """Why a credit score moved. Deductions name the violation; the rest name what restored it."""

    SPAM = "spam", _("spam")
    FLOODING = "flooding", _("flooding (刷屏)")
    KEYWORD_STUFFING = "keyword_stuffing", _("keyword stuffing")
    FAKE_ORDERS = "fake_orders", _("fake orders or click fraud")
    UNDISCLOSED_AD = "undisclosed_ad", _("undisclosed paid content")
    SCAM = "scam", _("scam or fake product")
    HARASSMENT = "harassment", _("harassment")
    SEXUAL = "sexual", _("sexual content")
    ILLEGAL = "illegal", _("illegal content")
    OTHER = "other", _("other violation")
    GOOD_STANDING = "good_standing", _("a week in good standing")
    SHOWCASE_RATES = "showcase_rates", _("Showcase complaint and refund rates")
    OVERTURNED = "overturned", _("action overturned on appeal")
    OPERATOR = "operator", _("operator adjustment")


class CreditChange(models.Model):
    """One move of an account's credit score, append-only: ``delta`` and the score after it, why, and the
    moderation case behind it (an id: the moderation app sits above accounts). An account starts at
    ``accounts.standing.CREDIT_START`` with no rows; start + the sum of its deltas is always its score."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_changes",
                                db_index=False)
    delta = models.SmallIntegerField()
    score_after = models.SmallIntegerField()
    reason = models.CharField(max_length=24, choices=CreditReason.choices)
    note = models.CharField(max_length=500, blank=True)
    case_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["account", "-id"], name="accounts_credit_account_id")]


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
