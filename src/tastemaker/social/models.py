from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tastemaker.core.ids import new_id

User = settings.AUTH_USER_MODEL


class Follow(models.Model):
    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    # both lookups are served by the composite indexes below (no single-column FK indexes)
    follower = models.ForeignKey(User, on_delete=models.CASCADE, related_name="following_set", db_index=False)
    target = models.ForeignKey(User, on_delete=models.CASCADE, related_name="follower_set", db_index=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["follower", "target"], name="social_follow_unique")]
        # fan-out walks a target's followers in follower-id order
        indexes = [models.Index(fields=["target", "follower"], name="social_follow_target_follower")]


class FollowRequest(models.Model):
    """A pending follow of a locked account: no access to anything a follow gives until the target
    authorises it (then it becomes a ``Follow``). Rejecting, withdrawing (unfollow) or a block deletes it."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    follower = models.ForeignKey(User, on_delete=models.CASCADE, related_name="follow_requests_made",
                                 db_index=False)
    target = models.ForeignKey(User, on_delete=models.CASCADE, related_name="follow_requests_received",
                               db_index=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["follower", "target"], name="social_followrequest_unique")]
        # the target's list of pending requests, newest first (keyset by id)
        indexes = [models.Index(fields=["target", "-id"], name="social_followreq_target_id")]


class Block(models.Model):
    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    account = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocks_made")
    target = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocked_by")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "target"], name="social_block_unique")]


class Mute(models.Model):
    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    account = models.ForeignKey(User, on_delete=models.CASCADE, related_name="mutes_made")
    target = models.ForeignKey(User, on_delete=models.CASCADE, related_name="muted_by")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "target"], name="social_mute_unique")]


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    UNLISTED = "unlisted", _("Unlisted")
    PRIVATE = "private", _("Followers only")
    DIRECT = "direct", _("Direct message")  # its author and the accounts it mentions (issue 14)


class Post(models.Model):
    """A status. A repost (reblog) is a Post with ``reblog_of`` set and no text of its own."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="posts", db_index=False)
    text = models.TextField(blank=True)
    in_reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    in_reply_to_account_id = models.BigIntegerField(null=True, blank=True)
    reblog_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="reblogs"
    )
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)
    language = models.CharField(max_length=10, blank=True)
    sensitive = models.BooleanField(default=False)
    spoiler_text = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    replies_count = models.PositiveIntegerField(default=0)
    reblogs_count = models.PositiveIntegerField(default=0)
    favourites_count = models.PositiveIntegerField(default=0)
    search_text = models.TextField(blank=True, editable=False)  # segmented tokens (jieba for Chinese)
    # held for review by the rules (spam filter) or an operator: seen by its author and operators only,
    # not fanned out, until an operator releases it (social.visibility decides who sees what)
    held = models.BooleanField(default=False)
    # SimHash of the text (trust.flood), for finding near-identical posts of the same author; null for reposts
    fingerprint = models.BigIntegerField(null=True, blank=True, editable=False)
    # a direct message's conversation (its thread: a direct reply continues its parent's); null otherwise
    conversation = models.ForeignKey("Conversation", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="posts", db_index=False)

    class Meta:
        indexes = [
            models.Index(fields=["author", "-id"], name="social_post_author_id"),
            # a conversation's messages, in order (only direct posts have one)
            models.Index(fields=["conversation", "id"], name="social_post_conversation",
                         condition=Q(conversation__isnull=False)),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "reblog_of"], condition=Q(reblog_of__isnull=False), name="social_post_one_reblog"
            )
        ]

    def __str__(self) -> str:
        return f"{self.id} by {self.author_id}"


class Media(models.Model):
    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="media")
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.CASCADE, related_name="media")
    position = models.PositiveSmallIntegerField(default=0)
    file = models.CharField(max_length=255)
    preview = models.CharField(max_length=255)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    description = models.CharField(max_length=1500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)


class Favourite(models.Model):
    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="favourites")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="favourites")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "post"], name="social_favourite_unique")]


class Bookmark(models.Model):
    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="bookmarks")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="bookmarks")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "post"], name="social_bookmark_unique")]


class Hashtag(models.Model):
    name = models.CharField(max_length=64, unique=True)  # lower-cased

    def __str__(self) -> str:
        return f"#{self.name}"


class PostTag(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="post_tags")
    hashtag = models.ForeignKey(Hashtag, on_delete=models.CASCADE, related_name="post_tags")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hashtag", "post"], name="social_posttag_unique")]
        indexes = [models.Index(fields=["post"], name="social_posttag_post")]


class Mention(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="mentioned_in")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="social_mention_unique")]


class NotificationType(models.TextChoices):
    FOLLOW = "follow", _("followed you")
    FOLLOW_REQUEST = "follow_request", _("asked to follow you")
    FAVOURITE = "favourite", _("liked your post")
    REBLOG = "reblog", _("reposted your post")
    MENTION = "mention", _("mentioned you")
    # a watched Showcase product's price fell or it is back in stock (the fan service, issue 14); not a
    # Mastodon type: the Mastodon notifications API lists it only when asked for it by name (types[])
    PRICE_ALERT = "price_alert", _("has a price alert for you")


class Notification(models.Model):
    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    actor = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=16, choices=NotificationType.choices)
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    read = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["recipient", "-id"], name="social_notif_recipient")]


class Conversation(models.Model):
    """A thread of direct messages (Mastodon's conversation): its posts have ``Post.conversation`` set; each
    participant's view of it is a ``ConversationMember``."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    created_at = models.DateTimeField(default=timezone.now)


class Folder(models.TextChoices):
    INBOX = "inbox", _("Inbox")
    REQUEST = "request", _("Message requests")  # from someone the participant does not follow: not accepted yet
    DECLINED = "declined", _("Declined")  # a request turned down: stays out of sight, notifies nothing


class ConversationMember(models.Model):
    """One participant's view of a conversation: the newest message, whether it is unread, which folder it is
    in, and whether the participant removed it from the list (it comes back with the next message)."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="conversation_views", db_index=False)
    last_status = models.ForeignKey(Post, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                    db_index=False)
    unread = models.BooleanField(default=False)
    folder = models.CharField(max_length=10, choices=Folder.choices, default=Folder.INBOX)
    removed = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "user"], name="social_convmember_unique")]
        # a participant's list of one folder, newest message first (keyset by the last message's id)
        indexes = [models.Index(fields=["user", "folder", "-last_status"], name="social_convmember_list")]
