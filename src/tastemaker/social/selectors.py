"""Social reads: timelines other than home, threads, lists, hydration. Who may see what is decided in
``social.visibility`` (the one rule); every read here filters with it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, prefetch_related_objects

from tastemaker.accounts.models import MessagesFrom, User
from tastemaker.accounts.standing import suspended_sql
from tastemaker.core.pagination import Page, apply_keyset, keyset_sql

from .models import (
    Block,
    Bookmark,
    ConversationMember,
    Favourite,
    Folder,
    Follow,
    FollowRequest,
    Hashtag,
    Mention,
    Mute,
    Notification,
    Post,
    PostTag,
)
from .search import matching_post_ids
from .visibility import (
    AccountReach,
    Surface,
    accounts_q,
    can_see,
    posts_q,
    visible_authors,
    visible_authors_many,
)
from .visibility import blocked_either_way as is_blocked_either_way

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from .models import Media

__all__ = ["is_blocked_either_way"]  # re-exported for the services that refuse actions across a block


def is_following(follower_id: int, target_id: int) -> bool:
    return Follow.objects.filter(follower_id=follower_id, target_id=target_id).exists()


def can_view(viewer: User | AnonymousUser | None, post: Post) -> bool:
    """May ``viewer`` open ``post``: ``visibility.can_see`` (the one rule; kept under this name for the
    services that check before acting)."""
    return can_see(viewer, post)


def get_post(viewer: User | None, post_id: str | int) -> Post | None:
    try:
        post_id = int(post_id)
    except (TypeError, ValueError):
        return None
    # the rule covers a repost's original too
    return Post.objects.select_related("author", "reblog_of__author").filter(pk=post_id).filter(posts_q(viewer)).first()


def listed_accounts(ids: Iterable[int]) -> list[User]:
    """The accounts with these ids that may appear (``visibility.accounts_q``: not suspended or
    deactivated); unknown ids are left out."""
    return list(User.objects.filter(pk__in=list(ids)).filter(accounts_q()))


def get_account(username_or_id: str | int, *, include_suspended: bool = False) -> User | None:
    qs = User.objects.filter(is_active=True)
    if not include_suspended:
        qs = qs.filter(accounts_q())
    value = str(username_or_id).lstrip("@")
    if value.isdigit() and len(value) > 6:
        found = qs.filter(pk=int(value)).first()
        if found:
            return found
    return qs.filter(username__iexact=value).first()


def public_timeline(viewer: User | None, page: Page, *, local: bool = True) -> list[Post]:
    qs = Post.objects.filter(reblog_of__isnull=True).filter(posts_q(viewer, Surface.PUBLIC, originals=False))
    return apply_keyset(qs, page)


def tag_timeline(viewer: User | None, tag: str, page: Page) -> list[Post]:
    hashtag = Hashtag.objects.filter(name=tag.lower().lstrip("#")).first()
    if hashtag is None:
        return []
    qs = (Post.objects.filter(reblog_of__isnull=True, post_tags__hashtag=hashtag)
          .filter(posts_q(viewer, Surface.PUBLIC, originals=False)))
    return apply_keyset(qs, page)


def account_timeline(viewer: User | None, account: User, page: Page, *, exclude_replies: bool = False,
                     exclude_reblogs: bool = False, only_media: bool = False, tagged: str | None = None) -> list[Post]:
    # as opened directly (mutes do not hide) but never a direct message (Surface.PROFILE); nothing across a
    # block; a repost only if its original is visible too
    qs = Post.objects.filter(author=account).filter(posts_q(viewer, Surface.PROFILE))
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
    """Ancestors (oldest first) the viewer may open, and descendants (depth-first, in id order) the viewer's
    lists show (``Surface.THREAD``: a muted account's replies are left out, and the replies below them; a direct
    reply only for its participants)."""
    chain: list[Post] = []
    current = post
    seen = {post.pk}
    while current.in_reply_to_id and len(chain) < limit:
        parent = Post.objects.select_related("author").filter(pk=current.in_reply_to_id).first()
        if parent is None or parent.pk in seen:
            break
        seen.add(parent.pk)
        chain.append(parent)
        current = parent
    shown = visible_authors(viewer, [p.pk for p in chain]) if chain else {}
    ancestors = [p for p in reversed(chain) if p.pk in shown]
    listed = posts_q(viewer, Surface.THREAD)
    descendants: list[Post] = []
    frontier = [post.pk]
    while frontier and len(descendants) < limit:
        children = list(
            Post.objects.select_related("author").filter(in_reply_to_id__in=frontier).filter(listed)
            .order_by("id")[: limit]
        )
        frontier = []
        for child in children:
            if child.pk in seen:
                continue
            seen.add(child.pk)
            descendants.append(child)
            frontier.append(child.pk)
    descendants.sort(key=lambda p: p.pk)
    return ancestors, descendants[:limit]


def followers(account: User, page: Page) -> tuple[list[User], int | None, int | None]:
    rows = apply_keyset(Follow.objects.filter(target=account).filter(accounts_q(prefix="follower__"))
                        .select_related("follower"), page)
    return [r.follower for r in rows], (rows[0].pk if rows else None), (rows[-1].pk if rows else None)


def following(account: User, page: Page) -> tuple[list[User], int | None, int | None]:
    rows = apply_keyset(Follow.objects.filter(follower=account).filter(accounts_q(prefix="target__"))
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
    # from accounts that may appear, about posts the recipient may still see (a post held, or turned
    # followers-only by a limit on its author, since the notification was made leaves the list)
    qs = (Notification.objects.filter(recipient=user).filter(accounts_q(prefix="actor__"))
          .filter(Q(post__isnull=True) | posts_q(user, prefix="post__")).select_related("actor"))
    if types:
        qs = qs.filter(type__in=types)
    if exclude_types:
        qs = qs.exclude(type__in=exclude_types)
    return apply_keyset(qs, page)


def unread_notifications_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read=False).count()


def bookmarked_posts(user: User, page: Page) -> tuple[list[Post], int | None, int | None]:
    """Your bookmarks that you may still see (``visibility.posts_q``): a followers-only post leaves the list
    when you unfollow or are blocked, and comes back if you may read it again. Paged by bookmark id."""
    rows = apply_keyset(Bookmark.objects.filter(user=user).filter(posts_q(user, prefix="post__"))
                        .select_related("post"), page)
    return [r.post for r in rows], (rows[0].pk if rows else None), (rows[-1].pk if rows else None)


def favourited_posts(user: User, page: Page) -> tuple[list[Post], int | None, int | None]:
    """Your likes that you may still see (``visibility.posts_q``), as ``bookmarked_posts``."""
    rows = apply_keyset(Favourite.objects.filter(user=user).filter(posts_q(user, prefix="post__"))
                        .select_related("post"), page)
    return [r.post for r in rows], (rows[0].pk if rows else None), (rows[-1].pk if rows else None)


def follow_requests(user: User, page: Page) -> tuple[list[User], int | None, int | None]:
    """Accounts waiting for ``user`` to approve their follow, newest first (paged by request id)."""
    rows = apply_keyset(FollowRequest.objects.filter(target=user).filter(accounts_q(prefix="follower__"))
                        .select_related("follower"), page)
    return [r.follower for r in rows], (rows[0].pk if rows else None), (rows[-1].pk if rows else None)


def follow_requests_count(user: User) -> int:
    return FollowRequest.objects.filter(target=user).filter(accounts_q(prefix="follower__")).count()


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
    qs = User.objects.filter(Q(username__istartswith=q) | Q(display_name__icontains=q)).filter(
        accounts_q(viewer, AccountReach.DISCOVERY))
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
        # Surface.SEARCH: unlisted posts stay out (except the viewer's own); followers-only ones are
        # found by the followers who may read them
        posts = {p.pk: p for p in Post.objects.select_related("author").filter(pk__in=ids, reblog_of__isnull=True)
                 .filter(posts_q(viewer, Surface.SEARCH, originals=False))}
        for pid in ids:
            post = posts.get(pid)
            if post is not None:
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


def post_exists(post_id: int) -> bool:
    return Post.objects.filter(pk=post_id).exists()


# --- direct messages (issue 14) -----------------------------------------------------------------

@dataclass
class ConversationView:
    """One participant's view of a conversation: the other participants who may appear, the newest message
    the viewer may see, unread, and its folder (inbox, request, declined)."""

    id: int
    unread: bool
    folder: str
    accounts: list[User]
    last_status: Post | None
    removed: bool = False


@dataclass
class ConversationRef:
    """``ConversationView`` as ids (what the API renders from rows, without model instances)."""

    id: int
    unread: bool
    folder: str
    removed: bool
    last_status_id: int | None
    last_reblog_of_id: int | None
    account_ids: list[int]


_REF_COLUMNS = ("conversation_id", "unread", "folder", "removed", "last_status_id", "last_status__reblog_of_id")
_RefRow = tuple[int, bool, str, bool, int | None, int | None]


def _refs(user: User, rows: list[_RefRow]) -> list[ConversationRef]:
    """The rows' conversations with the other participants who may appear (``visibility.accounts_q``'s listed
    accounts: not suspended, as SQL), one statement."""
    others: dict[int, list[int]] = {}
    if rows:
        ids = [r[0] for r in rows]
        hidden, hidden_params = suspended_sql("u")
        with connection.cursor() as cur:
            cur.execute(
                "SELECT m.conversation_id, m.user_id FROM social_conversationmember m"
                " JOIN accounts_user u ON u.id = m.user_id"
                f" WHERE m.conversation_id IN ({', '.join(['%s'] * len(ids))}) AND m.user_id <> %s"
                f" AND NOT {hidden} ORDER BY m.id", [*ids, user.pk, *hidden_params])
            for conversation_id, user_id in cur.fetchall():
                others.setdefault(conversation_id, []).append(user_id)
    return [ConversationRef(r[0], bool(r[1]), r[2], bool(r[3]), r[4], r[5], others.get(r[0], [])) for r in rows]


def _views(refs: list[ConversationRef]) -> list[ConversationView]:
    """The refs with their accounts and last messages as model instances (the web inbox), two statements."""
    users = User.objects.in_bulk({a for r in refs for a in r.account_ids})
    posts = Post.objects.select_related("author").in_bulk([r.last_status_id for r in refs if r.last_status_id])
    return [ConversationView(r.id, r.unread, r.folder, [users[a] for a in r.account_ids if a in users],
                             posts.get(r.last_status_id) if r.last_status_id else None, r.removed) for r in refs]


def conversation_refs(user: User, page: Page, folder: str = Folder.INBOX
                      ) -> tuple[list[ConversationRef], int | None, int | None]:
    """A participant's conversations in one folder, newest message first (keyset by the last message's id, as
    Mastodon pages them), leaving out the removed ones and those whose newest message the viewer may not see
    any more (``visibility.posts_q``: a block since, say)."""
    key_sql, key_params, order = keyset_sql("m.last_status_id", page)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT m.conversation_id, m.unread, m.folder, m.removed, m.last_status_id, p.reblog_of_id"
            " FROM social_conversationmember m JOIN social_post p ON p.id = m.last_status_id"
            f" WHERE m.user_id = %s AND m.folder = %s AND m.removed = %s{key_sql}"
            f" ORDER BY m.last_status_id {order} LIMIT %s", [user.pk, folder, False, *key_params, page.limit])
        rows: list[_RefRow] = cur.fetchall()
    if order == "ASC":
        rows.reverse()
    # the rule on the page's messages in one statement (its SQL form: building it as a filter through the
    # last_status join cost more than the rest of the request); the page's links follow the rows read
    seen = visible_authors_many([(user, [r[4] for r in rows if r[4]])], Surface.DIRECT).get(user.pk, {})
    shown = [r for r in rows if r[4] in seen]
    return _refs(user, shown), (rows[0][4] if rows else None), (rows[-1][4] if rows else None)


def conversations(user: User, page: Page, folder: str = Folder.INBOX
                  ) -> tuple[list[ConversationView], int | None, int | None]:
    """``conversation_refs`` with model instances (the web inbox)."""
    refs, first, last = conversation_refs(user, page, folder)
    return _views(refs), first, last


def conversation_ref(user: User, conversation_id: int | None) -> ConversationRef | None:
    """``user``'s view of one conversation (removed or declined ones too) as ids; None if not a participant."""
    if conversation_id is None:
        return None
    row = (ConversationMember.objects.filter(user=user, conversation_id=conversation_id)
           .values_list(*_REF_COLUMNS).first())
    return _refs(user, [row])[0] if row is not None else None


