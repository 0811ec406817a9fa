"""Moderation writes (issue 12): reports, cases, operator actions (each one audited), suspension and its
effects, appeals, and the credit changes that follow confirmed violations and overturned actions.

Every operator action goes through ``do_act`` (or ``do_suspend`` / ``do_decide_appeal``), which writes one
``Action`` to the append-only audit log in the same transaction as its effect, and tells the account (and,
for a case, its reporters) the outcome with a ``Notice``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tastemaker.accounts.models import CreditReason, User
from tastemaker.accounts.services import do_change_credit
from tastemaker.accounts.tokens import revoke_tokens
from tastemaker.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tastemaker.core.ids import parse_id
from tastemaker.social import services as social_services
from tastemaker.social.models import Post
from tastemaker.social.selectors import can_view
from tastemaker.trust import ratelimit

from . import hooks
from .evidence import snapshot
from .models import (
    REPORTER_REASONS,
    Action,
    ActionKind,
    Appeal,
    AppealStatus,
    Case,
    CaseSource,
    CaseStatus,
    Notice,
    NoticeKind,
    Reason,
    Report,
    TargetKind,
)

# how serious each reason is (the queue puts the most severe first); more reports raise it by one, up to 5
SEVERITY = {
    Reason.ILLEGAL: 5, Reason.SEXUAL: 4, Reason.SCAM: 4, Reason.FAKE_ORDERS: 4, Reason.HARASSMENT: 3,
    Reason.SPAM: 2, Reason.UNDISCLOSED_AD: 2, Reason.FLOODING: 2, Reason.KEYWORD_STUFFING: 2, Reason.OTHER: 1,
}
# the credit a confirmed violation costs by default (an operator may choose another amount, 0–50)
DEDUCTION = {
    Reason.ILLEGAL: 30, Reason.SCAM: 20, Reason.FAKE_ORDERS: 20, Reason.SEXUAL: 15, Reason.HARASSMENT: 15,
    Reason.SPAM: 10, Reason.UNDISCLOSED_AD: 10, Reason.FLOODING: 5, Reason.KEYWORD_STUFFING: 5, Reason.OTHER: 5,
}
CREDIT_REASON = {
    Reason.SPAM: CreditReason.SPAM, Reason.SCAM: CreditReason.SCAM, Reason.UNDISCLOSED_AD: CreditReason.UNDISCLOSED_AD,
    Reason.HARASSMENT: CreditReason.HARASSMENT, Reason.SEXUAL: CreditReason.SEXUAL, Reason.ILLEGAL: CreditReason.ILLEGAL,
    Reason.OTHER: CreditReason.OTHER, Reason.FLOODING: CreditReason.FLOODING,
    Reason.FAKE_ORDERS: CreditReason.FAKE_ORDERS, Reason.KEYWORD_STUFFING: CreditReason.KEYWORD_STUFFING,
}
MAX_DEDUCTION = 50
# actions that confirm a violation (and so cost credit); the others do not
CONFIRMING = {ActionKind.REMOVE, ActionKind.LIMIT, ActionKind.SUSPEND}
# what an operator may do to a case, by what the case is about
ACTIONS_FOR = {
    TargetKind.POST: {ActionKind.DISMISS, ActionKind.REMOVE, ActionKind.LIMIT, ActionKind.SUSPEND, ActionKind.RELEASE},
    TargetKind.MESSAGE: {ActionKind.DISMISS, ActionKind.REMOVE, ActionKind.LIMIT, ActionKind.SUSPEND},
    TargetKind.CARD: {ActionKind.DISMISS, ActionKind.REMOVE, ActionKind.LIMIT, ActionKind.SUSPEND},
    TargetKind.ACCOUNT: {ActionKind.DISMISS, ActionKind.LIMIT, ActionKind.SUSPEND},
}
APPEALABLE = {ActionKind.REMOVE, ActionKind.LIMIT, ActionKind.SUSPEND, ActionKind.HOLD}
NOTE_MAX = 1000

SYSTEM_NAME = gettext_lazy("the rules")


# --- reports ---------------------------------------------------------------------------------

def _target(reporter: User | None, kind: str, target_id: int) -> tuple[User, Post | None]:
    """The account behind a reported thing (and the post, for posts, messages and cards); NotFound for
    something missing or that the reporter may not see."""
    if kind == TargetKind.ACCOUNT:
        account = User.objects.filter(pk=target_id, is_active=True).first()
        if account is None:
            raise NotFound(_("Account not found."))
        return account, None
    post = Post.objects.select_related("author").filter(pk=target_id).first()
    if kind == TargetKind.CARD:
        # a card is reported through the post that carries it (same id)
        from tastemaker.showcase.models import ProductCard

        if not ProductCard.objects.filter(post_id=target_id).exists():
            post = None
    if post is None or (reporter is not None and not can_view(reporter, post)):
        raise NotFound(_("Nothing to report here: it does not exist or you cannot see it."))
    return post.author, post


def do_report(reporter: User, kind: str, target_id: int | str, reason: str, note: str = "",
              post_ids: Iterable[int] = ()) -> Report:
    """Report (举报) a post, account, message or Showcase card. Reports of the same open thing join one
    case (its severity rises with them); a second report by the same person returns the first."""
    try:
        kind = TargetKind(kind)
    except ValueError:
        raise ValidationFailed(_("You can report a post, an account, a message or a Showcase card."),
                               field="kind") from None
    chosen = Reason(reason) if reason in Reason.values else None
    if chosen is None or chosen not in REPORTER_REASONS:
        raise ValidationFailed(_("Choose a reason: spam, scam or fake product, undisclosed ad, harassment, "
                                 "sexual content, illegal, or other."), field="reason")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationFailed(_("A note has at most %(n)d characters.") % {"n": NOTE_MAX}, field="comment")
    number = parse_id(str(target_id))
    if number is None:
        raise NotFound(_("Nothing to report here: it does not exist or you cannot see it."))
    target_id = number
    account, post = _target(reporter, kind, target_id)
    if account.pk == reporter.pk:
        raise ValidationFailed(_("You cannot report yourself."))
    # the posts named in an account report must be that account's and visible to the reporter
    named: list[int] = []
    for pid in list(post_ids)[:20]:
        number = parse_id(str(pid))
        p = Post.objects.filter(pk=number, author_id=account.pk).first() if number is not None else None
        if p is None or not can_view(reporter, p):
            raise ValidationFailed(_("A reported post is not this account's, or you cannot see it."),
                                   field="status_ids")
        named.append(p.pk)
    existing = Report.objects.filter(reporter=reporter, target_kind=kind, target_id=target_id,
                                     case__status=CaseStatus.OPEN).first()
    if existing is not None:
        return existing
    ratelimit.check_and_hit("report", reporter.pk, "RATE_REPORT")
    with transaction.atomic():
        case = _open_case(account, kind, target_id, chosen, CaseSource.REPORT, post_ids=named)
        try:
            with transaction.atomic():
                report = Report.objects.create(reporter=reporter, case=case, target_kind=kind, target_id=target_id,
                                               reason=chosen, note=note, post_ids=named)
        except IntegrityError:  # the same person, twice at once
            found = Report.objects.filter(reporter=reporter, case=case).first()
            if found is None:
                raise
            return found
        case.reports_count += 1
        case.severity = min(5, max(case.severity, SEVERITY[chosen] + (1 if case.reports_count >= 3 else 0)))
        case.save(update_fields=["reports_count", "severity", "updated_at"])
    return report


def _open_case(account: User, kind: str, target_id: int, reason: Reason | str, source: str,
               summary: str = "", post_ids: list[int] | None = None) -> Case:
    """The open case about this thing, or a new one; the evidence gains a snapshot when the content
    changed since the last one (an edit, a new bio)."""
    case = (Case.objects.select_for_update().filter(target_kind=kind, target_id=target_id, status=CaseStatus.OPEN)
            .first())
    reason = Reason(reason)
    shot = snapshot(kind, target_id, account, post_ids)
    now = timezone.now()
    if case is None:
        return Case.objects.create(account=account, target_kind=kind, target_id=target_id, reason=reason,
                                   severity=SEVERITY[reason], source=source, evidence=[shot],
                                   summary=summary[:500], created_at=now, updated_at=now)
    if SEVERITY[reason] > SEVERITY[Reason(case.reason)]:
        case.reason = reason
    last = case.evidence[-1] if case.evidence else {}
    if {k: v for k, v in last.items() if k != "taken_at"} != {k: v for k, v in shot.items() if k != "taken_at"}:
        case.evidence = [*case.evidence, shot]
    if summary and not case.summary:
        case.summary = summary[:500]
    case.updated_at = now
    case.save(update_fields=["reason", "evidence", "summary", "updated_at"])
    return case


def do_open_rules_case(account: User, kind: str, target_id: int, reason: str, summary: str,
                       source: str = CaseSource.RULES) -> Case:
    """A case raised by the rules or the Showcase (not by a person): it joins the queue like any other."""
    with transaction.atomic():
        case = _open_case(account, kind, target_id, Reason(reason), source, summary)
        if case.source == CaseSource.REPORT and source != CaseSource.REPORT and summary:
            case.summary = summary[:500]
            case.save(update_fields=["summary"])
    return case


# --- operator actions ------------------------------------------------------------------------

def _require_operator(operator: User) -> None:
    if not (operator.is_authenticated and operator.is_staff):
        raise Forbidden(_("Only operators can do this."))


def _audit(*, case: Case | None, operator: User | None, account: User, kind: str, reason: str,
           credit_delta: int = 0, target_kind: str = "", target_id: int | None = None,
           reverses: Action | None = None) -> Action:
    return Action.objects.create(
        case_id=case.pk if case else None, operator_id=operator.pk if operator else None,
        operator_name=operator.username if operator else "", account_id=account.pk, account_name=account.username,
        kind=kind, target_kind=target_kind or (case.target_kind if case else ""),
        target_id=target_id if target_id is not None else (case.target_id if case else None),
        reason=reason[:1000], credit_delta=credit_delta, reverses_id=reverses.pk if reverses else None)


def _notify(recipient_id: int, kind: str, text: str, *, case: Case | None = None, action: Action | None = None) -> None:
    Notice.objects.create(recipient_id=recipient_id, kind=kind, text=text[:2000],
                          case_id=case.pk if case else None, action_id=action.pk if action else None)


def _post_of(case: Case) -> Post | None:
    if case.target_kind == TargetKind.ACCOUNT:
        return None
    return Post.objects.filter(pk=case.target_id).first()


def _apply(kind: str, account: User, case: Case | None) -> None:
    """The effect of an action (not its audit)."""
    if kind == ActionKind.REMOVE:
        post = _post_of(case) if case else None
        if post is not None:
            social_services.do_set_held(post, True)
    elif kind == ActionKind.RELEASE:  # held by the spam filter, never published: published now
        post = _post_of(case) if case else None
        if post is not None:
            social_services.do_release_post(post)
    elif kind == ActionKind.LIMIT:
        User.objects.filter(pk=account.pk).update(is_limited=True)
        account.is_limited = True
    elif kind == ActionKind.SUSPEND:
        _suspend(account)


def _suspend(account: User) -> None:
    """Suspension and its effects, at once: the account's posts leave every timeline and list (the
    visibility rule hides a suspended author's posts), its sessions and tokens stop working, withdrawals
    and payouts wait (payments refuse a suspended account), and the apps above are told (promotions,
    broadcasts: ``moderation.suspended``)."""
    User.objects.filter(pk=account.pk).update(is_suspended=True)
    account.is_suspended = True
    revoke_tokens(account)
    # its web sessions end too: the auth backend refuses a suspended account on every request
    hooks.suspended(user=account)


def _reverse(action: Action, account: User) -> None:
    """Undo an action's effect (an overturned appeal, a restore)."""
    if action.kind in (ActionKind.REMOVE, ActionKind.HOLD):
        post = Post.objects.filter(pk=action.target_id).first() if action.target_id else None
        if post is None:
            pass
        elif action.kind == ActionKind.HOLD:  # the spam filter's hold, overturned: published for the first time
            social_services.do_release_post(post)
        else:  # removed after it was published: back where it was (no second round of notifications)
            social_services.do_set_held(post, False)
    elif action.kind == ActionKind.LIMIT:
        User.objects.filter(pk=account.pk).update(is_limited=False)
        account.is_limited = False
    elif action.kind == ActionKind.SUSPEND:
        User.objects.filter(pk=account.pk).update(is_suspended=False)
        account.is_suspended = False
        hooks.restored(user=account)


