"""Broadcast delivery: every subscriber in the segment exactly once, in chunks, resumable after a crash and
harmless to re-run; unsubscribing stops a scheduled broadcast; the daily caps defer, never drop."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings

from tastemaker.fanservice import delivery, services
from tastemaker.fanservice.models import Broadcast, BroadcastStatus, Deferred, InboxItem

pytestmark = pytest.mark.django_db


def _received(fan) -> int:
    return InboxItem.objects.filter(recipient=fan, broadcast_id__isnull=False).count()


@override_settings(FANSERVICE_CHUNK=4)
def test_delivers_every_subscriber_once_in_chunks(make_user, subscribed, later):
    owner = make_user()
    fans = subscribed(owner, 10)
    outsider = make_user()
    b = later(owner)
    delivery.deliver(b.pk)
    b.refresh_from_db()
    assert b.status == BroadcastStatus.SENT and b.delivered == 10 and b.next_fan_id == fans[-1].pk
    assert sorted(InboxItem.objects.filter(broadcast_id=b.pk).values_list("recipient_id", flat=True)) == [
        f.pk for f in fans]
    assert _received(outsider) == 0
    # the message itself is stored once
    assert InboxItem.objects.filter(broadcast_id=b.pk).values("message_id").distinct().count() == 1


@override_settings(FANSERVICE_CHUNK=3)
def test_killed_mid_fanout_then_rerun_delivers_exactly_once(make_user, subscribed, later, monkeypatch):
    owner = make_user()
    fans = subscribed(owner, 11)
    b = later(owner)
    real = delivery._deliver
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # the third chunk's transaction dies half-way (after its insert ran)
            real(*args, **kwargs)
            raise SystemExit("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(delivery, "_deliver", dying)
    with pytest.raises(SystemExit):
        delivery.deliver(b.pk)
    b.refresh_from_db()
    assert b.status == BroadcastStatus.SENDING and b.delivered == 6  # two chunks committed, the third rolled back
    assert InboxItem.objects.filter(broadcast_id=b.pk).count() == 6
    monkeypatch.setattr(delivery, "_deliver", real)
    delivery.run_due()  # the sweep resumes at next_fan_id
    b.refresh_from_db()
    assert b.status == BroadcastStatus.SENT and b.delivered == 11
    # re-run from the very start: nothing is delivered twice
    Broadcast.objects.filter(pk=b.pk).update(status=BroadcastStatus.SENDING, next_fan_id=0)
    delivery.run_due()
    assert InboxItem.objects.filter(broadcast_id=b.pk).count() == 11
    assert all(_received(f) == 1 for f in fans)
    assert Broadcast.objects.get(pk=b.pk).delivered == 11


def test_unsubscribe_takes_effect_for_a_scheduled_broadcast(make_user, subscribed, later):
    from django.utils import timezone

    owner = make_user()
    stays, leaves, by_link = subscribed(owner, 3)
    b = services.do_create_broadcast(owner, text="Tomorrow's sale", scheduled_at=timezone.now() + timedelta(hours=2))
    services.do_unsubscribe(leaves, owner)
    services.do_unsubscribe_by_token(services.unsubscribe_token(by_link.pk, owner.pk))
    Broadcast.objects.filter(pk=b.pk).update(scheduled_at=timezone.now())
    delivery.run_due()
    assert (_received(stays), _received(leaves), _received(by_link)) == (1, 0, 0)


@override_settings(FANSERVICE_FAN_DAILY_CAP=2, FANSERVICE_SENDER_DAILY_CAP=1)
def test_fan_cap_defers_to_the_next_day_and_unsubscribing_drops_the_wait(make_user, later):
    from tastemaker.fanservice.services import do_subscribe

    fan, quitter = make_user(), make_user()
    owners = [make_user() for _ in range(3)]
    for owner in owners:
        do_subscribe(fan, owner)
        do_subscribe(quitter, owner)
    for owner in owners:
        delivery.deliver(later(owner).pk)
    assert _received(fan) == 2 and _received(quitter) == 2
    assert Deferred.objects.filter(fan=fan).count() == 1 and Deferred.objects.filter(fan=quitter).count() == 1
    third = Broadcast.objects.get(owner=owners[2])
    assert (third.delivered, third.deferred) == (0, 2)
    services.do_unsubscribe(quitter, owners[2])
    today = delivery.utc_today()
    assert delivery.deliver_deferred(today) == 0  # not due yet: tomorrow
    assert delivery.deliver_deferred(today + timedelta(days=1)) == 1
    assert _received(fan) == 3 and _received(quitter) == 2
    assert not Deferred.objects.exists()
    third.refresh_from_db()
    assert (third.delivered, third.deferred) == (1, 0)


@override_settings(FANSERVICE_SENDER_DAILY_CAP=1)
def test_sender_cap_moves_the_second_broadcast_to_the_next_day(make_user, subscribed, later):
    owner = make_user()
    fan, = subscribed(owner, 1)
    first, second = later(owner, "one"), later(owner, "two")
    delivery.run_due()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == BroadcastStatus.SENT
    assert second.status == BroadcastStatus.SCHEDULED
    assert second.scheduled_at == delivery.next_day_start(delivery.utc_today())
    assert _received(fan) == 1


def test_cancel_before_it_goes_and_not_after(make_user, subscribed, later):
    from django.utils import timezone

    from tastemaker.core.errors import Conflict

    owner = make_user()
    fan, = subscribed(owner, 1)
    b = services.do_create_broadcast(owner, text="Never mind", scheduled_at=timezone.now() + timedelta(hours=1))
    services.do_cancel_broadcast(owner, b)
    Broadcast.objects.filter(pk=b.pk).update(scheduled_at=timezone.now())
    delivery.run_due()
    assert _received(fan) == 0
    sent = later(owner)
    delivery.deliver(sent.pk)
    with pytest.raises(Conflict):
        services.do_cancel_broadcast(owner, sent)


def test_blocked_and_suspended_fans_and_owners(make_user, subscribed, later):
    from tastemaker.core.errors import Forbidden, NotFound
    from tastemaker.social.services import do_block

    owner = make_user()
    ok, blocker, suspended = subscribed(owner, 3)
    do_block(blocker, owner)
    suspended.is_suspended = True
    suspended.save()
    delivery.deliver(later(owner).pk)
    assert (_received(ok), _received(blocker), _received(suspended)) == (1, 0, 0)
    with pytest.raises(Forbidden):
        services.do_subscribe(blocker, owner)  # (the block also ended nothing: subscribing again is refused)
    with pytest.raises(Forbidden):
        services.do_subscribe(suspended, make_user())
    owner.is_suspended = True
    owner.save()
    with pytest.raises(NotFound):
        services.do_subscribe(make_user(), owner)
    with pytest.raises(Forbidden):
        services.do_create_broadcast(owner, text="still here?")
