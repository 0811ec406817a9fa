"""Ingest: filter rules (each with a case it removes), counters, breakdowns, privacy, server-side events."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tastemaker.analytics import selectors
from tastemaker.analytics.filters import device_class, is_bot_agent, is_prefetch
from tastemaker.analytics.models import Event, Stat
from tastemaker.analytics.services import do_record_events

from .conftest import BROWSER_UA, PHONE_UA

pytestmark = pytest.mark.django_db


def totals(post):
    return selectors.totals("post", post.pk)


def test_valid_impressions_count_with_breakdowns(make_user, author_post, impression):
    author, post = author_post
    # ten viewers: a 63-bit sketch cannot collide them below 5 in practice (see models.Stat)
    viewers = [make_user() for _ in range(10)]
    res = do_record_events([impression(post, v) for v in viewers])
    assert res.as_dict() == {"accepted": 10, "valid": 10, "invalid": 0, "rejected": 0}
    assert totals(post)["impression"] == 10
    bd = selectors.breakdowns("post", post.pk)["impression"]
    assert bd["surface"] == [{"value": "home", "count": 10, "display": "10"}]
    assert bd["audience"] == [{"value": "non_follower", "count": 10, "display": "10"}]
    assert bd["language"][0]["value"] == "en"
    s = selectors.series("post", post.pk, ["impression"], "minute", points=5)
    assert sum(s.values["impression"]) == 10  # (the last or, at a minute boundary, the last two buckets)


def test_breakdown_cell_under_five_viewers_is_suppressed(make_user, author_post, impression):
    author, post = author_post
    fans = [make_user() for _ in range(11)]
    from tastemaker.social import services as social

    social.do_follow(fans[0], author)
    do_record_events([impression(post, v) for v in fans])
    bd = selectors.breakdowns("post", post.pk)["impression"]["audience"]
    assert {"value": "follower", "count": None, "display": "<5"} in bd
    assert {"value": "non_follower", "count": 10, "display": "10"} in bd
    # one viewer many times is still one viewer: stays "<5" however large the count
    for i in range(7):
        do_record_events([impression(post, fans[0], surface="profile", at_ms=1_700_000_000_000 + i * 3_600_000)])
    cells = selectors.breakdowns("post", post.pk)["impression"]["surface"]
    assert {"value": "profile", "count": None, "display": "<5"} in cells


def test_rule_self_removes_the_authors_own_view(author_post, impression):
    author, post = author_post
    res = do_record_events([impression(post, author)])
    assert res.invalid == 1 and res.valid == 0
    assert totals(post).get("impression", 0) == 0
    assert selectors.invalid_totals("post", post.pk)["self"] == 1
    assert Event.objects.get().invalid_reason == "self"


def test_rule_duplicate_removes_repeats_within_the_window(make_user, author_post, impression):
    author, post = author_post
    fan = make_user()
    t0 = 1_700_000_000_000 - 1_700_000_000_000 % 1_800_000
    res = do_record_events([impression(post, fan, at_ms=t0), impression(post, fan, at_ms=t0 + 1000)])
    assert (res.valid, res.invalid) == (1, 1)
    res = do_record_events([impression(post, fan, at_ms=t0 + 60_000)])
    assert (res.valid, res.invalid) == (0, 1)
    # another metric, or the next window, counts again
    res = do_record_events([impression(post, fan, metric="read", at_ms=t0 + 61_000),
                            impression(post, fan, at_ms=t0 + 1_800_000)])
    assert (res.valid, res.invalid) == (2, 0)
    assert selectors.invalid_totals("post", post.pk)["duplicate"] == 2


def test_anonymous_visitors_are_told_apart_by_visitor_id(author_post, impression):
    author, post = author_post
    res = do_record_events([impression(post, visitor="a" * 32), impression(post, visitor="b" * 32),
                            impression(post, visitor="a" * 32)])
    assert (res.valid, res.invalid) == (2, 1)


def test_bot_account_is_invalid(make_user, author_post, impression):
    author, post = author_post
    bot = make_user(bot=True)
    res = do_record_events([impression(post, bot)])
    assert res.invalid == 1 and Event.objects.get().invalid_reason == "bot"


def test_request_level_reasons_are_kept_apart(make_user, author_post, impression):
    author, post = author_post
    fan = make_user()
    res = do_record_events([impression(post, fan, reason="prefetch"), impression(post, fan, reason="head")])
    assert res.invalid == 2 and totals(post).get("impression", 0) == 0
    inv = selectors.invalid_totals("post", post.pk)
    assert inv["prefetch"] == 1 and inv["head"] == 1


def test_unknown_subject_is_rejected_not_stored(make_user, impression):
    from tastemaker.analytics.services import EventIn

    res = do_record_events([EventIn(metric="impression", subject_type="post", subject_id=12345, viewer_id=None)])
    assert res.rejected == 1 and Event.objects.count() == 0


@pytest.mark.parametrize("ua", [
    "", "curl/8.5.0", "python-requests/2.32", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "facebookexternalhit/1.1", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0 Safari/537.36",
    "Wget/1.21", "Go-http-client/2.0", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "Twitterbot/1.0",
    "Mozilla/5.0 (compatible; GPTBot/1.2; +https://openai.com/gptbot)",
])
def test_rule_bot_agents(ua):
    assert is_bot_agent(ua)


@pytest.mark.parametrize("ua", [BROWSER_UA, PHONE_UA, "Tusky/26.1 Android/14", "Ivory/2.0 (iPhone; iOS 17.5)",
                                "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"])
def test_browsers_and_apps_are_not_bots(ua):
    assert not is_bot_agent(ua)


def test_prefetch_headers():
    assert is_prefetch({"HTTP_SEC_PURPOSE": "prefetch;prerender"})
    assert is_prefetch({"HTTP_PURPOSE": "prefetch"})
    assert is_prefetch({"HTTP_X_MOZ": "prefetch"})
    assert not is_prefetch({"HTTP_ACCEPT": "text/html"})


def test_device_classes():
    assert device_class(PHONE_UA) == "mobile"
    assert device_class(BROWSER_UA) == "desktop"
    assert device_class("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X)") == "tablet"
    assert device_class("Tusky/26.1") == "app"


def test_server_side_events_after_commit(make_user, author_post, run_jobs):
    from tastemaker.social import services as social

    author, post = author_post
    fan = make_user()
    with run_jobs():
        social.do_follow(fan, author)
        social.do_favourite(fan, post)
        social.do_reblog(fan, post)
        social.do_create_post(fan, text="agreed", in_reply_to_id=post.pk)
        social.do_favourite(author, post)  # own like: invalid
    t = totals(post)
    assert (t["like"], t["repost"], t["reply"]) == (1, 1, 1)
    assert selectors.invalid_totals("post", post.pk)["self"] == 1
    with run_jobs():
        social.do_unfollow(fan, author)
        social.do_follow(fan, author)
    acc = selectors.totals("account", author.pk)
    assert (acc["follow_gained"], acc["follow_lost"]) == (2, 1)  # follows are never de-duplicated


def test_event_recording_failure_does_not_break_the_action(make_user, author_post, run_jobs, monkeypatch):
    from tastemaker.analytics import ingest
    from tastemaker.social import services as social

    author, post = author_post
    fan = make_user()

    def boom(events):
        raise RuntimeError("analytics down")

    monkeypatch.setattr(ingest, "do_record_events", boom)
    with run_jobs():
        social.do_favourite(fan, post)
    post.refresh_from_db()
    assert post.favourites_count == 1


@override_settings(ANALYTICS_MIN_VIEWERS=2)
def test_threshold_is_a_setting(make_user, author_post, impression):
    author, post = author_post
    do_record_events([impression(post, make_user()) for _ in range(6)])
    assert selectors.breakdowns("post", post.pk)["impression"]["device"][0]["display"] == "6"
    with override_settings(ANALYTICS_MIN_VIEWERS=60):
        assert selectors.breakdowns("post", post.pk)["impression"]["device"][0]["display"] == "<60"


def test_counters_by_granularity(make_user, author_post, impression):
    author, post = author_post
    fan = make_user()
    base = 1_700_006_400_000  # a day boundary (UTC)
    do_record_events([impression(post, fan, at_ms=base + i * 3_600_000) for i in range(3)])
    rows = dict(Stat.objects.filter(subject_id=post.pk, dimension="", metric="impression")
                .values_list("granularity").annotate().values_list("granularity", "count").order_by())
    assert set(rows) == {"m", "h", "d", "t"}
    assert Stat.objects.get(subject_id=post.pk, dimension="", granularity="t").count == 3
    assert Stat.objects.get(subject_id=post.pk, dimension="", granularity="d", metric="impression").count == 3


def test_id_collision_is_retried_with_fresh_ids(make_user, author_post, impression, monkeypatch):
    from tastemaker.analytics import ingest

    author, post = author_post
    fan = make_user()
    first = do_record_events([impression(post, fan)])
    taken = Event.objects.get().pk
    calls = []
    real = ingest.new_id

    def colliding(at_ms=None):
        calls.append(at_ms)
        return taken if len(calls) == 1 else real(at_ms)  # the first id made collides with a stored one

    monkeypatch.setattr(ingest, "new_id", colliding)
    res = do_record_events([impression(post, make_user())])
    assert first.valid == 1 and res.valid == 1 and Event.objects.count() == 2


def test_follow_events_in_one_batch_are_all_kept(make_user, author_post):
    from tastemaker.analytics.services import EventIn

    author, post = author_post
    fans = [make_user() for _ in range(3)]
    res = do_record_events([EventIn(metric=m, subject_type="account", subject_id=author.pk, viewer_id=f.pk)
                            for f in fans for m in ("follow_gained", "follow_lost")])
    assert (res.valid, res.invalid) == (6, 0)