def _action_sentence(kind: str) -> str:
    return {
        ActionKind.DISMISS: _("The moderators looked at the report and found no violation."),
        ActionKind.REMOVE: _("The moderators removed your content."),
        ActionKind.LIMIT: _("The moderators limited your account: your posts reach only your followers, and you "
                            "are left out of discovery and promotion."),
        ActionKind.SUSPEND: _("The moderators suspended your account."),
        ActionKind.RELEASE: _("Your content was reviewed and published."),
        ActionKind.RESTORE: _("The moderators restored what an earlier action took."),
        ActionKind.HOLD: _("Your content is held for review before it is published."),
    }.get(ActionKind(kind), "")


def do_act(operator: User, case: Case, kind: str, reason: str, credit: int | None = None) -> Action:
    """An operator decides an open case: dismiss, remove the content, limit or suspend the account, or
    release held content. The reason is sent to the account; a confirming action (remove, limit, suspend)
    deducts credit (``credit`` points, default by the case's reason). Audited."""
    _require_operator(operator)
    try:
        kind = ActionKind(kind)
    except ValueError:
        raise ValidationFailed(_("Unknown action."), field="action") from None
    if kind not in ACTIONS_FOR[TargetKind(case.target_kind)]:
        raise ValidationFailed(_("This action does not apply to this case."), field="action")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give a reason: it is sent to the account."), field="reason")
    if len(reason) > NOTE_MAX:
        raise ValidationFailed(_("A reason has at most %(n)d characters.") % {"n": NOTE_MAX}, field="reason")
    if credit is not None and not 0 <= int(credit) <= MAX_DEDUCTION:
        raise ValidationFailed(_("Credit to deduct is between 0 and %(n)d points.") % {"n": MAX_DEDUCTION},
                               field="credit")
    if case.account_id == operator.pk:
        raise Forbidden(_("You cannot decide a case about your own account."))
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.status != CaseStatus.OPEN:
            raise Conflict(_("This case is already decided."))
        account = User.objects.get(pk=case.account_id)
        deduction = 0
        if kind in CONFIRMING:
            deduction = DEDUCTION[Reason(case.reason)] if credit is None else int(credit)
        _apply(kind, account, case)
        action = _audit(case=case, operator=operator, account=account, kind=kind, reason=reason,
                        credit_delta=-deduction)
        if deduction:
            # after the audit row, so the case and action exist when a score of 0 suspends (audited too)
            # clamped at 0: the history records what actually moved
            do_change_credit(account, -deduction, CREDIT_REASON[Reason(case.reason)], note=reason, case_id=case.pk)
        case.status = CaseStatus.DISMISSED if kind == ActionKind.DISMISS else CaseStatus.ACTIONED
        case.decided_at = timezone.now()
        case.save(update_fields=["status", "decided_at"])
        if kind != ActionKind.DISMISS:
            text = _action_sentence(kind) + " " + _("Reason: %(reason)s") % {"reason": reason}
            if deduction:
                text += " " + _("Credit score: −%(n)d.") % {"n": deduction}
            if kind in APPEALABLE:
                text += " " + _("You can appeal this from your credit page.")
            _notify(account.pk, NoticeKind.ACTION, text, case=case, action=action)
        outcome = (_("Thank you for your report. The moderators found no violation.") if kind == ActionKind.DISMISS
                   else _("Thank you for your report. The moderators took action: %(what)s")
                   % {"what": ActionKind(kind).label})
        for reporter_id in case.reports.values_list("reporter_id", flat=True):
            _notify(reporter_id, NoticeKind.REPORT_OUTCOME, outcome, case=case, action=action)
    return action


