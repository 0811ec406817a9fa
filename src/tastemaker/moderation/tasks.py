"""Moderation's scheduled jobs: good standing restores credit week by week; the Showcase's complaint and
refund rates feed the score."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from . import credit


@db_periodic_task(crontab(minute="17", hour="3"))
@lock_task("moderation-credit")
def credit_upkeep() -> dict[str, int]:
    return {"restored": credit.restore_good_standing(), "showcase": credit.apply_showcase_rates()}
