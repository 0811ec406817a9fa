"""Direct messages (issue 14): who may message whom, and each participant's view of a conversation, kept up
as messages are written. ``services.do_create_post`` calls ``admit`` before a direct post is written and
``deliver`` inside its transaction; who may *see* a message is ``social.visibility``'s rule (its author and the
accounts it mentions), not decided here.

Who may message whom (``admit``), for each recipient:
- a block either way refuses (403), and so does a recipient's setting (``User.messages_from``): "nobody", or
  "people I follow" when the recipient does not follow the sender;
- a recipient who does not follow the sender is a stranger: the sender needs the credit gate
  ``Feature.MESSAGE_STRANGERS`` and the message starts a *message request* (counted against
  ``RATE_MESSAGE_REQUEST``), kept apart from the inbox until the recipient accepts it (or declines it);
- a conversation the recipient already accepted (or wrote in) needs none of this.
Every direct message counts against ``RATE_MESSAGE``; the flood rules (``social.rules``) apply as to posts.

Where a message lands (``deliver``): the author's own view is in the inbox (writing in a request accepts it);
a recipient's is in the inbox if they follow the sender or accepted the conversation, else in the requests;
one from an account the recipient muted goes to the requests (a new conversation) and notifies nothing; a
declined conversation stays declined and silent. A new message brings a removed conversation back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext as _

from tastemaker.accounts.models import MessagesFrom, User
from tastemaker.accounts.standing import Feature, require
from tastemaker.core.errors import Forbidden, ValidationFailed
from tastemaker.trust.ratelimit import check_and_hit

from .models import Conversation, ConversationMember, Folder, Follow, Mute, Post
from .visibility import blocked_either_way


@dataclass
class Admission:
    """What ``admit`` decided: the conversation the message continues (None: a new one) and, per recipient,
    the folder its view goes to."""

    conversation_id: int | None
    folders: dict[int, str] = field(default_factory=dict)


def conversation_of(parent: Post | None) -> int | None:
    """The conversation a direct reply to ``parent`` continues: the parent's (Mastodon groups by thread)."""
    return parent.conversation_id if parent is not None else None


def admit(author: User, recipients: Sequence[User], parent: Post | None) -> Admission:
    """May ``author`` send a direct message to ``recipients`` (in reply to ``parent``)? Raises ``Forbidden``,
    ``ValidationFailed`` or ``RateLimited`` (nothing counted but the message itself) saying why; returns where
    each recipient's view goes. See the module doc."""
    if not recipients:
        raise ValidationFailed(_("A direct message needs a recipient: mention at least one other account "
                                 "(@username)."), field="status")
    conversation_id = conversation_of(parent)
    ids = [r.pk for r in recipients]
    followers_of_author = set(Follow.objects.filter(target_id=author.pk, follower_id__in=ids)
                              .values_list("follower_id", flat=True))
    muted_by = set(Mute.objects.filter(target_id=author.pk, account_id__in=ids).values_list("account_id", flat=True))
    views: dict[int, str] = {}
    if conversation_id is not None:
        views = dict(ConversationMember.objects.filter(conversation_id=conversation_id, user_id__in=ids)
                     .values_list("user_id", "folder"))
    admission = Admission(conversation_id)
    strangers: list[User] = []
    for recipient in recipients:
        name = {"name": recipient.username}
        if blocked_either_way(author.pk, recipient.pk):
            raise Forbidden(_("You cannot message @%(name)s: one of you has blocked the other.") % name)
        current = views.get(recipient.pk)
        if current == Folder.INBOX:  # they accepted this conversation (or wrote in it): it simply continues
            admission.folders[recipient.pk] = Folder.INBOX
            continue
        follows_author = recipient.pk in followers_of_author
        setting = recipient.messages_from
        if setting == MessagesFrom.NOBODY and current is None:
            raise Forbidden(_("@%(name)s does not accept direct messages.") % name)
        if setting == MessagesFrom.FOLLOWING and not follows_author and current is None:
            raise Forbidden(_("@%(name)s accepts direct messages only from people they follow.") % name)
        if current is not None:  # a request not yet answered, or declined: it stays where it is
            admission.folders[recipient.pk] = current
            continue
        if follows_author and recipient.pk not in muted_by:
            admission.folders[recipient.pk] = Folder.INBOX
        else:
            admission.folders[recipient.pk] = Folder.REQUEST
            if not follows_author:
                strangers.append(recipient)
    if strangers:  # the credit gate, then one request counted per stranger (refused whole when over)
        require(author, Feature.MESSAGE_STRANGERS)
    check_and_hit("message", author.pk, "RATE_MESSAGE")
    for _stranger in strangers:
        check_and_hit("message_request", author.pk, "RATE_MESSAGE_REQUEST")
    return admission