def do_suspend(account: User, *, operator: User | None, reason: str, case: Case | None = None) -> Action:
    """Suspend an account (an operator, or the rules when the credit score reaches 0): audited, effects at
    once (see ``_suspend``). Suspending a suspended account changes nothing and records nothing new."""
    if operator is not None:
        _require_operator(operator)
    with transaction.atomic():
        fresh = User.objects.select_for_update().get(pk=account.pk)
        if fresh.is_suspended:
            last = Action.objects.filter(account_id=account.pk, kind=ActionKind.SUSPEND).order_by("-id").first()
            if last is not None:
                return last
        _suspend(account)
        action = _audit(case=case, operator=operator, account=account, kind=ActionKind.SUSPEND, reason=reason,
                        target_kind=TargetKind.ACCOUNT, target_id=account.pk)
        _notify(account.pk, NoticeKind.ACTION, _action_sentence(ActionKind.SUSPEND) + " "
                + _("Reason: %(reason)s") % {"reason": reason} + " "
                + _("You can appeal this from your credit page."), case=case, action=action)
    return action


def do_restore(operator: User, action: Action, reason: str) -> Action:
    """Undo an earlier action (lift a limit or suspension, put removed content back) without an appeal;
    credit is not given back (that is what a granted appeal does). Audited."""
    _require_operator(operator)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give a reason: it is sent to the account."), field="reason")
    if action.kind not in APPEALABLE:
        raise ValidationFailed(_("This action cannot be restored."), field="action")
    with transaction.atomic():
        if Action.objects.filter(reverses_id=action.pk).exists():
            raise Conflict(_("This action was already reversed."))
        account = User.objects.get(pk=action.account_id)
        _reverse(action, account)
        case = Case.objects.filter(pk=action.case_id).first() if action.case_id else None
        restored = _audit(case=case, operator=operator, account=account, kind=ActionKind.RESTORE, reason=reason,
                          target_kind=action.target_kind, target_id=action.target_id, reverses=action)
        _notify(account.pk, NoticeKind.ACTION, _action_sentence(ActionKind.RESTORE) + " "
                + _("Reason: %(reason)s") % {"reason": reason}, action=restored)
    return restored


