"""Reports (举报), the moderators' console and an account's own credit page (issue 12).

* ``/flag/<kind>/<id>`` (kind: post, account, card, message): the one-click report under every post, on
  every profile and Showcase card. A page without JavaScript; with htmx the form opens inline under the
  thing reported and answers in place. ("Report" in the UI; the analytics "reports" are another thing.)
* ``/moderation`` (operators only, 404 for everyone else, like ``/ops/payments``): the queue of cases by
  status; ``/moderation/cases/<id>`` a case file with its evidence and the action form;
  ``/moderation/audit`` the append-only audit log; ``/moderation/appeals`` the appeals waiting for another
  operator.
* ``/settings/credit``: the account's standing, what each feature needs, its credit history, the actions
  against it with an appeal form, the moderators' notices (read when the page is seen) and its reports.

Thin, like the other page modules: writes through ``moderation.services``, reads through the selectors.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from tastemaker.accounts import selectors as account_selectors
from tastemaker.accounts.standing import standing
from tastemaker.core.errors import DomainError, NotFound, ValidationFailed
from tastemaker.core.pagination import Page
from tastemaker.moderation import selectors, services
from tastemaker.moderation.models import REPORTER_REASONS, ActionKind, CaseStatus, Reason, TargetKind
from tastemaker.showcase.models import Disclosure
from tastemaker.showcase.selectors import cards_for_posts
from tastemaker.social import selectors as social_selectors
from tastemaker.social.models import Visibility

from .forms import FieldErrors, error_text, show_error
from .helpers import domain_errors, page_number, page_of, safe_next, see_other

QUEUE_PAGE = 20
OWN_LIST = 20  # notices, reports and actions shown on the credit page
FLAG_FIELDS = {"reason": "reason", "kind": "reason", "comment": "note"}
ACT_FIELDS = {"action": "action", "reason": "reason", "credit": "credit"}
# the operator's choices, in this order, as verbs (ActionKind's labels say what was done)
ACT_LABELS = {
    ActionKind.DISMISS: gettext_lazy("Dismiss: no violation"),
    ActionKind.REMOVE: gettext_lazy("Remove the content"),
    ActionKind.LIMIT: gettext_lazy("Limit the account"),
    ActionKind.SUSPEND: gettext_lazy("Suspend the account"),
    ActionKind.RELEASE: gettext_lazy("Release the held content"),
}
STATUS_TABS = {
    CaseStatus.OPEN: gettext_lazy("Open"),
    CaseStatus.ACTIONED: gettext_lazy("Action taken"),
    CaseStatus.DISMISSED: gettext_lazy("Dismissed"),
}
REPORT_OUTCOMES = {
    CaseStatus.OPEN: gettext_lazy("Waiting for the moderators"),
    CaseStatus.ACTIONED: gettext_lazy("The moderators took action"),
    CaseStatus.DISMISSED: gettext_lazy("No violation found"),
}
FLAG_TITLES = {
    TargetKind.POST: gettext_lazy("Report a post"),
    TargetKind.MESSAGE: gettext_lazy("Report a message"),
    TargetKind.ACCOUNT: gettext_lazy("Report an account"),
    TargetKind.CARD: gettext_lazy("Report a Showcase card"),
}


# --- reports (举报) ---------------------------------------------------------------------------

def _flag_return(target: selectors.FlagTarget) -> str:
    """Where the reporter goes back to when the form did not say."""
    if target.kind == TargetKind.ACCOUNT:
        return reverse("web:profile", args=[target.account.username])
    return reverse("web:post", args=[target.target_id])


@login_required
@never_cache
@domain_errors
def flag(request, kind: str, target_id: int):
    """Report a post, message, account or Showcase card: the reason (radio buttons) and an optional note."""
    target = selectors.flag_target(request.user, kind, target_id)
    if target is None:
        raise NotFound(_("Nothing to report here: it does not exist or you cannot see it."))
    if target.account.pk == request.user.pk:
        raise ValidationFailed(_("You cannot report yourself."))
    values = {"reason": "", "note": ""}
    errors: FieldErrors = {}
    status = 200
    back = safe_next(request, _flag_return(target))
    if request.method == "POST":
        values = {"reason": request.POST.get("reason") or "", "note": (request.POST.get("note") or "")[:2000]}
        try:
            services.do_report(request.user, kind, target.target_id, values["reason"], values["note"])
        except NotFound:
            raise
        except DomainError as exc:
            show_error(errors, exc, fields=FLAG_FIELDS, at="general")
            status = exc.status
        else:
            thanks = _("Thanks — the moderators will look at it; you'll be told the outcome.")
            if request.htmx:
                return render(request, "web/moderation/_flag_done.html", {"message": thanks})
            messages.success(request, thanks)
            return see_other(back)
    context = {
        "target": target, "kind": kind, "title": FLAG_TITLES[TargetKind(kind)], "values": values,
        "errors": errors, "back": back, "reasons": [(r.value, r.label) for r in REPORTER_REASONS],
        "note_max": services.NOTE_MAX,
    }
    template = "web/moderation/_flag_form.html" if request.htmx else "web/moderation/flag.html"
    return render(request, template, context, status=status)


# --- the moderators' console ---------------------------------------------------------------------

def _operators_only(request) -> None:
    """Operators only; everyone else gets the same 404 as a page that does not exist (as /ops/payments)."""
    if not request.user.is_staff:
        raise NotFound(_("Page not found."))


@login_required
@never_cache
@domain_errors
def queue(request):
    """Cases by status: open ones most severe first, then oldest first; decided ones newest first."""
    _operators_only(request)
    status = request.GET.get("status") or CaseStatus.OPEN
    if status not in CaseStatus.values:
        status = CaseStatus.OPEN
    number = page_number(request, first=1, last=10_000)
    cases = selectors.queue(status, limit=QUEUE_PAGE + 1, offset=(number - 1) * QUEUE_PAGE)
    counts = selectors.queue_counts()
    return render(request, "web/moderation/queue.html", {
        "cases": cases[:QUEUE_PAGE], "status": status, "page": number,
        "next_page": number + 1 if len(cases) > QUEUE_PAGE else None,
        "previous_page": number - 1 if number > 1 else None,
        "tabs": [(code, label, counts.get(code, 0)) for code, label in STATUS_TABS.items()],
    })


def _case_or_404(case_id: int):
    case = selectors.case(case_id)
    if case is None:
        raise NotFound(_("Case not found."))
    return case


def _label(choices, value) -> str:
    return str(choices(value).label) if value in choices.values else str(value or "")


def _evidence(case) -> list[dict]:
    """The case's snapshots as kept, with the codes in them (visibility, disclosure) as words."""
    shots = []
    for shot in case.evidence or []:
        shot = dict(shot)
        if isinstance(shot.get("post"), dict):
            shot["post"] = {**shot["post"], "visibility_label": _label(Visibility, shot["post"].get("visibility"))}
        if isinstance(shot.get("card"), dict):
            shot["card"] = {**shot["card"], "disclosure_label": _label(Disclosure, shot["card"].get("disclosure"))}
        shots.append(shot)
    return shots


