"""The JSON API: batch ingest (documented in the OpenAPI schema), reports with access control, freshness."""

from __future__ import annotations

import time

import pytest

from .conftest import BROWSER_UA

pytestmark = pytest.mark.django_db
EVENTS = "/api/v1/tastemaker/events"


def post_events(client, events, **headers):
    headers.setdefault("HTTP_USER_AGENT", "Tusky/26.1 Android/14")
    return client.post(EVENTS, {"events": events}, **headers)


def test_batch_ingest_and_report(api, make_user, author_post):
    author, post = author_post
    fan = make_user()
    client = api(fan)
    r = post_events(client, [{"type": "impression", "subject_id": str(post.pk), "surface": "home"},
                             {"type": "impression", "subject_id": str(post.pk), "surface": "home"},
                             {"type": "read", "subject_id": str(post.pk)},
                             {"type": "impression", "subject_id": "999999999"}])
    assert r.status_code == 200, r.content
    assert r.json() == {"accepted": 3, "valid": 2, "invalid": 1, "rejected": 1}
    report = api(author).get(f"/api/v1/tastemaker/reports/posts/{post.pk}", {"granularity": "minute"}).json()
    assert report["totals"]["impression"] == 1 and report["totals"]["read"] == 1
    assert report["invalid"]["duplicate"] == 1
    assert sum(report["series"]["values"]["impression"]) == 1
    assert report["series"]["buckets"][-1].endswith("Z")
    assert report["breakdowns"]["impression"]["device"] == [{"value": "app", "count": None, "display": "<5"}]


def test_ingest_errors_are_clear_4xx(api, make_user, author_post):
    author, post = author_post
    client = api(make_user())
    assert api(None).post(EVENTS, {"events": [{"type": "impression", "subject_id": "1"}]}).status_code == 401
    assert post_events(client, []).status_code == 422
    assert post_events(client, [{"type": "like", "subject_id": str(post.pk)}]).status_code == 422
    assert post_events(client, [{"type": "impression", "subject_id": "abc"}]).status_code == 422
    assert post_events(client, [{"type": "impression", "subject_id": "1"}] * 501).status_code == 422
    r = client.client.post(EVENTS, "{not json", content_type="application/json", **client.headers)
    assert r.status_code in (400, 422) and "error" in r.json()


def test_ingest_rate_limited(api, make_user, author_post, settings):
    settings.RATE_EVENTS = "2/60"
    author, post = author_post
    client = api(make_user())
    for _ in range(2):
        assert post_events(client, [{"type": "impression", "subject_id": str(post.pk)}]).status_code == 200
    r = post_events(client, [{"type": "impression", "subject_id": str(post.pk)}])
    assert r.status_code == 429 and int(r["Retry-After"]) >= 1


def test_bot_agent_on_api_is_invalid(api, make_user, author_post):
    author, post = author_post
    r = post_events(api(make_user()), [{"type": "impression", "subject_id": str(post.pk)}],
                    HTTP_USER_AGENT="python-requests/2.32")
    assert r.json()["invalid"] == 1


def test_report_access_only_author_and_staff(api, make_user, author_post):
    author, post = author_post
    other = make_user()
    staff = make_user(is_staff=True)
    path = f"/api/v1/tastemaker/reports/posts/{post.pk}"
    assert api(author).get(path).status_code == 200
    assert api(staff).get(path).status_code == 200
    assert api(other).get(path).status_code == 404
    assert api(None).get(path).status_code == 401
    acc = f"/api/v1/tastemaker/reports/accounts/{author.pk}"
    assert api(author).get(acc).status_code == 200
    assert api(other).get(acc).status_code == 404
    assert api(author).get(path, {"granularity": "week"}).status_code == 422
    assert api(author).get("/api/v1/tastemaker/reports/posts/99999999999999999999").status_code == 404


def test_account_report_follower_growth_and_top_posts(api, make_user, author_post, run_jobs):
    from tastemaker.social import services as social

    author, post = author_post
    fans = [make_user() for _ in range(3)]
    with run_jobs():
        for fan in fans:
            social.do_follow(fan, author)
        social.do_unfollow(fans[0], author)
    post_events(api(fans[1]), [{"type": "impression", "subject_id": str(post.pk)}])
    data = api(author).get(f"/api/v1/tastemaker/reports/accounts/{author.pk}", {"granularity": "hour"}).json()
    assert (data["follows_gained"], data["follows_lost"], data["net_follows"]) == (3, 1, 2)
    assert data["followers_count"] == 2
    assert sum(data["follow_series"]["values"]["follow_gained"]) == 3
    assert data["top_posts"][0] == {"id": str(post.pk), "impressions": 1, "text": post.text,
                                    "created_at": post.created_at.isoformat()}
    assert data["post_totals"]["impression"] == 1


def test_freshness_event_visible_in_report_api_within_one_second(api, make_user, author_post):
    author, post = author_post
    fan, reader = api(make_user()), api(author)
    path = f"/api/v1/tastemaker/reports/posts/{post.pk}"
    t0 = time.perf_counter()
    assert post_events(fan, [{"type": "impression", "subject_id": str(post.pk)}]).status_code == 200
    while reader.get(path).json()["totals"]["impression"] != 1:
        assert time.perf_counter() - t0 < 1.0
    assert time.perf_counter() - t0 < 1.0


def test_schema_documents_the_endpoints(client):
    spec = client.get("/api/openapi.json").json()
    op = spec["paths"]["/api/v1/tastemaker/events"]["post"]
    assert {"200", "400", "401", "422", "429"} <= set(op["responses"])
    assert "/api/v1/tastemaker/reports/posts/{post_id}" in spec["paths"]
    assert "/api/v1/tastemaker/reports/accounts/{account_id}" in spec["paths"]


def test_browser_agent_counts(api, make_user, author_post):
    author, post = author_post
    r = post_events(api(make_user()), [{"type": "impression", "subject_id": str(post.pk)}], HTTP_USER_AGENT=BROWSER_UA)
    assert r.json()["valid"] == 1


def test_post_report_matches_its_published_schema(api, make_user, author_post):
    from tastemaker.api.analytics import PostReportOut

    author, post = author_post
    post_events(api(make_user()), [{"type": "impression", "subject_id": str(post.pk)}])
    for granularity in ("minute", "hour", "day"):
        data = api(author).get(f"/api/v1/tastemaker/reports/posts/{post.pk}",
                               {"granularity": granularity, "days": 7}).json()
        assert PostReportOut.model_validate(data).model_dump() == data
