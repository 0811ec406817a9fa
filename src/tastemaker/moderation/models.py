"""Reports, moderation cases, the operators' audit log, appeals and the notices that tell people the
outcome (issue 12). Accounts are referred to by id, not by foreign key, in the audit log: it is
append-only (database triggers refuse UPDATE and DELETE) and outlives the accounts it names."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tastemaker.core.ids import new_id


class Reason(models.TextChoices):
    """Why something is reported (a case keeps the most severe of its reports' reasons)."""

    SPAM = "spam", _("Spam")
    SCAM = "scam", _("Scam or fake product")
    UNDISCLOSED_AD = "undisclosed_ad", _("Undisclosed ad")
    HARASSMENT = "harassment", _("Harassment")
    SEXUAL = "sexual", _("Sexual content")
    ILLEGAL = "illegal", _("Illegal")
    OTHER = "other", _("Other")
    # raised by the rules, not offered to reporters
    FLOODING = "flooding", _("Flooding (刷屏)")
    FAKE_ORDERS = "fake_orders", _("Fake orders or click fraud")
    KEYWORD_STUFFING = "keyword_stuffing", _("Keyword stuffing")


REPORTER_REASONS = [Reason.SPAM, Reason.SCAM, Reason.UNDISCLOSED_AD, Reason.HARASSMENT, Reason.SEXUAL,
                    Reason.ILLEGAL, Reason.OTHER]


class TargetKind(models.TextChoices):
    POST = "post", _("post")
    ACCOUNT = "account", _("account")
    CARD = "card", _("Showcase card")
    MESSAGE = "message", _("message")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACTIONED = "actioned", _("Action taken")
    DISMISSED = "dismissed", _("Dismissed")


class CaseSource(models.TextChoices):
    REPORT = "report", _("Reported by people")
    RULES = "rules", _("Raised by the rules")
    SHOWCASE = "showcase", _("Raised by the Showcase")
    CREDIT = "credit", _("Credit score")


class Case(models.Model):
    """One thing under review (a post, account, card or message of ``account``): the reports about it,
    the evidence as it was when reported, and its outcome. Open cases form the operators' queue, most
    severe and oldest first."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderation_cases")
    target_kind = models.CharField(max_length=10, choices=TargetKind.choices)
    target_id = models.BigIntegerField()
    reason = models.CharField(max_length=20, choices=Reason.choices)
    severity = models.PositiveSmallIntegerField(default=1)  # 1 (low) … 5 (illegal); rises with reports
    source = models.CharField(max_length=10, choices=CaseSource.choices, default=CaseSource.REPORT)
    status = models.CharField(max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    reports_count = models.PositiveIntegerField(default=0)
    # snapshots of the content as it was when reported (a list: a later report of edited content adds one)
    evidence = models.JSONField(default=list)
    summary = models.CharField(max_length=500, blank=True)  # what the rules saw (source=rules)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "-severity", "created_at"], name="moderation_case_queue"),
            models.Index(fields=["account", "-id"], name="moderation_case_account"),
            models.Index(fields=["target_kind", "target_id", "status"], name="moderation_case_target"),
        ]


class Report(models.Model):
    """One person's report (举报). The reporter is told the case's outcome (a ``Notice``)."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports_made")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reports")
    target_kind = models.CharField(max_length=10, choices=TargetKind.choices)
    target_id = models.BigIntegerField()
    reason = models.CharField(max_length=20, choices=Reason.choices)
    note = models.CharField(max_length=1000, blank=True)
    post_ids = models.JSONField(default=list)  # Mastodon's status_ids of an account report
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["reporter", "case"], name="moderation_report_once_per_case")]
        indexes = [models.Index(fields=["reporter", "-id"], name="moderation_report_reporter")]


class ActionKind(models.TextChoices):
    DISMISS = "dismiss", _("Dismissed the case")
    REMOVE = "remove", _("Removed the content")
    LIMIT = "limit", _("Limited the account")
    SUSPEND = "suspend", _("Suspended the account")
    RESTORE = "restore", _("Restored")
    HOLD = "hold", _("Held for review")
    RELEASE = "release", _("Released after review")
    APPEAL_UPHELD = "appeal_upheld", _("Appeal refused: the action stands")
    APPEAL_OVERTURNED = "appeal_overturned", _("Appeal granted: the action is overturned")


class Action(models.Model):
    """One entry of the append-only audit log: every operator (or rules) action, with its reason as sent
    to the account. ``operator_id`` is None for the rules. Never updated, never deleted (triggers)."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    case_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    operator_id = models.BigIntegerField(null=True, blank=True)
    operator_name = models.CharField(max_length=150, blank=True)
    account_id = models.BigIntegerField(db_index=True)  # whose content or account
    account_name = models.CharField(max_length=150, blank=True)
    kind = models.CharField(max_length=20, choices=ActionKind.choices)
    target_kind = models.CharField(max_length=10, choices=TargetKind.choices, blank=True)
    target_id = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=1000)
    credit_delta = models.SmallIntegerField(default=0)
    reverses_id = models.BigIntegerField(null=True, blank=True)  # the action an overturn or restore undoes
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["-id"], name="moderation_action_recent")]

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise RuntimeError("The audit log is append-only.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise RuntimeError("The audit log is append-only.")


class AppealStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a decision")
    UPHELD = "upheld", _("Refused: the action stands")
    OVERTURNED = "overturned", _("Granted: the action was overturned")


class Appeal(models.Model):
    """An account's appeal of one action against it, decided by an operator other than the one who acted."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    action = models.OneToOneField(Action, on_delete=models.DO_NOTHING, related_name="appeal", db_constraint=False)
    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="appeals")
    text = models.CharField(max_length=2000)
    status = models.CharField(max_length=10, choices=AppealStatus.choices, default=AppealStatus.PENDING)
    decided_by_id = models.BigIntegerField(null=True, blank=True)
    decision = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"], name="moderation_appeal_queue")]


class NoticeKind(models.TextChoices):
    REPORT_OUTCOME = "report_outcome", _("The outcome of your report")
    ACTION = "action", _("A moderation action on your account")
    APPEAL_OUTCOME = "appeal_outcome", _("The decision on your appeal")
    HELD = "held", _("Held for review")


class Notice(models.Model):
    """A message from the moderators to one account (the outcome of a report, an action, an appeal)."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderation_notices",
                                  db_index=False)
    kind = models.CharField(max_length=16, choices=NoticeKind.choices)
    case_id = models.BigIntegerField(null=True, blank=True)
    action_id = models.BigIntegerField(null=True, blank=True)
    text = models.CharField(max_length=2000)
    read = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["recipient", "-id"], name="moderation_notice_recipient")]
