from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

User = settings.AUTH_USER_MODEL


class UserInterest(models.Model):
    """A user's interest in a vertical: picked by the user (onboarding, settings) and/or learned from
    what they engage with. ``hidden`` remembers that the user removed a learned interest."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="vertical_interests", db_index=False)
    vertical = models.ForeignKey("experts.Vertical", on_delete=models.CASCADE, related_name="+")
    picked = models.BooleanField(default=False)
    learned_weight = models.FloatField(default=0.0)  # 0-1, share of recent engagement
    hidden = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "vertical"], name="discovery_interest_unique")]
        verbose_name = _("interest")


class SuggestionDismissal(models.Model):
    """"Don't suggest this account again" (Mastodon's DELETE /api/v1/suggestions/:id)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", db_index=False)
    target = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "target"], name="discovery_dismissal_unique")]
