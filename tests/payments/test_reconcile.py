"""Reconciliation: the sandbox's statement against our records, planted mismatches, settlement."""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tastemaker.core.errors import ValidationFailed
from tastemaker.payments import reconcile, selectors, services
from tastemaker.payments.ledger import provider_clearing
from tastemaker.payments.models import SandboxTrade, TopUp
from tastemaker.payments.providers import sandbox

from .conftest import aged

pytestmark = pytest.mark.django_db


def yesterday():
    return timezone.localdate() - timedelta(days=1)


def at_noon_yesterday():
    """Run the business of a past day: every timezone.now() in the services answers yesterday noon."""
    noon = datetime.combine(yesterday(), time(12), tzinfo=timezone.get_current_timezone())
    return mock.patch("django.utils.timezone.now", return_value=noon)


def paid_topup(user, amount):
    topup, _url = services.do_start_topup(user, amount, "CNY", "sandbox")
    sandbox.sandbox_approve(topup.order_no)
    assert services.do_handle_notification("sandbox", sandbox.notification_for(topup.order_no)) == "success"
    return topup


def a_clean_day(make_user):
    fan, creator = make_user(), make_user()
    with at_noon_yesterday():
        paid_topup(fan, 10_000)
        paid_topup(fan, 2_345)
        paid_topup(creator, 5_000)
        aged(services.do_bind_payout_account(creator, "sandbox", "creator@example.org", "Creator"))
        withdrawal = services.do_request_withdrawal(creator, 4_000, "CNY")
        assert services.do_process_withdrawal(withdrawal.pk).status == "succeeded"
    return fan, creator


def run(*args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("reconcile", *args, stdout=out)
        return 0, out.getvalue()
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)


def test_a_clean_day_matches_and_settles_to_zero(make_user, tmp_path, invariants):
    a_clean_day(make_user)
    day = yesterday().isoformat()
    code, output = run("sandbox", "--date", day, "--settle")
    assert code == 0, output
    assert "statement: 4 lines" in output and "matched 4, mismatches 0" in output
    assert "nets to zero" in output
    # the provider held 173.45 for us and paid out 40.00: 133.45 settled, clearing back at zero
    assert provider_clearing("sandbox", "CNY").balance == 0
    run_row = selectors.reconciliation_runs("sandbox")[0]
    assert run_row.ok and run_row.report["settled"] == [{"date": day, "currency": "CNY", "amount": 13_345}]
    assert run_row.lines.count() == 4
    # settling again is harmless; the statement can be written, read back and matched the same way
    assert run("sandbox", "--date", day, "--settle")[0] == 0
    path = tmp_path / "statement.csv"
    code, output = run("sandbox", "--date", day, "--write-statement", str(path))
    assert code == 0 and path.read_text().startswith("kind,order_no,trade_no,amount,currency,status,occurred_at")
    code, output = run("sandbox", "--date", day, "--statement", str(path))
    assert code == 0 and "matched 4, mismatches 0" in output
    invariants()


def test_planted_mismatches_are_all_listed(make_user, invariants):
    fan, creator = a_clean_day(make_user)
    with at_noon_yesterday():
        # 1. paid at the sandbox, the notification lost: status differs
        lost, _url = services.do_start_topup(fan, 700, "CNY", "sandbox")
        sandbox.sandbox_approve(lost.order_no)
        # 2. the provider's record of an amount differs from ours
        changed = paid_topup(fan, 900)
        SandboxTrade.objects.filter(order_no=changed.order_no).update(amount=990)
        # 3. the provider moved money for an order we never made
        SandboxTrade.objects.create(kind="payment", order_no="T999", trade_no="SBX-stranger", amount=100,
                                    currency="CNY", status="succeeded", finished_at=timezone.now())
        # 4. we credited a top-up the provider has no record of
        ghost = paid_topup(creator, 300)
        SandboxTrade.objects.filter(order_no=ghost.order_no).delete()
    code, output = run("sandbox", "--date", yesterday().isoformat(), "--settle")
    assert code == 1
    assert "4 mismatches" in output
    lines = {line.split()[0]: line for line in output.splitlines() if line.startswith("  ") and "ours:" in line}
    assert lost.order_no in lines["status_differs"] and "pending" in lines["status_differs"]
    assert changed.order_no in lines["amount_differs"] and "9.90" in lines["amount_differs"]
    assert "T999" in lines["missing_ours"]
    assert ghost.order_no in lines["missing_theirs"]
    run_row = selectors.reconciliation_runs()[0]
    assert {m["kind"] for m in run_row.report["mismatches"]} == {"status_differs", "amount_differs", "missing_ours",
                                                                "missing_theirs"}
    assert run_row.report["settled"] == []  # nothing is settled while anything mismatches
    assert provider_clearing("sandbox", "CNY").balance != 0
    # the lost notification is recovered by asking the provider; that mismatch goes away
    services.do_query_topup(TopUp.objects.get(pk=lost.pk))
    report = reconcile.reconcile("sandbox", yesterday(), yesterday())
    assert report.mismatch_count == 3
    assert "status_differs" not in {m["kind"] for m in report.report["mismatches"]}
    invariants()


def test_unsettled_clearing_check_and_bad_statement(make_user, tmp_path):
    a_clean_day(make_user)
    rows = reconcile.clearing_check("sandbox", yesterday(), yesterday())
    assert rows == [{"date": yesterday().isoformat(), "currency": "CNY", "movement": -13_345, "settled": False,
                     "settlement": 0, "net": -13_345}]
    bad = tmp_path / "bad.csv"
    bad.write_text("kind,order_no,trade_no,amount,currency,status,occurred_at\npayment,T1,X,12.345,CNY,succeeded,\n")
    code, output = run("sandbox", "--date", yesterday().isoformat(), "--statement", str(bad))
    assert code == 1 and "line 2" in output
    assert run("sandbox", "--date", "2025-13-01")[0] == 1
    with pytest.raises(ValidationFailed):
        services.do_settle("sandbox", "CNY", timezone.localdate(), 100)  # today is not over