# --- appeals ---------------------------------------------------------------------------------

def do_appeal(account: User, action: Action, text: str) -> Appeal:
    """Appeal an action against your own account (once per action)."""
    if action.account_id != account.pk:
        raise NotFound(_("Action not found."))
    if action.kind not in APPEALABLE:
        raise ValidationFailed(_("This action cannot be appealed."))
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_("Say why the action was wrong."), field="text")
    if len(text) > 2000:
        raise ValidationFailed(_("An appeal has at most 2,000 characters."), field="text")
    if Action.objects.filter(reverses_id=action.pk).exists():
        raise Conflict(_("This action was already reversed."))
    try:
        with transaction.atomic():
            return Appeal.objects.create(action=action, account=account, text=text)
    except IntegrityError:
        raise Conflict(_("You already appealed this action.")) from None


def do_decide_appeal(operator: User, appeal: Appeal, *, overturn: bool, decision: str) -> Action:
    """Decide an appeal. Only an operator other than the one who acted may; overturning reverses the
    action's effect and gives back the credit it took. Audited; the account is told."""
    _require_operator(operator)
    decision = (decision or "").strip()
    if not decision:
        raise ValidationFailed(_("Give a reason: it is sent to the account."), field="decision")
    if len(decision) > NOTE_MAX:
        raise ValidationFailed(_("A reason has at most %(n)d characters.") % {"n": NOTE_MAX}, field="decision")
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update().get(pk=appeal.pk)
        if appeal.status != AppealStatus.PENDING:
            raise Conflict(_("This appeal is already decided."))
        action = Action.objects.get(pk=appeal.action_id)
        if action.operator_id == operator.pk:
            raise Forbidden(_("Another operator must decide an appeal of your own action."))
        if appeal.account_id == operator.pk:
            raise Forbidden(_("You cannot decide your own appeal."))
        account = User.objects.get(pk=appeal.account_id)
        case = Case.objects.filter(pk=action.case_id).first() if action.case_id else None
        if overturn:
            _reverse(action, account)
            given_back = -action.credit_delta
            decided = _audit(case=case, operator=operator, account=account, kind=ActionKind.APPEAL_OVERTURNED,
                             reason=decision, credit_delta=given_back, target_kind=action.target_kind,
                             target_id=action.target_id, reverses=action)
            if given_back > 0:
                do_change_credit(account, given_back, CreditReason.OVERTURNED, note=decision, case_id=action.case_id)
            text = _("Your appeal was granted: the action is overturned.")
            if given_back > 0:
                text += " " + _("Credit score: +%(n)d.") % {"n": given_back}
        else:
            decided = _audit(case=case, operator=operator, account=account, kind=ActionKind.APPEAL_UPHELD,
                             reason=decision, target_kind=action.target_kind, target_id=action.target_id)
            text = _("Your appeal was refused: the action stands.")
        appeal.status = AppealStatus.OVERTURNED if overturn else AppealStatus.UPHELD
        appeal.decided_by_id = operator.pk
        appeal.decision = decision
        appeal.decided_at = timezone.now()
        appeal.save(update_fields=["status", "decided_by_id", "decision", "decided_at"])
        _notify(account.pk, NoticeKind.APPEAL_OUTCOME, text + " " + _("Reason: %(reason)s") % {"reason": decision},
                case=case, action=decided)
    return decided


