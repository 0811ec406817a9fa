"""Web: the pages' event endpoint (session + CSRF), reads on the post page, report pages, CSV, access."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tastemaker.analytics import selectors
from tastemaker.analytics.models import Event

from .conftest import BROWSER_UA, PHONE_UA

pytestmark = pytest.mark.django_db


def send(client, events, **headers):
    headers.setdefault("HTTP_USER_AGENT", BROWSER_UA)
    return client.post("/events", json.dumps({"events": events}), content_type="application/json", **headers)


def test_web_endpoint_counts_and_sets_visitor_cookie(author_post):
    author, post = author_post
    client = Client()
    r = send(client, [{"type": "impression", "subject_id": str(post.pk), "surface": "public"}],
             HTTP_USER_AGENT=PHONE_UA)
    assert r.status_code == 200 and r.json()["valid"] == 1
    assert len(client.cookies["tm_vid"].value) == 32
    assert send(client, [{"type": "impression", "subject_id": str(post.pk)}]).json()["invalid"] == 1  # same visitor
    bd = selectors.breakdowns("post", post.pk)["impression"]
    assert bd["device"][0]["value"] == "mobile" and bd["surface"][0]["value"] == "public"


def test_web_endpoint_requires_csrf(make_user, author_post):
    author, post = author_post
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user())
    assert send(client, [{"type": "impression", "subject_id": str(post.pk)}]).status_code == 403


@pytest.mark.parametrize("body,status", [
    ("nope", 400), ('{"events": []}', 422), ('{"events": [{"type": "like", "subject_id": "1"}]}', 422),
    ('{"events": [{"type": "impression", "subject_id": "x"}]}', 422), ('[1]', 422),
    ('{"events": [1]}', 422), ('{"events": [{"type": "impression", "subject_id": "1", "surface": "moon"}]}', 422),
])
def test_web_endpoint_errors(client, body, status):
    r = client.post("/events", body, content_type="application/json", HTTP_USER_AGENT=BROWSER_UA)
    assert r.status_code == status and "error" in r.json()


def test_web_endpoint_get_not_allowed(client):
    assert client.get("/events").status_code == 405


def test_rule_prefetch_on_web_endpoint_and_read(client, author_post):
    author, post = author_post
    r = send(client, [{"type": "impression", "subject_id": str(post.pk)}], HTTP_SEC_PURPOSE="prefetch")
    assert r.json()["invalid"] == 1
    assert client.get(f"/posts/{post.pk}", HTTP_USER_AGENT=BROWSER_UA, HTTP_PURPOSE="prefetch").status_code == 200
    assert Event.objects.filter(metric="read", invalid_reason="prefetch").count() == 1


def test_read_counted_on_post_page(client, make_user, author_post):
    author, post = author_post
    assert client.get(f"/posts/{post.pk}", HTTP_USER_AGENT=BROWSER_UA).status_code == 200
    assert selectors.totals("post", post.pk)["read"] == 1
    ev = Event.objects.get(metric="read")
    assert ev.surface == "thread" and ev.viewer_key.startswith("v") and ev.valid


def test_rule_head_read_is_invalid(client, author_post):
    author, post = author_post
    assert client.head(f"/posts/{post.pk}", HTTP_USER_AGENT=BROWSER_UA).status_code == 200
    assert Event.objects.get(metric="read").invalid_reason == "head"
    assert selectors.totals("post", post.pk).get("read", 0) == 0


def test_rule_bot_read_is_invalid(client, author_post):
    author, post = author_post
    client.get(f"/posts/{post.pk}", HTTP_USER_AGENT="Mozilla/5.0 (compatible; Googlebot/2.1)")
    assert Event.objects.get(metric="read").invalid_reason == "bot"


def test_author_read_is_self(client, author_post):
    author, post = author_post
    client.force_login(author)
    client.get(f"/posts/{post.pk}", HTTP_USER_AGENT=BROWSER_UA)
    assert Event.objects.get(metric="read").invalid_reason == "self"


def test_missing_post_counts_nothing(client):
    assert client.get("/posts/12345", HTTP_USER_AGENT=BROWSER_UA).status_code == 404
    assert Event.objects.count() == 0


def test_post_report_page_and_fragment(client, make_user, author_post):
    author, post = author_post
    send(Client(), [{"type": "impression", "subject_id": str(post.pk), "surface": "home"}])
    client.force_login(author)
    page = client.get(f"/posts/{post.pk}/report")
    body = page.content.decode()
    assert page.status_code == 200
    assert '<svg class="chart"' in body and 'data-total="1"' in body and 'hx-trigger="every 2s"' in body
    frag = client.get(f"/posts/{post.pk}/report?granularity=minute&metric=read", HTTP_HX_REQUEST="true")
    assert frag.status_code == 200 and b"<html" not in frag.content and b'id="report-live"' in frag.content
    # the author sees the report link on their own post
    assert f"/posts/{post.pk}/report".encode() in client.get(f"/posts/{post.pk}").content


def test_report_pages_access(client, make_user, author_post):
    author, post = author_post
    assert client.get(f"/posts/{post.pk}/report").status_code == 302  # log in first
    client.force_login(make_user())
    assert client.get(f"/posts/{post.pk}/report").status_code == 404
    assert client.get(f"/posts/{post.pk}/report.csv").status_code == 404
    assert client.get("/reports/@author").status_code == 404
    client.force_login(make_user(is_staff=True))
    assert client.get(f"/posts/{post.pk}/report").status_code == 200
    assert client.get("/reports/@author").status_code == 200


def test_csv_exports(client, make_user, author_post):
    author, post = author_post
    send(Client(), [{"type": "impression", "subject_id": str(post.pk)}])
    client.force_login(author)
    r = client.get(f"/posts/{post.pk}/report.csv?granularity=minute")
    assert r["Content-Type"].startswith("text/csv")
    lines = r.content.decode().splitlines()
    assert lines[0].startswith("bucket_start_utc,impression,read")
    assert len(lines) == 61 and sum(int(line.split(",")[1]) for line in lines[1:]) == 1
    r = client.get(f"/posts/{post.pk}/report.csv?table=breakdown")
    assert "impression,device,desktop,<5" in r.content.decode()
    r = client.get("/reports.csv")
    assert r.status_code == 200 and r.content.decode().startswith("bucket_start_utc,follow_gained")


def test_account_report_page(client, make_user, author_post, run_jobs):
    from tastemaker.social import services as social

    author, post = author_post
    with run_jobs():
        social.do_follow(make_user(), author)
    client.force_login(author)
    body = client.get("/reports").content.decode()
    assert "Follows gained" in body and '<svg class="chart"' in body
    assert client.get("/reports", HTTP_HX_REQUEST="true").status_code == 200


def test_pages_carry_impression_hooks(client, author_post):
    author, post = author_post
    body = client.get("/public").content.decode()
    assert f'data-tm-post="{post.pk}"' in body and 'data-tm-events="/events"' in body and "web/events.js" in body


def test_empty_and_invalid_states_read_as_sentences(client, author_post):
    author, post = author_post
    client.force_login(author)
    empty = client.get("/reports").content.decode()
    assert "No impressions yet." in empty and '<li class="empty">' not in empty  # not a ranked "1." item
    send(Client(), [{"type": "impression", "subject_id": str(post.pk)}], HTTP_USER_AGENT="curl/8")
    client.get(f"/posts/{post.pk}", HTTP_USER_AGENT=BROWSER_UA)  # the author's own read: "self"
    page = client.get(f"/posts/{post.pk}/report").content.decode()
    reasons = page.split('<ul class="invalid-reasons">')[1].split("</ul>")[0]
    assert reasons.count("<li>") == 2 and "Bots and non-browser agents: 1" in reasons
