"""Consumers of lower apps' hook points (listed in ``settings.HOOKS``): follows for billing and reports, and
suspensions (a suspended owner's campaigns pause)."""

from __future__ import annotations

from typing import Any

from . import services


def followed(*, follower_id: int, target_id: int, **_: Any) -> None:
    """social.followed: a promoted follow (inside the follow's transaction: it stands or falls with it)."""
    services.do_follow_gained(follower_id, target_id)


def unfollowed(*, follower_id: int, target_id: int, **_: Any) -> None:
    """social.unfollowed: a promoted follow undone within the window is refunded."""
    services.do_follow_lost(follower_id, target_id)


def suspended(*, user: Any, **_: Any) -> None:
    """moderation.suspended: pause the account's campaigns (inside the suspension's transaction)."""
    services.do_pause_for_suspension(user)
