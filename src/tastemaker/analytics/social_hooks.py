"""Analytics' reactions to social's hook points (listed in ``settings.HOOKS``): events are recorded after the
action commits, and a failure never reaches the user (``ingest.after_commit``)."""

from .ingest import after_commit


def followed(*, follower_id: int, target_id: int) -> None:
    after_commit("follow_gained", "account", target_id, follower_id, owner_id=target_id)


def unfollowed(*, follower_id: int, target_id: int) -> None:
    after_commit("follow_lost", "account", target_id, follower_id, owner_id=target_id)


def engaged(*, kind: str, post_id: int, actor_id: int, owner_id: int) -> None:
    """``kind`` is the metric: like, repost or reply."""
    after_commit(kind, "post", post_id, actor_id, owner_id=owner_id)
