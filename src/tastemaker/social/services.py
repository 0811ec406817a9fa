"""Social write paths (Zulip-style ``do_*`` actions). Views and API handlers call only these.

Social imports no app above it: what the home feeds and analytics do when a post is written or a
follow changes, they do through social's hook points (``social/hooks.py``; the consumers are listed in
``settings.HOOKS``), which run inside the transaction; their background work (fan-out, backfill, events)
waits for the commit with ``transaction.on_commit``, so a job never sees a row that was rolled back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from tastemaker.accounts.models import User
from tastemaker.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tastemaker.core.pagination import parse_int
from tastemaker.core.text import extract_hashtags, extract_mentions, search_text
from tastemaker.images.intake import process_image
from tastemaker.trust.ratelimit import check_and_hit

from . import conversations, hooks, rules, search
from .media import delete_media
from .models import (
    Block,
    Bookmark,
    ConversationMember,
    Favourite,
    Folder,
    Follow,
    FollowRequest,
    Hashtag,
    Media,
    Mention,
    Mute,
    Notification,
    NotificationType,
    Post,
    PostTag,
    Visibility,
)
from .selectors import can_view, is_blocked_either_way


def _notify(recipient_id: int, actor_id: int, kind: str, post_id: int | None = None) -> None:
    if recipient_id == actor_id:
        return
    if Block.objects.filter(account_id=recipient_id, target_id=actor_id).exists():
        return
    if Mute.objects.filter(account_id=recipient_id, target_id=actor_id).exists():
        return
    notification = Notification.objects.create(recipient_id=recipient_id, actor_id=actor_id, type=kind,
                                               post_id=post_id)
    hooks.notified(notification=notification)


# --- graph ----------------------------------------------------------------------------------

def do_follow(user: User, target: User) -> Follow | FollowRequest:
    """Follow ``target``; a locked account gets a ``FollowRequest`` instead (nothing is granted until it
    authorises it, ``do_authorize_follow_request``). Both are idempotent."""
    if user.pk == target.pk:
        raise ValidationFailed(_("You cannot follow yourself."))
    if target.is_suspended:
        raise NotFound(_("Account not found."))
    if is_blocked_either_way(user.pk, target.pk):
        raise Forbidden(_("You cannot follow this account."))
    existing = Follow.objects.filter(follower=user, target=target).first()
    if existing:
        return existing
    if target.locked:
        pending = FollowRequest.objects.filter(follower=user, target=target).first()
        if pending:
            return pending
        check_and_hit("follow", user.pk, "RATE_FOLLOW")
        try:
            with transaction.atomic():
                pending = FollowRequest.objects.create(follower=user, target=target)
                _notify(target.pk, user.pk, NotificationType.FOLLOW_REQUEST)
        except IntegrityError:  # a concurrent identical request won the race
            return FollowRequest.objects.get(follower=user, target=target)
        return pending
    check_and_hit("follow", user.pk, "RATE_FOLLOW")
    return _create_follow(user, target)


def _create_follow(user: User, target: User) -> Follow:
    """The follow itself: counters, notification, and (after commit) the home-feed backfill."""
    try:
        with transaction.atomic():
            _drop_follow_requests(Q(follower=user, target=target))  # granted: nothing is pending any more
            follow = Follow.objects.create(follower=user, target=target)
            User.objects.filter(pk=user.pk).update(following_count=F("following_count") + 1)
            User.objects.filter(pk=target.pk).update(followers_count=F("followers_count") + 1)
            _notify(target.pk, user.pk, NotificationType.FOLLOW)
    except IntegrityError:  # a concurrent identical follow won the race
        return Follow.objects.get(follower=user, target=target)
    hooks.followed(follower_id=user.pk, target_id=target.pk)
    return follow


def _drop_follow_requests(query: Q) -> int:
    """Delete follow requests and their ``follow_request`` notifications (the request is the news)."""
    pairs = list(FollowRequest.objects.filter(query).values_list("follower_id", "target_id"))
    if not pairs:
        return 0
    notes = Q()
    for follower_id, target_id in pairs:
        notes |= Q(actor_id=follower_id, recipient_id=target_id)
    Notification.objects.filter(notes, type=NotificationType.FOLLOW_REQUEST).delete()
    deleted, _rows = FollowRequest.objects.filter(query).delete()
    return deleted


def _pending_request(target: User, requester: User) -> FollowRequest:
    found = FollowRequest.objects.select_for_update().filter(follower=requester, target=target).first()
    if found is None:
        raise NotFound(_("There is no follow request from this account."))
    return found


def do_authorize_follow_request(user: User, requester: User) -> Follow:
    """``user`` approves ``requester``'s pending request: it becomes an ordinary follow (counters,
    a ``follow`` notification, the home-feed backfill after commit)."""
    with transaction.atomic():
        _pending_request(user, requester)
        if requester.is_suspended:
            raise NotFound(_("There is no follow request from this account."))
        existing = Follow.objects.filter(follower=requester, target=user).first()
        if existing:
            _drop_follow_requests(Q(follower=requester, target=user))
            return existing
        return _create_follow(requester, user)


def do_reject_follow_request(user: User, requester: User) -> None:
    with transaction.atomic():
        _pending_request(user, requester)
        _drop_follow_requests(Q(follower=requester, target=user))


def do_authorize_all_follow_requests(user: User) -> int:
    """An account that unlocks accepts every pending request (as Mastodon does). Returns how many."""
    accepted = 0
    for requester in User.objects.filter(follow_requests_made__target=user).order_by("pk"):
        try:
            do_authorize_follow_request(user, requester)
        except NotFound:  # withdrawn meanwhile, or the requester is suspended
            continue
        accepted += 1
    return accepted


def do_unfollow(user: User, target: User) -> bool:
    """Stop following ``target``, or withdraw a pending request to follow it. True if there was either."""
    with transaction.atomic():
        withdrawn = _drop_follow_requests(Q(follower=user, target=target))
        deleted, _rows = Follow.objects.filter(follower=user, target=target).delete()
        if not deleted:
            return bool(withdrawn)
        User.objects.filter(pk=user.pk, following_count__gt=0).update(following_count=F("following_count") - 1)
        User.objects.filter(pk=target.pk, followers_count__gt=0).update(followers_count=F("followers_count") - 1)
        hooks.unfollowed(follower_id=user.pk, target_id=target.pk)
    return True


def do_block(user: User, target: User) -> None:
    if user.pk == target.pk:
        raise ValidationFailed(_("You cannot block yourself."))
    with transaction.atomic():
        do_unfollow(user, target)  # also withdraws pending follow requests, both ways
        do_unfollow(target, user)
        Block.objects.get_or_create(account=user, target=target)
        hooks.blocked(account_id=user.pk, target_id=target.pk)


def do_unblock(user: User, target: User) -> None:
    Block.objects.filter(account=user, target=target).delete()


def do_mute(user: User, target: User) -> None:
    if user.pk == target.pk:
        raise ValidationFailed(_("You cannot mute yourself."))
    Mute.objects.get_or_create(account=user, target=target)


def do_unmute(user: User, target: User) -> None:
    Mute.objects.filter(account=user, target=target).delete()


# --- media ----------------------------------------------------------------------------------

def do_upload_media(user: User, data: bytes, description: str = "") -> Media:
    if len(description or "") > 1500:
        raise ValidationFailed(_("A description has at most 1,500 characters."), field="description")
    info = process_image(data, user=user)
    return Media.objects.create(owner=user, description=description or "", **info)


def do_discard_media(user: User, items: list[Media]) -> int:
    """Uploads made for a post that was then refused: removed at once (rows and files) rather than
    left to the sweep. Only the user's own, still unattached ones."""
    return delete_media([m for m in items if m.owner_id == user.pk])


