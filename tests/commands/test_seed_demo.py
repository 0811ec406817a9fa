"""seed-demo: counts, counters consistent with rows, idempotence, search, a filled home timeline (one seeded
community for the module; the runs that need an empty database: test_seed_demo_runs.py)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Q

from tastemaker.accounts.models import User
from tastemaker.core.pagination import Page
from tastemaker.demo.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERNAME, TOPICS
from tastemaker.feeds.models import TimelineEntry
from tastemaker.feeds.selectors import home_timeline
from tastemaker.social.models import Favourite, Follow, Media, Post
from tastemaker.social.search import matching_post_ids

# one worker seeds once for all of them (--dist loadgroup), instead of each worker seeding its own
pytestmark = pytest.mark.xdist_group("seed_demo")

# big enough for the labels test below (24 experts: 90 % of them labelled in their vertical is a real test)
SMALL = {"users": 80, "experts": 24, "posts": 600, "images": 4, "seed": 11, "no_progress": True}


def seed(**kw) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **{**SMALL, **kw})
    return out.getvalue()


def snapshot() -> dict:
    return {
        "users": User.objects.count(),
        "follows": Follow.objects.count(),
        "posts": Post.objects.count(),
        "likes": Favourite.objects.count(),
        "media": Media.objects.count(),
        "entries": TimelineEntry.objects.count(),
        "counters": sorted(User.objects.values_list("id", "followers_count", "following_count", "statuses_count")),
    }


@pytest.fixture(scope="module")
def _module_seeded(django_db_setup, django_db_blocker):
    """The community is seeded once for the module (it takes seconds) inside a transaction rolled back at the
    module's end; each test runs in its own savepoint on top (the ``db`` fixture), so what one test writes
    (test_idempotent seeds again) never reaches the next."""
    from django.test.utils import override_settings

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with override_settings(RULES_ENABLED=True):  # as `make run` seeds: the product's rules on
                out = seed()
            yield out
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def seeded(_module_seeded, db):
    return _module_seeded


def test_counts(seeded):
    assert "demo / demo-password-123" in seeded
    assert "admin / " in seeded  # no superuser existed: an operator account is made, password shown
    assert User.objects.filter(is_superuser=True).count() == 1
    assert User.objects.exclude(username__in=["admin", "demo_brand"]).count() == SMALL["users"]
    assert User.objects.filter(username="demo_brand").exists()  # the brand account running a partner store
    from tastemaker.showcase.models import Commission, ProductCard

    showcase = ProductCard.objects.count()
    assert showcase == 2 * SMALL["experts"] + 2  # two per expert and two by the demo account
    assert Post.objects.count() == SMALL["posts"] + showcase
    assert Commission.objects.exists()  # orders came back through signed webhooks and were attributed
    experts = User.objects.exclude(bio="").filter(Q(bio__contains="expert") | Q(bio__contains="达人"))
    assert experts.count() == SMALL["experts"]
    assert Post.objects.filter(in_reply_to__isnull=False).exists()
    assert Post.objects.filter(reblog_of__isnull=False).exists()
    assert Favourite.objects.exists()
    assert Media.objects.exists()
    assert Media.objects.values("file").distinct().count() <= SMALL["images"]  # shared pictures, not copies
    langs = set(Post.objects.filter(reblog_of__isnull=True).values_list("language", flat=True))
    assert {"en", "zh-hans"} <= langs


def test_demo_commissions_are_paid_from_the_stores_deposits(seeded):
    """The demo still shows paid commissions, each paid from its store's funded deposit; no platform
    account moved for them."""
    from tastemaker.payments.models import PLATFORM_KINDS, Entry
    from tastemaker.showcase.models import Commission, PartnerStore

    paid = Commission.objects.filter(paid_at__isnull=False)
    assert paid.exists() and not paid.filter(held__gt=0).exists()
    assert not Entry.objects.filter(account__kind__in=PLATFORM_KINDS).exists()
    mall = PartnerStore.objects.get(owner__isnull=True)
    deposit = mall.ledger_accounts.get(kind="store_deposit")
    assert deposit.balance > 0  # funded by the operator, more than enough


def test_demo_login_and_home_timeline(seeded):
    demo = User.objects.get(username=DEMO_USERNAME)
    assert demo.check_password(DEMO_PASSWORD)
    assert demo.following_count > 0
    page = home_timeline(demo, Page(limit=20))
    assert len(page) > 0
    assert [p.pk for p in page] == sorted((p.pk for p in page), reverse=True)


def test_counters_match_rows(seeded):
    users = User.objects.annotate(
        n_followers=Count("follower_set", distinct=True),
        n_following=Count("following_set", distinct=True),
        n_posts=Count("posts", distinct=True),
    )
    for u in users:
        assert (u.followers_count, u.following_count, u.statuses_count) == (u.n_followers, u.n_following, u.n_posts), u
    posts = Post.objects.annotate(
        n_replies=Count("replies", distinct=True),
        n_reblogs=Count("reblogs", distinct=True),
        n_likes=Count("favourites", distinct=True),
    )
    for p in posts:
        assert (p.replies_count, p.reblogs_count, p.favourites_count) == (p.n_replies, p.n_reblogs, p.n_likes), p


def test_experts_are_heavily_followed(seeded):
    top = list(User.objects.order_by("-followers_count").values_list("bio", flat=True)[:5])
    assert sum(("expert" in b or "达人" in b) for b in top) >= 4


def test_idempotent(seeded):
    before = snapshot()
    again = seed()
    assert "already loaded" in again
    assert snapshot() == before
    assert "admin /" not in again


def test_search_finds_chinese_word(seeded):
    for _v, topic in TOPICS.items():
        for _en, zh in topic["items"]:
            post = Post.objects.filter(text__contains=zh, reblog_of__isnull=True).first()
            if post is not None:
                assert post.search_text
                assert post.pk in matching_post_ids(zh, 1000)
                return
    pytest.fail("no Chinese post was seeded")


def test_home_timelines_match_rebuild_rules(seeded):
    # every account that follows someone has a home timeline, capped
    from django.conf import settings

    for u in User.objects.filter(following_count__gt=0)[:20]:
        n = TimelineEntry.objects.filter(viewer_id=u.pk).count()
        assert 0 < n <= settings.TIMELINE_CAP


def test_seeded_experts_are_labelled_in_their_verticals(seeded):
    """The demo community comes with ability labels: its experts are labelled in their own verticals."""
    from tastemaker.experts.selectors import visible_labels

    assert "ability labels for" in seeded
    experts = [u for u in User.objects.filter(bio__contains="expert") | User.objects.filter(bio__contains="达人")]
    assert len(experts) == SMALL["experts"] == 24
    hits = 0
    for expert in experts:
        labels = visible_labels(expert)
        hits += bool(labels) and labels[0].vertical.slug in expert.interests
    assert hits >= 0.9 * len(experts), hits
