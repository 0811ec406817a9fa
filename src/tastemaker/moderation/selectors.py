"""Moderation reads: the operators' queue and case pages, the audit log, appeals, and what an account
sees of its own standing (credit history, actions against it, notices, its reports)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from tastemaker.accounts.models import CreditChange, User
from tastemaker.accounts.standing import Feature, Gate, Standing, gate, standing
from tastemaker.core.pagination import Page, apply_keyset
from tastemaker.showcase.selectors import CardView, cards_for_posts
from tastemaker.social.models import Post
from tastemaker.social.selectors import get_account, get_post

from .models import Action, ActionKind, Appeal, AppealStatus, Case, CaseStatus, Notice, Report, TargetKind

APPEALABLE_KINDS = [ActionKind.REMOVE, ActionKind.LIMIT, ActionKind.SUSPEND, ActionKind.HOLD]


def queue(status: str = CaseStatus.OPEN, limit: int = 50, offset: int = 0) -> list[Case]:
    """Cases by status: open ones most severe first, then oldest first (decided ones newest first)."""
    qs: QuerySet[Case] = Case.objects.filter(status=status).select_related("account")
    qs = qs.order_by("-severity", "created_at") if status == CaseStatus.OPEN else qs.order_by("-decided_at", "-id")
    return list(qs[offset: offset + limit])


def queue_count(status: str = CaseStatus.OPEN) -> int:
    return Case.objects.filter(status=status).count()


def case(case_id: int | None) -> Case | None:
    if case_id is None:
        return None
    return Case.objects.select_related("account").filter(pk=case_id).first()


@dataclass
class CaseFile:
    """Everything an operator weighs: the case, its reports, the account's standing and history."""

    case: Case
    reports: list[Report]
    actions: list[Action]
    standing: Standing
    prior_cases: list[Case]
    credit: list[CreditChange]
    current_post: Post | None
    appeals: dict[int, Appeal] = field(default_factory=dict)


def case_file(c: Case) -> CaseFile:
    account = c.account
    post = None if c.target_kind == "account" else Post.objects.filter(pk=c.target_id).first()
    actions = list(Action.objects.filter(case_id=c.pk).order_by("id"))
    return CaseFile(
        case=c,
        reports=list(c.reports.select_related("reporter").order_by("id")),
        actions=actions,
        standing=standing(account),
        prior_cases=list(Case.objects.filter(account_id=account.pk).exclude(pk=c.pk).order_by("-id")[:20]),
        credit=list(CreditChange.objects.filter(account_id=account.pk).order_by("-id")[:20]),
        current_post=post,
        appeals={a.action_id: a for a in Appeal.objects.filter(action_id__in=[x.pk for x in actions])},
    )


def audit_log(page: Page, account_id: int | None = None) -> list[Action]:
    qs = Action.objects.all()
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    return apply_keyset(qs, page)


def action(action_id: int | None) -> Action | None:
    if action_id is None:
        return None
    return Action.objects.filter(pk=action_id).first()


def pending_appeals(limit: int = 50) -> list[Appeal]:
    return list(Appeal.objects.filter(status=AppealStatus.PENDING).select_related("account", "action")
                .order_by("created_at")[:limit])


def appeal(appeal_id: int | None) -> Appeal | None:
    if appeal_id is None:
        return None
    return Appeal.objects.select_related("account", "action").filter(pk=appeal_id).first()


# --- an account's own view ---------------------------------------------------------------------

@dataclass
class ActionAgainst:
    action: Action
    appeal: Appeal | None
    appealable: bool


def actions_against(user: User, limit: int = 50) -> list[ActionAgainst]:
    """Actions on the account or its content, newest first, each with its appeal (if any) and whether it
    can still be appealed."""
    actions = list(Action.objects.filter(account_id=user.pk).order_by("-id")[:limit])
    appeals = {a.action_id: a for a in Appeal.objects.filter(action_id__in=[x.pk for x in actions])}
    reversed_ids = set(Action.objects.filter(reverses_id__in=[x.pk for x in actions])
                       .values_list("reverses_id", flat=True))
    return [ActionAgainst(a, appeals.get(a.pk),
                          a.kind in APPEALABLE_KINDS and a.pk not in appeals and a.pk not in reversed_ids)
            for a in actions]


