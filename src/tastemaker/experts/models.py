from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tastemaker.core.ids import new_id

User = settings.AUTH_USER_MODEL


class Vertical(models.Model):
    """An interest vertical (beauty, tech, …). Operators edit the list and its names in the admin."""

    slug = models.SlugField(_("slug"), max_length=32, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=60)
    name_zh = models.CharField(_("name (Chinese)"), max_length=60)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("vertical")
        verbose_name_plural = _("verticals")

    def __str__(self) -> str:
        return self.name_en

    @property
    def name(self) -> str:
        lang = (get_language() or "en").lower()
        return self.name_zh if lang.startswith("zh") and self.name_zh else self.name_en


class PostLabel(models.Model):
    """The labeler's verdict on one post (cached; recomputed only if the model changes)."""

    post = models.OneToOneField("social.Post", on_delete=models.CASCADE, primary_key=True, related_name="label")
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", db_index=False)
    vertical = models.ForeignKey(Vertical, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    confidence = models.FloatField(default=0.0)
    terms = models.JSONField(default=list, blank=True)
    model = models.CharField(max_length=32, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["author", "post"], name="experts_postlabel_author"),
            models.Index(fields=["vertical", "post"], name="experts_postlabel_vertical"),
        ]


class AbilityLabel(models.Model):
    """A creator's ability in one vertical: a 0-100 score and the evidence (the reason)."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="ability_labels")
    vertical = models.ForeignKey(Vertical, on_delete=models.CASCADE, related_name="labels")
    score = models.FloatField(_("score"), default=0.0)
    previous_score = models.FloatField(default=0.0)  # the score before the last change: "rising"
    share = models.FloatField(default=0.0)  # of recent labelled output
    engagement = models.FloatField(default=0.0)  # 0-1
    consistency = models.FloatField(default=0.0)  # 0-1: share of recent weeks with a post in it
    post_count = models.PositiveIntegerField(default=0)
    sample_post_ids = models.JSONField(default=list, blank=True)  # the posts that earned it (strings)
    terms = models.JSONField(default=list, blank=True)  # the terms that earned it
    suppressed = models.BooleanField(_("removed after appeal"), default=False,
                                     help_text=_("Hidden from the profile and from discovery; kept across recomputes."))
    computed_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "vertical"], name="experts_label_unique")]
        indexes = [models.Index(fields=["vertical", "-score"], name="experts_label_vertical_score")]
        verbose_name = _("ability label")

    def __str__(self) -> str:
        return f"{self.user_id} {self.vertical_id} {self.score:.0f}"


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class Reviewed(models.Model):
    """A request an operator decides once: pending, then accepted or rejected, with who and when."""

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    operator_note = models.TextField(_("operator note"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        abstract = True

    def decide(self, operator, accepted: bool, note: str = "") -> None:
        self.status = Status.ACCEPTED if accepted else Status.REJECTED
        self.operator_note = note or ""
        self.reviewed_at = timezone.now()
        self.reviewed_by = operator
        self.save()


class LabelAppeal(Reviewed):
    """A creator disputes a label (wrong vertical, or a missing one); an operator decides."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="label_appeals")
    vertical = models.ForeignKey(Vertical, on_delete=models.CASCADE, related_name="+")
    label = models.ForeignKey(AbilityLabel, null=True, blank=True, on_delete=models.SET_NULL, related_name="appeals")
    kind = models.CharField(max_length=16, choices=[("remove", _("This label is wrong")),
                                                    ("missing", _("A label is missing"))], default="remove")
    message = models.TextField(_("message"), max_length=1000)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "vertical"], condition=models.Q(status="pending"),
                                               name="experts_one_pending_appeal")]
        verbose_name = _("label appeal")


class ExpertApplication(Reviewed):
    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="expert_applications")
    vertical = models.ForeignKey(Vertical, on_delete=models.CASCADE, related_name="+")
    statement = models.TextField(_("statement"), max_length=1000, blank=True)
    score = models.FloatField(default=0.0)  # at the time of applying
    followers = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "vertical"], condition=models.Q(status="pending"),
                                               name="experts_one_pending_application")]
        verbose_name = _("expert application")


class ExpertBadge(models.Model):
    """Expert status in a vertical, granted by an operator."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="expert_badges")
    vertical = models.ForeignKey(Vertical, on_delete=models.CASCADE, related_name="badges")
    granted_at = models.DateTimeField(default=timezone.now)
    application = models.ForeignKey(ExpertApplication, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "vertical"], name="experts_badge_unique")]
        verbose_name = _("expert badge")


class JobCursor(models.Model):
    """Where an incremental background job got to (e.g. "creators who posted since")."""

    name = models.CharField(max_length=40, primary_key=True)
    value = models.DateTimeField()
