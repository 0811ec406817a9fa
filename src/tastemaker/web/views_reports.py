"""Report pages (a post's and an account's), their live fragments and CSV exports, the session
endpoint the pages report impressions to, and the read counter on the post page.

Thin: the figures come from ``analytics.selectors``, events go through ``analytics.services``.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from tastemaker.analytics import selectors as reports
from tastemaker.analytics.filters import device_class, request_reason
from tastemaker.analytics.models import Device, InvalidReason, Metric, Surface
from tastemaker.analytics.services import (
    CLIENT_METRICS,
    CLIENT_SUBJECTS,
    DIMENSIONS,
    EventIn,
    do_record_events,
)
from tastemaker.core.errors import DomainError, NotFound, RateLimited
from tastemaker.core.safeinput import request_json
from tastemaker.trust.ratelimit import check_and_hit, client_ip

from .charts import bar_chart
from .helpers import csv_response, domain_errors, iso_bucket
from .visitors import set_visitor, viewer_fields

GRANULARITY_CHOICES = ("minute", "hour", "day")
DIMENSION_LABELS = {"surface": gettext_lazy("Surface"), "audience": gettext_lazy("Follower or not"),
                    "device": gettext_lazy("Device"), "language": gettext_lazy("Language"),
                    "region": gettext_lazy("Region")}
GRANULARITY_LABELS = {"minute": gettext_lazy("By minute"), "hour": gettext_lazy("By hour"),
                      "day": gettext_lazy("By day")}
AUDIENCE_LABELS = {"follower": gettext_lazy("Followers"), "non_follower": gettext_lazy("Non-followers")}
LANGUAGE_LABELS = {"en": gettext_lazy("English"), "zh-hans": gettext_lazy("Simplified Chinese")}


def _value_label(dimension: str, value: str) -> str:
    """A breakdown row's code (``home``, ``mobile``, ``non_follower``…) as words for people."""
    if value in ("unknown", ""):
        return str(_("Unknown"))
    choices = {"surface": Surface, "device": Device}.get(dimension)
    if choices is not None and value in choices.values:
        return str(choices(value).label)
    if dimension == "audience":
        return str(AUDIENCE_LABELS.get(value, value))
    if dimension == "language":
        return str(LANGUAGE_LABELS.get(value, value))
    return value


# --- event reporting --------------------------------------------------------------------------

def counted_read(view):
    """Wrap the post page: a page that rendered (200) counts one read of its post, through the same
    filters as every event (HEAD, prefetch, bots, the author, repeats)."""

    @wraps(view)
    def wrapper(request, post_id, *args, **kwargs):
        response = view(request, post_id, *args, **kwargs)
        if response.status_code == 200:
            try:
                do_record_events([EventIn(
                    metric=Metric.READ, subject_type="post", subject_id=int(post_id), surface=Surface.THREAD,
                    reason=request_reason(request), device=device_class(request.META.get("HTTP_USER_AGENT", "")),
                    **viewer_fields(request))])
                set_visitor(request, response)
            except Exception:  # noqa: BLE001 - a read that could not be counted never breaks the page
                import logging

                logging.getLogger(__name__).exception("could not count a read of post %s", post_id)
        return response

    return wrapper


def _json_error(message: str, status: int, retry_after: int | None = None) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@require_POST
def events(request):
    """``POST /events`` (session + CSRF): ``{"events": [{"type", "subject_type", "subject_id", "surface"}]}``
    from the site's own pages (static/web/events.js). Answers JSON; every error is a 4xx."""
    try:
        ident = request.user.pk if request.user.is_authenticated else f"ip:{client_ip(request)}"
        check_and_hit("events", ident, "RATE_EVENTS")
    except RateLimited as exc:
        return _json_error(exc.message, 429, exc.retry_after)
    try:
        payload = request_json(request)  # checked text, bounded depth (core.safeinput)
    except (ValueError, UnicodeDecodeError):
        return _json_error(_("The body must be JSON."), 400)
    items = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items:
        return _json_error(_("Send a non-empty list of events."), 422)
    if len(items) > settings.ANALYTICS_MAX_BATCH:
        return _json_error(_("At most %(n)d events per request.") % {"n": settings.ANALYTICS_MAX_BATCH}, 422)
    reason = request_reason(request)
    device = device_class(request.META.get("HTTP_USER_AGENT", ""))
    viewer = viewer_fields(request)
    batch = []
    for item in items:
        if not isinstance(item, dict):
            return _json_error(_("Each event must be an object."), 422)
        metric, stype = item.get("type"), item.get("subject_type", "post")
        sid, surface = str(item.get("subject_id", "")), item.get("surface") or Surface.UNKNOWN
        if metric not in CLIENT_METRICS or stype not in CLIENT_SUBJECTS or surface not in Surface.values:
            return _json_error(_("Unknown event type, subject type or surface."), 422)
        if not sid.isdigit() or len(sid) > 19 or int(sid) > 2**63 - 1:
            return _json_error(_("subject_id must be an id."), 422)
        batch.append(EventIn(metric=metric, subject_type=stype, subject_id=int(sid), surface=surface, reason=reason,
                             device=device, **viewer))
    result = do_record_events(batch)
    response = JsonResponse(result.as_dict())
    set_visitor(request, response)
    return response


# --- report pages -----------------------------------------------------------------------------

def _params(request, default_granularity: str) -> tuple[str, str, int | None]:
    granularity = request.GET.get("granularity", default_granularity)
    if granularity not in GRANULARITY_CHOICES:
        granularity = default_granularity
    metric = request.GET.get("metric", Metric.IMPRESSION)
    if metric not in Metric.values:
        metric = Metric.IMPRESSION
    days = request.GET.get("days", "")
    days = int(days) if days.isdigit() and 1 <= int(days) <= 3660 else None
    return granularity, metric, days


