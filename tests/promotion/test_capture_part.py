"""payments.do_capture_part: a hold captured in parts, idempotently, then released or captured at the end."""

from __future__ import annotations

import pytest

from payments.conftest import assert_ledger_invariants
from tastemaker.core.errors import Conflict
from tastemaker.payments.ledger import platform_account, wallet_for
from tastemaker.payments.models import Hold
from tastemaker.payments.services import do_capture, do_capture_part, do_hold, do_release


def _hold(user, amount=1000):
    return do_hold(user, amount, "CNY", destination=platform_account("promotion_spend", "CNY"))


def test_parts_are_captured_once_and_the_rest_released(make_user, fund):
    user = make_user()
    fund(user, 5000)
    hold = _hold(user)
    do_capture_part(hold, 300, reference="p:1")
    do_capture_part(hold, 300, reference="p:1")  # a retry: nothing more
    do_capture_part(hold, 200, reference="p:2")
    hold.refresh_from_db()
    assert (hold.status, hold.captured) == ("pending", 500)
    assert platform_account("promotion_spend", "CNY").balance == 500
    do_release(hold)
    hold.refresh_from_db()
    assert (hold.status, hold.captured) == ("captured", 500)
    assert wallet_for(user, "CNY").balance == 4500
    assert_ledger_invariants()


def test_a_part_beyond_the_hold_or_after_it_resolved_is_refused(make_user, fund):
    user = make_user()
    fund(user, 5000)
    hold = _hold(user)
    do_capture_part(hold, 900, reference="p:a")
    with pytest.raises(Conflict):
        do_capture_part(hold, 101, reference="p:b")
    do_capture_part(hold, 100, reference="p:c")
    assert do_release(Hold.objects.get(pk=hold.pk)) is None  # nothing left to move
    with pytest.raises(Conflict):
        do_capture_part(hold, 1, reference="p:d")
    assert platform_account("promotion_spend", "CNY").balance == 1000
    assert_ledger_invariants()


def test_final_capture_counts_the_parts(make_user, fund):
    user = make_user()
    fund(user, 5000)
    hold = _hold(user)
    do_capture_part(hold, 400, reference="p:x")
    do_capture(Hold.objects.get(pk=hold.pk), 100)
    hold.refresh_from_db()
    assert hold.captured == 500
    assert wallet_for(user, "CNY").balance == 4500
    assert_ledger_invariants()
