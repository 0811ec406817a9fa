"""Analytics write paths, in three modules; this is their one public face (``do_*``), so callers import
``analytics.services`` as for every app.

1. **ingest** (``ingest.py``, the request path, ``do_record_events``): filters, de-duplication by the unique
   ``dedup`` index, the raw rows and one ``Pending`` row per stored event. Once it returns the
   events are durable: nothing accepted is ever lost. Server-side events are recorded after commit.
2. **rollup** (``rollup.py``, ``do_rollup``): takes every pending event (whoever stored it), aggregates
   them in memory, upserts the counters (``INSERT … ON CONFLICT … DO UPDATE SET count = count + excluded.count``)
   and deletes those pending rows — in one transaction, so each event is counted exactly once.
   It runs right after an ingest: inline (``ANALYTICS_ROLLUP=inline``, the tests) or, by default, in a
   per-process background thread that coalesces what arrives within ``ANALYTICS_ROLLUP_INTERVAL_MS``.
3. **housekeeping** (``housekeeping.py``): pruning raw events, rebuilding the counters.

Why not the counters in the ingest's own transaction? Measured on SQLite: a batch of 500 spread
over many posts touches ~6,000 counter rows, and per-batch upserts capped ingest at ~4,000 events/s;
rolled up together every 100 ms, the same events collapse into far fewer rows (see docs/benchmarks.md).
A report still sees an event well within a second (figure e of the benchmark).
"""

from tastemaker.core.ids import SEQUENCE_BITS

from .housekeeping import do_prune_events, do_rebuild_stats
from .ingest import (
    CLIENT_METRICS,
    CLIENT_SUBJECTS,
    DEDUP_METRICS,
    DIMENSIONS,
    METRICS,
    EventIn,
    IngestResult,
    after_commit,
    after_commit_event,
    dedup_key,
    do_record_events,
    record_server_event,
    viewer_bit,
)
from .rollup import IDLE_CLOSE_SECONDS, do_rollup, schedule_rollup
from .sql import EVENT_COLUMNS, STAT_COLUMNS

__all__ = [
    "CLIENT_METRICS", "CLIENT_SUBJECTS", "DEDUP_METRICS", "DIMENSIONS", "EVENT_COLUMNS", "IDLE_CLOSE_SECONDS",
    "METRICS", "SEQUENCE_BITS", "STAT_COLUMNS", "EventIn", "IngestResult", "after_commit", "after_commit_event",
    "dedup_key", "do_prune_events", "do_rebuild_stats", "do_record_events", "do_rollup", "record_server_event",
    "schedule_rollup", "viewer_bit",
]
