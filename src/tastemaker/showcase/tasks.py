"""Background jobs for the Showcase: confirm commissions whose return window has closed (and pay them into
the creators' wallets). Idempotent: a commission is confirmed once, its payout keyed by its reference."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from .cards import do_guess_card_vertical
from .commissions import do_confirm_due_commissions


@db_task(retries=2, retry_delay=30)
def guess_card_vertical_task(post_id: int) -> bool:
    """A card published without a vertical gets the one its text is about (the labeler, after commit)."""
    return do_guess_card_vertical(post_id)


@db_periodic_task(crontab(minute="*/10"))
@lock_task("showcase-confirm-commissions")
def confirm_commissions_task() -> int:
    total = 0
    while True:
        done = do_confirm_due_commissions()
        total += done
        if done < 1000:
            return total
