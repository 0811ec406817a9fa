"""``tastemaker rollup-stats [--follow]``: count the pending events into the report counters.

Web workers do this themselves in a background thread (``ANALYTICS_ROLLUP=thread``); with
``ANALYTICS_ROLLUP=off`` run ``tastemaker rollup-stats --follow`` as its own process instead."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from tastemaker.analytics.services import do_rollup


class Command(BaseCommand):
    help = "Roll pending analytics events up into the counters (once, or continuously with --follow)."

    def add_arguments(self, parser):
        parser.add_argument("--follow", action="store_true", help="keep running, every ROLLUP_INTERVAL_MS")

    def handle(self, *args, follow: bool, **options):
        total = do_rollup(limit=10**12)
        if not follow:
            self.stdout.write(f"Counted {total:,} events.")
            return
        interval = settings.ANALYTICS_ROLLUP_INTERVAL_MS / 1000
        while True:
            time.sleep(interval)
            do_rollup(limit=10**12)
