"""Discovery and expert endpoints: Mastodon's follow suggestions (``/api/v2/suggestions``) and
Tastemaker's own verticals, ability labels, expert directory, interests, appeals and applications."""

from __future__ import annotations

import json

from django.http import HttpResponse
from ninja import Query, Router

from tastemaker.analytics.filters import device_class, request_reason
from tastemaker.core.errors import NotFound
from tastemaker.core.ids import parse_id
from tastemaker.discovery import selectors as discovery
from tastemaker.discovery import services as discovery_services
from tastemaker.experts import selectors as experts
from tastemaker.experts import services as experts_services
from tastemaker.promotion import selectors as promotion
from tastemaker.promotion import services as promotion_services
from tastemaker.social import selectors as social
from tastemaker.trust.ratelimit import check_and_hit

from . import schemas as S
from . import serializers as ser
from .auth import BearerAuth, OptionalAuth, require_scope, viewer
from .errors import READ, WRITE, responses
from .schemas.discovery import (
    AppealIn,
    ApplicationIn,
    ClassifyIn,
    ClassifyOut,
    ExpertOut,
    InterestOut,
    InterestsIn,
    LabelOut,
    ReviewOut,
    Suggestion,
    VerticalOut,
)

router = Router()
user_auth = BearerAuth()
optional_auth = OptionalAuth()


# --- helpers --------------------------------------------------------------------------------

def _vertical(v) -> dict:
    return {"slug": v.slug, "name": v.name, "name_en": v.name_en, "name_zh": v.name_zh}


def _label(label, badges: set[str]) -> dict:
    return {"vertical": _vertical(label.vertical), "score": label.score, "share": label.share,
            "engagement": label.engagement, "consistency": label.consistency, "post_count": label.post_count,
            "reason": experts.reason_text(label), "terms": experts.terms_for_display(label),
            "sample_status_ids": [str(i) for i in (label.sample_post_ids or [])],
            "expert": label.vertical.slug in badges}


def _vertical_or_404(slug: str):
    vertical = experts.vertical_by_slug(slug)
    if vertical is None:
        raise NotFound("Record not found")
    return vertical


def _interests(user) -> list[dict]:
    return [{"vertical": _vertical(i.vertical), "picked": i.picked, "learned_weight": i.learned_weight,
             "hidden": i.hidden, "weight": i.weight} for i in discovery.interests(user)]


def _review(obj) -> dict:
    return {"id": str(obj.pk), "vertical": obj.vertical.slug, "status": obj.status,
            "created_at": ser.iso(obj.created_at)}


# --- Mastodon: suggestions ------------------------------------------------------------------

@router.get("/v2/suggestions", auth=user_auth, response=responses({200: list[Suggestion]}, READ),
            tags=["discovery"], summary="Accounts to follow, each with its sources and a reason")
def suggestions(request, limit: int = Query(40, ge=1, le=80)):
    require_scope(request, "read:accounts")
    # paid promotion (Account Recommendation) first, marked; their serves and impressions recorded
    promoted = promotion.promoted_suggestions(request.user)
    if promoted:
        promotion_services.do_record_delivery(
            request.user, [s.pick for s in promoted],
            reason=request_reason(request), device=device_class(request.META.get("HTTP_USER_AGENT", "")))
    rows = promotion.merge_suggestions(promoted, discovery.suggestions(request.user, limit=limit), limit)
    ctx = ser.Ctx(request)
    body = [{"source": s.source, "sources": s.sources, "account": ser.account(s.account, ctx),
             "tastemaker": {"reason": s.reason, "kind": s.kind,
                            "vertical": s.vertical.slug if s.vertical else None},
             "tastemaker_promoted": ser.promoted_mark(s.pick) if s.kind == "promoted" else None} for s in rows]
    # built by the reference serializer from trusted rows: skip re-validating 40 accounts through
    # pydantic on every call (a hot endpoint); the declared schema is still checked by the fuzz tests
    return HttpResponse(json.dumps(body, ensure_ascii=False), content_type="application/json")


@router.delete("/v1/suggestions/{account_id}", auth=user_auth, response=responses({200: dict}, WRITE),
               tags=["discovery"], summary="Never suggest this account again")
def dismiss_suggestion(request, account_id: str):
    require_scope(request, "write:accounts")
    number = parse_id(account_id)
    if number is None:
        raise NotFound("Record not found")
    discovery_services.do_dismiss_suggestion(request.user, number)
    return {}


# --- Tastemaker: verticals, labels, directory -----------------------------------------------

@router.get("/v1/tastemaker/verticals", auth=optional_auth, response=responses({200: list[VerticalOut]}, READ),
            tags=["experts"], summary="The verticals taxonomy")
def verticals(request):
    return [_vertical(v) for v in experts.verticals()]


