"""Promotion pages (issue 13, 粉丝经济): the campaign composer, one's campaigns and a campaign's live figures,
standing orders (自动投放), the operators' review queue and revenue, and everyone's promoted-content controls.

* ``/promote/post/<id>``, ``/promote/account``: the composer (tool, targeting, schedule, budget and bid in
  the currency's units, parsed exactly by ``core.money``), with an audience estimate refreshed by htmx
  (``/promote/estimate``) and the wallet's balance; the create POST carries an idempotency key, like the
  wallet's forms, so a double submit never holds the budget twice;
* ``/promote``: one's campaigns; ``/promote/<id>``: a campaign's figures, polled every 2 s; its CSV;
  ``/promote/<id>/<pause|resume|end>``;
* ``/promote/auto``: standing orders; ``/moderation/promotion``: the review queue and the revenue page
  (operators only, 404 for everyone else);
* ``/settings/promotion``: opt out of interest-based targeting, unmute advertisers; ``/promoted/<id>/<hide|mute>``:
  the controls on a promoted item.

Thin: the rules are ``promotion.services``; the reads ``promotion.selectors`` (lists, report, estimate,
review queue, standing orders) and ``promotion.pages`` (what only these pages need).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from tastemaker.accounts.standing import Feature, gate
from tastemaker.core.errors import NotFound, ValidationFailed
from tastemaker.core.ids import parse_id
from tastemaker.core.money import format_amount
from tastemaker.experts import selectors as experts
from tastemaker.payments import idempotency
from tastemaker.payments import selectors as payments
from tastemaker.promotion import pages, selectors, services
from tastemaker.promotion.models import CampaignStatus, PriceModel, Tool

from .charts import bar_chart
from .forms import FieldErrors, show_error
from .helpers import (
    amount_field,
    csv_response,
    domain_errors,
    iso_bucket,
    keyed_form,
    posted,
    safe_next,
    see_other,
)
from .views_reports import GRANULARITY_LABELS, breakdown_tables

PAGE = 20
CURRENCY = "CNY"
PILLS = {CampaignStatus.ACTIVE: "ok", CampaignStatus.PENDING_REVIEW: "wait", CampaignStatus.PAUSED: "wait",
         CampaignStatus.DRAFT: "wait", CampaignStatus.REJECTED: "bad", CampaignStatus.EXHAUSTED: "done",
         CampaignStatus.ENDED: "done"}
COMPOSER_FIELDS = {"budget": "budget_amount", "bid": "bid_amount", "daily_budget": "daily_amount",
                   "verticals": "verticals", "languages": "languages", "regions": "regions", "tool": "tool",
                   "price_model": "price_model", "starts_at": "starts_at", "ends_at": "ends_at", "currency": "budget_amount"}


def _staff_only(request) -> None:
    if not request.user.is_staff:
        raise NotFound(_("Page not found."))


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.replace("，", ",").split(",") if p.strip()][:50]


def _when(text: str, field: str, errors: FieldErrors) -> datetime | None:
    """A ``datetime-local`` value in the current time zone (empty: None)."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        show_error(errors, _("Write the time as YYYY-MM-DD HH:MM."), at=field)
        return None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _targeting(values: dict, errors: FieldErrors) -> services.Targeting | None:
    try:
        return services.clean_targeting(values["verticals"], _split(values["languages"]), _split(values["regions"]),
                                        values["lookalike"])
    except ValidationFailed as exc:
        show_error(errors, exc, fields=COMPOSER_FIELDS)
        return None


# --- the composer -----------------------------------------------------------------------------

