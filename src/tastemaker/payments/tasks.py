"""Background jobs for payments. Each is idempotent: safe to retry or run twice."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from . import services
from .models import IdempotencyRecord, SandboxTrade, TopUp, TopUpStatus, Withdrawal, WithdrawalStatus
from .providers import ProviderUnavailable, sandbox


class NotAcknowledged(Exception):
    """The merchant did not answer "success": huey retries the delivery later."""


@db_task(retries=settings.PAYMENT_SANDBOX_RETRIES, retry_delay=settings.PAYMENT_SANDBOX_RETRY_DELAY)
def deliver_sandbox_notification(order_no: str) -> str:
    """The sandbox provider notifying us, re-sent until acknowledged (like Alipay's retry schedule): over
    HTTP as a real provider does, or (``PAYMENT_SANDBOX_DELIVERY = "call"``) straight to the handler."""
    params = sandbox.notification_for(order_no)
    if settings.PAYMENT_SANDBOX_DELIVERY == "http":
        reply = sandbox.post_notification(params)
    else:
        reply = services.do_handle_notification(sandbox.NAME, params)
    paid = SandboxTrade.objects.filter(order_no=order_no, status="succeeded").exists()
    if reply != services.SUCCESS and paid:
        raise NotAcknowledged(f"{order_no}: {reply!r}")
    return reply


@db_task(retries=5, retry_delay=60)
def process_withdrawal(withdrawal_id: int) -> str:
    withdrawal = services.do_process_withdrawal(withdrawal_id)
    return withdrawal.status


@db_periodic_task(crontab(minute="*/5"))
@lock_task("payments-sweep")
def sweep_payments() -> dict[str, int]:
    """Ask providers about top-ups whose notification has not come (2 minutes to 2 days old), resume
    withdrawals left processing, and drop idempotency records past their retention."""
    now = timezone.now()
    queried = 0
    for topup in TopUp.objects.filter(status=TopUpStatus.PENDING, created_at__lt=now - timedelta(minutes=2),
                                      created_at__gt=now - timedelta(days=2))[:500]:
        try:
            services.do_query_topup(topup)
            queried += 1
        except ProviderUnavailable:
            continue
    resumed = 0
    for wid in Withdrawal.objects.filter(status__in=[WithdrawalStatus.REQUESTED, WithdrawalStatus.PROCESSING],
                                         created_at__lt=now - timedelta(minutes=5)).values_list("pk", flat=True)[:200]:
        services.do_process_withdrawal(wid)
        resumed += 1
    purged, _ = IdempotencyRecord.objects.filter(
        created_at__lt=now - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)).delete()
    return {"queried": queried, "resumed": resumed, "purged": purged}