def conversation(user: User, conversation_id: int | None) -> ConversationView | None:
    """``conversation_ref`` with model instances; None if not a participant."""
    ref = conversation_ref(user, conversation_id)
    return _views([ref])[0] if ref is not None else None


def conversation_messages(user: User, conversation_id: int, page: Page) -> list[Post]:
    """The messages of a conversation ``user`` takes part in that ``user`` may see (``visibility.posts_q``:
    their own and those they are mentioned in), newest first; none for anyone else."""
    if not ConversationMember.objects.filter(user=user, conversation_id=conversation_id).exists():
        return []
    qs = (Post.objects.filter(conversation_id=conversation_id).filter(posts_q(user, Surface.DIRECT))
          .select_related("author"))
    return apply_keyset(qs, page)


def unread_conversations_count(user: User) -> int:
    """Unread conversations in the inbox (the nav badge)."""
    return ConversationMember.objects.filter(user=user, folder=Folder.INBOX, unread=True, removed=False).count()


def message_requests_count(user: User) -> int:
    return ConversationMember.objects.filter(user=user, folder=Folder.REQUEST, removed=False).count()


def may_message(viewer: User, target: User) -> bool:
    """Whether a "Message" button makes sense: not oneself, no block either way, and the target's setting lets
    the viewer write (``conversations.admit`` is the check that counts, with the credit gate and limits)."""
    if viewer.pk == target.pk or is_blocked_either_way(viewer.pk, target.pk):
        return False
    if target.messages_from == MessagesFrom.NOBODY:
        return False
    return target.messages_from != MessagesFrom.FOLLOWING or is_following(target.pk, viewer.pk)