def do_update_media(user: User, media: Media, description: str) -> Media:
    if media.owner_id != user.pk:
        raise NotFound(_("Media not found."))
    if len(description or "") > 1500:
        raise ValidationFailed(_("A description has at most 1,500 characters."), field="description")
    media.description = description or ""
    media.save(update_fields=["description"])
    return media


# --- posts ----------------------------------------------------------------------------------

def do_create_post(
    author: User,
    *,
    text: str,
    media_ids: Sequence[int | str | None] | None = None,
    in_reply_to_id: int | None = None,
    visibility: str = Visibility.PUBLIC,
    sensitive: bool = False,
    spoiler_text: str = "",
    language: str | None = None,
    recipients: Sequence[User] | None = None,
) -> Post:
    """A post, reply or direct message (``visibility="direct"``: its recipients are the accounts it mentions,
    the author of the post it replies to, and ``recipients`` — the web inbox's reply names the conversation's
    participants this way; ``social.conversations`` decides who may message whom)."""
    text = (text or "").replace("\r\n", "\n").strip()
    # ids arrive as strings from the API: a malformed one is a 422, never a 500
    media_ids = [parse_int(m, "media_ids") for m in (media_ids or [])]
    if None in media_ids:
        raise ValidationFailed(_("An image is unknown, not yours, or already used."), field="media_ids")
    in_reply_to_id = parse_int(in_reply_to_id, "in_reply_to_id")
    if author.is_suspended:
        raise Forbidden(_("This account is suspended."))
    if not text and not media_ids:
        raise ValidationFailed(_("A post needs text or at least one image."), field="status")
    if len(text) > settings.POST_MAX_CHARS:
        raise ValidationFailed(
            _("A post has at most %(n)d characters (this one has %(m)d).")
            % {"n": settings.POST_MAX_CHARS, "m": len(text)},
            field="status",
        )
    if len(media_ids) > settings.POST_MAX_MEDIA:
        raise ValidationFailed(_("A post has at most %(n)d images.") % {"n": settings.POST_MAX_MEDIA},
                               field="media_ids")
    if len(set(media_ids)) != len(media_ids):
        raise ValidationFailed(_("The same image is attached twice."), field="media_ids")
    if visibility not in Visibility.values:
        raise ValidationFailed(_("Visibility must be public, unlisted, private or direct."), field="visibility")
    direct = visibility == Visibility.DIRECT
    if len(spoiler_text or "") > 200:
        raise ValidationFailed(_("A content warning has at most 200 characters."), field="spoiler_text")
    parent = None
    if in_reply_to_id is not None:
        parent = Post.objects.select_related("author").filter(pk=in_reply_to_id, reblog_of__isnull=True).first()
        if parent is None or not can_view(author, parent):
            raise NotFound(_("The post you reply to does not exist."))
        if is_blocked_either_way(author.pk, parent.author_id):
            raise Forbidden(_("You cannot reply to this post."))
    media = list(Media.objects.filter(pk__in=media_ids, owner=author, post__isnull=True)) if media_ids else []
    if len(media) != len(media_ids):
        raise ValidationFailed(_("An image is unknown, not yours, or already used."), field="media_ids")
    tags = extract_hashtags(text)
    names = extract_mentions(text)  # lower-cased; usernames are unique on lower(username), which is indexed
    mentioned = {u.username.lower(): u for u in User.objects.annotate(name_ci=Lower("username")).filter(
        name_ci__in=names, is_suspended=False)} if names else {}
    admission = None
    if direct:  # who may message whom (social.conversations): refused here, before anything is written
        named = [*mentioned.values(), *(recipients or [])]
        if parent is not None:  # a reply goes to the parent's author, and to a message's recipients too
            named.append(parent.author)
            if parent.visibility == Visibility.DIRECT:
                named += [m.user for m in Mention.objects.filter(post=parent).select_related("user")]
        to = {u.pk: u for u in named if u.pk != author.pk and u.is_active and not u.is_suspended}
        admission = conversations.admit(author, list(to.values()), parent)
    indexed = search_text(text)
    # anti-flooding and the spam filter (social.rules): a flood is refused here, spam is saved held
    checked = rules.check_post(author, text, parent_id=parent.pk if parent else None, mentions=names,
                               mentioned_ids=[u.pk for u in mentioned.values()], tokens=indexed.split())
    check_and_hit("post", author.pk, "RATE_POST")
    with transaction.atomic():
        post = Post.objects.create(
            author=author,
            text=text,
            in_reply_to=parent,
            in_reply_to_account_id=parent.author_id if parent else None,
            visibility=visibility,
            sensitive=bool(sensitive),
            spoiler_text=spoiler_text or "",
            language=language or author.language,
            search_text=indexed,
            held=checked.held,
            fingerprint=checked.fingerprint,
        )
        for position, item in enumerate(sorted(media, key=lambda m: media_ids.index(m.pk))):
            # conditional claim: a concurrent post that took this image first makes this one fail whole
            if not Media.objects.filter(pk=item.pk, post__isnull=True).update(post=post, position=position):
                raise ValidationFailed(_("An image is unknown, not yours, or already used."), field="media_ids")
            item.post = post
            item.position = position
        for name in tags:
            tag, _created = Hashtag.objects.get_or_create(name=name[:64])
            PostTag.objects.get_or_create(post=post, hashtag=tag)
        if admission is not None:  # a direct message: its recipients (mentioned) and its conversation
            for uid in admission.folders:
                Mention.objects.get_or_create(post=post, user_id=uid)
            reached, notify = conversations.deliver(post, admission, recipients_see=not checked.held)
            for uid in notify:
                _notify(uid, author.pk, NotificationType.MENTION, post.pk)
            search.index_post(post.pk, post.search_text)
            if checked.held and checked.verdict is not None:  # its recipients get it when it is released
                hooks.post_held(post=post, reasons=list(checked.verdict.reasons), score=checked.verdict.score)
            else:  # not a public post: no fan-out, no public counter, no engagement event
                hooks.direct_message(post=post, recipients=list(User.objects.filter(pk__in=reached)))
            return post
        notified = {u.pk for u in mentioned.values()}
        if parent is not None:
            notified.add(parent.author_id)
            Post.objects.filter(pk=parent.pk).update(replies_count=F("replies_count") + 1)
        for uid in notified:
            if uid == author.pk or is_blocked_either_way(uid, author.pk):
                continue
            Mention.objects.get_or_create(post=post, user_id=uid)
            if not checked.held:  # a held post notifies nobody until it is released
                _notify(uid, author.pk, NotificationType.MENTION, post.pk)
        User.objects.filter(pk=author.pk).update(
            statuses_count=F("statuses_count") + 1, last_status_at=timezone.now()
        )
        search.index_post(post.pk, post.search_text)
        if checked.held and checked.verdict is not None:  # not published: no fan-out until it is released
            hooks.post_held(post=post, reasons=list(checked.verdict.reasons), score=checked.verdict.score)
        else:
            hooks.post_created(post=post)
            if parent is not None:
                hooks.engaged(kind="reply", post_id=parent.pk, actor_id=author.pk, owner_id=parent.author_id)
    return post