@router.get("/v1/tastemaker/verticals/{slug}/experts", auth=optional_auth,
            response=responses({200: list[ExpertOut]}, READ), tags=["experts"],
            summary="The expert directory of a vertical, ranked by ability")
def vertical_experts(request, slug: str, limit: int = Query(20, ge=1, le=40), offset: int = Query(0, ge=0, le=10000)):
    vertical = _vertical_or_404(slug)
    labels = experts.directory(vertical, viewer(request), limit=limit, offset=offset)
    badge_map = experts.badge_map([lab.user_id for lab in labels])
    ctx = ser.Ctx(request)
    return [{"account": ser.account(lab.user, ctx), "label": _label(lab, set(badge_map.get(lab.user_id, [])))}
            for lab in labels]


@router.get("/v1/tastemaker/verticals/{slug}/statuses", auth=optional_auth,
            response=responses({200: list[S.Status]}, READ), tags=["discovery"],
            summary="Posts in a vertical, ranked by freshness, expert ability and engagement")
def vertical_statuses(request, response: HttpResponse, slug: str, limit: int = Query(20, ge=1, le=40),
                      offset: int = Query(0, ge=0, le=10000)):
    vertical = _vertical_or_404(slug)
    posts = discovery.vertical_posts(viewer(request), vertical, limit=limit, offset=offset)
    state = social.hydrate(posts, viewer(request))
    ctx = ser.load_cards(ser.Ctx(request, state), posts)
    return [ser.status(p, ctx) for p in posts]


@router.get("/v1/tastemaker/accounts/{account_id}/labels", auth=optional_auth,
            response=responses({200: list[LabelOut]}, READ), tags=["experts"],
            summary="An account's ability labels, each with its reason")
def account_labels(request, account_id: str):
    number = parse_id(account_id)
    account = social.get_account(number) if number is not None else None
    if account is None:
        raise NotFound("Record not found")
    badges = {b.vertical.slug for b in experts.badges(account)}
    return [_label(lab, badges) for lab in experts.visible_labels(account)]


@router.post("/v1/tastemaker/labels/classify", auth=user_auth, response=responses({200: ClassifyOut}, WRITE),
             tags=["experts"], summary="Which vertical a text is about (the labeler, as the CLI)")
def classify(request, payload: ClassifyIn):
    require_scope(request, "read")
    check_and_hit("interact", request.user.pk, "RATE_INTERACT")
    found = experts.classify(payload.text)  # never waits for the model: ready=false while it loads
    return {"ready": found.ready, "vertical": found.vertical, "confidence": found.confidence,
            "scores": found.scores or {}, "terms": found.terms or []}


@router.post("/v1/tastemaker/labels/{slug}/appeal", auth=user_auth, response=responses({200: ReviewOut}, WRITE),
             tags=["experts"], summary="Appeal one of your labels (or a missing one); operators review it")
def appeal(request, slug: str, payload: AppealIn):
    require_scope(request, "write:accounts")
    vertical = _vertical_or_404(slug)
    return _review(experts_services.do_appeal_label(request.user, vertical, payload.message, payload.kind))


@router.post("/v1/tastemaker/expert_applications", auth=user_auth, response=responses({200: ReviewOut}, WRITE),
             tags=["experts"], summary="Apply for expert status in a vertical")
def apply_expert(request, payload: ApplicationIn):
    require_scope(request, "write:accounts")
    vertical = _vertical_or_404(payload.vertical)
    return _review(experts_services.do_apply_for_expert(request.user, vertical, payload.statement))


# --- interests ------------------------------------------------------------------------------

@router.get("/v1/tastemaker/interests", auth=user_auth, response=responses({200: list[InterestOut]}, READ),
            tags=["discovery"], summary="Your interests: picked and learned from what you engage with")
def get_interests(request):
    require_scope(request, "read:accounts")
    return _interests(request.user)


@router.put("/v1/tastemaker/interests", auth=user_auth, response=responses({200: list[InterestOut]}, WRITE),
            tags=["discovery"], summary="Set the verticals you pick (learned ones stay unless removed)")
def put_interests(request, payload: InterestsIn):
    require_scope(request, "write:accounts")
    found = experts.verticals_by_slug(payload.verticals)
    unknown = sorted({s.strip().lower() for s in payload.verticals} - {v.slug for v in found})
    if unknown:
        from tastemaker.core.errors import ValidationFailed

        raise ValidationFailed(f"Unknown verticals: {', '.join(unknown)[:200]}", field="verticals")
    discovery_services.do_set_interests(request.user, found)
    return _interests(request.user)


@router.delete("/v1/tastemaker/interests/{slug}", auth=user_auth, response=responses({200: list[InterestOut]}, WRITE),
               tags=["discovery"], summary="Remove an interest (picked or learned)")
def delete_interest(request, slug: str):
    require_scope(request, "write:accounts")
    discovery_services.do_remove_interest(request.user, _vertical_or_404(slug))
    return _interests(request.user)
