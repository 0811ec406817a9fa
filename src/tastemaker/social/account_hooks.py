"""Social's reactions to accounts' hook points (listed in ``settings.HOOKS``)."""

from tastemaker.accounts.models import User

from .services import do_authorize_all_follow_requests


def unlocked(*, user: User) -> None:
    """Unlocking accepts every pending follow request (as Mastodon does)."""
    do_authorize_all_follow_requests(user)
