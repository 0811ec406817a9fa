"""Who-to-follow: sources and reasons, and the accounts that must never be suggested."""

from __future__ import annotations

import pytest

from tastemaker.discovery import selectors, services
from tastemaker.experts.models import Vertical
from tastemaker.social import services as social

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_user, make_creator):
    """A fan interested in beauty; beauty and tech experts; a friend who follows a tech expert."""
    fan = make_user("fan")
    experts = {name: make_creator(name, vertical) for name, vertical in [
        ("b1", "beauty"), ("b2", "beauty"), ("b3", "beauty"), ("t1", "tech"), ("t2", "tech")]}
    services.do_set_interests(fan, [Vertical.objects.get(slug="beauty")])
    return fan, experts


def ids(rows):
    return [s.account.pk for s in rows]


def test_interest_suggestions_come_with_reason(world):
    fan, ex = world
    rows = selectors.suggestions(fan, limit=10)
    beauty = [s for s in rows if s.account.pk in {ex["b1"].pk, ex["b2"].pk, ex["b3"].pk}]
    assert len(beauty) == 3
    assert all(s.kind == "interest" and "featured" in s.sources and s.vertical.slug == "beauty" for s in beauty)
    assert "Beauty" in beauty[0].reason
    # interest experts rank above the fallback (tech experts are only "top experts" to this fan)
    assert ids(rows)[:3] == ids(beauty)


def test_friends_of_friends_named_in_reason(world, make_user):
    fan, ex = world
    friend = make_user("friend")
    social.do_follow(fan, friend)
    social.do_follow(friend, ex["t1"])
    rows = {s.account.pk: s for s in selectors.suggestions(fan, limit=10)}
    s = rows[ex["t1"].pk]
    assert "friends_of_friends" in s.sources and s.source == "past_interactions"
    assert "@friend" in s.reason


def test_similar_to_recently_followed(world):
    fan, ex = world
    social.do_follow(fan, ex["t1"])
    rows = {s.account.pk: s for s in selectors.suggestions(fan, limit=10)}
    assert "similar_to_recently_followed" in rows[ex["t2"].pk].sources
    assert "@t1" in rows[ex["t2"].pk].reason


def test_never_suggested(world, make_user, make_creator):
    fan, ex = world
    blocked, blocker, muted, muter, suspended, followed, dismissed = (
        make_creator(name, "beauty") for name in ("blocked", "blocker", "muted", "muter", "susp", "followed", "dis"))
    social.do_block(fan, blocked)
    social.do_block(blocker, fan)
    social.do_mute(fan, muted)
    social.do_mute(muter, fan)
    social.do_follow(fan, followed)
    suspended.is_suspended = True
    suspended.save()
    services.do_dismiss_suggestion(fan, dismissed.pk)
    # make every one of them also a friend-of-friend and "similar", so every source would propose them
    friend = make_user("friend2")
    social.do_follow(fan, friend)
    for u in (blocked, blocker, muted, muter, suspended, followed, dismissed, fan):
        try:
            social.do_follow(friend, u)
        except Exception:  # noqa: BLE001 - suspended accounts cannot be followed
            pass
    got = set(ids(selectors.suggestions(fan, limit=40)))
    never = {fan.pk, blocked.pk, blocker.pk, muted.pk, muter.pk, suspended.pk, followed.pk, dismissed.pk}
    assert not got & never
    assert ex["b1"].pk in got


def test_no_interests_and_no_graph_falls_back_to_top_experts(make_user, make_creator):
    make_creator("solo", "pets")
    lonely = make_user("lonely")
    rows = selectors.suggestions(lonely, limit=5)
    assert rows and rows[0].kind == "popular" and "Pets" in rows[0].reason


def test_empty_world_has_no_suggestions(make_user):
    assert selectors.suggestions(make_user("nobody")) == []


def test_learned_interests_from_engagement_and_removal(make_user, make_creator):
    reader = make_user("reader")
    pets = make_creator("petlover", "pets")
    for post in pets.posts.all()[:4]:
        social.do_favourite(reader, post)
    social.do_bookmark(reader, pets.posts.first())
    weights = services.do_recompute_learned_interests(reader)
    vertical = Vertical.objects.get(slug="pets")
    assert weights[vertical.pk] >= 0.8 and max(weights, key=weights.get) == vertical.pk
    rows = selectors.interests(reader)
    assert rows[0].vertical.slug == "pets" and rows[0].learned_weight >= 0.8 and not rows[0].picked
    services.do_remove_interest(reader, vertical)
    services.do_recompute_learned_interests(reader)
    assert vertical.pk not in selectors.active_interest_weights(reader.pk)  # learned again, but stays hidden
    services.do_add_interest(reader, vertical)
    assert selectors.active_interest_weights(reader.pk)[vertical.pk] == 1.0


def test_set_interests_mirrors_account_field(make_user):
    user = make_user("picker")
    services.do_set_interests(user, list(Vertical.objects.filter(slug__in=["tech", "food"])))
    user.refresh_from_db()
    assert user.interests == ["tech", "food"]
    services.do_set_interests(user, [Vertical.objects.get(slug="food")])
    assert [i.vertical.slug for i in selectors.interests(user) if i.picked] == ["food"]


def test_vertical_posts_rank_and_hide_blocked(make_user, make_creator):
    viewer = make_user("viewer")
    a = make_creator("chef", "food")
    b = make_creator("cook", "food")
    food = Vertical.objects.get(slug="food")
    posts = selectors.vertical_posts(viewer, food)
    assert {p.author_id for p in posts} == {a.pk, b.pk}
    social.do_block(viewer, a)
    assert {p.author_id for p in selectors.vertical_posts(viewer, food)} == {b.pk}


def test_follow_many_backfills_home_feed(make_user, make_creator, run_jobs):
    from tastemaker.core.pagination import Page
    from tastemaker.feeds.selectors import home_timeline

    new = make_user("newbie")
    a, b = make_creator("x1", "books"), make_creator("x2", "travel")
    with run_jobs():
        followed, errors = services.do_follow_many(new, [a, b])
    assert followed == 2 and errors == []
    assert {p.author_id for p in home_timeline(new, Page(limit=40))} == {a.pk, b.pk}


def test_rising_in_your_vertical(world):
    from tastemaker.experts.models import AbilityLabel

    fan, ex = world
    label = AbilityLabel.objects.get(user=ex["b3"], vertical__slug="beauty")
    AbilityLabel.objects.filter(pk=label.pk).update(previous_score=max(1.0, label.score - 20))
    rows = {s.account.pk: s for s in selectors.suggestions(fan, limit=10)}
    assert "most_interactions" in rows[ex["b3"].pk].sources
    assert "most_interactions" not in rows[ex["b1"].pk].sources