@login_required
@never_cache
@domain_errors
def case_detail(request, case_id: int):
    """A case file and, while it is open, the action form (only the actions that apply to what it is about;
    credit to deduct defaults to what the case's reason costs)."""
    _operators_only(request)
    case = _case_or_404(case_id)
    default_credit = services.DEDUCTION[Reason(case.reason)]
    values = {"action": "", "reason": "", "credit": str(default_credit)}
    errors: FieldErrors = {}
    status = 200
    if request.method == "POST":
        values = {"action": request.POST.get("action") or "", "reason": (request.POST.get("reason") or "")[:2000],
                  "credit": (request.POST.get("credit") or "").strip()[:10]}
        credit: int | None = None
        if values["credit"]:
            try:
                credit = int(values["credit"])
            except ValueError:
                show_error(errors, _("Enter a whole number of points from 0 to %(n)d.") % {"n": services.MAX_DEDUCTION},
                           at="credit")
                status = 422
        if not errors:
            try:
                services.do_act(request.user, case, values["action"], values["reason"], credit)
            except DomainError as exc:
                show_error(errors, exc, fields=ACT_FIELDS, at="general")
                status = exc.status
            else:
                messages.success(request, _("Done: %(what)s.") % {"what": ActionKind(values["action"]).label})
                return see_other(reverse("web:moderation_case", args=[case.pk]))
        case = _case_or_404(case_id)
    return _case_page(request, case, values, errors, status)


