"""Pages for interest onboarding, who-to-follow, the expert directory, discovery by vertical, a user's
interests and a creator's ability labels (appeals, expert applications). Thin: selectors and services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tastemaker.analytics.filters import device_class, request_reason
from tastemaker.core.errors import NotFound
from tastemaker.discovery import selectors as discovery
from tastemaker.discovery import services as discovery_services
from tastemaker.experts import selectors as experts
from tastemaker.experts import services as experts_services
from tastemaker.experts import tasks as experts_tasks
from tastemaker.promotion import selectors as promotion
from tastemaker.promotion import services as promotion_services
from tastemaker.showcase.selectors import cards_for_posts, products_in_vertical
from tastemaker.social import selectors as social
from tastemaker.trust.ratelimit import check_and_hit

from .helpers import domain_errors, page_number, safe_next, timeline_page, viewer_of

EXPERTS_PER_VERTICAL = 4


def _vertical_or_404(slug: str):
    vertical = experts.vertical_by_slug(slug)
    if vertical is None:
        raise NotFound(_("There is no such vertical."))
    return vertical


def _picked_from_post(request):
    return experts.verticals_by_slug(request.POST.getlist("verticals"))


# --- onboarding -----------------------------------------------------------------------------

@login_required
@domain_errors
def onboarding(request):
    """Step 1: pick the verticals you care about."""
    if request.method == "POST":
        picked = _picked_from_post(request)
        if not picked:
            messages.error(request, _("Pick at least one vertical, or skip this step."))
        else:
            discovery_services.do_set_interests(request.user, picked)
            return redirect("web:onboarding_experts")
    chosen = {i.vertical.slug for i in discovery.interests(request.user) if i.picked}
    return render(request, "web/onboarding.html", {"verticals": experts.verticals(), "chosen": chosen},
                  status=422 if request.method == "POST" else 200)


@login_required
@domain_errors
def onboarding_experts(request):
    """Step 2: experts to follow for each picked vertical, each with the reason; follow in one go."""
    picked = [i.vertical for i in discovery.interests(request.user) if i.picked]
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("follow") if i.isdigit() and len(i) <= 19]
        targets = social.listed_accounts(ids)
        followed, errors = discovery_services.do_follow_many(request.user, targets)
        for error in errors:
            messages.warning(request, error)
        if followed:
            messages.success(request, _("You follow %(n)d new accounts: their recent posts are in your home feed.")
                             % {"n": followed})
        return redirect("web:home")
    if not picked:
        return redirect("web:onboarding")
    sections = [(v, discovery.experts_for_onboarding(request.user, v, EXPERTS_PER_VERTICAL)) for v in picked]
    following = social.following_ids(request.user)
    return render(request, "web/onboarding_experts.html", {
        "sections": sections, "following": following,
        "reason": experts.reason_text,
    })


# --- who to follow --------------------------------------------------------------------------

@login_required
@domain_errors
def suggestions(request):
    rows = _with_promoted(request, discovery.suggestions(request.user, limit=30), 30)
    return render(request, "web/suggestions.html", {"suggestions": rows})


def _record_promoted(request, promoted: list) -> None:
    """Promoted accounts shown: their serves (caps, follows attributed) and impressions (analytics ingest)."""
    if promoted:
        promotion_services.do_record_delivery(
            request.user, [s.pick for s in promoted],
            reason=request_reason(request), device=device_class(request.META.get("HTTP_USER_AGENT", "")))


@login_required
@domain_errors
def who_to_follow_box(request):
    """The home page's who-to-follow box, loaded by htmx after the page (keeps the home page fast)."""
    return render(request, "web/_who_to_follow.html",
                  {"suggestions": _with_promoted(request, discovery.suggestions(request.user, limit=3), 3),
                   "here": reverse("web:home")})


def _with_promoted(request, organic: list, limit: int) -> list:
    promoted = promotion.promoted_suggestions(request.user)
    _record_promoted(request, promoted)
    return promotion.merge_suggestions(promoted, organic, limit)


@login_required
@require_POST
@domain_errors
def dismiss_suggestion(request, account_id: int):
    discovery_services.do_dismiss_suggestion(request.user, account_id)
    if request.htmx:
        from django.http import HttpResponse

        return HttpResponse("")
    return redirect(safe_next(request, reverse("web:suggestions")))


# --- experts and discovery by vertical ------------------------------------------------------

@domain_errors
def experts_index(request):
    return render(request, "web/experts_index.html", {"verticals": experts.verticals()})


