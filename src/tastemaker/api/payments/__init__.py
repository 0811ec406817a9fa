"""The Payments API: wallet balances and holds, history, top-ups, withdrawals, payout accounts, transfers,
and the operators' platform accounts and reconciliation.

Money is integer minor units (fen, cents) with its currency, never a float; ``*_display`` fields are the
same amounts formatted for people. Ids are strings.

Every request that moves money (``POST`` top-ups, withdrawals, transfers, reconciliation) needs an
``Idempotency-Key`` header (any unique string of 1-255 printable ASCII characters): the same key with the
same body replays the first response byte for byte (same status, header ``Idempotent-Replayed: true``),
the same key with another body is refused (422), and concurrent duplicates have one effect
(``payments.idempotency``). Only the owner of a wallet, and operators, can read or move its money:
anyone else gets 404. Every operation here, reads included, needs a token with the ``payments`` scope
(403 without it): ``read`` and ``write``, which every Mastodon client asks for, do not include it.
Handlers are thin: check the shape, call payments.services / selectors, render. One module per resource:
``wallet`` (balances, holds, history), ``topups``, ``withdrawals`` (and payout accounts), ``transfers``,
``ops`` (operators); schemas in api/schemas/payments.py.
"""

from ninja import Router

from . import ops, topups, transfers, wallet, withdrawals

router = Router(tags=["Payments"])
for _resource in (wallet, topups, withdrawals, transfers, ops):
    router.add_router("", _resource.router)
