"""Time-ordered ids: strictly increasing within a process, unique across threads, time-decodable."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from tastemaker.core import ids


def test_ids_strictly_increase_over_many_calls():
    values = [ids.new_id() for _ in range(200_000)]  # far more than 65,536 per millisecond is possible
    assert all(b > a for a, b in zip(values, values[1:], strict=False))
    assert len(set(values)) == len(values)


def test_ids_fit_a_signed_64_bit_column():
    value = ids.new_id()
    assert 0 < value < 2**63


def test_ids_unique_across_threads():
    out: list[list[int]] = []
    lock = threading.Lock()

    def work():
        mine = [ids.new_id() for _ in range(20_000)]
        with lock:
            out.append(mine)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flat = [v for chunk in out for v in chunk]
    assert len(flat) == 160_000
    assert len(set(flat)) == len(flat)
    for chunk in out:  # each thread still sees increasing ids
        assert chunk == sorted(chunk)


def test_sequence_overflow_borrows_the_next_millisecond(monkeypatch):
    frozen = 1_800_000_000_000
    monkeypatch.setattr(ids, "now_ms", lambda: frozen)
    monkeypatch.setattr(ids, "_last_ms", 0)
    values = [ids.new_id() for _ in range(70_000)]  # more than one millisecond's worth, clock stuck
    assert len(set(values)) == len(values)
    assert values == sorted(values)
    assert ids.id_to_ms(values[-1]) > frozen


def test_clock_going_backwards_never_reuses_or_decreases(monkeypatch):
    clock = [1_900_000_000_000]
    monkeypatch.setattr(ids, "now_ms", lambda: clock[0])
    monkeypatch.setattr(ids, "_last_ms", 0)
    first = ids.new_id()
    clock[0] -= 5_000  # NTP step back by five seconds
    second = ids.new_id()
    assert second > first


def test_id_encodes_its_creation_time():
    before = ids.now_ms()
    value = ids.new_id()
    after = ids.now_ms()
    assert before <= ids.id_to_ms(value) <= after + 1


def test_id_floor_orders_with_ids():
    now = datetime.now(UTC)
    floor = ids.id_floor(now - timedelta(seconds=1))
    assert ids.new_id() > floor
    assert ids.id_floor(now + timedelta(hours=1)) > ids.new_id()


def test_backdated_id_uses_the_given_time():
    at = int(time.time() * 1000) - 86_400_000
    value = ids.new_id(at_ms=at)
    assert ids.id_to_ms(value) == at
    assert value < ids.new_id()


@pytest.mark.parametrize("raw, expected", [
    ("117676977335347513", 117676977335347513), (12345, 12345), ("9223372036854775807", 2**63 - 1),
    ("9223372036854775808", None), ("99999999999999999999", None), ("", None), ("-5", None), ("12a", None),
    (" 12", None), ("１２", None),
])
def test_parse_id_accepts_only_ids_that_fit_the_column(raw, expected):
    assert ids.parse_id(raw) == expected