@domain_errors
def expert_directory(request, slug: str):
    vertical = _vertical_or_404(slug)
    viewer = viewer_of(request)
    labels = experts.directory(vertical, viewer, limit=40)
    badge_map = experts.badge_map([lab.user_id for lab in labels])
    rels = {r.id: r for r in social.relationships(viewer, [lab.user_id for lab in labels])} if viewer else {}
    rows = [(lab, vertical.slug in badge_map.get(lab.user_id, []), experts.reason_text(lab), rels.get(lab.user_id))
            for lab in labels]
    return render(request, "web/expert_directory.html", {"vertical": vertical, "rows": rows,
                                                          "verticals": experts.verticals()})


WATERFALL_PAGE = 20


@domain_errors
def discover_index(request):
    """发现: an image-led waterfall (two columns on a phone) of image posts and Showcase cards, "for you" (the
    strongest interests, picked or learned) or one vertical (``?v=slug``); infinite scroll with htmx."""
    viewer = viewer_of(request)
    slug = request.GET.get("v", "")[:64]
    chosen = _vertical_or_404(slug) if slug else None
    verticals = [chosen] if chosen else discovery.for_you_verticals(viewer)
    page = page_number(request, first=0, last=50)
    posts = discovery.ranked_posts(viewer, verticals, limit=WATERFALL_PAGE + 1, offset=page * WATERFALL_PAGE,
                                   visual=True)
    more = len(posts) > WATERFALL_PAGE
    posts = posts[:WATERFALL_PAGE]
    cards = cards_for_posts([p.pk for p in posts])
    tiles = [(p, cards.get(p.pk)) for p in posts]
    context = {"tiles": tiles, "chosen": chosen, "verticals": experts.verticals(), "page": page,
               "next_page": page + 1 if more else None}
    if request.htmx and page:
        response = render(request, "web/_waterfall_tiles.html", context)
    else:
        response = render(request, "web/discover_index.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@domain_errors
def discover(request, slug: str):
    vertical = _vertical_or_404(slug)
    viewer = viewer_of(request)
    posts = discovery.vertical_posts(viewer, vertical, limit=40)
    return timeline_page(request, "web/discover.html", {"vertical": vertical, "verticals": experts.verticals(),
                                                         "products": products_in_vertical(vertical.slug, viewer=viewer)},
                          posts, limit=10_000)  # one ranked page: no keyset pager


# --- your interests -------------------------------------------------------------------------

@login_required
@domain_errors
def interests(request):
    if request.method == "POST":
        action = request.POST.get("action", "save")
        if action == "remove":
            discovery_services.do_remove_interest(request.user, _vertical_or_404(request.POST.get("vertical", "")))
            messages.success(request, _("Removed. We will not suggest accounts for it unless you add it again."))
        else:
            discovery_services.do_set_interests(request.user, _picked_from_post(request))
            messages.success(request, _("Your interests are saved."))
        return redirect("web:interests")
    discovery_services.do_recompute_learned_interests(request.user)
    rows = discovery.interests(request.user)
    return render(request, "web/interests.html", {
        "rows": rows, "verticals": experts.verticals(),
        "picked": {i.vertical.slug for i in rows if i.picked},
    })


# --- your ability labels --------------------------------------------------------------------

@login_required
@domain_errors
def my_labels(request):
    user = request.user
    labels = experts.all_labels(user)
    badges = {b.vertical.slug for b in experts.badges(user)}
    samples = experts.sample_posts(labels)
    rows = [(lab, experts.reason_text(lab), lab.vertical.slug in badges,
             experts.eligibility(user, lab.vertical), samples.get(lab.pk, [])) for lab in labels]
    return render(request, "web/labels.html", {
        "rows": rows, "appeals": experts.pending_appeals(user), "applications": experts.applications(user),
        "verticals": experts.verticals(),
    })


@login_required
@require_POST
@domain_errors
def label_action(request, action: str):
    user = request.user
    if action == "refresh":
        check_and_hit("labels", user.pk, "RATE_POST")
        experts_tasks.enqueue_recompute(user.pk)  # a job: the request never loads or runs the labeler
        messages.success(request, _("Your labels are being recomputed; reload the page in a moment."))
    elif action == "appeal":
        vertical = _vertical_or_404(request.POST.get("vertical", ""))
        experts_services.do_appeal_label(user, vertical, request.POST.get("message", ""),
                                         request.POST.get("kind", "remove"))
        messages.success(request, _("Your appeal is sent; an operator will review it."))
    elif action == "apply":
        vertical = _vertical_or_404(request.POST.get("vertical", ""))
        experts_services.do_apply_for_expert(user, vertical, request.POST.get("statement", ""))
        messages.success(request, _("Your application is sent; an operator will review it."))
    else:
        raise NotFound(_("Unknown action."))
    return redirect("web:labels")