def _composer_values(request, subject: str) -> dict:
    tools = [t for t, _label in pages.tools_for(subject)]
    if request.method == "POST":
        values = posted(request, "tool", "name", "languages", "regions", "starts_at", "ends_at", "budget_amount",
                        "daily_amount", "bid_amount", "price_model")
        values["verticals"] = [v[:40] for v in request.POST.getlist("verticals")[:50]]
        values["lookalike"] = request.POST.get("lookalike") == "on"
    else:
        values = {"tool": tools[0], "name": "", "languages": "", "regions": "", "starts_at": "", "ends_at": "",
                  "budget_amount": "", "daily_amount": "", "bid_amount": "", "verticals": [], "lookalike": False,
                  "price_model": ""}
    if values["tool"] not in tools:
        values["tool"] = tools[0]
    if values["tool"] == Tool.FAN_HEADLINE:
        values["price_model"] = PriceModel.CPM
    elif values["tool"] == Tool.ACCOUNT_REC:
        values["price_model"] = PriceModel.CPF
    elif values["price_model"] not in PriceModel.values:
        values["price_model"] = PriceModel.CPM
    return values


def _composer_page(request, subject: str, post, values: dict, errors: FieldErrors | None = None,
                   status: int = 200) -> HttpResponse:
    balance = payments.balance(request.user, CURRENCY)
    context = {
        "subject": subject, "post": post, "values": values, "errors": errors or {},
        "tools": pages.tools_for(subject), "verticals": experts.verticals(),
        "price_models": PriceModel.choices,
        "balance": balance, "currency": CURRENCY, "key": idempotency.new_key(),
        "gate": gate(request.user, Feature.PROMOTION),  # refused before paying: say why and what restores it
        "min_bid": format_amount(settings.PROMOTION_MIN_BID, CURRENCY),
        "min_budget": format_amount(settings.PROMOTION_MIN_BUDGET, CURRENCY),
        "estimate": _estimate(request.user, values) if not errors else None,
        "action": (reverse("web:promote_post", args=[post.pk]) if post is not None
                   else reverse("web:promote_account")),
    }
    return render(request, "web/promotion/compose.html", context, status=status)


def _estimate(user, values: dict) -> int | None:
    errors: FieldErrors = {}
    targeting = _targeting(values, errors)
    if targeting is None:
        return None
    if values["tool"] == Tool.FAN_HEADLINE:
        return selectors.audience_estimate(user, Tool.FAN_HEADLINE)
    return selectors.audience_estimate(user, values["tool"], verticals=targeting.verticals,
                                   languages=targeting.languages, regions=targeting.regions,
                                   lookalike=targeting.lookalike)


def _compose(request, subject: str, post):
    values = _composer_values(request, subject)
    if request.method != "POST":
        return _composer_page(request, subject, post, values)
    errors: FieldErrors = {}
    budget = amount_field(values, "budget", CURRENCY, errors)
    bid = amount_field(values, "bid", CURRENCY, errors)
    daily = amount_field(values, "daily", CURRENCY, errors) if values["daily_amount"] else None
    starts_at = _when(values["starts_at"], "starts_at", errors)
    ends_at = _when(values["ends_at"], "ends_at", errors)
    tool = values["tool"]
    targeting = _targeting(values, errors)
    if tool == Tool.FAN_HEADLINE and targeting is not None and (
            targeting.verticals or targeting.languages or targeting.regions or targeting.lookalike):
        show_error(errors, _("A Fan Headline reaches your followers: it takes no targeting."), at="tool")
    if errors or targeting is None or budget is None or bid is None:
        return _composer_page(request, subject, post, values, errors, 422)
    user = request.user
    body = {"tool": tool, "post": post.pk if post is not None else None, "budget": budget, "bid": bid,
            "daily": daily, "price_model": values["price_model"], "name": values["name"],
            "starts_at": starts_at.isoformat() if starts_at else None,
            "ends_at": ends_at.isoformat() if ends_at else None, "verticals": targeting.verticals,
            "languages": targeting.languages, "regions": targeting.regions, "lookalike": targeting.lookalike}

    def act():
        campaign = services.do_create_campaign(
            user, tool=tool, post_id=post.pk if post is not None else None, budget=budget, bid=bid,
            price_model=values["price_model"], daily_budget=daily, currency=CURRENCY, starts_at=starts_at,
            ends_at=ends_at, verticals=targeting.verticals, languages=targeting.languages,
            regions=targeting.regions, lookalike=targeting.lookalike, name=values["name"])
        return 303, {"campaign": str(campaign.pk), "status": campaign.status}

    data, status = keyed_form(request, body, act, errors, "general", COMPOSER_FIELDS)
    if data is None:
        return _composer_page(request, subject, post, values, errors, status)
    if data["status"] == CampaignStatus.PENDING_REVIEW:
        messages.info(request, _("Your campaign waits for an operator's review; the budget is held only once "
                                 "it is approved."))
    else:
        messages.success(request, _("Your campaign is live. Its budget is on hold in your wallet; what is not "
                                    "spent comes back when it ends."))
    return see_other(reverse("web:promote_campaign", args=[int(data["campaign"])]))