def do_release_post(post: Post) -> Post:
    """An operator releases a post held for review: it is published now — ``social.post_created`` (the fan-out
    to followers' home feeds), the mentioned accounts notified, a reply counted as engagement. Idempotent;
    keeping it held needs nothing, removing it is ``do_delete_post``."""
    with transaction.atomic():
        if not Post.objects.filter(pk=post.pk, held=True).update(held=False):
            post.refresh_from_db(fields=["held"])
            return post
        post.held = False
        if post.visibility == Visibility.DIRECT:  # a message reaches its recipients' views now
            reached, notify = conversations.deliver_held(post)
            for uid in notify:
                _notify(uid, post.author_id, NotificationType.MENTION, post.pk)
            hooks.direct_message(post=post, recipients=list(User.objects.filter(pk__in=reached)))
            return post
        for uid in Mention.objects.filter(post=post).values_list("user_id", flat=True):
            if not is_blocked_either_way(uid, post.author_id):
                _notify(uid, post.author_id, NotificationType.MENTION, post.pk)
        hooks.post_created(post=post)
        if post.in_reply_to_id is not None and post.in_reply_to_account_id is not None:
            hooks.engaged(kind="reply", post_id=post.in_reply_to_id, actor_id=post.author_id,
                          owner_id=post.in_reply_to_account_id)
    return post