def breakdown_tables(breakdowns: dict, metric: str) -> list[dict]:
    cells = breakdowns.get(metric, {})
    return [{"dimension": d, "label": DIMENSION_LABELS[d],
             "cells": [{**c, "label": _value_label(d, c["value"])} for c in cells.get(d, [])]} for d in DIMENSIONS]


def _invalid_labels(invalid: dict) -> dict:
    return {str(InvalidReason(r).label) if r in InvalidReason.values else r: n for r, n in invalid.items()}


def _post_context(request, post) -> dict:
    granularity, metric, days = _params(request, "hour")
    data = reports.post_report(post, granularity, days=days)
    s = data["series"]
    metric_label = Metric(metric).label if metric in reports.POST_METRICS else Metric.IMPRESSION.label
    if metric not in reports.POST_METRICS:
        metric = Metric.IMPRESSION
    return {
        "post": post, "granularity": granularity, "metric": metric, "days": days, "report": data,
        "totals": [{"metric": m, "label": Metric(m).label, "value": data["totals"][m]} for m in reports.POST_METRICS],
        "chart": bar_chart(s.buckets, s.values[metric], granularity, f"{metric_label} · {GRANULARITY_LABELS[granularity]}"),
        "tables": breakdown_tables(data["breakdowns"], metric),
        "invalid_total": sum(data["invalid"].values()), "invalid": _invalid_labels(data["invalid"]),
        "granularities": list(GRANULARITY_LABELS.items()), "metrics": [(m, Metric(m).label) for m in reports.POST_METRICS],
        "query": request.GET.urlencode(),
    }


@login_required
@require_GET
@domain_errors
def post_report(request, post_id: int):
    post = reports.post_for_report(request.user, post_id)
    template = "web/_report_post_live.html" if request.htmx else "web/report_post.html"
    return render(request, template, _post_context(request, post))


@login_required
@require_GET
@domain_errors
def post_report_csv(request, post_id: int):
    post = reports.post_for_report(request.user, post_id)
    granularity, _metric, days = _params(request, "hour")
    data = reports.post_report(post, granularity, days=days)
    if request.GET.get("table") == "breakdown":
        rows = [[metric, dim, cell["value"], cell["display"]]
                for metric, dims in sorted(data["breakdowns"].items())
                for dim, cells in sorted(dims.items()) for cell in cells]
        return csv_response(f"post-{post.pk}-breakdown.csv", ["metric", "dimension", "value", "count"], rows)
    s = data["series"]
    rows = [[iso_bucket(b), *[s.values[m][i] for m in reports.POST_METRICS]] for i, b in enumerate(s.buckets)]
    return csv_response(f"post-{post.pk}-{granularity}.csv", ["bucket_start_utc", *reports.POST_METRICS], rows)


def _report_account(request, username: str | None):
    from tastemaker.social import selectors as social_selectors

    if username is None:
        return request.user
    account = social_selectors.get_account(username, include_suspended=True)
    if account is None:
        raise NotFound(_("Account not found."))
    return reports.account_for_report(request.user, account.pk)


def _account_context(request, account) -> dict:
    granularity, metric, days = _params(request, "day")
    data = reports.account_report(account, granularity, days=days)
    fs, ps = data["follow_series"], data["post_series"]
    if metric not in reports.POST_METRICS:
        metric = Metric.IMPRESSION
    net = [g - lost for g, lost in zip(fs.values[Metric.FOLLOW_GAINED], fs.values[Metric.FOLLOW_LOST], strict=True)]
    return {
        "account": account, "granularity": granularity, "metric": metric, "days": days, "report": data,
        "follow_chart": bar_chart(fs.buckets, fs.values[Metric.FOLLOW_GAINED], granularity, _("Follows gained")),
        "net_in_window": sum(net),
        "posts_chart": bar_chart(ps.buckets, ps.values[metric], granularity,
                                 "{} · {}".format(Metric(metric).label, _("all posts"))),
        "totals": [{"metric": m, "label": Metric(m).label, "value": data["post_totals"][m]}
                   for m in reports.POST_METRICS],
        "tables": breakdown_tables(data["breakdowns"], Metric.FOLLOW_GAINED),
        "invalid_total": sum(data["invalid"].values()),
        "granularities": list(GRANULARITY_LABELS.items()), "metrics": [(m, Metric(m).label) for m in reports.POST_METRICS],
        "query": request.GET.urlencode(),
    }


@login_required
@require_GET
@domain_errors
def account_report(request, username: str | None = None):
    account = _report_account(request, username)
    template = "web/_report_account_live.html" if request.htmx else "web/report_account.html"
    return render(request, template, _account_context(request, account))


@login_required
@require_GET
@domain_errors
def account_report_csv(request, username: str | None = None):
    account = _report_account(request, username)
    granularity, _metric, _days = _params(request, "day")
    data = reports.account_report(account, granularity)
    fs, ps = data["follow_series"], data["post_series"]
    header = ["bucket_start_utc", "follow_gained", "follow_lost", *[f"posts_{m}" for m in reports.POST_METRICS]]
    rows = [[iso_bucket(b), fs.values[Metric.FOLLOW_GAINED][i], fs.values[Metric.FOLLOW_LOST][i],
             *[ps.values[m][i] for m in reports.POST_METRICS]] for i, b in enumerate(fs.buckets)]
    return csv_response(f"account-{account.username}-{granularity}.csv", header, rows)


__all__ = ["DomainError", "account_report", "account_report_csv", "counted_read", "events", "post_report",
           "post_report_csv"]