def do_mark_notices_read(user: User) -> int:
    return Notice.objects.filter(recipient=user, read=False).update(read=True)


# --- reactions to the lower apps (wired in settings.HOOKS) -------------------------------------

def credit_exhausted(*, user: User, case_id: int | None) -> None:
    """accounts.credit_exhausted: a score of 0 suspends the account (audited, by the rules)."""
    case = Case.objects.filter(pk=case_id).first() if case_id else None
    do_suspend(user, operator=None, reason=_("Your credit score reached 0."), case=case)


def post_held(*, post: Post, reasons: list[str], score: float) -> None:
    """social.post_held: the spam filter held a post: a case for the queue, an audited HOLD, a notice."""
    summary = _("Spam filter (score %(score).2f): %(reasons)s") % {"score": score, "reasons": "; ".join(reasons)}
    case = do_open_rules_case(post.author, TargetKind.POST, post.pk, Reason.SPAM, summary)
    action = _audit(case=case, operator=None, account=post.author, kind=ActionKind.HOLD, reason=summary,
                    target_kind=TargetKind.POST, target_id=post.pk)
    _notify(post.author_id, NoticeKind.HELD, _action_sentence(ActionKind.HOLD), case=case, action=action)


OFFENCE_REASON = {"flooding": Reason.FLOODING, "mass_mention": Reason.FLOODING, "mass_reply": Reason.FLOODING,
                  "spam": Reason.SPAM, "keyword_stuffing": Reason.KEYWORD_STUFFING}


def rule_offence(*, user: User, kind: str, detail: str, text: str = "") -> None:
    """social.rule_offence: the rules throttled something. Repeated offences (``RULES_OFFENCES_FOR_CASE``
    within a day) become a case about the account."""
    ratelimit.hit("offence", user.pk, "RATE_RULE_OFFENCES")
    if ratelimit.used("offence", user.pk, "RATE_RULE_OFFENCES") < settings.RULES_OFFENCES_FOR_CASE:
        return
    reason = OFFENCE_REASON.get(kind, Reason.OTHER)
    do_open_rules_case(user, TargetKind.ACCOUNT, user.pk, reason,
                       _("Repeated offences, latest: %(kind)s — %(detail)s") % {"kind": kind, "detail": detail[:300]})
