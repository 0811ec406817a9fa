"""Reports (举报) and an account's own standing: Mastodon's ``POST /api/v1/reports``, Tastemaker's reports of
Showcase cards and messages, the credit score with its gates and history, actions against the account,
appeals and notices. The operators' side is the web console (/moderation)."""

from __future__ import annotations

from typing import Literal

from django.http import HttpResponse
from ninja import Field, Router, Schema

from tastemaker.accounts import selectors as account_selectors
from tastemaker.accounts.standing import Feature, gate, standing
from tastemaker.core.errors import NotFound
from tastemaker.moderation import selectors, services
from tastemaker.moderation.models import Reason

from . import schemas as S
from . import serializers as ser
from .auth import BearerAuth, require_scope
from .common import id_or_404, page, set_links
from .errors import READ, responses

router = Router()
user_auth = BearerAuth()

# Mastodon's report categories, read as Tastemaker's reasons (a client may send Tastemaker's own instead)
CATEGORY = {"spam": Reason.SPAM, "legal": Reason.ILLEGAL, "violation": Reason.OTHER, "other": Reason.OTHER}
REVERSE_CATEGORY = {Reason.SPAM: "spam", Reason.ILLEGAL: "legal"}


class ReportIn(Schema):
    account_id: str
    status_ids: list[str] = Field(default_factory=list, max_length=20)
    comment: str = Field("", description="At most 1,000 characters")
    forward: bool = False
    category: str | None = Field(None, description="spam, legal, violation or other")
    rule_ids: list[str] = Field(default_factory=list, max_length=20)
    reason: str | None = Field(None, description="Tastemaker: spam, scam, undisclosed_ad, harassment, sexual, "
                                                  "illegal or other (instead of category)")


class ReportOut(Schema):
    id: str
    action_taken: bool
    action_taken_at: str | None
    category: str
    comment: str
    forwarded: bool
    created_at: str
    status_ids: list[str] | None
    rule_ids: list[str] | None
    target_account: S.Account
    reason: str = Field(description="Tastemaker's reason")


class ContentReportIn(Schema):
    kind: Literal["post", "account", "card", "message"]
    id: str
    reason: str
    comment: str = ""


class GateOut(Schema):
    feature: str
    allowed: bool
    reason: str
    restore: str


class CreditOut(Schema):
    score: int
    band: str
    band_label: str
    state: str
    limited_by_operator: bool
    gates: list[GateOut]


class CreditChangeOut(Schema):
    id: str
    delta: int
    score_after: int
    reason: str
    reason_label: str
    note: str
    case_id: str | None
    created_at: str


class AppealOut(Schema):
    id: str
    status: str
    text: str
    decision: str
    created_at: str
    decided_at: str | None


class ActionOut(Schema):
    id: str
    kind: str
    label: str
    reason: str
    credit_delta: int
    target_kind: str
    target_id: str | None
    created_at: str
    appealable: bool
    appeal: AppealOut | None


class AppealIn(Schema):
    text: str


class NoticeOut(Schema):
    id: str
    kind: str
    text: str
    read: bool
    case_id: str | None
    created_at: str


def _report(request, report) -> dict:
    case = report.case
    post_ids = report.post_ids or ([report.target_id] if report.target_kind == "post" else [])
    return {
        "id": str(report.pk), "action_taken": case.status != "open", "action_taken_at": ser.iso(case.decided_at),
        "category": REVERSE_CATEGORY.get(Reason(report.reason), "other"), "comment": report.note,
        "forwarded": False, "created_at": ser.iso(report.created_at),
        "status_ids": [str(p) for p in post_ids] or None, "rule_ids": None,
        "target_account": ser.account(case.account, ser.Ctx(request)), "reason": report.reason,
    }


@router.post("/v1/reports", auth=user_auth, response=responses({200: ReportOut}), tags=["moderation"],
             summary="Report an account (and some of its posts) to the moderators")
def create_report(request, payload: ReportIn):
    require_scope(request, "write:reports")
    reason = payload.reason or CATEGORY.get((payload.category or "other").lower(), "")
    if payload.status_ids and len(payload.status_ids) == 1:
        # one post: a case about that post (the moderators can remove it); several: about the account
        report = services.do_report(request.user, "post", payload.status_ids[0], reason, payload.comment)
    else:
        report = services.do_report(request.user, "account", payload.account_id, reason, payload.comment,
                                    post_ids=payload.status_ids)
    return _report(request, report)


