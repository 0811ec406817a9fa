"""Security review fixes: the sandbox is off by default and never next to a real provider, payout accounts
wait out a cool-down, unverified notifications are not stored whole, history dates cannot overflow."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils import timezone

from tastemaker.core.errors import Conflict, ValidationFailed
from tastemaker.payments import selectors, services
from tastemaker.payments.models import Hold, ProviderNotification, Withdrawal
from tastemaker.payments.providers import sandbox

from .conftest import aged
from .test_topups import alipay  # noqa: F401 - the fixture: Alipay configured with local keys

pytestmark = pytest.mark.django_db


# --- which providers, and refusing to start with the sandbox next to a real one --------------------

def _providers_by_default(tmp_path, **env) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TASTEMAKER_")}
    clean.update({"TASTEMAKER_DATA_DIR": str(tmp_path), "TASTEMAKER_SECRET_KEY": "x" * 50, **env})
    code = "import tastemaker.settings as s; print(','.join(s.PAYMENT_PROVIDERS))"
    return subprocess.run([sys.executable, "-c", code], env=clean, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_the_sandbox_is_enabled_by_default_only_in_debug(tmp_path):
    assert _providers_by_default(tmp_path) == ""
    assert _providers_by_default(tmp_path, TASTEMAKER_DEBUG="1") == "sandbox"
    assert _providers_by_default(tmp_path, TASTEMAKER_PAYMENT_PROVIDERS="sandbox") == "sandbox"  # make run
    assert _providers_by_default(tmp_path, TASTEMAKER_DEBUG="1", TASTEMAKER_PAYMENT_PROVIDERS="alipay") == "alipay"


def test_sandbox_next_to_a_real_provider_is_a_check_error(settings, alipay):  # noqa: F811
    from tastemaker.payments.apps import check_providers

    settings.PAYMENT_PROVIDERS = ["alipay"]
    assert check_providers() == []
    settings.PAYMENT_PROVIDERS = ["sandbox"]
    assert check_providers() == []
    settings.PAYMENT_PROVIDERS = ["sandbox", "alipay"]
    errors = check_providers()
    assert [e.id for e in errors] == ["payments.E003"] and errors[0].is_serious()
    assert "alipay" in errors[0].msg and "withdrawn" in errors[0].hint


def test_check_serve_and_migrate_refuse_to_start(settings, alipay):  # noqa: F811
    settings.PAYMENT_PROVIDERS = ["alipay", "sandbox"]
    with pytest.raises(SystemCheckError, match="payments.E003"):
        call_command("check")
    # from the command line (`tastemaker migrate`, `tastemaker serve`) the checks run first
    with pytest.raises(SystemCheckError, match="payments.E003"):
        call_command("migrate", skip_checks=False, interactive=False, verbosity=0)
    with mock.patch("subprocess.Popen", side_effect=AssertionError("serve started a process")), \
            mock.patch("tastemaker.core.management.commands.serve.call_command") as migrate:
        with pytest.raises(SystemCheckError, match="payments.E003"):
            call_command("serve", skip_checks=False)
    migrate.assert_not_called()


def test_no_withdrawal_through_a_real_provider_while_the_sandbox_is_enabled(make_user, fund, settings,
                                                                             alipay):  # noqa: F811
    """A server started without the checks (plain gunicorn) still never pays sandbox money out."""
    settings.PAYMENT_PROVIDERS = ["alipay"]
    creator = make_user()
    fund(creator, 10_000)
    account = aged(services.do_bind_payout_account(creator, "alipay", "13800000000", "李娜"))
    settings.PAYMENT_PROVIDERS = ["sandbox", "alipay"]
    with pytest.raises(Conflict):
        services.do_request_withdrawal(creator, 5_000, "CNY", payout_account=account)
    assert not Withdrawal.objects.exists() and not Hold.objects.exists()
    assert selectors.balance(creator).available == 10_000


# --- payout accounts: a cool-down after binding -------------------------------------------------

def test_a_newly_bound_payout_account_waits_out_the_cool_down(make_user, fund, settings, run_jobs):
    settings.PAYOUT_ACCOUNT_COOLDOWN_HOURS = 24
    creator = make_user()
    fund(creator, 10_000)
    account = services.do_bind_payout_account(creator, "sandbox", "me@example.org", "Me")
    ready = account.bound_at + timedelta(hours=24)
    assert services.payout_account_ready_at(account) == ready
    for chosen in (None, account):  # the default account, or named
        with pytest.raises(Conflict) as refused:
            services.do_request_withdrawal(creator, 1_000, "CNY", payout_account=chosen)
        assert refused.value.field == "payout_account"
        assert "less than 24 hours ago" in refused.value.message
        assert timezone.localtime(ready).strftime("%Y-%m-%d %H:%M") in refused.value.message
    assert not Withdrawal.objects.exists() and not Hold.objects.exists()
    assert selectors.balance(creator).available == 10_000
    # a minute before it is ready: still refused; once ready: paid out
    with mock.patch("django.utils.timezone.now", return_value=ready - timedelta(minutes=1)):
        with pytest.raises(Conflict):
            services.do_request_withdrawal(creator, 1_000, "CNY")
    with mock.patch("django.utils.timezone.now", return_value=ready):
        with run_jobs():
            withdrawal = services.do_request_withdrawal(creator, 1_000, "CNY")
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == "succeeded"
    # unbinding and binding again (or changing the holder) starts the cool-down again
    services.do_unbind_payout_account(creator, account)
    again = services.do_bind_payout_account(creator, "sandbox", "me@example.org", "Me")
    assert again.pk == account.pk and again.bound_at > account.bound_at
    with pytest.raises(Conflict):
        services.do_request_withdrawal(creator, 1_000, "CNY")
    aged(again)
    services.do_bind_payout_account(creator, "sandbox", "me@example.org", "Someone Else")
    with pytest.raises(Conflict):
        services.do_request_withdrawal(creator, 1_000, "CNY")
    settings.PAYOUT_ACCOUNT_COOLDOWN_HOURS = 0
    assert services.do_request_withdrawal(creator, 1_000, "CNY").status == "requested"


# --- notifications: what is stored --------------------------------------------------------------

def test_unverified_notifications_are_stored_as_a_short_summary(make_user):
    huge = {f"field{n:03d}": "x" * 2_000 for n in range(100)}
    forged = {"out_trade_no": "T1\x00", "sign": "f" * 64, **huge}
    assert services.do_handle_notification("sandbox", forged) == "failure"
    assert services.do_handle_notification("paypal", huge) == "failure"
    for row in ProviderNotification.objects.all():
        assert not row.verified and row.outcome == "rejected"
        assert set(row.raw) == {"summary", "fields", "truncated"} and row.raw["truncated"] is True
        assert len(row.raw["summary"]) == services.UNVERIFIED_SUMMARY and "\x00" not in row.raw["summary"]
    stored = ProviderNotification.objects.get(provider="sandbox")
    assert stored.order_no == "T1?" and stored.raw["summary"].startswith("out_trade_no=T1?&sign=ffff")
    assert ProviderNotification.objects.get(provider="paypal").raw["summary"].startswith("field000=xxx")
    # a verified one keeps every field (it is the provider's signed record)
    fan = make_user()
    topup, _url = services.do_start_topup(fan, 1_000, "CNY", "sandbox")
    sandbox.sandbox_approve(topup.order_no)
    note = sandbox.notification_for(topup.order_no)
    assert services.do_handle_notification("sandbox", note) == "success"
    assert ProviderNotification.objects.get(verified=True).raw == note


def test_a_non_ascii_signature_is_an_invalid_notification_not_an_error(make_user):
    fan = make_user()
    topup, _url = services.do_start_topup(fan, 1_000, "CNY", "sandbox")
    sandbox.sandbox_approve(topup.order_no)
    note = sandbox.notification_for(topup.order_no)
    for sign in ("签" * 64, "é" + note["sign"][1:], note["sign"] + "\udcff", ""):
        assert services.do_handle_notification("sandbox", {**note, "sign": sign}) == "failure"
    reasons = set(ProviderNotification.objects.values_list("reason", flat=True))
    assert reasons == {"signature missing or malformed"}
    assert services.do_handle_notification("sandbox", {**note, "memo": "\udcff"}) == "failure"  # signs, fails


# --- history dates ------------------------------------------------------------------------------

@pytest.mark.parametrize("bounds", [
    {"until": date(9999, 12, 31)}, {"since": date(9999, 12, 31)}, {"since": date(1, 1, 1)},
    {"until": datetime(9999, 12, 31, 23, 59, tzinfo=timezone.get_fixed_timezone(0))}, {"until": date(2101, 1, 1)},
    {"since": date(1999, 12, 31)}])
def test_history_dates_outside_the_years_2000_to_2100_are_refused(make_user, bounds):
    with pytest.raises(ValidationFailed) as refused:
        selectors.history(make_user(), **bounds)
    assert refused.value.field in bounds and "2000-01-01" in refused.value.message


def test_history_dates_at_the_edges_work(make_user, fund):
    user = make_user()
    fund(user, 100)
    assert len(selectors.history(user, since=selectors.DATE_MIN, until=selectors.DATE_MAX)) == 1
