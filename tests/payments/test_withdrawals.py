"""Withdrawals through the sandbox (success, failure returns the money) and the Alipay payout call."""

from __future__ import annotations

import pytest

from tastemaker.core.errors import Forbidden, NotFound, ValidationFailed
from tastemaker.payments import selectors, services
from tastemaker.payments.ledger import InsufficientFunds, provider_clearing
from tastemaker.payments.models import Hold, SandboxTrade, Transaction, Withdrawal

pytestmark = pytest.mark.django_db


def test_withdrawal_succeeds_through_the_sandbox(make_user, fund, bind_payout, run_jobs, invariants):
    creator = make_user()
    fund(creator, 10_000)
    account = bind_payout(creator, "sandbox", "creator@example.org", "Li Na")
    with run_jobs():
        withdrawal = services.do_request_withdrawal(creator, 6_000, "CNY")
        # held at once, before the payout job runs
        assert selectors.balance(creator) == selectors.Balance("CNY", available=4_000, held=6_000)
    withdrawal.refresh_from_db()
    assert withdrawal.status == "succeeded" and withdrawal.provider_ref.startswith("SBX")
    assert withdrawal.payout_account_id == account.pk and withdrawal.finished_at is not None
    assert selectors.balance(creator) == selectors.Balance("CNY", available=4_000, held=0)
    assert provider_clearing("sandbox", "CNY").balance == -10_000 + 6_000
    trade = SandboxTrade.objects.get(order_no=withdrawal.order_no)
    assert (trade.kind, trade.amount, trade.status, trade.counterparty) == ("payout", 6_000, "succeeded",
                                                                            "creator@example.org")
    assert Hold.objects.get(pk=withdrawal.hold_id).status == "captured"
    account.refresh_from_db()
    assert account.verified
    # running the job again changes nothing
    before = Transaction.objects.count()
    assert services.do_process_withdrawal(withdrawal.pk).status == "succeeded"
    assert Transaction.objects.count() == before
    assert [w.pk for w in selectors.withdrawals(creator)] == [withdrawal.pk]
    invariants()


def test_failed_payout_returns_the_money(make_user, fund, bind_payout, run_jobs, invariants):
    creator = make_user()
    fund(creator, 5_000)
    bind_payout(creator, "sandbox", "will-fail@example.org", "Li Na")
    with run_jobs():
        withdrawal = services.do_request_withdrawal(creator, 5_000, "CNY")
    withdrawal.refresh_from_db()
    assert withdrawal.status == "failed" and "refused" in withdrawal.failure_reason
    assert selectors.balance(creator) == selectors.Balance("CNY", available=5_000, held=0)
    assert Hold.objects.get(pk=withdrawal.hold_id).status == "released"
    assert provider_clearing("sandbox", "CNY").balance == -5_000
    assert services.do_process_withdrawal(withdrawal.pk).status == "failed"  # stays failed, no second release
    assert selectors.balance(creator).available == 5_000
    invariants()


def test_withdrawal_rules(make_user, fund, bind_payout, settings):
    creator, other = make_user(), make_user()
    fund(creator, 1_000)
    with pytest.raises(ValidationFailed):  # nothing bound yet
        services.do_request_withdrawal(creator, 500, "CNY")
    mine = bind_payout(creator, "sandbox", "me@example.org", "Me")
    theirs = bind_payout(other, "sandbox", "them@example.org", "Them")
    with pytest.raises(Forbidden):
        services.do_request_withdrawal(creator, 500, "CNY", payout_account=theirs)
    with pytest.raises(ValidationFailed):
        services.do_request_withdrawal(creator, settings.WITHDRAWAL_MIN - 1, "CNY")
    with pytest.raises(InsufficientFunds):
        services.do_request_withdrawal(creator, 1_001, "CNY")
    with pytest.raises(ValidationFailed):
        services.do_bind_payout_account(creator, "sandbox", "  ", "Me")
    with pytest.raises(NotFound):
        services.do_bind_payout_account(creator, "paypal", "me@example.org", "Me")
    assert services.do_bind_payout_account(creator, "sandbox", "me@example.org", "Me").pk == mine.pk
    services.do_unbind_payout_account(creator, mine)
    assert selectors.payout_accounts(creator) == []
    with pytest.raises(ValidationFailed):
        services.do_request_withdrawal(creator, 500, "CNY")
    assert not Withdrawal.objects.exists() and selectors.balance(creator).available == 1_000


def test_alipay_payout_outcomes(make_user, fund, bind_payout, settings, tmp_path, alipay_keys, monkeypatch,
                               invariants):
    """The transfer call is signed and its signed answer verified; business refusals fail (money back),
    system errors leave the withdrawal processing for the sweep to ask again."""
    import json
    from urllib.parse import parse_qs, urlsplit

    from tastemaker.payments.providers.alipay import AlipayProvider

    from .test_topups import APP_ID, SELLER_ID, signed_sync_answer

    (tmp_path / "app.pem").write_text(alipay_keys["app"][0])
    (tmp_path / "alipay_pub.pem").write_text(alipay_keys["alipay"][1])
    settings.PAYMENT_PROVIDERS = ["alipay"]  # never together with the sandbox (check payments.E003)
    settings.ALIPAY_APP_ID, settings.ALIPAY_SELLER_ID = APP_ID, SELLER_ID
    settings.ALIPAY_PRIVATE_KEY_FILE = str(tmp_path / "app.pem")
    settings.ALIPAY_PUBLIC_KEY_FILE = str(tmp_path / "alipay_pub.pem")
    answers = []

    def transport(url):
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert query["method"] == "alipay.fund.trans.toaccount.transfer"
        biz = json.loads(query["biz_content"])
        body = answers.pop(0)
        body.setdefault("out_biz_no", biz["out_biz_no"])
        return signed_sync_answer("alipay_fund_trans_toaccount_transfer_response", body, alipay_keys["alipay"][0])

    monkeypatch.setattr(AlipayProvider, "transport", staticmethod(transport))
    creator = make_user()
    fund(creator, 30_000)
    account = bind_payout(creator, "alipay", "13800000000", "李娜")

    answers.append({"code": "10000", "msg": "Success", "order_id": "20250101110070001502260000001"})
    ok = services.do_request_withdrawal(creator, 10_000, "CNY", payout_account=account)
    assert services.do_process_withdrawal(ok.pk).status == "succeeded"

    answers.append({"code": "20000", "msg": "Service Currently Unavailable", "sub_code": "isp.unknow-error"})
    unsure = services.do_request_withdrawal(creator, 10_000, "CNY", payout_account=account)
    assert services.do_process_withdrawal(unsure.pk).status == "processing"
    assert selectors.balance(creator) == selectors.Balance("CNY", available=10_000, held=10_000)
    answers.append({"code": "40004", "msg": "Business Failed", "sub_code": "PAYEE_USER_INFO_ERROR"})
    refused = services.do_process_withdrawal(unsure.pk)  # asked again (same out_biz_no): a final refusal
    assert refused.status == "failed" and "PAYEE_USER_INFO_ERROR" in refused.failure_reason
    assert selectors.balance(creator) == selectors.Balance("CNY", available=20_000, held=0)
    assert provider_clearing("alipay", "CNY").balance == 10_000
    invariants()