@login_required
@never_cache
@domain_errors
def compose_post(request, post_id: int):
    post = pages.post_to_promote(request.user, post_id)
    return _compose(request, "post", post)


@login_required
@never_cache
@domain_errors
def compose_account(request):
    return _compose(request, "account", None)


@login_required
@require_GET
@domain_errors
def estimate(request):
    """The audience estimate for the composer's targeting (an htmx fragment)."""
    subject = "account" if request.GET.get("tool") == Tool.ACCOUNT_REC else "post"
    values = {"tool": request.GET.get("tool", ""), "verticals": request.GET.getlist("verticals")[:50],
              "languages": request.GET.get("languages", "")[:200], "regions": request.GET.get("regions", "")[:200],
              "lookalike": request.GET.get("lookalike") == "on"}
    if values["tool"] not in [t for t, _label in pages.tools_for(subject)]:
        values["tool"] = Tool.FAN_HEADLINE
    errors: FieldErrors = {}
    targeting = _targeting(values, errors)
    count = _estimate(request.user, values) if targeting is not None else None
    status = 200 if targeting is not None else 422
    return render(request, "web/promotion/_estimate.html", {"estimate": count, "errors": errors,
                                                            "values": values}, status=status)


# --- one's campaigns ---------------------------------------------------------------------------

def _row(campaign) -> dict:
    return {"c": campaign, "pill": PILLS.get(campaign.status, "wait"),
            "status": CampaignStatus(campaign.status).label, "tool": Tool(campaign.tool).label}


@login_required
@require_GET
@never_cache
@domain_errors
def campaigns(request):
    raw = request.GET.get("max_id") or ""
    max_id = parse_id(raw) if raw else None
    rows = selectors.campaigns_of(request.user, max_id=max_id, limit=PAGE)
    older = f"?max_id={rows[-1].pk}" if len(rows) == PAGE else None
    return render(request, "web/promotion/campaigns.html", {"rows": [_row(c) for c in rows], "older_url": older,
                                                            "balance": payments.balance(request.user, CURRENCY)})


def _campaign_context(request, campaign) -> dict:
    granularity = request.GET.get("granularity", "hour")
    if granularity not in GRANULARITY_LABELS:
        granularity = "hour"
    figures = selectors.report(campaign)
    buckets, delivered, billed = pages.campaign_series(campaign, granularity)
    metric, breakdowns = pages.campaign_breakdowns(campaign)
    return {"campaign": campaign, "tables": breakdown_tables(breakdowns, metric), "row": _row(campaign), "f": figures, "granularity": granularity,
            "organic_impressions": pages.organic_impressions(campaign),
            "left": max(0, campaign.budget - figures.committed),
            "granularities": list(GRANULARITY_LABELS.items()),
            "chart": bar_chart(buckets, delivered, granularity,
                               f"{_('Delivered')} · {GRANULARITY_LABELS[granularity]}"),
            "billed_chart": bar_chart(buckets, billed, granularity,
                                      f"{_('Billed')} · {GRANULARITY_LABELS[granularity]}"),
            "query": request.GET.urlencode(), "cpf": campaign.price_model == PriceModel.CPF}