def do_delete_post(user: User, post: Post) -> None:
    if post.author_id != user.pk and not user.is_staff:
        raise NotFound(_("Post not found."))
    if post.visibility == Visibility.DIRECT:  # counted nowhere public: only its conversation's views change
        with transaction.atomic():
            search.unindex_post(post.pk)
            conversation_id = post.conversation_id
            post.delete()
            if conversation_id is not None:
                conversations.refresh_last_status(conversation_id)
        return
    with transaction.atomic():
        if post.reblog_of_id:
            Post.objects.filter(pk=post.reblog_of_id, reblogs_count__gt=0).update(
                reblogs_count=F("reblogs_count") - 1)
        if post.in_reply_to_id:
            Post.objects.filter(pk=post.in_reply_to_id, replies_count__gt=0).update(
                replies_count=F("replies_count") - 1)
        User.objects.filter(pk=post.author_id, statuses_count__gt=0).update(statuses_count=F("statuses_count") - 1)
        search.unindex_post(post.pk)
        reblogs = list(Post.objects.filter(reblog_of=post).values_list("pk", "author_id"))
        for reblog_id, _author in reblogs:
            search.unindex_post(reblog_id)
        if reblogs:  # the cascade removes the reposts: their authors' counts follow
            User.objects.filter(pk__in=[a for _r, a in reblogs], statuses_count__gt=0).update(
                statuses_count=F("statuses_count") - 1)
        hooks.post_deleted(post=post)
        post.delete()  # timeline entries, reblogs, likes, bookmarks and tags go with it (cascade)


