"""What goes on the streaming API (Mastodon's ``/api/v1/streaming``), both ends of it.

Publishing: consumers of social's hook points (listed in ``settings.HOOKS``) send small events through
``core.streams.publish`` after commit — kinds and ids, never rendered content:

* ``{"k": "post", "id", "a" (author), "v" (visibility), "re" (account replied to), "rb" (original of a
  repost), "tags", "media"}``: a post or repost was published (``social.post_created``);
* ``{"k": "delete", "id", "a", "v", "rb", "tags"}``: a post was deleted (``social.post_deleted``; one per
  repost that goes with it);
* ``{"k": "notification", "id", "to"}``: a notification was created (``social.notified``);
* ``{"k": "direct", "id", "a", "to"}``: a direct message (``direct_message`` below: the consumer for the
  direct-message hook point, ``social.direct_message(post=, recipients=)``).

Receiving: the streaming server asks who of its connected viewers gets an event (``home_audience``,
``who_sees``); the visibility rule is ``social.visibility``'s (never a second copy), the home-feed rule the
fan-out's (``services.fanout_post``: the author's followers, and a reply only those who also follow the
account replied to).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from tastemaker.core import streams
from tastemaker.social.models import Media, Mention, Notification, Post, PostTag, Visibility
from tastemaker.social.visibility import Surface, Viewer, viewers_who_see

from . import rows


def _tags(post_id: int) -> list[str]:
    return sorted(n.lower() for n in PostTag.objects.filter(post_id=post_id).values_list("hashtag__name", flat=True))


# --- publishing (hook consumers) ----------------------------------------------------------------------------

def post_created(*, post: Post) -> None:
    """After commit (its tags and images are read then, outside the writer's transaction)."""
    transaction.on_commit(lambda: _publish_post(post))


def _publish_post(post: Post) -> None:
    original = post.reblog_of_id
    streams.publish({
        "k": "post", "id": post.pk, "a": post.author_id, "v": post.visibility,
        "re": post.in_reply_to_account_id, "rb": original,
        "tags": [] if original else _tags(post.pk),
        "media": bool(original is None and Media.objects.filter(post_id=post.pk).exists()),
    })


def post_deleted(*, post: Post) -> None:
    gone = [(post.pk, post.author_id, post.reblog_of_id)]
    gone += [(pk, author, post.pk) for pk, author in Post.objects.filter(reblog_of_id=post.pk).values_list(
        "pk", "author_id")]
    tags = [] if post.reblog_of_id else _tags(post.pk)
    # a direct message's deletion goes to its participants only (its mentioned accounts)
    to = sorted(Mention.objects.filter(post_id=post.pk).values_list("user_id", flat=True)) if (
        post.visibility == "direct") else []
    for pk, author, original in gone:
        event: dict[str, Any] = {"k": "delete", "id": pk, "a": author, "v": post.visibility, "rb": original,
                                 "tags": [] if original else tags}
        if to:
            event["to"] = to
        streams.publish(event)


def notified(*, notification: Notification) -> None:
    streams.publish({"k": "notification", "id": notification.pk, "to": notification.recipient_id})


def direct_message(*, post: Post, recipients: Iterable[Any], **_: Any) -> None:
    """The consumer for the direct-message hook point: ``recipients`` are accounts or their ids. The author's
    own other sessions get it too (as Mastodon's ``direct`` stream does)."""
    ids = sorted({getattr(r, "pk", r) for r in recipients} | {post.author_id})
    event: dict[str, Any] = {"k": "direct", "id": post.pk, "a": post.author_id, "to": ids}
    if getattr(post, "conversation_id", None):
        event["c"] = post.conversation_id  # the conversation's id, as /api/v1/conversations gives it
    streams.publish(event)


# --- receiving (the streaming server's reads) ---------------------------------------------------------------

def home_audience(event: dict[str, Any], viewer_ids: Iterable[int]) -> set[int]:
    """Of ``viewer_ids``, those whose home feed this ``post`` event reaches and who may see it there: the
    author, and the followers the fan-out delivers to, each through the visibility rule (``Surface.LIST``:
    blocks, mutes, followers-only, held posts, suspended authors)."""
    candidates = set(viewer_ids)
    if not candidates or event.get("v") == "direct":
        return set()
    author = int(event["a"])
    reached = {author} & candidates
    followers = _following(author, candidates - reached)
    replied_to = event.get("re")
    if replied_to and replied_to != author and followers:
        # as the fan-out: a reply reaches the followers who also follow the account replied to (and that account)
        followers = {replied_to} & followers | _following(int(replied_to), followers)
    reached |= followers
    return {v for v in who_sees(int(event["id"]), reached, Surface.LIST) if v is not None}


def followers_among(author_id: int, viewer_ids: Iterable[int]) -> set[int]:
    """Of ``viewer_ids``, the author and the author's followers (who may have had a post that is now deleted)."""
    candidates = set(viewer_ids)
    return ({author_id} & candidates) | _following(author_id, candidates)


def _following(target_id: int, viewer_ids: set[int]) -> set[int]:
    return rows.followers_among(target_id, viewer_ids) if viewer_ids else set()


def who_sees(post_id: int, viewer_ids: Iterable[int | None], surface: Surface) -> set[int | None]:
    """Of ``viewer_ids`` (None: signed out), those who may see the post on ``surface``: the visibility rule for
    each, in one statement per 200 viewers (``visibility.viewers_who_see``)."""
    return viewers_who_see(post_id, [Viewer(v) for v in viewer_ids], surface)


def is_public(event: dict[str, Any]) -> bool:
    """A post for the public and hashtag streams: a public original (reposts stay off them, as in Mastodon)."""
    return event.get("v") == Visibility.PUBLIC and not event.get("rb")
