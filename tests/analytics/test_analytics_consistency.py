"""Counters equal a recount of the raw events after a random stream with duplicates and invalid
traffic (hypothesis); rebuild-stats reproduces them exactly; pruning raw events leaves them unchanged."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tastemaker.analytics.models import Event, PruneMark, Stat
from tastemaker.analytics.services import (
    DIMENSIONS,
    SEQUENCE_BITS,
    EventIn,
    do_prune_events,
    do_record_events,
    viewer_bit,
)

pytestmark = pytest.mark.django_db
BASE_MS = 1_700_000_000_000 - 1_700_000_000_000 % 86_400_000 + 3_000  # a UTC day start, plus a little


def snapshot() -> dict:
    return {(s.subject_type, s.subject_id, s.granularity, s.dimension, s.value, s.metric, s.bucket): (s.count, s.viewers)
            for s in Stat.objects.all()}


def recount() -> dict:
    """The counters, recomputed naively from the raw events."""
    counts: Counter = Counter()
    viewers: dict = defaultdict(int)
    for e in Event.objects.all():
        if not e.valid:
            counts[(e.subject_type, e.subject_id, "t", "invalid", e.invalid_reason, e.metric, 0)] += 1
            continue
        ts = (e.id >> SEQUENCE_BITS) // 1000
        for gran, size in (("m", 60), ("h", 3600), ("d", 86400)):
            counts[(e.subject_type, e.subject_id, gran, "", "", e.metric, ts - ts % size)] += 1
        counts[(e.subject_type, e.subject_id, "t", "", "", e.metric, 0)] += 1
        values = dict(zip(DIMENSIONS, (e.surface, "follower" if e.follower else "non_follower", e.device,
                                       e.language, e.region), strict=True))
        for gran, bucket in (("d", ts - ts % 86400), ("t", 0)):
            for dim, value in values.items():
                key = (e.subject_type, e.subject_id, gran, dim, value, e.metric, bucket)
                counts[key] += 1
                viewers[key] |= viewer_bit(e.viewer_key)
    return {key: (n, viewers.get(key, 0)) for key, n in counts.items()}


@pytest.fixture
def world(make_user):
    from tastemaker.social import services as social

    authors = [make_user(f"maker{i}") for i in range(2)]
    fans = [make_user(f"fan{i}", language=["en", "zh-hans"][i % 2]) for i in range(6)]
    bot = make_user("crawler", bot=True)
    social.do_follow(fans[0], authors[0])
    social.do_follow(fans[1], authors[1])
    posts = [social.do_create_post(a, text=f"post {i}") for i, a in enumerate(authors * 2)]
    return authors, [*fans, bot, authors[0]], posts


event_strategy = st.tuples(
    st.integers(0, 3),  # post
    st.integers(0, 9),  # viewer: 0-5 fans, 6 bot account, 7 an author, 8-9 anonymous visitors
    st.sampled_from(["impression", "impression", "read", "link_click", "like"]),
    st.sampled_from(["home", "profile", "search", "promoted"]),
    st.sampled_from(["", "", "", "", "prefetch", "head", "bot"]),
    st.integers(0, 3 * 86_400),  # seconds after BASE: spans minutes, hours and days and dedup windows
    st.sampled_from(["mobile", "desktop"]),
)


@given(stream=st.lists(st.lists(event_strategy, min_size=1, max_size=25), min_size=1, max_size=6))
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_counters_equal_a_recount_and_rebuild_reproduces_them(world, stream):
    Event.objects.all().delete()
    Stat.objects.all().delete()
    authors, viewers, posts = world
    used_ms = set()
    for batch in stream:
        events = []
        for post_i, viewer_i, metric, surface, reason, offset, device in batch:
            at = BASE_MS + offset * 1000
            while at in used_ms:  # one event per millisecond keeps the time-ordered ids unique
                at += 1
            used_ms.add(at)
            viewer = viewers[viewer_i] if viewer_i < 8 else None
            events.append(EventIn(metric=metric, subject_type="post", subject_id=posts[post_i].pk, surface=surface,
                                  viewer_id=viewer.pk if viewer else None, visitor=f"visitor{viewer_i}",
                                  reason=reason, device=device, language="fr", at_ms=at))
        for i in range(0, len(events), 7):
            do_record_events(events[i:i + 7])
    live = snapshot()
    assert live == recount()
    assert sum(n for (_t, _s, g, d, _v, _m, _b), (n, _) in live.items() if g == "t" and d in ("", "invalid")) \
        == Event.objects.count()
    call_command("rebuild_stats", "--batch", "5", "--no-progress")
    assert snapshot() == live


def test_duplicates_inside_one_batch_and_across_batches(make_user, author_post, impression):
    author, post = author_post
    fan = make_user()
    res = do_record_events([impression(post, fan)] * 3)
    assert (res.valid, res.invalid) == (1, 2)
    assert snapshot() == recount()


def test_prune_leaves_counters_unchanged_and_guards_rebuild(make_user, author_post, impression):
    author, post = author_post
    fans = [make_user() for _ in range(3)]
    old = 1_600_000_000_000
    do_record_events([impression(post, f, at_ms=old + i) for i, f in enumerate(fans)])
    do_record_events([impression(post, fans[0])])  # recent: kept
    before = snapshot()
    assert do_prune_events(older_than_days=90) == 3
    assert Event.objects.count() == 1
    assert snapshot() == before
    assert PruneMark.objects.get().before_id > 0
    with pytest.raises(CommandError):
        call_command("rebuild_stats", "--no-progress")
    call_command("prune_events", "--days", "90")  # idempotent
    assert snapshot() == before


def test_rebuild_stats_command_prints_a_summary(make_user, author_post, impression, capsys):
    author, post = author_post
    do_record_events([impression(post, make_user())])
    call_command("rebuild_stats", "--no-progress")
    assert "from 1 events" in capsys.readouterr().out
