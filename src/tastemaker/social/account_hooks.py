"""Social's reactions to accounts' hook points (listed in ``settings.HOOKS``)."""

from tastemaker.accounts.models import User

from .rules import offence
from .services import do_authorize_all_follow_requests


def unlocked(*, user: User) -> None:
    """Unlocking accepts every pending follow request (as Mastodon does)."""
    do_authorize_all_follow_requests(user)


def rule_offence(*, user: User, kind: str, detail: str, text: str) -> None:
    """A profile field refused by the spam filter: reported as ``social.rule_offence`` (once per kind and
    window, as the post-time offences are), the one hook point the moderation app listens to."""
    offence(user, kind, detail, text)
