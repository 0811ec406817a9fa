"""Moderation's hook points (``core.hooks``): the apps above react to these (promotion stops an account's
campaigns, broadcasts stop its sends). Consumers are listed in ``settings.HOOKS``."""

from tastemaker.core.hooks import HookPoint

suspended = HookPoint("moderation.suspended", "user=: the account was suspended (inside the transaction).")
restored = HookPoint("moderation.restored", "user=: a suspension was lifted (inside the transaction).")
