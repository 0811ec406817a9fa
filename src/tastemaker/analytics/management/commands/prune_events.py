"""``tastemaker prune-events [--days N]``: delete raw events older than the retention
(``TASTEMAKER_ANALYTICS_RAW_RETENTION_DAYS``). The report counters are not touched."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from tastemaker.analytics.services import do_prune_events


class Command(BaseCommand):
    help = "Delete raw analytics events older than the retention; counters stay."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None)

    def handle(self, *args, days, **options):
        n = do_prune_events(days)
        self.stdout.write(f"Pruned {n:,} raw events.")
