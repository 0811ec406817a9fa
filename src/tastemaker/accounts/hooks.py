"""Accounts' hook points (``core.hooks``): the apps above accounts react to these; accounts imports none of
them. The consumers are listed in ``settings.HOOKS``."""

from tastemaker.core.hooks import HookPoint

unlocked = HookPoint("accounts.unlocked", "user=: the account was locked and is not any more (saved).")