@router.post("/v1/tastemaker/flags", auth=user_auth, response=responses({200: ReportOut}), tags=["moderation"],
             summary="Report a post, account, message or Showcase card")
def create_content_report(request, payload: ContentReportIn):
    require_scope(request, "write:reports")
    report = services.do_report(request.user, payload.kind, payload.id, payload.reason, payload.comment)
    return _report(request, report)


@router.get("/v1/tastemaker/credit", auth=user_auth, response=responses({200: CreditOut}, READ),
            tags=["moderation"], summary="Your credit score, standing and which features it opens")
def credit(request):
    require_scope(request, "read:accounts")
    s = standing(request.user)
    gates = []
    for feature in Feature:
        g = gate(request.user, feature)
        gates.append({"feature": feature.value, "allowed": g.allowed, "reason": g.reason, "restore": g.restore})
    return {"score": s.score, "band": s.band, "band_label": s.band_label, "state": s.state.value,
            "limited_by_operator": s.limited_by_operator, "gates": gates}


@router.get("/v1/tastemaker/credit/history", auth=user_auth, response=responses({200: list[CreditChangeOut]}, READ),
            tags=["moderation"], summary="Every change of your credit score, newest first")
def credit_history(request, response: HttpResponse):
    require_scope(request, "read:accounts")
    rows = account_selectors.credit_history(request.user, page(request))
    set_links(request, response, rows[0].pk if rows else None, rows[-1].pk if rows else None)
    return [{"id": str(c.pk), "delta": c.delta, "score_after": c.score_after, "reason": c.reason,
             "reason_label": str(c.get_reason_display()), "note": c.note,
             "case_id": str(c.case_id) if c.case_id else None, "created_at": ser.iso(c.created_at)} for c in rows]


def _appeal(a) -> dict | None:
    if a is None:
        return None
    return {"id": str(a.pk), "status": a.status, "text": a.text, "decision": a.decision,
            "created_at": ser.iso(a.created_at), "decided_at": ser.iso(a.decided_at)}


@router.get("/v1/tastemaker/moderation/actions", auth=user_auth, response=responses({200: list[ActionOut]}, READ),
            tags=["moderation"], summary="Moderation actions on your account or content, with their appeals")
def my_actions(request):
    require_scope(request, "read:accounts")
    return [{"id": str(x.action.pk), "kind": x.action.kind, "label": str(x.action.get_kind_display()),
             "reason": x.action.reason, "credit_delta": x.action.credit_delta, "target_kind": x.action.target_kind,
             "target_id": str(x.action.target_id) if x.action.target_id else None,
             "created_at": ser.iso(x.action.created_at), "appealable": x.appealable, "appeal": _appeal(x.appeal)}
            for x in selectors.actions_against(request.user)]


@router.post("/v1/tastemaker/moderation/actions/{action_id}/appeal", auth=user_auth,
             response=responses({200: AppealOut, 409: S.Error}), tags=["moderation"],
             summary="Appeal a moderation action (another operator decides)")
def appeal(request, action_id: str, payload: AppealIn):
    require_scope(request, "write:accounts")
    action = selectors.action(id_or_404(action_id))
    if action is None or action.account_id != request.user.pk:
        raise NotFound("Record not found")
    return _appeal(services.do_appeal(request.user, action, payload.text))


@router.get("/v1/tastemaker/moderation/notices", auth=user_auth, response=responses({200: list[NoticeOut]}, READ),
            tags=["moderation"], summary="Messages from the moderators: report outcomes, actions, appeal decisions")
def notices(request, response: HttpResponse):
    require_scope(request, "read:notifications")
    rows = selectors.notices(request.user, page(request))
    set_links(request, response, rows[0].pk if rows else None, rows[-1].pk if rows else None)
    return [{"id": str(n.pk), "kind": n.kind, "text": n.text, "read": n.read,
             "case_id": str(n.case_id) if n.case_id else None, "created_at": ser.iso(n.created_at)} for n in rows]
