"""Writing click-outs. ``/go`` must answer about as fast as a trivial endpoint, so in production the click
is queued in the process and written with others in one transaction a few milliseconds later (a
background thread per process, like the analytics rollup); the click id is fixed before the redirect.

``SHOWCASE_CLICKS = "inline"`` (the tests) writes each click in the request instead. The trade-off of
"thread": a process killed with SIGKILL loses the clicks of its last interval (≤ 50 ms by default); a normal
stop flushes them (atexit). A store reports an order seconds to days after the click, by which time the
click is long written. The queue and its thread: ``core.batching.BatchWriter``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from tastemaker.core.batching import BatchWriter
from tastemaker.core.ids import new_id
from tastemaker.social.visibility import published_q

from . import links
from .models import CardLink, StoreStatus


@dataclass
class ClickIn:
    id: int
    link_id: int
    store_id: int
    post_id: int
    creator_id: int
    viewer_id: int | None
    visitor: str
    reason: str
    device: str
    language: str
    at_ms: int

    @property
    def viewer_key(self) -> str:
        return f"u{self.viewer_id}" if self.viewer_id is not None else "v" + (self.visitor or "anonymous")[:39]


def write_clicks(clicks: list[ClickIn]) -> list[tuple[ClickIn, bool, str]]:
    """Record a batch of click-outs: analytics events (the invalid-traffic filter decides validity) and the
    click rows, in one transaction. Returns (click, valid, invalid reason) per click."""
    from datetime import UTC, datetime

    from tastemaker.analytics.models import Metric, SubjectType, Surface
    from tastemaker.analytics.services import EventIn, do_record_events

    from .models import ClickOut

    if not clicks:
        return []
    outcomes: list = []
    with transaction.atomic():
        do_record_events([EventIn(metric=Metric.CLICK_OUT, subject_type=SubjectType.POST, subject_id=c.post_id,
                                  owner_id=c.creator_id, viewer_id=c.viewer_id, visitor=c.visitor, reason=c.reason,
                                  device=c.device, language=c.language, surface=Surface.OTHER)
                          for c in clicks], outcomes=outcomes)
        rows = []
        for c, outcome in zip(clicks, outcomes, strict=True):
            valid, why = (outcome[1], outcome[2]) if outcome else (False, "unknown")
            rows.append((c, valid, why))
        # one raw multi-row insert: the ORM's bulk_create costs more than everything else here together
        table = ClickOut._meta.db_table
        adapt = connection.ops.adapt_datetimefield_value
        cols = "id, link_id, store_id, post_id, creator_id, viewer_key, valid, invalid_reason, created_at"
        with connection.cursor() as cursor:
            for start in range(0, len(rows), 300):
                part = rows[start:start + 300]
                cursor.execute(
                    f"INSERT INTO {table} ({cols}) VALUES " + ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(part))
                    + " ON CONFLICT (id) DO NOTHING",
                    [v for c, valid, why in part for v in (
                        c.id, c.link_id, c.store_id, c.post_id, c.creator_id, c.viewer_key, valid, why,
                        adapt(datetime.fromtimestamp(c.at_ms / 1000, tz=UTC)))])
    return rows


_writer: BatchWriter[ClickIn] = BatchWriter(
    "showcase-clicks", write_clicks, lambda: settings.SHOWCASE_CLICK_INTERVAL_MS / 1000)


def record_click(*, inline: bool = False, **fields):
    """Queue one click-out (its id is fixed now) and return it; inline (``SHOWCASE_CLICKS = "inline"``, or
    asked for), write it and return the stored row with its validity."""
    click = ClickIn(id=new_id(), at_ms=int(time.time() * 1000), **fields)
    if inline or settings.SHOWCASE_CLICKS == "inline":
        from .models import ClickOut

        _c, valid, why = write_clicks([click])[0]
        return ClickOut(id=click.id, link_id=click.link_id, store_id=click.store_id, post_id=click.post_id,
                        creator_id=click.creator_id, viewer_key=click.viewer_key, valid=valid, invalid_reason=why)
    _writer.add(click)
    return click


def flush_pending() -> int:
    """Write what this process has queued now (tests and shutdown)."""
    return _writer.flush()


# --- where a tracked link goes, and recording its click-out ------------------------------------

@dataclass(frozen=True)
class LinkTarget:
    """What /go/<token> needs, cached per process for a minute (views_go: a link's URL never changes once
    made; whether it may still be followed, with its store's and author's standing, is read again then)."""

    link_id: int
    url: str
    store_id: int
    post_id: int
    creator_id: int
    creator: str
    # the stored URL split once around where the click id goes (links.with_click, precomputed)
    prefix: str = ""
    suffix: str = ""

    def location(self, click_id: int) -> str:
        return f"{self.prefix}{click_id}{self.suffix}"


def link_target(token: str) -> LinkTarget | None:
    """Where /go/<token> sends: only a link of an approved store (not pending, rejected or suspended) on a
    published post (``social.visibility.published_q``: not held, author not suspended); None otherwise. The
    same for every visitor (it is cached per process): a followers-only card's link works for anyone who has it."""
    row = (CardLink.objects.filter(token=token, store__status=StoreStatus.APPROVED)
           .filter(published_q("card__post__"))
           .values_list("id", "url", "store_id", "card_id", "card__creator_id", "card__creator__username").first())
    if row is None:
        return None
    marker = 4_000_000_000_000_000_000  # a number that cannot occur elsewhere in the URL's query
    built = links.with_click(row[1], marker, post_id=row[3], creator=row[5])
    prefix, _sep, suffix = built.partition(str(marker))
    return LinkTarget(*row, prefix=prefix, suffix=suffix)


def do_click_out(target: LinkTarget, *, viewer_id: int | None, visitor: str, reason: str, device: str,
                 language: str, inline: bool = False):
    """Record a click-out through the events pipeline and its invalid-traffic filter (showcase.clicks: queued
    and written in batches, or inline) and return it; its id is the click id the store reports back."""
    return record_click(inline=inline, link_id=target.link_id, store_id=target.store_id, post_id=target.post_id,
                        creator_id=target.creator_id, viewer_id=viewer_id, visitor=visitor, reason=reason,
                        device=device, language=language)