def _case_page(request, case, values: dict, errors: FieldErrors, status: int = 200,
               restore_errors: dict[int, list[str]] | None = None):
    file = selectors.case_file(case)
    allowed = services.ACTIONS_FOR[TargetKind(case.target_kind)]
    current_card = None
    if case.target_kind == TargetKind.CARD:
        current_card = cards_for_posts([case.target_id]).get(case.target_id)
    reversed_ids = selectors.reversed_action_ids([a.pk for a in file.actions])
    restore_errors = restore_errors or {}
    actions = [{"action": a, "appeal": file.appeals.get(a.pk), "reversed": a.pk in reversed_ids,
                "restorable": a.kind in services.APPEALABLE and a.pk not in reversed_ids,
                "errors": restore_errors.get(a.pk, [])} for a in file.actions]
    return render(request, "web/moderation/case.html", {
        "case": case, "file": file, "evidence": _evidence(case), "current_card": current_card, "values": values,
        "errors": errors,
        "choices": [(kind.value, label) for kind, label in ACT_LABELS.items() if kind in allowed],
        "default_credit": services.DEDUCTION[Reason(case.reason)], "max_credit": services.MAX_DEDUCTION,
        "actions": actions, "own_case": case.account_id == request.user.pk,
    }, status=status)


@login_required
@require_POST
@domain_errors
def action_restore(request, action_id: int):
    """Undo an action of a case without an appeal (lift a limit or suspension, put removed content back);
    the credit it took stays taken (a granted appeal gives it back)."""
    _operators_only(request)
    action = selectors.action(action_id)
    if action is None or action.case_id is None:
        raise NotFound(_("Action not found."))
    case = _case_or_404(action.case_id)
    try:
        services.do_restore(request.user, action, request.POST.get("reason") or "")
    except DomainError as exc:
        values = {"action": "", "reason": "", "credit": str(services.DEDUCTION[Reason(case.reason)])}
        return _case_page(request, case, values, {}, exc.status, {action.pk: [error_text(exc)]})
    messages.success(request, _("Restored: what the action took is given back; its credit stays deducted."))
    return see_other(reverse("web:moderation_case", args=[case.pk]) + "#actions")


@login_required
@never_cache
@domain_errors
def audit(request):
    """The audit log, newest first (keyset pages), optionally one account's (by name or id)."""
    _operators_only(request)
    page = page_of(request)
    who = (request.GET.get("account") or "").strip()[:40]
    account_id = None
    error = ""
    if who:
        account = social_selectors.get_account(who, include_suspended=True)
        if account is not None:
            account_id = account.pk
        elif who.isdigit():
            account_id = int(who)  # an account that is gone: the log keeps its id
        else:
            error = _("No account is called %(name)s.") % {"name": who}
    rows = [] if error else selectors.audit_log(page, account_id)
    return render(request, "web/moderation/audit.html", {
        "rows": rows, "who": who, "filter_error": error,
        "next_max_id": rows[-1].pk if len(rows) >= page.limit else None,
    }, status=422 if error else 200)


