"""``tastemaker rebuild-stats``: recompute every report counter from the raw events (with a progress
bar). The result matches what the live ingest produced, exactly. Stop ingest while it runs (it holds
one transaction). After raw events were pruned the counters of the pruned period cannot be rebuilt:
the command refuses unless ``--force``."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from tastemaker.analytics.models import Event, PruneMark
from tastemaker.analytics.services import do_rebuild_stats


class Command(BaseCommand):
    help = "Rebuild the analytics counters from the raw events."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=20_000)
        parser.add_argument("--force", action="store_true", help="rebuild even though raw events were pruned")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, batch: int, force: bool, no_progress: bool, **options):
        mark = PruneMark.objects.filter(pk=1).first()
        if mark and mark.before_id and not force:
            raise CommandError("Raw events were pruned: a rebuild would drop the counts of the pruned period. "
                               "Use --force to rebuild from what is left.")
        total = Event.objects.count()
        with tqdm(total=total, unit="event", disable=no_progress or None, file=self.stderr) as bar:
            done = do_rebuild_stats(batch=batch, progress=bar.update)
        self.stdout.write(f"Rebuilt the counters from {done:,} events.")
