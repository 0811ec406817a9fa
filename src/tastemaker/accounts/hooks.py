"""Accounts' hook points (``core.hooks``): the apps above accounts react to these; accounts imports none of
them. The consumers are listed in ``settings.HOOKS``."""

from tastemaker.core.hooks import HookPoint

unlocked = HookPoint("accounts.unlocked", "user=: the account was locked and is not any more (saved).")
credit_exhausted = HookPoint(
    "accounts.credit_exhausted",
    "user=, case_id=: the credit score reached 0 (inside the transaction that moved it); the moderation app "
    "suspends the account through its audited service.")
rule_offence = HookPoint(
    "accounts.rule_offence",
    "user=, kind=, detail=, text=: the spam filter refused a profile field (social passes it on as "
    "social.rule_offence, the one hook point the moderation app listens to).")