def _campaign_or_404(request, campaign_id: int):
    c = selectors.campaign_for(request.user, campaign_id)
    if c is None:
        raise NotFound(_("Campaign not found."))
    return c


@login_required
@require_GET
@never_cache
@domain_errors
def campaign(request, campaign_id: int):
    c = _campaign_or_404(request, campaign_id)
    template = "web/promotion/_campaign_live.html" if request.htmx else "web/promotion/campaign.html"
    return render(request, template, _campaign_context(request, c))


@login_required
@require_GET
@domain_errors
def campaign_csv(request, campaign_id: int):
    c = _campaign_or_404(request, campaign_id)
    granularity = request.GET.get("granularity", "hour")
    if granularity not in GRANULARITY_LABELS:
        granularity = "hour"
    if request.GET.get("table") == "breakdown":
        _metric, breakdowns = pages.campaign_breakdowns(c)
        cells = [[metric, dim, cell["value"], cell["display"]] for metric, dims in sorted(breakdowns.items())
                 for dim, found in sorted(dims.items()) for cell in found]
        return csv_response(f"campaign-{c.pk}-breakdown.csv", ["metric", "dimension", "value", "count"], cells)
    buckets, delivered, billed = pages.campaign_series(c, granularity)
    rows = [[iso_bucket(b), delivered[i], billed[i]] for i, b in enumerate(buckets)]
    return csv_response(f"campaign-{c.pk}-{granularity}.csv", ["bucket_start_utc", "delivered", "billed"], rows)


CAMPAIGN_ACTIONS = {"pause": services.do_pause_campaign, "resume": services.do_resume_campaign,
                    "end": services.do_end_campaign}


@login_required
@require_POST
@domain_errors
def campaign_action(request, campaign_id: int, action: str):
    act = CAMPAIGN_ACTIONS.get(action)
    if act is None:
        raise NotFound(_("Page not found."))
    c = act(request.user, campaign_id)
    messages.success(request, _("Campaign %(name)s: %(status)s.")
                     % {"name": c.name or f"#{c.pk}", "status": CampaignStatus(c.status).label})
    return see_other(safe_next(request, reverse("web:promote_campaign", args=[c.pk])))


# --- standing orders ------------------------------------------------------------------------------

def _orders_page(request, values: dict | None = None, errors: FieldErrors | None = None, status: int = 200):
    orders = selectors.standing_orders(request.user)
    return render(request, "web/promotion/standing.html", {
        "orders": orders, "values": values or {"tool": Tool.FAN_HEADLINE}, "errors": errors or {},
        "tools": [(Tool.FAN_HEADLINE.value, Tool.FAN_HEADLINE.label), (Tool.ACCOUNT_REC.value, Tool.ACCOUNT_REC.label)],
        "verticals": experts.verticals(), "currency": CURRENCY}, status=status)


@login_required
@never_cache
@domain_errors
def standing(request):
    if request.method != "POST":
        return _orders_page(request)
    values = posted(request, "tool", "vertical", "weekly_amount", "each_amount", "bid_amount")
    errors: FieldErrors = {}
    weekly = amount_field(values, "weekly", CURRENCY, errors)
    each = amount_field(values, "each", CURRENCY, errors)
    bid = amount_field(values, "bid", CURRENCY, errors)
    if errors or weekly is None or each is None or bid is None:
        return _orders_page(request, values, errors, 422)
    try:
        services.do_create_standing_order(request.user, tool=values["tool"], weekly_budget=weekly,
                                          per_campaign_budget=each, bid=bid, vertical=values["vertical"] or None,
                                          currency=CURRENCY)
    except ValidationFailed as exc:
        show_error(errors, exc, fields={"weekly_budget": "weekly_amount", "per_campaign_budget": "each_amount",
                                        "bid": "bid_amount", "budget": "each_amount", "vertical": "vertical",
                                        "tool": "tool", "price_model": "tool"})
        return _orders_page(request, values, errors, 422)
    messages.success(request, _("Standing order saved."))
    return see_other(reverse("web:promote_auto"))