def do_reblog(user: User, post: Post) -> Post:
    if post.reblog_of_id:
        post = cast(Post, post.reblog_of)
    if not can_view(user, post):
        raise NotFound(_("Post not found."))
    if post.visibility == Visibility.PRIVATE:
        raise Forbidden(_("Followers-only posts cannot be reposted."))
    if post.visibility == Visibility.DIRECT:
        raise Forbidden(_("Direct messages cannot be reposted."))
    if is_blocked_either_way(user.pk, post.author_id):
        raise Forbidden(_("You cannot repost this post."))
    existing = Post.objects.filter(author=user, reblog_of=post).first()
    if existing:
        return existing
    check_and_hit("post", user.pk, "RATE_POST")
    try:
        with transaction.atomic():
            reblog = Post.objects.create(author=user, reblog_of=post, visibility=post.visibility)
            Post.objects.filter(pk=post.pk).update(reblogs_count=F("reblogs_count") + 1)
            # a repost counts as a status (as in Mastodon), and deleting one decrements it
            User.objects.filter(pk=user.pk).update(statuses_count=F("statuses_count") + 1)
            _notify(post.author_id, user.pk, NotificationType.REBLOG, post.pk)
            hooks.post_created(post=reblog)
            hooks.engaged(kind="repost", post_id=post.pk, actor_id=user.pk, owner_id=post.author_id)
    except IntegrityError:
        return Post.objects.get(author=user, reblog_of=post)
    return reblog


def do_unreblog(user: User, post: Post) -> None:
    original = post.reblog_of if post.reblog_of_id else post
    reblog = Post.objects.filter(author=user, reblog_of=original).first()
    if reblog:
        do_delete_post(user, reblog)


def do_favourite(user: User, post: Post) -> None:
    if post.reblog_of_id:
        post = cast(Post, post.reblog_of)
    if not can_view(user, post):
        raise NotFound(_("Post not found."))
    if is_blocked_either_way(user.pk, post.author_id):
        raise Forbidden(_("You cannot like this post."))
    if Favourite.objects.filter(user=user, post=post).exists():
        return
    check_and_hit("interact", user.pk, "RATE_INTERACT")
    try:
        with transaction.atomic():
            Favourite.objects.create(user=user, post=post)
            Post.objects.filter(pk=post.pk).update(favourites_count=F("favourites_count") + 1)
            _notify(post.author_id, user.pk, NotificationType.FAVOURITE, post.pk)
            hooks.engaged(kind="like", post_id=post.pk, actor_id=user.pk, owner_id=post.author_id)
    except IntegrityError:
        pass


