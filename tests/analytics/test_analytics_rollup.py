"""The production rollup mode (a background thread per process), region breakdowns, and the privacy
rule over a range of days."""

from __future__ import annotations

import time

import pytest

from tastemaker.analytics import selectors
from tastemaker.analytics.models import AudienceProfile, Pending
from tastemaker.analytics.services import IDLE_CLOSE_SECONDS, EventIn, do_record_events


def _read(query):
    """Run a read while the rollup thread writes. The SQLite test database is in memory with a shared
    cache, where a reader meeting a writer gets "table is locked" at once (no busy timeout, unlike the
    WAL file database the product runs on): such a read is simply tried again on the next poll."""
    from django.db import OperationalError

    try:
        return query()
    except OperationalError as exc:
        if "is locked" not in str(exc):
            raise
        return None


@pytest.mark.django_db(transaction=True)
def test_background_thread_counts_within_a_second(make_user, settings):
    from tastemaker.social import services as social

    settings.ANALYTICS_ROLLUP = "thread"
    settings.ANALYTICS_ROLLUP_INTERVAL_MS = 20
    author, fan = make_user("maker"), make_user("fan")
    post = social.do_create_post(author, text="thread mode")
    t0 = time.perf_counter()
    res = do_record_events([EventIn(metric="impression", subject_type="post", subject_id=post.pk,
                                    viewer_id=fan.pk, surface="home", device="mobile")])
    assert res.valid == 1
    while (_read(lambda: selectors.totals("post", post.pk)) or {}).get("impression", 0) != 1:
        assert time.perf_counter() - t0 < 1.0, "not counted within a second"
        time.sleep(0.01)
    deadline = time.perf_counter() + 2
    while _read(Pending.objects.exists) is not False and time.perf_counter() < deadline:
        time.sleep(0.01)
    assert not Pending.objects.exists()
    time.sleep(IDLE_CLOSE_SECONDS + 0.3)  # the idle thread closes its connection (the test DB can be dropped)


@pytest.mark.django_db
def test_region_from_audience_profile_and_privacy_over_days(make_user, author_post, impression):
    author, post = author_post
    fans = [make_user() for _ in range(9)]  # 8 distinct viewers below: no sketch collision can hide them
    for fan in fans:
        AudienceProfile.objects.create(user=fan, region="cn-31")
    day = 86_400_000
    now = int(time.time() * 1000)
    # one viewer on five different days: five events, one viewer -> "<5" over the range
    do_record_events([impression(post, fans[0], surface="search", at_ms=now - i * day) for i in range(5)])
    cells = selectors.breakdowns("post", post.pk, days=7)["impression"]["surface"]
    assert cells == [{"value": "search", "count": None, "display": "<5"}]
    # eight more viewers on one day: shown; regions come from the profile, upper-cased
    do_record_events([impression(post, f, surface="home", at_ms=now - 1000) for f in fans[1:]])
    region = selectors.breakdowns("post", post.pk, days=7)["impression"]["region"]
    assert region == [{"value": "CN-31", "count": 13, "display": "13"}]