@login_required
@require_POST
@domain_errors
def standing_action(request, order_id: int, action: str):
    if action == "delete":
        services.do_delete_standing_order(request.user, order_id)
        messages.success(request, _("Standing order deleted."))
    elif action in ("pause", "resume"):
        services.do_update_standing_order(request.user, order_id, active=action == "resume")
        messages.success(request, _("Standing order paused.") if action == "pause" else _("Standing order resumed."))
    else:
        raise NotFound(_("Page not found."))
    return see_other(reverse("web:promote_auto"))


# --- operators ---------------------------------------------------------------------------------------

@login_required
@never_cache
@domain_errors
def review_queue(request):
    _staff_only(request)
    rows = selectors.review_queue(limit=50)
    return render(request, "web/promotion/review.html", {"rows": [_row(c) for c in rows]})


@login_required
@require_POST
@domain_errors
def review_decide(request, campaign_id: int):
    _staff_only(request)
    decision = request.POST.get("decision")
    note = (request.POST.get("note") or "").strip()[:500]
    if decision not in ("approve", "reject"):
        raise ValidationFailed(_("Choose approve or reject."), field="decision")
    if decision == "reject" and not note:
        raise ValidationFailed(_("Say why the campaign is rejected: the advertiser reads the note."), field="note")
    c = services.do_review_campaign(request.user, campaign_id, approve=decision == "approve", note=note)
    messages.success(request, _("Campaign %(name)s: %(status)s.")
                     % {"name": c.name or f"#{c.pk}", "status": CampaignStatus(c.status).label})
    return see_other(reverse("web:promote_review"))


@login_required
@require_GET
@never_cache
@domain_errors
def revenue(request):
    _staff_only(request)
    days = pages.revenue_by_day(30)
    top = pages.top_campaigns(limit=20)
    kinds = pages.charge_kinds(top)
    return render(request, "web/promotion/revenue.html", {
        "days": [{"day": d, "amount": format_amount(a, cur)} for d, cur, a in days],
        "top": [{**_row(c), "kinds": kinds.get(c.pk, {})} for c in top]})


# --- everyone: settings and the controls on a promoted item -----------------------------------------

@login_required
@never_cache
@domain_errors
def promotion_settings(request):
    user = request.user
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "targeting":
            services.do_set_targeting_opt_out(user, request.POST.get("opt_out") == "on")
            messages.success(request, _("Saved."))
        elif action == "unmute":
            raw = request.POST.get("account") or ""
            account_id = parse_id(raw) if raw.isdigit() else None
            if account_id is None:
                raise ValidationFailed(_("Choose an account."), field="account")
            services.do_mute_advertiser(user, account_id, mute=False)
            messages.success(request, _("You will see this account's promotions again."))
        else:
            raise ValidationFailed(_("Unknown action."), field="action")
        return see_other(reverse("web:promotion_settings"))
    return render(request, "web/promotion/settings.html", {"opted_out": pages.targeting_opted_out(user),
                                                           "muted": pages.muted_advertisers(user)})


@login_required
@require_POST
@domain_errors
def promoted_action(request, campaign_id: int, action: str):
    """Hide one promoted item, or mute its advertiser's promotions (htmx: the item is replaced by a note)."""
    if action == "hide":
        services.do_hide_promotion(request.user, campaign_id)
        note = _("Hidden: you will not see this promotion again.")
    elif action == "mute":
        services.do_mute_advertiser(request.user, pages.advertiser_of(campaign_id), mute=True)
        note = _("You will not see promotions from this account. Undo it in Settings → Promoted content.")
    else:
        raise NotFound(_("Page not found."))
    if request.htmx:
        return render(request, "web/promotion/_hidden.html", {"note": note})
    messages.success(request, note)
    return see_other(safe_next(request, reverse("web:home")))
