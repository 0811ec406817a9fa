"""Tastemaker's events and reports API: batch ingest for apps, and the JSON reports behind the
web report pages. Thin: validate, call analytics services/selectors, serialize."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Literal

from django.conf import settings
from django.http import HttpResponse
from ninja import Query, Router

from tastemaker.analytics import selectors as reports
from tastemaker.analytics.filters import device_class, request_reason
from tastemaker.analytics.models import SubjectType
from tastemaker.analytics.services import EventIn, do_record_events
from tastemaker.core.ids import parse_id
from tastemaker.trust.ratelimit import check_and_hit

from .auth import BearerAuth, require_scope
from .errors import READ, responses
from .schemas.analytics import (
    AccountReportOut,
    EventBatchIn,
    IngestOut,
    PostReportOut,
)

router = Router(tags=["reports"])
user_auth = BearerAuth()
MAX_ID = 2**63 - 1

def _series(s: reports.Series) -> dict:
    return {"granularity": s.granularity,
            "buckets": [datetime.fromtimestamp(b, tz=UTC).isoformat().replace("+00:00", "Z") for b in s.buckets],
            "values": s.values}


@router.post("/v1/tastemaker/events", auth=user_auth, response=responses({200: IngestOut}, (400, 401, 403, 422, 429)),
             summary="Report a batch of events (impressions, reads, link clicks)",
             description=(
                 "What the app actually showed to the signed-in user, batched (up to 500 per request; send every "
                 "few seconds). Likes, reposts, replies and follows are recorded by the server itself. "
                 "Invalid traffic is stored apart and never counted: bots and non-browser agents, prefetch, "
                 "the author's own views, and repeats by the same viewer within "
                 f"`ANALYTICS_DEDUP_SECONDS` (default {settings.ANALYTICS_DEDUP_SECONDS} s)."))
def report_events(request, payload: EventBatchIn):
    require_scope(request, "write")  # it changes what reports count: not for a read-only token
    user = request.user
    check_and_hit("events", user.pk, "RATE_EVENTS")
    reason = request_reason(request)
    device = device_class(request.META.get("HTTP_USER_AGENT", ""))
    batch, too_big = [], 0
    for item in payload.events[: settings.ANALYTICS_MAX_BATCH]:
        sid = int(item.subject_id)
        if sid > MAX_ID:
            too_big += 1
            continue
        batch.append(EventIn(metric=item.type, subject_type=item.subject_type, subject_id=sid, surface=item.surface,
                             viewer_id=user.pk, reason=reason, device=device))
    result = do_record_events(batch)
    result.rejected += too_big + max(0, len(payload.events) - settings.ANALYTICS_MAX_BATCH)
    return result.as_dict()


@router.get("/v1/tastemaker/reports/posts/{post_id}", auth=user_auth, response=responses({200: PostReportOut}, READ),
            summary="A post's report (its author and operators only)")
def post_report(request, post_id: str, granularity: Literal["minute", "hour", "day"] = "hour",
                points: int | None = Query(None, ge=1, le=reports.MAX_BUCKETS),
                days: int | None = Query(None, ge=1, le=3660, description="breakdowns over the last days; "
                                                                          "default lifetime")):
    require_scope(request, "read:statuses")
    post = reports.post_for_report(request.user, parse_id(post_id),
                                   light=True)
    data = reports.post_report(post, granularity, points, days)
    data["subject_id"] = str(post.pk)
    data["series"] = _series(data["series"])
    del data["owner_id"]
    # built to PostReportOut's shape (tests check it against the schema); serialised directly, since
    # re-validating ~1,000 nested values per request cost more than the report itself
    return HttpResponse(json.dumps(data, separators=(",", ":")), content_type="application/json")


@router.get("/v1/tastemaker/reports/accounts/{account_id}", auth=user_auth,
            response=responses({200: AccountReportOut}, READ),
            summary="An account's report: follower growth, its posts' totals, top posts")
def account_report(request, account_id: str, granularity: Literal["minute", "hour", "day"] = "day",
                   points: int | None = Query(None, ge=1, le=reports.MAX_BUCKETS),
                   days: int | None = Query(None, ge=1, le=3660)):
    require_scope(request, "read:accounts")
    account = reports.account_for_report(
        request.user, parse_id(account_id))
    data = reports.account_report(account, granularity, points, days)
    data["account_id"] = str(account.pk)
    data["follow_series"] = _series(data["follow_series"])
    data["post_series"] = _series(data["post_series"])
    data["top_posts"] = [{**p, "id": str(p["id"]), "created_at": p["created_at"].isoformat()}
                         for p in data["top_posts"]]
    return data


__all__ = ["router", "SubjectType"]
