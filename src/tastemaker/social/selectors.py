"""Social reads: visibility rules, timelines other than home, threads, lists, hydration."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, prefetch_related_objects

from tastemaker.accounts.models import User
from tastemaker.core.pagination import Page, apply_keyset

from .models import (
    Block,
    Bookmark,
    Favourite,
    Follow,
    FollowRequest,
    Hashtag,
    Mention,
    Mute,
    Notification,
    Post,
    PostTag,
    Visibility,
)
from .search import matching_post_ids

if TYPE_CHECKING:
    from .models import Media


def is_blocked_either_way(a: int, b: int) -> bool:
    return Block.objects.filter(Q(account_id=a, target_id=b) | Q(account_id=b, target_id=a)).exists()


def is_following(follower_id: int, target_id: int) -> bool:
    return Follow.objects.filter(follower_id=follower_id, target_id=target_id).exists()


def visible_to(viewer: User | None, prefix: str = "") -> Q:
    """THE visibility rule, as a filter on posts (``prefix`` reaches the post from another model, e.g.
    ``"post__"`` on bookmarks). Every read that decides whether a viewer may see a post uses it, either
    as a filter (lists), through ``can_view`` (one post) or ``visible_post_authors`` (a batch of ids):

    - a suspended author's posts: operators only;
    - your own posts: always;
    - an author who blocked you: none of theirs;
    - followers-only posts: their author's followers (an approved ``Follow``: a pending follow request
      gives nothing) and the accounts mentioned in them;
    - public and unlisted posts: everyone else.
    """
    signed_in = viewer is not None and viewer.is_authenticated
    # signed_in implies viewer is not None (mypy does not narrow through the bool)
    return visible_to_id(cast(User, viewer).pk if signed_in else None,
                         staff=bool(signed_in and cast(User, viewer).is_staff),
                         prefix=prefix)


def visible_to_id(viewer_id: int | None, *, staff: bool = False, prefix: str = "") -> Q:
    """``visible_to`` for a viewer known by id (None: signed out) and whether they are an operator."""
    def f(name: str) -> str:
        return f"{prefix}{name}"

    live = Q(**{f("author__is_suspended"): False})
    open_ = ~Q(**{f("visibility"): Visibility.PRIVATE}) & Q(**{f("held"): False})
    if viewer_id is None:
        return live & open_
    author = OuterRef(f("author_id"))
    blocked = Exists(Block.objects.filter(account_id=author, target_id=viewer_id))
    follows = Exists(Follow.objects.filter(follower_id=viewer_id, target_id=author))
    mentioned = Exists(Mention.objects.filter(post_id=OuterRef(f("id")), user_id=viewer_id))
    rule = live & (Q(**{f("author_id"): viewer_id})
                   | (~blocked & Q(**{f("held"): False}) & (open_ | follows | mentioned)))
    if staff:
        rule |= Q(**{f("author__is_suspended"): True}) | Q(**{f("held"): True})
    return rule


def can_view(viewer: User | None, post: Post) -> bool:
    """``visible_to`` for one post (one query)."""
    return Post.objects.filter(pk=post.pk).filter(visible_to(viewer)).exists()


def visible_post_authors(viewer_id: int | None, post_ids: Iterable[int], *, staff: bool = False,
                         originals_only: bool = False) -> dict[int, int]:
    """Of ``post_ids``, the posts a viewer (an account id, or None when signed out) may see, as
    ``{post id: author id}``: ``visible_to`` for a batch, in one query. A post that does not exist and one
    the viewer may not see are both simply absent. ``originals_only`` leaves reposts out."""
    qs = Post.objects.filter(pk__in=list(post_ids)).filter(visible_to_id(viewer_id, staff=staff))
    if originals_only:
        qs = qs.filter(reblog_of__isnull=True)
    return dict(qs.values_list("pk", "author_id"))


def get_post(viewer: User | None, post_id: str | int) -> Post | None:
    try:
        post_id = int(post_id)
    except (TypeError, ValueError):
        return None
    post = Post.objects.select_related("author", "reblog_of__author").filter(pk=post_id).first()
    if post is None or not can_view(viewer, post):
        return None
    if post.reblog_of_id and not can_view(viewer, cast(Post, post.reblog_of)):
        return None
    return post


def get_account(username_or_id: str | int, *, include_suspended: bool = False) -> User | None:
    qs = User.objects.filter(is_active=True)
    if not include_suspended:
        qs = qs.filter(is_suspended=False)
    value = str(username_or_id).lstrip("@")
    if value.isdigit() and len(value) > 6:
        found = qs.filter(pk=int(value)).first()
        if found:
            return found
    return qs.filter(username__iexact=value).first()


def hidden_author_ids(viewer: User | None) -> set[int]:
    """Accounts whose posts a viewer should not see in lists: blocked either way, or muted."""
    if viewer is None or not viewer.is_authenticated:
        return set()
    # one round trip instead of three (this runs on every list read)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT target_id FROM social_block WHERE account_id = %s"
            " UNION SELECT account_id FROM social_block WHERE target_id = %s"
            " UNION SELECT target_id FROM social_mute WHERE account_id = %s",
            [viewer.pk, viewer.pk, viewer.pk],
        )
        return {row[0] for row in cur.fetchall()}


def _listable(viewer: User | None) -> QuerySet[Post]:
    qs = Post.objects.filter(author__is_suspended=False)
    hidden = hidden_author_ids(viewer)
    if hidden:
        qs = qs.exclude(author_id__in=hidden).exclude(reblog_of__author_id__in=hidden)
    return qs


def public_timeline(viewer: User | None, page: Page, *, local: bool = True) -> list[Post]:
    qs = _listable(viewer).filter(visibility=Visibility.PUBLIC, reblog_of__isnull=True)
    return apply_keyset(qs, page)


def tag_timeline(viewer: User | None, tag: str, page: Page) -> list[Post]:
    hashtag = Hashtag.objects.filter(name=tag.lower().lstrip("#")).first()
    if hashtag is None:
        return []
    qs = _listable(viewer).filter(
        visibility=Visibility.PUBLIC, reblog_of__isnull=True, post_tags__hashtag=hashtag
    )
    return apply_keyset(qs, page)


def account_timeline(viewer: User | None, account: User, page: Page, *, exclude_replies: bool = False,
                     exclude_reblogs: bool = False, only_media: bool = False, tagged: str | None = None) -> list[Post]:
    # nothing at all if it blocked you; a repost only if its original is visible to you too
    qs = (Post.objects.filter(author=account).filter(visible_to(viewer))
          .filter(Q(reblog_of__isnull=True) | visible_to(viewer, "reblog_of__")))
    if exclude_replies:
        qs = qs.filter(Q(in_reply_to_account_id__isnull=True) | Q(in_reply_to_account_id=account.pk))
    if exclude_reblogs:
        qs = qs.filter(reblog_of__isnull=True)
    if only_media:
        qs = qs.filter(Exists(cast("type[Media]", Post.media.rel.related_model).objects.filter(post=OuterRef("pk"))))
    if tagged:
        qs = qs.filter(post_tags__hashtag__name=tagged.lower())
    return apply_keyset(qs, page)


def thread_context(viewer: User | None, post: Post, limit: int = 200) -> tuple[list[Post], list[Post]]:
    """Ancestors (oldest first) and descendants (depth-first, in id order) that the viewer may see."""
    ancestors: list[Post] = []
    current = post
    seen = {post.pk}
    while current.in_reply_to_id and len(ancestors) < limit:
        parent = Post.objects.select_related("author").filter(pk=current.in_reply_to_id).first()
        if parent is None or parent.pk in seen:
            break
        seen.add(parent.pk)
        if can_view(viewer, parent):
            ancestors.append(parent)
        current = parent
    ancestors.reverse()
    hidden = hidden_author_ids(viewer)
    descendants: list[Post] = []
    frontier = [post.pk]
    while frontier and len(descendants) < limit:
        children = list(
            Post.objects.select_related("author").filter(in_reply_to_id__in=frontier).order_by("id")[: limit]
        )
        frontier = []
        for child in children:
            if child.pk in seen:
                continue
            seen.add(child.pk)
            if child.author_id in hidden or not can_view(viewer, child):
                continue
            descendants.append(child)
            frontier.append(child.pk)
    descendants.sort(key=lambda p: p.pk)
    return ancestors, descendants[:limit]


def followers(account: User, page: Page) -> tuple[list[User], int | None, int | None]:
    rows = apply_keyset(Follow.objects.filter(target=account, follower__is_suspended=False)
                        .select_related("follower"), page)
    return [r.follower for r in rows], (rows[0].pk if rows else None), (rows[-1].pk if rows else None)


def following(account: User, page: Page) -> tuple[list[User], int | None, int | None]:
    rows = apply_keyset(Follow.objects.filter(follower=account, target__is_suspended=False)
                        .select_related("target"), page)
    return [r.target for r in rows], (rows[0].pk if rows else None), (rows[-1].pk if rows else None)


def blocked_accounts(user: User, page: Page) -> tuple[list[User], int | None, int | None]:
    rows = apply_keyset(Block.objects.filter(account=user).select_related("target"), page)
    return [r.target for r in rows], (rows[0].pk if rows else None), (rows[-1].pk if rows else None)


def muted_accounts(user: User, page: Page) -> tuple[list[User], int | None, int | None]:
    rows = apply_keyset(Mute.objects.filter(account=user).select_related("target"), page)
    return [r.target for r in rows], (rows[0].pk if rows else None), (rows[-1].pk if rows else None)


@dataclass
class Relationship:
    id: int
    following: bool = False
    followed_by: bool = False
    blocking: bool = False
    blocked_by: bool = False
    muting: bool = False
    requested: bool = False  # the viewer asked to follow this (locked) account; not yet approved
    requested_by: bool = False  # this account asked to follow the viewer


def relationships(viewer: User, ids: list[int]) -> list[Relationship]:
    ids = [int(i) for i in ids]
    following_ids = set(Follow.objects.filter(follower=viewer, target_id__in=ids).values_list("target_id", flat=True))
    followed_by = set(Follow.objects.filter(target=viewer, follower_id__in=ids).values_list("follower_id", flat=True))
    blocking = set(Block.objects.filter(account=viewer, target_id__in=ids).values_list("target_id", flat=True))
    blocked_by = set(Block.objects.filter(target=viewer, account_id__in=ids).values_list("account_id", flat=True))
    muting = set(Mute.objects.filter(account=viewer, target_id__in=ids).values_list("target_id", flat=True))
    requested = set(FollowRequest.objects.filter(follower=viewer, target_id__in=ids)
                    .values_list("target_id", flat=True))
    requested_by = set(FollowRequest.objects.filter(target=viewer, follower_id__in=ids)
                       .values_list("follower_id", flat=True))
    return [
        Relationship(i, i in following_ids, i in followed_by, i in blocking, i in blocked_by, i in muting,
                     i in requested, i in requested_by)
        for i in ids
    ]


def notifications(user: User, page: Page, types: list[str] | None = None,
                  exclude_types: list[str] | None = None) -> list[Notification]:
    qs = Notification.objects.filter(recipient=user, actor__is_suspended=False).select_related("actor")
    if types:
        qs = qs.filter(type__in=types)
    if exclude_types:
        qs = qs.exclude(type__in=exclude_types)
    return apply_keyset(qs, page)


def unread_notifications_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read=False).count()


def bookmarked_posts(user: User, page: Page) -> tuple[list[Post], int | None, int | None]:
    """Your bookmarks that you may still see (``visible_to``): a followers-only post leaves the list
    when you unfollow or are blocked, and comes back if you may read it again. Paged by bookmark id."""
    rows = apply_keyset(Bookmark.objects.filter(user=user).filter(visible_to(user, "post__"))
                        .select_related("post"), page)
    return [r.post for r in rows], (rows[0].pk if rows else None), (rows[-1].pk if rows else None)


def favourited_posts(user: User, page: Page) -> tuple[list[Post], int | None, int | None]:
    """Your likes that you may still see (``visible_to``), as ``bookmarked_posts``."""
    rows = apply_keyset(Favourite.objects.filter(user=user).filter(visible_to(user, "post__"))
                        .select_related("post"), page)
    return [r.post for r in rows], (rows[0].pk if rows else None), (rows[-1].pk if rows else None)


def follow_requests(user: User, page: Page) -> tuple[list[User], int | None, int | None]:
    """Accounts waiting for ``user`` to approve their follow, newest first (paged by request id)."""
    rows = apply_keyset(FollowRequest.objects.filter(target=user, follower__is_suspended=False)
                        .select_related("follower"), page)
    return [r.follower for r in rows], (rows[0].pk if rows else None), (rows[-1].pk if rows else None)


def follow_requests_count(user: User) -> int:
    return FollowRequest.objects.filter(target=user, follower__is_suspended=False).count()


# --- hydration ------------------------------------------------------------------------------

@dataclass
class ViewerState:
    favourited: set[int] = field(default_factory=set)
    reblogged: set[int] = field(default_factory=set)
    bookmarked: set[int] = field(default_factory=set)
    muted_authors: set[int] = field(default_factory=set)


def hydrate(posts: list[Post], viewer: User | None) -> ViewerState:
    """Load everything a rendered post needs, in a fixed number of queries whatever the page size."""
    if not posts:
        return ViewerState()
    need_author = [p for p in posts if "author" not in p._state.fields_cache]
    if need_author:
        prefetch_related_objects(need_author, "author")
    originals = [p for p in posts if p.reblog_of_id]
    if originals:
        prefetch_related_objects(originals, "reblog_of__author")
    shown = [cast(Post, p.reblog_of) if p.reblog_of_id else p for p in posts]
    # tags and mentions with their hashtag / user joined in: one query each instead of two
    prefetch_related_objects(
        shown, "media", Prefetch("post_tags", queryset=PostTag.objects.select_related("hashtag")),
        Prefetch("mentions", queryset=Mention.objects.select_related("user")),
    )
    state = ViewerState()
    if viewer is not None and viewer.is_authenticated:
        ids = list({p.pk for p in shown})
        marks = ", ".join(["%s"] * len(ids))
        # favourited / reblogged / bookmarked in one round trip
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT 'f', post_id FROM social_favourite WHERE user_id = %s AND post_id IN ({marks})"
                f" UNION ALL SELECT 'r', reblog_of_id FROM social_post WHERE author_id = %s AND reblog_of_id IN ({marks})"
                f" UNION ALL SELECT 'b', post_id FROM social_bookmark WHERE user_id = %s AND post_id IN ({marks})",
                [viewer.pk, *ids, viewer.pk, *ids, viewer.pk, *ids],
            )
            flags = {"f": state.favourited, "r": state.reblogged, "b": state.bookmarked}
            for kind, pid in cur.fetchall():
                flags[kind].add(pid)
    return state


def search_accounts(q: str, limit: int = 20, viewer: User | None = None, offset: int = 0) -> list[User]:
    q = q.strip().lstrip("@")
    if not q:
        return []
    qs = User.objects.filter(is_active=True, is_suspended=False).filter(
        Q(username__istartswith=q) | Q(display_name__icontains=q)
    )
    hidden = hidden_author_ids(viewer)
    if hidden:
        qs = qs.exclude(pk__in=hidden)
    return list(qs.order_by("-followers_count", "id")[offset: offset + limit])


def search_hashtags(q: str, limit: int = 20, offset: int = 0) -> list[Hashtag]:
    q = q.strip().lstrip("#").lower()
    if not q:
        return []
    return list(Hashtag.objects.filter(name__startswith=q).order_by("name")[offset: offset + limit])


def search_posts(q: str, viewer: User | None, limit: int = 20, max_id: int | None = None) -> list[Post]:
    out: list[Post] = []
    # matches the viewer may not see are skipped; keep reading older matches (a bounded number of
    # rounds) so a short page means "no more results", not "the first batch was all hidden"
    for _round in range(10):
        ids = matching_post_ids(q, limit * 3, max_id)
        if not ids:
            break
        # unlisted posts stay out of search (except the viewer's own); followers-only ones are
        # found by the followers who may read them (can_view below)
        own = Q(author_id=viewer.pk) if viewer is not None and viewer.is_authenticated else Q(pk__in=[])
        posts = {p.pk: p for p in _listable(viewer).select_related("author")
                 .filter(~Q(visibility=Visibility.UNLISTED) | own, pk__in=ids, reblog_of__isnull=True)}
        for pid in ids:
            post = posts.get(pid)
            if post is not None and can_view(viewer, post):
                out.append(post)
            if len(out) >= limit:
                return out
        if len(ids) < limit * 3:
            break
        max_id = ids[-1]
    return out


# --- single records and counts for the HTTP layers (api/mastodon) ----------------------------

def own_media(user: User, media_id: int | None) -> Media | None:
    """An upload of ``user`` (attached to a post or not); None for anyone else's or a missing one."""
    from .models import Media

    if media_id is None:
        return None
    return Media.objects.filter(pk=media_id, owner=user).first()


