"""``social.visibility``: the queryset filter, the SQL rendering, the one-post check and the batch check are
one rule (they never disagree), and no read elsewhere keeps its own copy of it (issue 12)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import connection

from tastemaker.social import services as social
from tastemaker.social.models import Post
from tastemaker.social.visibility import (
    Surface,
    Viewer,
    can_see,
    hidden_sql,
    post_sql,
    posts_q,
    seen_by_everyone,
    viewers_who_see,
    visible_authors,
    visible_authors_many,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_user):
    """Authors in every state, posts of every visibility (reposts too), viewers in every relation."""
    good, limited, low, gone = (make_user(n) for n in ("good", "limited", "low", "gone"))
    fan, stranger, blocked, blocker, muter, named = (
        make_user(n) for n in ("fan", "stranger", "blocked", "blocker", "muter", "named"))
    operator = make_user("ops", is_staff=True)
    for author in (good, limited, low, gone):
        for who in (fan, muter):
            social.do_follow(who, author)
    posts = []
    for author in (good, limited, low, gone):
        for visibility in ("public", "unlisted", "private"):
            posts.append(social.do_create_post(author, text=f"{visibility} by {author.username}",
                                               visibility=visibility))
        posts.append(social.do_create_post(author, text=f"hello @named from {author.username}",
                                           visibility="private"))
        # a direct message to the named account (issue 14): seen by its author and @named only
        posts.append(social.do_create_post(author, text=f"psst @named from {author.username}",
                                           visibility="direct"))
    held = social.do_create_post(good, text="held one")
    Post.objects.filter(pk=held.pk).update(held=True)
    # reposts by the fan of public posts (their originals' authors change state below)
    reposts = [social.do_reblog(fan, p) for p in posts if p.visibility == "public"]
    for author in (good, limited, low, gone):
        social.do_block(author, blocked)
        social.do_block(blocker, author)
        social.do_mute(muter, author)
    type(good).objects.filter(pk=limited.pk).update(is_limited=True)
    type(good).objects.filter(pk=low.pk).update(credit_score=20)
    type(good).objects.filter(pk=gone.pk).update(is_suspended=True)
    viewers = [Viewer()] + [Viewer(u.pk, u.is_staff) for u in
                            (good, limited, fan, stranger, blocked, blocker, muter, named, operator)]
    return viewers, [*posts, held, *reposts]


def _by_sql(viewer: Viewer, surface: Surface, lists: bool) -> set[int]:
    blocked = muted = None
    if lists and viewer.id is not None:
        sql, params = hidden_sql(viewer.id)
        with connection.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
        blocked, muted = {a for k, a in rows if k == 0}, {a for k, a in rows if k == 1}
    rule, params = post_sql(viewer, surface, post="p", author="u", blocked=blocked, muted=muted)
    with connection.cursor() as cur:
        cur.execute(f"SELECT p.id FROM social_post p JOIN accounts_user u ON u.id = p.author_id WHERE {rule}",
                    params)
        return {row[0] for row in cur.fetchall()}


def _hidden(viewer_id: int, mutes: bool) -> set[int]:
    sql, params = hidden_sql(viewer_id)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return {a for k, a in cur.fetchall() if k == 0 or mutes}


@pytest.mark.parametrize("surface", list(Surface))
def test_the_filter_the_sql_and_the_checks_agree(world, surface):
    viewers, posts = world
    ids = [p.pk for p in posts]
    seen_by: dict[int, set] = {pk: set() for pk in ids}
    for viewer in viewers:
        by_q = set(Post.objects.filter(pk__in=ids).filter(posts_q(viewer, surface)).values_list("pk", flat=True))
        assert by_q == _by_sql(viewer, surface, lists=False) & set(ids), (viewer, surface)
        assert by_q == _by_sql(viewer, surface, lists=True) & set(ids), (viewer, surface)
        assert set(visible_authors(viewer, ids, surface)) == by_q
        assert {p.pk for p in posts if can_see(viewer, p, surface)} == by_q
        for pk in by_q:
            seen_by[pk].add(viewer.id)
    # one post, many viewers at once (the streaming API): the same rule, in small chunks too
    for pk in ids:
        assert viewers_who_see(pk, viewers, surface) == seen_by[pk], (pk, surface)
        assert viewers_who_see(pk, viewers, surface, chunk=3) == seen_by[pk], (pk, surface)
    # the batch form (the analytics ingest): every viewer at once, one statement per chunk of viewers
    many = visible_authors_many([(v, ids) for v in viewers], surface)
    for viewer in viewers:
        assert many[viewer.id] == visible_authors(viewer, ids, surface), (viewer, surface)
    originals = visible_authors_many([(v, ids) for v in viewers], surface, originals_only=True)
    for viewer in viewers:
        assert originals[viewer.id] == visible_authors(viewer, ids, surface, originals_only=True), (viewer, surface)
    # what everyone sees: every viewer sees it unless a block either way or a mute (on lists) stands between
    open_posts = seen_by_everyone(ids, surface)
    assert open_posts == visible_authors(Viewer(), ids, surface, originals_only=True)
    assert len(open_posts) >= (1 if surface != Surface.SEARCH else 0)
    for viewer in viewers[1:]:
        hidden = _hidden(viewer.id, mutes=surface != Surface.DIRECT)
        sees = set(visible_authors(viewer, ids, surface))
        assert {p for p, author in open_posts.items() if author not in hidden} <= sees, (viewer, surface)
    # the world is not trivial: viewers see different things
    seen = {frozenset(Post.objects.filter(pk__in=ids).filter(posts_q(v, surface)).values_list("pk", flat=True))
            for v in viewers}
    assert len(seen) >= 5 and frozenset() in seen


def test_sql_for_known_facts_is_the_same_rule(world):
    """What the home timeline tells the renderer it knows (the viewer follows the author) only folds the
    rule: on posts where it holds, the folded SQL selects exactly what the full rule selects."""
    from tastemaker.feeds.selectors import PUSHED_KNOWN

    viewers, posts = world
    for viewer in viewers[1:]:
        with connection.cursor() as cur:
            cur.execute("SELECT target_id FROM social_follow WHERE follower_id = %s", [viewer.id])
            followed = {row[0] for row in cur.fetchall()} | {viewer.id}
        mine = [p.pk for p in posts if p.author_id in followed]
        if not mine:
            continue
        rule, params = post_sql(viewer, Surface.LIST, post="p", author="u", known=PUSHED_KNOWN)
        marks = ", ".join(["%s"] * len(mine))
        with connection.cursor() as cur:
            cur.execute(f"SELECT p.id FROM social_post p JOIN accounts_user u ON u.id = p.author_id"
                        f" WHERE p.id IN ({marks}) AND {rule}", [*mine, *params])
            folded = {row[0] for row in cur.fetchall()}
        full = set(Post.objects.filter(pk__in=mine).filter(posts_q(viewer, Surface.LIST)).values_list("pk", flat=True))
        assert folded == full, viewer


# --- no copies of the rule elsewhere ----------------------------------------------------------------

SRC = Path(__file__).resolve().parents[2] / "src" / "tastemaker"
# read-side copies of the rule: a suspended-author or held filter, a visibility filter, raw SQL on blocks
# and mutes. The rule lives in social/visibility.py (and the account states in accounts/standing.py).
COPIES = [
    r"author__is_suspended", r"actor__is_suspended", r"follower__is_suspended", r"target__is_suspended",
    r"user__is_suspended", r"is_suspended=False", r"is_suspended = %s", r"post__visibility",
    r"visibility=Visibility\.PUBLIC", r"visibility=\"public\"", r"FROM social_block", r"FROM social_mute",
    r"held=False", r"held = %s",
]
ALLOWED = {
    "social/visibility.py", "accounts/standing.py",
    "feeds/services.py",  # "p.held = %s" in stalled_fanouts: the sweep's own bookkeeping (a held post waits)
    "social/services.py",  # writes: who may be mentioned when a post is created (the spam rules' file)
    "demo/management/commands/seed_demo.py",  # writes demo rows
    "moderation/services.py",  # writes: suspension and its reversal (audited)
    # suggestions add their own exclusions on top of visibility.hidden_sql: who muted the viewer, dismissals
    "discovery/selectors.py",
}


def test_no_read_keeps_its_own_copy_of_the_rule():
    found = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        if "/migrations/" in rel or rel in ALLOWED:
            continue
        text = path.read_text()
        found += [f"{rel}: {pattern}" for pattern in COPIES if re.search(pattern, text)]
    assert not found, f"read the rule from social.visibility instead: {found}"
