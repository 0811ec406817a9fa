"""Commissions are the store's money: while one is pending its store's deposit holds its amount; a refund
or a void gives the difference back; the confirmation, once the return window closes, pays the hold to the
creator's wallet. A store whose deposit cannot cover a commission leaves it "awaiting funding": recorded,
in the trail, and paid only once the store puts the money in (``stores.do_fund_store_deposit``, or the
confirm job's retry). No platform account is on any leg: the platform never pays a store's commission."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tastemaker.accounts.models import User

from .models import Commission, CommissionStatus, CommissionStep, PartnerStore

FUNDING_STEPS = ("held", "released", "awaiting_funding", "paid_out")


def _owed(commission: Commission) -> int:
    """What the store's deposit should hold for a commission now: its amount until it is paid; nothing
    once voided or paid."""
    if commission.status == CommissionStatus.VOIDED or commission.paid_at is not None:
        return 0
    return commission.amount


def settle_hold(commission: Commission) -> list[tuple[str, str]]:
    """Bring what the store holds for a (locked) commission to what it owes: release a surplus, hold a
    shortfall if the deposit has it (all of it, or nothing). Moves money; returns the trail steps to
    record once the commission is saved. Each movement has its own reference (``commission:<id>:hold:<n>``),
    numbered by ``ledger_seq`` in the same database transaction."""
    from tastemaker.payments.ledger import InsufficientFunds
    from tastemaker.payments.services import do_hold_for_commission, do_release_for_commission

    target, held = _owed(commission), commission.held
    if target == held:
        return []
    seq = commission.ledger_seq + 1
    if held > target:
        do_release_for_commission(commission.store_id, held - target, commission.currency,
                                  reference=f"commission:{commission.pk}:release:{seq}")
        commission.held, commission.ledger_seq = target, seq
        return [("released", f"released {held - target} to the store's deposit; held now {target}")]
    try:
        do_hold_for_commission(commission.store_id, target - held, commission.currency,
                               reference=f"commission:{commission.pk}:hold:{seq}")
    except InsufficientFunds:
        return [("awaiting_funding", f"the store's deposit cannot cover {target - held} more; "
                                     "awaiting the store's funding")]
    commission.held, commission.ledger_seq = target, seq
    return [("held", f"held {target - held} of the store's deposit; held now {target}")]


def record_funding(commission: Commission, steps: list[tuple[str, str]]) -> None:
    if not steps:
        return
    last = (CommissionStep.objects.filter(commission=commission, kind__in=FUNDING_STEPS)
            .order_by("-id").values_list("kind", flat=True).first())
    for kind, note in steps:
        if kind == "awaiting_funding" and last == "awaiting_funding":
            continue  # already said; the retry each job run adds nothing new
        CommissionStep.objects.create(commission=commission, kind=kind, amount_before=commission.amount,
                                      amount_after=commission.amount, status_after=commission.status, note=note)
        last = kind


def _pay(commission: Commission, now: datetime) -> bool:
    """Pay a confirmed, locked commission from what its store holds for it, once (reference
    ``commission:<id>``). Tops the hold up first; without the store's funds it waits. True once paid."""
    from tastemaker.payments.services import do_pay_commission

    if commission.paid_at is not None or commission.amount == 0:
        return commission.paid_at is not None
    steps = settle_hold(commission)
    if commission.held < commission.amount:
        commission.save()
        record_funding(commission, steps)
        return False
    if User.objects.filter(pk=commission.creator_id, is_suspended=True).exists():
        # payouts wait while the creator is suspended (the store's money stays held for it); the daily
        # job pays it once the suspension is lifted or overturned
        commission.save()
        said = CommissionStep.objects.filter(commission=commission, kind="payout_on_hold").exists()
        record_funding(commission, [*steps, *([] if said else [("payout_on_hold", "creator suspended")])])
        return False
    reference = f"commission:{commission.pk}"
    do_pay_commission(store_id=commission.store_id, user_id=commission.creator_id, amount=commission.amount,
                      currency=commission.currency, reference=reference)
    commission.held, commission.paid_at, commission.payout_reference = 0, now, reference
    commission.updated_at = now
    commission.save()
    record_funding(commission, [*steps, ("paid_out", "paid from the store's deposit to the creator's wallet")])
    return True


def do_confirm_due_commissions(now: datetime | None = None, limit: int = 1000) -> int:
    """Confirm pending commissions whose return window has closed and pay each from what its store holds
    for it into the creator's wallet, in the same transaction; retry confirmed ones still awaiting their
    store's funding. Idempotent: re-running confirms and pays nothing twice. Returns how many it confirmed."""
    now = now or timezone.now()
    done = 0
    ids = list(Commission.objects.filter(status=CommissionStatus.PENDING, confirm_after__lte=now)
               .order_by("id").values_list("id", flat=True)[:limit])
    for cid in ids:
        with transaction.atomic():
            commission = Commission.objects.select_for_update().filter(
                pk=cid, status=CommissionStatus.PENDING).first()
            if commission is None:
                continue
            commission.status = CommissionStatus.CONFIRMED
            commission.confirmed_at = now
            commission.updated_at = now
            commission.save()
            CommissionStep.objects.create(commission=commission, kind="confirmed", amount_before=commission.amount,
                                          amount_after=commission.amount, status_after=commission.status,
                                          note="return window closed")
            _pay(commission, now)
            done += 1
    _pay_waiting(Commission.objects.filter(status=CommissionStatus.CONFIRMED, paid_at__isnull=True, amount__gt=0),
                 now, limit)
    return done


def _pay_waiting(queryset, now: datetime, limit: int) -> int:
    """Fund (and, once confirmed, pay) commissions still awaiting their store's money, oldest first."""
    paid = 0
    for cid in list(queryset.order_by("id").values_list("id", flat=True)[:limit]):
        with transaction.atomic():
            commission = Commission.objects.select_for_update().filter(pk=cid).first()
            if commission is None or commission.paid_at is not None:
                continue
            if commission.status == CommissionStatus.CONFIRMED:  # awaiting funding, or its creator's suspension
                paid += _pay(commission, now)
            elif commission.awaiting_funding:
                steps = settle_hold(commission)
                commission.save()
                record_funding(commission, steps)
    return paid


def fund_waiting_commissions(store: PartnerStore, currency: str | None = None, now: datetime | None = None) -> int:
    """Hold (and pay, once confirmed) the store's commissions awaiting funding, as far as its deposit goes."""
    qs = Commission.objects.filter(store=store, status__in=[CommissionStatus.PENDING, CommissionStatus.CONFIRMED],
                                   paid_at__isnull=True, held__lt=F("amount"))
    if currency:
        qs = qs.filter(currency=currency)
    return _pay_waiting(qs, now or timezone.now(), 1000)
