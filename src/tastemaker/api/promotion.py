"""The promotion API (``/api/v1/tastemaker/promotion/...``, issue 13): campaigns (create with an
Idempotency-Key, list, get, pause / resume / end, report, audience estimate), standing orders, a viewer's
controls (hide an item, mute an advertiser, opt out of interest targeting) and the operators' review queue.

Campaigns hold and spend wallet money, so their operations need the ``payments`` scope (like the wallet);
the viewer's controls need ``write:accounts``. Only a campaign's owner (and operators) can see or change it:
anyone else gets 404. Handlers are thin: promotion.services and promotion.selectors do the work.
"""

from __future__ import annotations

from ninja import Query, Router

from tastemaker.core.errors import NotFound
from tastemaker.promotion import selectors, services
from tastemaker.promotion.models import AutoPromotion, Campaign

from . import serializers as ser
from .auth import BearerAuth, require_scope
from .common import KEY_HEADER, id_or_404, keyed, optional_id
from .errors import READ, WRITE, responses
from .schemas.promotion import (
    CampaignIn,
    CampaignOut,
    EstimateIn,
    EstimateOut,
    OptOutIn,
    ReportOut,
    ReviewIn,
    StandingOrderIn,
    StandingOrderOut,
    StandingOrderPatch,
)

router = Router(tags=["Promotion"])
user_auth = BearerAuth()
SCOPE = "payments"
BASE = "/v1/tastemaker/promotion"
MOVE = (*WRITE, 409)  # 409: insufficient funds, or a status that no longer allows it
READ_SCOPED = tuple(sorted({*READ, 403}))
SCOPED = " Needs a token with the `payments` scope (campaigns hold and spend wallet money)."


def campaign_json(c: Campaign) -> dict:
    iso = ser.iso
    return {"id": str(c.pk), "owner_id": str(c.owner_id), "tool": c.tool, "name": c.name,
            "post_id": str(c.post_id) if c.post_id else None, "account_id": str(c.account_id) if c.account_id else None,
            "status": c.status, "verticals": c.verticals, "languages": c.languages, "regions": c.regions,
            "lookalike": c.lookalike, "starts_at": iso(c.starts_at), "ends_at": iso(c.ends_at), "currency": c.currency,
            "budget": c.budget, "daily_budget": c.daily_budget, "price_model": c.price_model, "bid": c.bid,
            "spend": c.captured, "committed": c.committed_milli // 1000,
            "hold_id": str(c.hold_id) if c.hold_id else None, "review_flags": c.review_flags,
            "review_note": c.review_note, "paused_by_moderation": c.paused_by_moderation,
            "created_at": iso(c.created_at), "activated_at": iso(c.activated_at), "ended_at": iso(c.ended_at)}


def order_json(o: AutoPromotion) -> dict:
    return {"id": str(o.pk), "tool": o.tool, "vertical": o.vertical.slug if o.vertical else None,
            "weekly_budget": o.weekly_budget, "per_campaign_budget": o.per_campaign_budget, "bid": o.bid,
            "currency": o.currency, "active": o.active, "created_at": ser.iso(o.created_at)}


def _mine(request, campaign_id: str) -> Campaign:
    campaign = selectors.campaign_for(request.user, id_or_404(campaign_id))
    if campaign is None:
        raise NotFound("Record not found")
    return campaign


# --- campaigns -----------------------------------------------------------------------------------------

@router.post(f"{BASE}/campaigns", auth=user_auth, response=responses({201: CampaignOut}, MOVE),
             openapi_extra=KEY_HEADER, summary="Create a campaign (reviewed, then its budget is held)",
             description="422 for bad input (the field is named), 403 below the credit gate or for someone "
                         "else's post, 409 when your wallet cannot hold the budget. Send an `Idempotency-Key`: "
                         "a retry replays the first response and holds nothing again." + SCOPED)
def create_campaign(request, payload: CampaignIn):
    require_scope(request, SCOPE)
    user = request.user

    def act():
        c = services.do_create_campaign(
            user, tool=payload.tool, post_id=optional_id(payload.post_id, "post_id"), budget=payload.budget,
            bid=payload.bid, price_model=payload.price_model, daily_budget=payload.daily_budget,
            currency=payload.currency, starts_at=payload.starts_at, ends_at=payload.ends_at,
            verticals=payload.verticals, languages=payload.languages, regions=payload.regions,
            lookalike=payload.lookalike, name=payload.name, submit=not payload.draft)
        return 201, campaign_json(c)

    return keyed(request, "promotion/campaigns", payload.model_dump(mode="json"), act)