def do_unfavourite(user: User, post: Post) -> None:
    if post.reblog_of_id:
        post = cast(Post, post.reblog_of)
    with transaction.atomic():
        deleted, _rows = Favourite.objects.filter(user=user, post=post).delete()
        if deleted:
            Post.objects.filter(pk=post.pk, favourites_count__gt=0).update(
                favourites_count=F("favourites_count") - 1)


def do_bookmark(user: User, post: Post) -> None:
    if post.reblog_of_id:
        post = cast(Post, post.reblog_of)
    if not can_view(user, post):
        raise NotFound(_("Post not found."))
    Bookmark.objects.get_or_create(user=user, post=post)


def do_unbookmark(user: User, post: Post) -> None:
    if post.reblog_of_id:
        post = cast(Post, post.reblog_of)
    Bookmark.objects.filter(user=user, post=post).delete()


def do_mark_notifications_read(user: User, up_to_id: int | None = None) -> int:
    qs = Notification.objects.filter(recipient=user, read=False)
    if up_to_id is not None:
        qs = qs.filter(pk__lte=up_to_id)
    return qs.update(read=True)


def do_dismiss_notification(user: User, notification_id: int) -> None:
    deleted, _rows = Notification.objects.filter(recipient=user, pk=notification_id).delete()
    if not deleted:
        raise NotFound(_("Notification not found."))


def do_clear_notifications(user: User) -> None:
    Notification.objects.filter(recipient=user).delete()


# --- direct messages (issue 14): a participant's view of a conversation --------------------------

def _my_view(user: User, conversation_id: int) -> ConversationMember:
    view = ConversationMember.objects.filter(conversation_id=conversation_id, user=user).first()
    if view is None:
        raise NotFound(_("Conversation not found."))
    return view


def do_mark_conversation_read(user: User, conversation_id: int) -> ConversationMember:
    view = _my_view(user, conversation_id)
    if view.unread:
        ConversationMember.objects.filter(pk=view.pk).update(unread=False)
        view.unread = False
    return view


def do_remove_conversation(user: User, conversation_id: int) -> None:
    """Out of the list (Mastodon's DELETE): the messages stay, and the next one brings it back."""
    view = _my_view(user, conversation_id)
    ConversationMember.objects.filter(pk=view.pk).update(removed=True, unread=False)


def do_accept_conversation(user: User, conversation_id: int) -> ConversationMember:
    """A message request accepted (or a declined one taken back): into the inbox; replies need no gate."""
    view = _my_view(user, conversation_id)
    ConversationMember.objects.filter(pk=view.pk).update(folder=Folder.INBOX, removed=False)
    view.folder, view.removed = Folder.INBOX, False
    return view


def do_decline_conversation(user: User, conversation_id: int) -> None:
    """A message request turned down: out of sight, and later messages in it arrive silently (declined)."""
    view = _my_view(user, conversation_id)
    if view.folder == Folder.INBOX:
        raise ValidationFailed(_("Only a message request can be declined; remove the conversation instead."))
    ConversationMember.objects.filter(pk=view.pk).update(folder=Folder.DECLINED, unread=False)


__all__ = [name for name in dir() if name.startswith("do_")] + ["Conflict"]


def do_set_held(post: Post, held: bool) -> None:
    """Take a published post down (a moderator removed it: the visibility rule shows it to its author and
    operators only) or put it back (fanned out again: fan-out is idempotent, so followers who had it get
    nothing twice; no second round of notifications). For the moderation app, which audits the action.
    A post the spam filter held was never published: ``do_release_post`` publishes it."""
    with transaction.atomic():
        changed = Post.objects.filter(pk=post.pk, held=not held).update(held=held)
        post.held = held
        if changed and not held and post.reblog_of_id is None:
            hooks.post_created(post=post)
