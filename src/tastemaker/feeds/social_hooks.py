"""Home feeds' reactions to social's hook points (listed in ``settings.HOOKS``): feeds sits above social."""

from django.db import transaction

from tastemaker.social.models import Post

from . import services, tasks


def post_created(*, post: Post) -> None:
    """The author's own entry at once (inside the post's transaction), the fan-out after commit."""
    services.insert_own_entry(post)
    transaction.on_commit(lambda: tasks.fanout_task(post.pk))


def followed(*, follower_id: int, target_id: int) -> None:
    """The followed account's recent posts reach the follower's home feed (after commit)."""
    transaction.on_commit(lambda: tasks.backfill_task(follower_id, target_id))


def unfollowed(*, follower_id: int, target_id: int) -> None:
    services.remove_author_from_timeline(follower_id, target_id)


def blocked(*, account_id: int, target_id: int) -> None:
    """Neither sees the other's posts in the home feed any more."""
    services.remove_author_from_timeline(account_id, target_id)
    services.remove_author_from_timeline(target_id, account_id)
