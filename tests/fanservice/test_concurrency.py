"""Caps under real concurrent connections (threads with their own connections; a SQLite WAL file or
PostgreSQL): deliveries of many senders racing for the same fans never pass a fan's daily cap and drop
nobody; broadcasts of one sender started at once never pass the sender's cap."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone

from tastemaker.fanservice import delivery
from tastemaker.fanservice.models import Broadcast, BroadcastStatus, Deferred, InboxItem
from tastemaker.fanservice.services import do_create_broadcast, do_subscribe

from .conftest import run_threads


def _due(owner, text):
    b = do_create_broadcast(owner, text=text, scheduled_at=timezone.now() + timedelta(hours=1))
    Broadcast.objects.filter(pk=b.pk).update(scheduled_at=timezone.now() - timedelta(seconds=1))
    return b.pk


@pytest.mark.django_db(transaction=True)
@override_settings(FANSERVICE_FAN_DAILY_CAP=3, FANSERVICE_CHUNK=7)
def test_fan_cap_holds_under_concurrent_deliveries(concurrent_db, make_user):
    owners = [make_user() for _ in range(6)]
    fans = [make_user() for _ in range(25)]
    for owner in owners:
        for fan in fans:
            do_subscribe(fan, owner)
    ids = [_due(owner, f"news {i}") for i, owner in enumerate(owners)]
    results = run_threads(4, ids, delivery.deliver)
    assert not [r for r in results if isinstance(r, Exception)], results
    per_fan = dict(InboxItem.objects.filter(broadcast_id__isnull=False).values("recipient_id")
                   .annotate(n=Count("pk")).values_list("recipient_id", "n"))
    assert per_fan == {f.pk: 3 for f in fans}
    waiting = dict(Deferred.objects.values("fan_id").annotate(n=Count("pk")).values_list("fan_id", "n"))
    assert waiting == {f.pk: 3 for f in fans}  # the other three wait for tomorrow: none dropped
    # the slots of a day are 1..3 per fan, each once
    assert set(InboxItem.objects.values_list("slot", flat=True)) == {1, 2, 3}
    sent = Broadcast.objects.filter(pk__in=ids)
    assert all(b.status == BroadcastStatus.SENT for b in sent)
    assert sum(b.delivered + b.deferred for b in sent) == 6 * 25
    # the next days deliver the rest, still at most three a day
    tomorrow = delivery.utc_today() + timedelta(days=1)
    assert delivery.deliver_deferred(tomorrow) == 75
    assert not Deferred.objects.exists()
    assert InboxItem.objects.filter(broadcast_id__isnull=False).count() == 150


@pytest.mark.django_db(transaction=True)
@override_settings(FANSERVICE_SENDER_DAILY_CAP=2)
def test_sender_cap_holds_under_concurrent_starts(concurrent_db, make_user):
    owner, fan = make_user(), make_user()
    do_subscribe(fan, owner)
    ids = [_due(owner, f"one of many {i}") for i in range(6)]
    results = run_threads(4, ids, delivery.start)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(1 for r in results if r is True) == 2
    statuses = list(Broadcast.objects.filter(pk__in=ids).values_list("status", flat=True))
    assert statuses.count(BroadcastStatus.SENDING) == 2 and statuses.count(BroadcastStatus.SCHEDULED) == 4
