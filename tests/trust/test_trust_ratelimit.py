"""Sliding-window rate limits in the database, and how the write paths use them."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tastemaker.core.errors import RateLimited
from tastemaker.trust.models import RateBucket
from tastemaker.trust.ratelimit import check_and_hit, parse_spec, used

pytestmark = pytest.mark.django_db

T0 = 1_800_000_000.0  # a fixed "now" (seconds), aligned to nothing in particular


def test_parse_spec():
    assert parse_spec("300/10800") == (300, 10800)


@override_settings(RATE_POST="3/10800")
def test_limit_reached_then_refused_with_retry_after():
    for i in range(3):
        check_and_hit("post", 1, "RATE_POST", now=T0 + i)
    with pytest.raises(RateLimited) as err:
        check_and_hit("post", 1, "RATE_POST", now=T0 + 3)
    assert err.value.status == 429
    assert 0 < err.value.retry_after <= 10800 + 1
    # a refused attempt is not counted
    assert sum(RateBucket.objects.filter(key="post:1").values_list("count", flat=True)) == 3


@override_settings(RATE_POST="3/10800")
def test_window_slides_and_retry_after_is_honest():
    for i in range(3):
        check_and_hit("post", 7, "RATE_POST", now=T0 + i)
    with pytest.raises(RateLimited) as err:
        check_and_hit("post", 7, "RATE_POST", now=T0 + 60)
    retry = err.value.retry_after
    # still refused just before the advertised time (give one second for rounding) …
    with pytest.raises(RateLimited):
        check_and_hit("post", 7, "RATE_POST", now=T0 + 60 + retry - 2)
    # … and allowed once it has passed
    check_and_hit("post", 7, "RATE_POST", now=T0 + 60 + retry)


@override_settings(RATE_POST="3/10800")
def test_hits_spread_out_age_out_one_by_one():
    hour = 3600
    check_and_hit("post", 9, "RATE_POST", now=T0)
    check_and_hit("post", 9, "RATE_POST", now=T0 + hour)
    check_and_hit("post", 9, "RATE_POST", now=T0 + 2 * hour)
    with pytest.raises(RateLimited) as err:
        check_and_hit("post", 9, "RATE_POST", now=T0 + 2 * hour + 10)
    # only the oldest hit has to age out: well under a full window
    assert err.value.retry_after < hour + 400
    check_and_hit("post", 9, "RATE_POST", now=T0 + 3 * hour + 400)  # the first hit left the window
    with pytest.raises(RateLimited):
        check_and_hit("post", 9, "RATE_POST", now=T0 + 3 * hour + 401)


@override_settings(RATE_POST="2/60")
def test_keys_are_independent_per_scope_and_identity():
    check_and_hit("post", 1, "RATE_POST", now=T0)
    check_and_hit("post", 1, "RATE_POST", now=T0)
    check_and_hit("post", 2, "RATE_POST", now=T0)  # another account
    check_and_hit("login", 1, "RATE_POST", now=T0)  # another scope
    with pytest.raises(RateLimited):
        check_and_hit("post", 1, "RATE_POST", now=T0)


@override_settings(RATE_POST="2/60")
def test_old_slices_are_deleted_when_a_new_one_starts():
    check_and_hit("post", 3, "RATE_POST", now=T0)
    check_and_hit("post", 3, "RATE_POST", now=T0 + 10_000)
    assert RateBucket.objects.filter(key="post:3").count() == 1


@override_settings(RATE_POST="5/10800")
def test_used_counts_current_window():
    for _ in range(4):
        check_and_hit("post", 11, "RATE_POST")
    assert used("post", 11, "RATE_POST") == 4


@override_settings(RATE_POST="3/10800")
def test_fourth_post_is_refused_and_not_created(make_user):
    from tastemaker.social.models import Post
    from tastemaker.social.services import do_create_post

    author = make_user()
    for i in range(3):
        do_create_post(author, text=f"post {i}")
    with pytest.raises(RateLimited) as err:
        do_create_post(author, text="one too many")
    assert err.value.retry_after > 0
    assert Post.objects.filter(author=author).count() == 3
    assert not Post.objects.filter(text="one too many").exists()
    author.refresh_from_db()
    assert author.statuses_count == 3


@override_settings(RATE_POST="1/10800")
def test_reposts_count_against_the_posting_limit(make_user):
    from tastemaker.social.models import Post
    from tastemaker.social.services import do_create_post, do_reblog

    a, b = make_user(), make_user()
    original = do_create_post(a, text="hello")
    do_create_post(b, text="mine")
    with pytest.raises(RateLimited):
        do_reblog(b, original)
    assert not Post.objects.filter(author=b, reblog_of=original).exists()


@override_settings(RATE_FOLLOW="2/86400")
def test_follow_limit(make_user):
    from tastemaker.social.models import Follow
    from tastemaker.social.services import do_follow

    me = make_user()
    targets = [make_user() for _ in range(3)]
    do_follow(me, targets[0])
    do_follow(me, targets[1])
    do_follow(me, targets[1])  # already following: free, not counted
    with pytest.raises(RateLimited) as err:
        do_follow(me, targets[2])
    assert err.value.retry_after > 0
    assert not Follow.objects.filter(follower=me, target=targets[2]).exists()
    me.refresh_from_db()
    assert me.following_count == 2


@override_settings(RATE_INTERACT="1/3600")
def test_interaction_limit_on_favourites(make_user):
    from tastemaker.social.models import Favourite
    from tastemaker.social.services import do_create_post, do_favourite

    a, b = make_user(), make_user()
    p1, p2 = do_create_post(a, text="one"), do_create_post(a, text="two")
    do_favourite(b, p1)
    with pytest.raises(RateLimited):
        do_favourite(b, p2)
    assert not Favourite.objects.filter(user=b, post=p2).exists()
    p2.refresh_from_db()
    assert p2.favourites_count == 0


@pytest.mark.django_db(transaction=True)
@override_settings(RATE_TEST="5/60")
def test_concurrent_requests_never_pass_the_limit():
    """On PostgreSQL (the SQLite test database is in memory with a shared cache, where a second writer fails
    at once with "table is locked" instead of waiting; a file database serialises writers anyway).
    Eight threads at once, a limit of five: exactly five pass (the count is taken before the total is read,
    under the slice's row lock), and the refused ones leave no count behind."""
    import threading

    from django.db import connection

    from tastemaker.core.errors import RateLimited

    if connection.vendor != "postgresql":
        pytest.skip("needs a database where concurrent writers wait for row locks (run on PostgreSQL)")
    barrier = threading.Barrier(8)
    passed, refused = [], []

    def worker():
        try:
            barrier.wait()
            try:
                check_and_hit("race", "x", "RATE_TEST", now=1000.0)
                passed.append(1)
            except RateLimited:
                refused.append(1)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (len(passed), len(refused)) == (5, 3)
    assert RateBucket.objects.get(key="race:x").count == 5