def notification_for(user: User, notification_id: int | None) -> Notification | None:
    """One of ``user``'s notifications, with its actor; None for anyone else's or a missing one."""
    if notification_id is None:
        return None
    return Notification.objects.select_related("actor").filter(pk=notification_id, recipient=user).first()


INSTANCE_STATS_SECONDS = 300


def instance_stats() -> dict[str, int]:
    """The server's counts for the instance endpoint: active accounts and posts. Mastodon apps call it
    often and the two ``COUNT(*)`` grow with the site: cached for five minutes (each process keeps its own
    copy until the shared cache arrives; counts a few minutes old are what Mastodon shows too)."""
    from django.core.cache import cache

    stats: dict[str, int] | None = cache.get("social:instance_stats")
    if stats is None:
        stats = {"user_count": User.objects.filter(is_active=True).count(), "status_count": Post.objects.count()}
        cache.set("social:instance_stats", stats, INSTANCE_STATS_SECONDS)
    return stats


# --- for the web pages (issue 11: no ORM in web/) ---------------------------------------------

def notifications_page(user: User, page: Page) -> list[Notification]:
    """A page of notifications with each one's post and its author loaded (the notifications page)."""
    items = notifications(user, page)
    prefetch_related_objects(items, "post__author")
    return items


def following_ids(user: User) -> set[int]:
    """The ids of the accounts ``user`` follows."""
    return set(Follow.objects.filter(follower_id=user.pk).values_list("target_id", flat=True))


def unused_media(user: User, media_id: int | None) -> Media | None:
    """The user's own uploaded image not yet attached to a post (kept across tries of a form), or None."""
    from .models import Media  # here, not in the import block above: keeps this appended block self-contained

    if media_id is None:
        return None
    return Media.objects.filter(pk=media_id, owner=user, post__isnull=True).first()


def public_post_ids(post_ids: Iterable[int]) -> set[int]:
    """Of these posts, the ones anyone may see listed (public or unlisted)."""
    return set(Post.objects.filter(pk__in=list(post_ids), visibility__in=[Visibility.PUBLIC, Visibility.UNLISTED])
               .values_list("pk", flat=True))


def post_exists(post_id: int) -> bool:
    return Post.objects.filter(pk=post_id).exists()
