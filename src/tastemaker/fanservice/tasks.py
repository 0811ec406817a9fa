"""Fan service jobs (idempotent): deliver a broadcast in chunks, the periodic sweep (due broadcasts, a killed
job's unfinished ones, deferred deliveries), price alerts."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from . import alerts, delivery


@db_task()
def send_broadcast_task(broadcast_id: int) -> None:
    """Start a due broadcast and deliver it chunk by chunk (each chunk its own transaction)."""
    delivery.deliver(broadcast_id)


@db_periodic_task(crontab(minute="*"))
@lock_task("fanservice-sweep")
def send_due_task() -> int:
    """Every minute: scheduled broadcasts that are due, sending ones a killed job left, deferred rows."""
    return delivery.run_due()


@db_task()
def send_alerts_task(offer_id: int, old_price: int | None, was_in_stock: bool) -> int:
    return alerts.do_send_alerts(offer_id, old_price, was_in_stock)