@router.get(f"{BASE}/campaigns", auth=user_auth, response=responses({200: list[CampaignOut]}, READ_SCOPED),
            summary="Your campaigns, newest first (page with max_id)", description=SCOPED)
def list_campaigns(request, max_id: str | None = None, limit: int = Query(20, ge=1, le=80),
                   status: str | None = None):
    require_scope(request, SCOPE)
    before = optional_id(max_id, "max_id")
    return [campaign_json(c) for c in selectors.campaigns_of(request.user, max_id=before, limit=limit,
                                                                status=status)]


@router.get(f"{BASE}/campaigns/{{campaign_id}}", auth=user_auth, response=responses({200: CampaignOut}, READ_SCOPED),
            summary="One of your campaigns", description=SCOPED)
def get_campaign(request, campaign_id: str):
    require_scope(request, SCOPE)
    return campaign_json(_mine(request, campaign_id))


@router.get(f"{BASE}/campaigns/{{campaign_id}}/report", auth=user_auth,
            response=responses({200: ReportOut}, READ_SCOPED),
            summary="A campaign's results: deliveries, impressions, reads, follows, spend, organic vs promoted",
            description=SCOPED)
def campaign_report(request, campaign_id: str):
    require_scope(request, SCOPE)
    c = _mine(request, campaign_id)
    r = selectors.report(c)
    out = {k: getattr(r, k) for k in ("delivered", "impressions", "invalid_impressions", "reads", "engagements",
                                      "follows_gained", "follows_kept", "click_outs", "commissions", "spend",
                                      "committed", "cpm", "cost_per_follow", "organic_median_reads")}
    return {"campaign": campaign_json(c), "reads_vs_organic": r.ratio, **out}


def _control(name: str, summary: str):
    @router.post(f"{BASE}/campaigns/{{campaign_id}}/{name}", auth=user_auth,
                 response=responses({200: CampaignOut}, MOVE), summary=summary,
                 description="409 when the campaign's status does not allow it." + SCOPED,
                 operation_id=f"promotion_campaign_{name}")
    def control(request, campaign_id: str):
        require_scope(request, SCOPE)
        number = id_or_404(campaign_id)
        return campaign_json(getattr(services, f"do_{name}_campaign")(request.user, number))

    return control


pause_campaign = _control("pause", "Pause a campaign (the hold stays)")
resume_campaign = _control("resume", "Resume a paused campaign")
end_campaign = _control("end", "End a campaign; what is not spent goes back to your wallet")
submit_campaign = _control("submit", "Submit a draft for review (and hold its budget once approved)")


@router.post(f"{BASE}/estimate", auth=user_auth, response=responses({200: EstimateOut}, READ_SCOPED),
             summary="How many people a campaign with this targeting could reach", description=SCOPED)
def estimate(request, payload: EstimateIn):
    require_scope(request, SCOPE)
    t = services.clean_targeting(payload.verticals, payload.languages, payload.regions, payload.lookalike)
    return {"audience": selectors.audience_estimate(request.user, payload.tool, t.verticals, t.languages, t.regions,
                                                    t.lookalike)}


# --- the operators' review queue ---------------------------------------------------------------------------

def _operator(request) -> None:
    if not request.user.is_staff:
        raise NotFound("Record not found")


@router.get(f"{BASE}/review", auth=user_auth, response=responses({200: list[CampaignOut]}, READ_SCOPED),
            summary="Operators: campaigns waiting for review, oldest first", description=SCOPED)
def review_queue(request, max_id: str | None = None, limit: int = Query(20, ge=1, le=80)):
    require_scope(request, SCOPE)
    _operator(request)
    return [campaign_json(c) for c in selectors.review_queue(max_id=optional_id(max_id, "max_id"), limit=limit)]


@router.post(f"{BASE}/review/{{campaign_id}}/approve", auth=user_auth, response=responses({200: CampaignOut}, MOVE),
             summary="Operators: approve a campaign (its budget is held, it goes active)",
             description="409 when it is not waiting for review, or the owner's wallet cannot hold it." + SCOPED)
