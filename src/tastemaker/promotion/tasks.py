"""Promotion jobs (idempotent): capture due charges every few seconds, run standing orders."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from . import services


@db_periodic_task(crontab(minute="*"))
@lock_task("promotion-settle")
def settle_charges_task() -> int:
    """Every minute huey wakes it; inside, it settles every PROMOTION_SETTLE_SECONDS for the minute, so
    spend reaches the ledger (and the reports) within a few seconds of delivery."""
    import time

    from django.utils import timezone

    total = 0
    deadline = timezone.now() + timedelta(seconds=55)
    while True:
        total += services.do_settle_charges()
        if timezone.now() + timedelta(seconds=settings.PROMOTION_SETTLE_SECONDS) >= deadline:
            return total
        time.sleep(settings.PROMOTION_SETTLE_SECONDS)


@db_periodic_task(crontab(minute="*/5"))
@lock_task("promotion-standing-orders")
def run_standing_orders_task() -> int:
    """Every five minutes: campaigns for new posts and weekly recommendations of standing orders."""
    return services.do_run_standing_orders()
