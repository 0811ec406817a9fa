"""Promotion reads: the ad decision for a home page and suggestions, campaign lists and reports, the review
queue, the audience estimate and the reconcile check."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Sum

from tastemaker.analytics.models import Event, Surface
from tastemaker.payments.models import Account, AccountKind, Entry, Hold, TransactionKind

from .models import Campaign, Charge, ChargeKind, ChargeStatus

_lock = threading.Lock()
_cache: dict[str, object] = {}


def forget_active() -> None:
    """Drop this process's cached list of deliverable campaigns (a campaign started, paused or ended)."""
    with _lock:
        _cache.clear()
    _cache["at"] = time.monotonic() - 10**9


# --- reconcile: spend = billable valid events x price, per campaign ------------------------------------

@dataclass(frozen=True)
class CampaignMismatch:
    campaign_id: int
    check: str
    expected: int
    found: int


def reconcile_campaigns(campaign_ids: Iterable[int] | None = None) -> list[CampaignMismatch]:
    """Prove, for every campaign (or those given), that the money agrees with the deliveries:

    * ``captured``: the campaign's spend equals ``floor(sum of its captured charges' prices / 1000)``;
    * ``ledger``: the ledger's captures of its hold into ``promotion_spend`` (references
      ``promotion:<id>:<batch>``) add up to the same, and so does the hold's ``captured``;
    * ``committed``: the reserved budget equals the prices of its pending and captured charges, and never
      exceeds the budget;
    * ``invalid``: every impression or reach charge stands on an analytics event that is valid,
      ``surface=promoted``, of the campaign's subject and viewer (the existing filter decided).

    Returns the mismatches (empty: all agree)."""
    qs = Campaign.objects.exclude(hold=None)
    if campaign_ids is not None:
        qs = qs.filter(pk__in=list(campaign_ids))
    out: list[CampaignMismatch] = []
    campaigns = list(qs.values_list("pk", "captured", "settled_milli", "committed_milli", "budget", "hold_id",
                                    "post_id", "account_id"))
    ids = [c[0] for c in campaigns]
    sums: dict[tuple[int, str], int] = defaultdict(int)
    for cid, status, s in (Charge.objects.filter(campaign_id__in=ids).values("campaign_id", "status")
                           .annotate(s=Sum("unit_milli")).values_list("campaign_id", "status", "s")):
        sums[(cid, status)] = s or 0
    holds = dict(Hold.objects.filter(pk__in=[c[5] for c in campaigns]).values_list("pk", "captured"))
    ledger: dict[int, int] = defaultdict(int)
    spend_ids = list(Account.objects.filter(kind=AccountKind.PROMOTION_SPEND).values_list("pk", flat=True))
    for ref, amount in (Entry.objects.filter(account_id__in=spend_ids, transaction__kind=TransactionKind.CAPTURE,
                                             transaction__reference__startswith="promotion:")
                        .values_list("transaction__reference", "amount")):
        parts = ref.split(":")
        if len(parts) == 3 and parts[1].isdigit():
            ledger[int(parts[1])] += amount
    for cid, captured, settled, committed, budget, hold_id, post_id, account_id in campaigns:
        charged = sums[(cid, ChargeStatus.CAPTURED)]
        pending = sums[(cid, ChargeStatus.PENDING)]
        checks = [("captured", charged // 1000, captured), ("settled", charged, settled),
                  ("ledger", captured, ledger.get(cid, 0)), ("hold", captured, holds.get(hold_id, 0)),
                  ("committed", charged + pending, committed)]
        if committed > budget * 1000:
            checks.append(("budget", budget * 1000, committed))
        out += [CampaignMismatch(cid, name, want, got) for name, want, got in checks if want != got]
        subject = post_id if post_id is not None else account_id
        rows = list(Charge.objects.filter(campaign_id=cid, kind__in=(ChargeKind.IMPRESSION, ChargeKind.REACH))
                    .exclude(status=ChargeStatus.VOIDED).values_list("event_id", "viewer_id"))
        events = {e: (v, s, sub, key) for e, v, s, sub, key in Event.objects.filter(
            pk__in=[r[0] for r in rows if r[0] is not None]).values_list("pk", "valid", "surface", "subject_id",
                                                                         "viewer_key")}
        bad = sum(1 for event_id, viewer in rows
                  if event_id not in events or events[event_id] != (True, Surface.PROMOTED, subject, f"u{viewer}"))
        if bad:
            out.append(CampaignMismatch(cid, "invalid", 0, bad))
    return out