def approve_campaign(request, campaign_id: str, payload: ReviewIn):
    require_scope(request, SCOPE)
    _operator(request)
    return campaign_json(services.do_review_campaign(request.user, id_or_404(campaign_id), approve=True,
                                                     note=payload.note))


@router.post(f"{BASE}/review/{{campaign_id}}/reject", auth=user_auth, response=responses({200: CampaignOut}, MOVE),
             summary="Operators: reject a campaign", description="409 when it is not waiting for review." + SCOPED)
def reject_campaign(request, campaign_id: str, payload: ReviewIn):
    require_scope(request, SCOPE)
    _operator(request)
    return campaign_json(services.do_review_campaign(request.user, id_or_404(campaign_id), approve=False,
                                                     note=payload.note))


# --- standing orders ---------------------------------------------------------------------------------------

@router.get(f"{BASE}/standing_orders", auth=user_auth, response=responses({200: list[StandingOrderOut]}, READ_SCOPED),
            summary="Your standing orders (automatic and recurring promotion)", description=SCOPED)
def list_orders(request):
    require_scope(request, SCOPE)
    return [order_json(o) for o in selectors.standing_orders(request.user)]


@router.post(f"{BASE}/standing_orders", auth=user_auth, response=responses({201: StandingOrderOut}, WRITE),
             summary="Promote each new post (in a vertical) or your account every week, up to a weekly budget",
             description="403 below the credit gate; 422 for bad input." + SCOPED)
def create_order(request, payload: StandingOrderIn):
    require_scope(request, SCOPE)
    o = services.do_create_standing_order(request.user, tool=payload.tool, weekly_budget=payload.weekly_budget,
                                          per_campaign_budget=payload.per_campaign_budget, bid=payload.bid,
                                          vertical=payload.vertical, currency=payload.currency)
    return 201, order_json(o)


@router.patch(f"{BASE}/standing_orders/{{order_id}}", auth=user_auth,
              response=responses({200: StandingOrderOut}, WRITE), summary="Pause, resume or re-budget a standing order",
              description=SCOPED)
def update_order(request, order_id: str, payload: StandingOrderPatch):
    require_scope(request, SCOPE)
    return order_json(services.do_update_standing_order(request.user, id_or_404(order_id), active=payload.active,
                                                        weekly_budget=payload.weekly_budget))


@router.delete(f"{BASE}/standing_orders/{{order_id}}", auth=user_auth, response=responses({200: dict}, WRITE),
               summary="Delete a standing order (campaigns it made run on)", description=SCOPED)
def delete_order(request, order_id: str):
    require_scope(request, SCOPE)
    services.do_delete_standing_order(request.user, id_or_404(order_id))
    return {}


# --- a viewer's controls -----------------------------------------------------------------------------------

@router.post(f"{BASE}/hidden/{{campaign_id}}", auth=user_auth, response=responses({200: dict}, WRITE),
             summary="Hide this promoted item: it is never shown to you again")
def hide_item(request, campaign_id: str):
    require_scope(request, "write:accounts")
    services.do_hide_promotion(request.user, id_or_404(campaign_id))
    return {}


@router.post(f"{BASE}/muted_advertisers/{{account_id}}", auth=user_auth, response=responses({200: dict}, WRITE),
             summary="Mute an advertiser's promotions (its own posts stay as they are)")
def mute_advertiser(request, account_id: str):
    require_scope(request, "write:accounts")
    services.do_mute_advertiser(request.user, id_or_404(account_id))
    return {}


@router.delete(f"{BASE}/muted_advertisers/{{account_id}}", auth=user_auth, response=responses({200: dict}, WRITE),
               summary="Unmute an advertiser's promotions")
def unmute_advertiser(request, account_id: str):
    require_scope(request, "write:accounts")
    services.do_mute_advertiser(request.user, id_or_404(account_id), mute=False)
    return {}


@router.post(f"{BASE}/targeting_opt_out", auth=user_auth, response=responses({200: OptOutIn}, WRITE),
             summary="Opt out of (or back into) interest-based promotion targeting")
def opt_out(request, payload: OptOutIn):
    require_scope(request, "write:accounts")
    services.do_set_targeting_opt_out(request.user, payload.opted_out)
    return {"opted_out": payload.opted_out}