def deliver(post: Post, admission: Admission, *, recipients_see: bool = True) -> tuple[list[int], list[int]]:
    """Inside the post's transaction: put the message in its conversation (a new one if it starts one) and
    update each participant's view. ``recipients_see`` False (a message held for review): only the author's
    view moves; ``deliver_held`` does the recipients' when it is released. Returns (the recipients it reached,
    in the inbox or the requests; those of them to notify: the inbox ones who did not mute the author)."""
    if admission.conversation_id is None:
        admission.conversation_id = Conversation.objects.create().pk
    Post.objects.filter(pk=post.pk).update(conversation_id=admission.conversation_id)
    post.conversation_id = admission.conversation_id
    _move(admission.conversation_id, post, post.author_id, Folder.INBOX, unread=False)
    if not recipients_see:
        return [], []
    return _deliver_to(post, admission)


def _deliver_to(post: Post, admission: Admission) -> tuple[list[int], list[int]]:
    assert admission.conversation_id is not None
    muted_by = set(Mute.objects.filter(target_id=post.author_id, account_id__in=list(admission.folders))
                   .values_list("account_id", flat=True))
    reached: list[int] = []
    notify: list[int] = []
    for user_id, folder in admission.folders.items():
        silent = folder == Folder.DECLINED or user_id in muted_by
        _move(admission.conversation_id, post, user_id, folder, unread=not silent)
        if folder != Folder.DECLINED:
            reached.append(user_id)
            if folder == Folder.INBOX and not silent:
                notify.append(user_id)
    return reached, notify


def deliver_held(post: Post) -> tuple[list[int], list[int]]:
    """A held direct message released by an operator: the recipients' views move now (their folders as they
    are, a new view in the requests unless they follow the author). Returns what ``deliver`` returns."""
    if post.conversation_id is None:
        return [], []
    ids = list(post.mentions.values_list("user_id", flat=True))
    views = dict(ConversationMember.objects.filter(conversation_id=post.conversation_id, user_id__in=ids)
                 .values_list("user_id", "folder"))
    follows = set(Follow.objects.filter(target_id=post.author_id, follower_id__in=ids)
                  .values_list("follower_id", flat=True))
    folders = {uid: views.get(uid) or (Folder.INBOX if uid in follows else Folder.REQUEST) for uid in ids}
    return _deliver_to(post, Admission(post.conversation_id, folders))


def _move(conversation_id: int, post: Post, user_id: int, folder: str, *, unread: bool) -> None:
    """One participant's view: the newest message, unread or not, back in the list if it was removed."""
    updated = ConversationMember.objects.filter(conversation_id=conversation_id, user_id=user_id).update(
        last_status=post, unread=unread, removed=False, folder=folder)
    if not updated:
        ConversationMember.objects.create(conversation_id=conversation_id, user_id=user_id, last_status=post,
                                          unread=unread, folder=folder)


def refresh_last_status(conversation_id: int) -> None:
    """After a message is deleted: each view's newest message is the newest one left it may see (its own or
    one it is mentioned in)."""
    for member in ConversationMember.objects.filter(conversation_id=conversation_id):
        newest = (Post.objects.filter(conversation_id=conversation_id)
                  .filter(Q(author_id=member.user_id) | Q(mentions__user_id=member.user_id))
                  .order_by("-id").values_list("pk", flat=True).first())
        ConversationMember.objects.filter(pk=member.pk).update(last_status_id=newest)