def _appeals_page(request, errors: dict[int, list[str]] | None = None, values: dict[int, dict] | None = None,
                  status: int = 200):
    errors, values = errors or {}, values or {}
    rows = [{"appeal": a, "errors": errors.get(a.pk, []), "values": values.get(a.pk, {}),
             "own": a.action.operator_id == request.user.pk} for a in selectors.pending_appeals()]
    return render(request, "web/moderation/appeals.html", {"rows": rows}, status=status)


@login_required
@never_cache
@domain_errors
def appeals(request):
    """Appeals waiting for a decision, oldest first, each with its decide form."""
    _operators_only(request)
    return _appeals_page(request)


@login_required
@require_POST
@domain_errors
def appeal_decide(request, appeal_id: int):
    """Uphold or overturn an appeal (the service refuses the operator who acted)."""
    _operators_only(request)
    appeal = selectors.appeal(appeal_id)
    if appeal is None:
        raise NotFound(_("Appeal not found."))
    decision = request.POST.get("decision") or ""
    reason = (request.POST.get("reason") or "")[:2000]
    try:
        if decision not in ("uphold", "overturn"):
            raise ValidationFailed(_("Choose: the action stands, or overturn it."), field="decision")
        services.do_decide_appeal(request.user, appeal, overturn=decision == "overturn", decision=reason)
    except DomainError as exc:
        return _appeals_page(request, {appeal.pk: [error_text(exc)]},
                             {appeal.pk: {"decision": decision, "reason": reason}}, exc.status)
    messages.success(request, _("Appeal decided: the action is overturned.") if decision == "overturn"
                     else _("Appeal decided: the action stands."))
    return see_other(reverse("web:moderation_appeals"))


# --- the account's own credit page ----------------------------------------------------------------

def _credit_page(request, errors: dict[int, list[str]] | None = None, texts: dict[int, str] | None = None,
                 status: int = 200):
    user = request.user
    page = page_of(request)
    history = account_selectors.credit_history(user, page)
    notices = selectors.notices(user, Page(limit=OWN_LIST))
    unread = {n.pk for n in notices if not n.read}
    if unread:
        services.do_mark_notices_read(user)  # seen now (the navigation's indicator goes out)
    errors, texts = errors or {}, texts or {}
    actions = [{"item": item, "errors": errors.get(item.action.pk, []), "text": texts.get(item.action.pk, "")}
               for item in selectors.actions_against(user, limit=OWN_LIST)]
    reports = [(r, REPORT_OUTCOMES.get(CaseStatus(r.case.status))) for r in selectors.reports_by(user, Page(limit=OWN_LIST))]
    return render(request, "web/moderation/credit.html", {
        "standing": standing(user), "gates": selectors.feature_gates(user),
        "history": history, "next_max_id": history[-1].pk if len(history) >= page.limit else None,
        "paged": page.max_id is not None, "notices": notices, "unread": unread, "actions": actions,
        "reports": reports,
    }, status=status)


@login_required
@never_cache
@domain_errors
def credit(request):
    """The account's credit score and standing, what it may do, its history, actions, notices and reports."""
    return _credit_page(request)


@login_required
@require_POST
@domain_errors
def credit_appeal(request, action_id: int):
    """Appeal an action against your account (once per action)."""
    action = selectors.action(action_id)
    if action is None or action.account_id != request.user.pk:
        raise NotFound(_("Action not found."))
    text = (request.POST.get("text") or "")[:4000]
    try:
        services.do_appeal(request.user, action, text)
    except NotFound:
        raise
    except DomainError as exc:
        return _credit_page(request, {action.pk: [error_text(exc)]}, {action.pk: text}, exc.status)
    messages.success(request, _("Your appeal is sent. Another moderator will decide it; the decision will "
                                "appear on this page."))
    return see_other(reverse("web:credit") + "#actions")
