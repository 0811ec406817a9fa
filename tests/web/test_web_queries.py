"""Timelines render in a fixed number of queries, whatever the page size (no N+1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tastemaker.social import services as social

pytestmark = pytest.mark.django_db


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def make_posts(users, png_bytes, n, start=0):
    for i in range(start, start + n):
        author = users[i % len(users)]
        media = social.do_upload_media(author, png_bytes())
        post = social.do_create_post(author, text=f"#tag{i} hello @{users[0].username} number {i}", media_ids=[media.pk])
        social.do_reblog(users[(i + 1) % len(users)], post)


@pytest.mark.parametrize("url", ["/", "/public", "/@alice", "/bookmarks"])
def test_pages_do_not_grow_queries_with_posts(client, make_user, png_bytes, run_jobs, url):
    users = [make_user("alice"), make_user("bob"), make_user("carol")]
    viewer = make_user("viewer")
    for u in users:
        social.do_follow(viewer, u)
    client.force_login(viewer)
    with run_jobs():
        make_posts(users, png_bytes, 3)
    for post in users[0].posts.all():
        social.do_bookmark(viewer, post)
        social.do_favourite(viewer, post)
    client.get(url)  # per-process caches (the deliverable campaigns) filled once, not per post
    few = count_queries(client, url)
    with run_jobs():
        make_posts(users, png_bytes, 9, start=3)
    for post in users[0].posts.all():
        social.do_bookmark(viewer, post)
    body = client.get(url).content.decode()
    assert body.count('class="post"') >= 3
    assert count_queries(client, url) == few


def test_unknown_url_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "This page does not exist" in response.content.decode()
