"""``tastemaker reconcile_promotion [--settle] [CAMPAIGN_ID ...]``

Proves, per campaign, that spend = billable valid events x price (``promotion.selectors.reconcile_campaigns``):
the campaign's spend, its charges, its hold and the ledger's captures into ``promotion_spend`` agree, and
every impression charged stands on a valid promoted event. Exits with status 1 listing any mismatch.
``--settle`` first captures what is due (``services.do_settle_charges``), as the job does.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tastemaker.promotion import selectors, services


class Command(BaseCommand):
    help = "Check that every campaign's spend equals its billable valid deliveries times their price."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign_ids", nargs="*", type=int)
        parser.add_argument("--settle", action="store_true", help="capture due charges first")

    def handle(self, *args: Any, **opts: Any) -> None:
        ids = opts["campaign_ids"] or None
        if opts["settle"]:
            self.stdout.write(f"settled {services.do_settle_charges(campaign_ids=ids)} charges")
        mismatches = selectors.reconcile_campaigns(ids)
        for m in mismatches:
            self.stdout.write(f"  campaign {m.campaign_id}: {m.check} expected {m.expected}, found {m.found}")
        if mismatches:
            raise CommandError(f"{len(mismatches)} mismatches", returncode=1)
        self.stdout.write(self.style.SUCCESS("promotion: every campaign's spend matches its billable deliveries"))