def notices(user: User, page: Page) -> list[Notice]:
    return apply_keyset(Notice.objects.filter(recipient=user), page)


def unread_notices_count(user: User) -> int:
    return Notice.objects.filter(recipient=user, read=False).count()


def reports_by(user: User, page: Page) -> list[Report]:
    return apply_keyset(Report.objects.filter(reporter=user).select_related("case"), page)


def report_for(user: User, report_id: int | None) -> Report | None:
    if report_id is None:
        return None
    return Report.objects.select_related("case").filter(pk=report_id, reporter=user).first()


# --- added for the web pages (report form, console tabs, credit page) ---------------------------

@dataclass
class FlagTarget:
    """What a report form is about: the account behind it and, for a post, message or card, the post."""

    kind: str
    target_id: int
    account: User
    post: Post | None
    card: CardView | None = None


def flag_target(viewer: User | None, kind: str, target_id: int | str) -> FlagTarget | None:
    """The thing ``viewer`` is about to report, or None when it does not exist or they may not see it
    (the same rule ``services.do_report`` applies: ``social.selectors.can_view`` for posts)."""
    try:
        target_id = int(target_id)
    except (TypeError, ValueError):
        return None
    if kind == TargetKind.ACCOUNT:
        account = get_account(target_id)
        if account is None or account.pk != target_id:
            return None
        return FlagTarget(kind, target_id, account, None)
    if kind not in (TargetKind.POST, TargetKind.MESSAGE, TargetKind.CARD):
        return None
    post = get_post(viewer, target_id)
    if post is None or post.reblog_of_id:
        return None
    card = None
    if kind == TargetKind.CARD:
        card = cards_for_posts([target_id]).get(target_id)
        if card is None:
            return None
    return FlagTarget(kind, target_id, post.author, post, card)


def queue_counts() -> dict[str, int]:
    """How many cases there are in each status (every status present, 0 when none)."""
    counts = {status: 0 for status in CaseStatus.values}
    for status, n in Case.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"):
        counts[status] = n
    return counts


@dataclass
class FeatureGate:
    """One feature on the account's credit page: what it needs and whether the account has it now."""

    feature: Feature
    name: str
    minimum: int
    gate: Gate


def feature_gates(user: User) -> list[FeatureGate]:
    """Every feature the credit score gates, through ``accounts.standing.gate`` (the one gate)."""
    from tastemaker.accounts.standing import feature_name, minimum_score

    return [FeatureGate(f, feature_name(f), minimum_score(f), gate(user, f)) for f in Feature]


def reversed_action_ids(action_ids: list[int]) -> set[int]:
    """Of ``action_ids``, the actions a later action undid (a restore, an overturned appeal)."""
    if not action_ids:
        return set()
    found = Action.objects.filter(reverses_id__in=action_ids).values_list("reverses_id", flat=True)
    return {pk for pk in found if pk is not None}


# --- the server's rules ----------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    id: str
    text: str
    hint: str


def server_rules() -> list[Rule]:
    """The rules every account agrees to at sign-up: shown on /about/rules, linked from the sign-up form, and
    served as the Mastodon instance's ``rules``. What the credit system and the reports enforce, in words."""
    return [
        Rule("1", _("No flooding (刷屏) and no spam"),
             _("Do not post the same thing again and again, mass-mention or mass-reply, or stuff posts with "
               "keywords.")),
        Rule("2", _("Disclose advertising"),
             _("Say so when a post is paid for, gifted or sponsored; Showcase cards carry their disclosure.")),
        Rule("3", _("No fake or unsafe products"),
             _("Recommend only genuine products from partner stores; no counterfeits and nothing illegal.")),
        Rule("4", _("Be honest about what you used"),
             _("Reviews and recommendations describe your own experience; no invented results or fake reviews.")),
        Rule("5", _("No harassment or hate"),
             _("Disagree with ideas, not people; no threats, no targeting anyone for who they are.")),
        Rule("6", _("No sexual content involving minors, and adult content only where the law allows"),
             _("Reports of this kind are handled first.")),
        Rule("7", _("Respect others' privacy and work"),
             _("Do not post others' personal information or pass off their photos and writing as yours.")),
    ]
