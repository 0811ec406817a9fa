"""Top-ups through the sandbox and the Alipay adapter: credited exactly once, forged notifications refused."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from tastemaker.core.errors import Conflict, NotFound, ValidationFailed
from tastemaker.payments import selectors, services
from tastemaker.payments.models import ProviderNotification, TopUp, Transaction
from tastemaker.payments.providers import sandbox

pytestmark = pytest.mark.django_db


def wallet(user) -> int:
    return selectors.balance(user).available


def topup_credits(topup) -> int:
    return Transaction.objects.filter(reference=f"topup:{topup.pk}").count()


# --- sandbox ----------------------------------------------------------------------------------

def test_sandbox_checkout_approve_notifies_and_credits_once(make_user, run_jobs, invariants):
    fan = make_user()
    topup, url = services.do_start_topup(fan, 5_000, "CNY", "sandbox")
    assert url == f"/payments/sandbox/checkout/{topup.order_no}"
    page = sandbox.checkout_details(topup.order_no)
    assert (page.amount, page.currency, page.status) == (5_000, "CNY", "pending")
    assert page.amount_display == "¥50.00" and topup.order_no in page.return_url
    assert wallet(fan) == 0
    with run_jobs():  # the notification goes out after the commit, through the huey job
        sandbox.sandbox_approve(topup.order_no)
    topup.refresh_from_db()
    assert topup.status == "succeeded" and topup.provider_trade_no.startswith("SBX") and wallet(fan) == 5_000
    # the provider retries (or an attacker replays) the same notification: no second credit
    for _ in range(8):
        assert services.do_handle_notification("sandbox", sandbox.notification_for(topup.order_no)) == "success"
    assert wallet(fan) == 5_000 and topup_credits(topup) == 1
    outcomes = list(ProviderNotification.objects.filter(order_no=topup.order_no).values_list("outcome", flat=True))
    assert outcomes.count("credited") == 1 and outcomes.count("duplicate") == 8
    with pytest.raises(Conflict):
        sandbox.sandbox_decline(topup.order_no)
    invariants()


def test_sandbox_decline_credits_nothing(make_user, run_jobs):
    fan = make_user()
    topup, _url = services.do_start_topup(fan, 800, "CNY", "sandbox")
    with run_jobs():
        sandbox.sandbox_decline(topup.order_no)
    topup.refresh_from_db()
    assert topup.status == "failed" and wallet(fan) == 0
    assert ProviderNotification.objects.get(order_no=topup.order_no).reply == "failure"
    with pytest.raises(NotFound):
        sandbox.sandbox_approve("T-nonexistent")


def _signed(params, key=None):
    params = {k: v for k, v in params.items() if k != "sign"}
    params["sign"] = sandbox.sign(params, key)
    return params


@pytest.mark.parametrize("forgery", ["wrong_key", "altered_amount", "altered_amount_resigned", "wrong_app_id",
                                     "unknown_order", "closed", "waiting", "no_signature", "other_currency",
                                     "non_ascii_signature", "short_signature", "upper_case_signature"])
def test_sandbox_forged_or_unpaid_notifications_credit_nothing(make_user, forgery):
    fan = make_user()
    topup, _url = services.do_start_topup(fan, 1_000, "CNY", "sandbox")
    sandbox.sandbox_approve(topup.order_no)  # the sandbox's record says paid; no notification sent (no commit)
    good = sandbox.notification_for(topup.order_no)
    bad = {
        "wrong_key": lambda p: _signed(p, b"not-the-sandbox-secret"),
        "altered_amount": lambda p: {**p, "total_amount": "1000.00"},
        "altered_amount_resigned": lambda p: _signed({**p, "total_amount": "0.01"}),
        "wrong_app_id": lambda p: _signed({**p, "app_id": "someone-else"}),
        "unknown_order": lambda p: _signed({**p, "out_trade_no": "T1"}),
        "closed": lambda p: _signed({**p, "trade_status": "TRADE_CLOSED"}),
        "waiting": lambda p: _signed({**p, "trade_status": "WAIT_BUYER_PAY"}),
        "no_signature": lambda p: {k: v for k, v in p.items() if k != "sign"},
        "other_currency": lambda p: _signed({**p, "currency": "USD"}),
        "non_ascii_signature": lambda p: {**p, "sign": "签" * 64},  # compare_digest raised TypeError on these
        "short_signature": lambda p: {**p, "sign": p["sign"][:63]},
        "upper_case_signature": lambda p: {**p, "sign": p["sign"].upper()},
    }[forgery](good)
    for _ in range(3):
        assert services.do_handle_notification("sandbox", bad) != "success"
    assert wallet(fan) == 0 and topup_credits(topup) == 0
    assert TopUp.objects.get(pk=topup.pk).status in ("pending", "failed")
    assert not ProviderNotification.objects.filter(outcome__in=["credited", "duplicate"]).exists()
    # the genuine one still works afterwards
    assert services.do_handle_notification("sandbox", good) == "success" and wallet(fan) == 1_000


def test_topup_limits_and_unknown_provider(make_user, settings):
    fan = make_user()
    with pytest.raises(ValidationFailed):
        services.do_start_topup(fan, settings.TOPUP_MIN - 1, "CNY", "sandbox")
    with pytest.raises(ValidationFailed):
        services.do_start_topup(fan, settings.TOPUP_MAX + 1, "CNY", "sandbox")
    with pytest.raises(NotFound):
        services.do_start_topup(fan, 1_000, "CNY", "paypal")
    with pytest.raises(NotFound):  # alipay is not enabled by default
        services.do_start_topup(fan, 1_000, "CNY", "alipay")
    assert services.do_handle_notification("paypal", {"out_trade_no": "x"}) == "failure"


def test_lost_notification_is_recovered_by_query(make_user):
    fan = make_user()
    topup, _url = services.do_start_topup(fan, 2_000, "CNY", "sandbox")
    assert services.do_query_topup(topup).status == "pending"  # not paid yet
    sandbox.sandbox_approve(topup.order_no)  # paid, but its notification never arrives (no commit here)
    assert services.do_query_topup(topup).status == "succeeded" and wallet(fan) == 2_000
    assert services.do_query_topup(topup).status == "succeeded" and topup_credits(topup) == 1


# --- alipay -----------------------------------------------------------------------------------

APP_ID, SELLER_ID = "2021000000000001", "2088000000000001"


def rsa2_sign(private_pem: str, message: str) -> str:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return base64.b64encode(key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa2_verify(public_pem: str, message: str, signature: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    key = serialization.load_pem_public_key(public_pem.encode())
    try:
        key.verify(base64.b64decode(signature), message.encode(), padding.PKCS1v15(), hashes.SHA256())
        return True
    except InvalidSignature:
        return False


def alipay_sign(params: dict, private_pem: str) -> dict:
    """Sign a notification the way Alipay does: sorted k=v pairs without sign and sign_type, RSA2."""
    unsigned = {k: v for k, v in params.items() if k not in ("sign", "sign_type")}
    message = "&".join(f"{k}={unsigned[k]}" for k in sorted(unsigned))
    return {**unsigned, "sign_type": "RSA2", "sign": rsa2_sign(private_pem, message)}


@pytest.fixture
def alipay(settings, tmp_path, alipay_keys, monkeypatch):
    (tmp_path / "app.pem").write_text(alipay_keys["app"][0])
    (tmp_path / "alipay_pub.pem").write_text(alipay_keys["alipay"][1])
    settings.PAYMENT_PROVIDERS = ["alipay"]  # never together with the sandbox (check payments.E003)
    settings.ALIPAY_APP_ID, settings.ALIPAY_SELLER_ID = APP_ID, SELLER_ID
    settings.ALIPAY_PRIVATE_KEY_FILE = str(tmp_path / "app.pem")
    settings.ALIPAY_PUBLIC_KEY_FILE = str(tmp_path / "alipay_pub.pem")
    from tastemaker.payments.providers.alipay import AlipayProvider

    calls = []

    def no_network(url):
        calls.append(url)
        raise AssertionError("unexpected call to Alipay")

    monkeypatch.setattr(AlipayProvider, "transport", staticmethod(no_network))
    return alipay_keys


def alipay_notification(topup, keys, **changes) -> dict:
    params = {"notify_time": "2025-01-01 12:00:00", "notify_type": "trade_status_sync",
              "notify_id": "ac05099524730693a8b330c5ecf72da9786", "app_id": APP_ID, "charset": "utf-8", "version": "1.0", "trade_no": "2025010122001400000000000001",
              "out_trade_no": topup.order_no, "seller_id": SELLER_ID, "buyer_id": "2088102122524333",
              "trade_status": "TRADE_SUCCESS", "total_amount": "123.45", "receipt_amount": "123.45",
              "subject": "top-up", "gmt_create": "2025-01-01 11:59:00", "gmt_payment": "2025-01-01 11:59:30"}
    signer = changes.pop("_key", keys["alipay"][0])
    params.update(changes)
    return alipay_sign(params, signer)


def test_alipay_checkout_url_is_a_signed_page_pay(make_user, alipay):
    fan = make_user()
    topup, url = services.do_start_topup(fan, 12_345, "CNY", "alipay")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://openapi.alipay.com/gateway.do"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["method"] == "alipay.trade.page.pay" and query["app_id"] == APP_ID and query["sign_type"] == "RSA2"
    biz = json.loads(query["biz_content"])
    assert biz["out_trade_no"] == topup.order_no and biz["total_amount"] == "123.45"
    assert biz["product_code"] == "FAST_INSTANT_TRADE_PAY"
    assert query["notify_url"].endswith("/payments/notify/alipay") and topup.order_no in query["return_url"]
    signature = query.pop("sign")
    message = "&".join(f"{k}={query[k]}" for k in sorted(query))
    assert rsa2_verify(alipay["app"][1], message, signature)  # signed with our app key
    with pytest.raises(ValidationFailed):  # Alipay takes CNY only
        services.do_start_topup(fan, 100, "USD", "alipay")


@pytest.mark.parametrize("status", ["TRADE_SUCCESS", "TRADE_FINISHED"])
def test_alipay_valid_notification_credits_once_across_retries(make_user, alipay, status, invariants):
    fan = make_user()
    topup, _url = services.do_start_topup(fan, 12_345, "CNY", "alipay")
    note = alipay_notification(topup, alipay, trade_status=status)
    replies = [services.do_handle_notification("alipay", dict(note)) for _ in range(8)]
    assert replies == ["success"] * 8
    topup.refresh_from_db()
    assert topup.status == "succeeded" and topup.provider_trade_no == note["trade_no"]
    assert wallet(fan) == 12_345 and topup_credits(topup) == 1
    invariants()


@pytest.mark.parametrize("forgery", [
    "stranger_key", "app_key", "altered_amount", "amount_resigned", "wrong_app_id", "wrong_seller_id",
    "unknown_order", "closed", "waiting", "bad_base64", "missing_sign", "rsa1", "float_amount", "non_ascii_sign",
    "long_sign"])
def test_alipay_forged_or_unpaid_notifications_credit_nothing(make_user, alipay, forgery):
    fan = make_user()
    topup, _url = services.do_start_topup(fan, 12_345, "CNY", "alipay")
    good = alipay_notification(topup, alipay)
    bad = {
        "stranger_key": lambda: alipay_notification(topup, alipay, _key=alipay["stranger"][0]),
        "app_key": lambda: alipay_notification(topup, alipay, _key=alipay["app"][0]),  # our own key is not Alipay's
        "altered_amount": lambda: {**good, "total_amount": "12345.00"},
        "amount_resigned": lambda: alipay_notification(topup, alipay, total_amount="1.00"),
        "wrong_app_id": lambda: alipay_notification(topup, alipay, app_id="2021000000000999"),
        "wrong_seller_id": lambda: alipay_notification(topup, alipay, seller_id="2088000000000999"),
        "unknown_order": lambda: alipay_notification(topup, alipay, out_trade_no="T42"),
        "closed": lambda: alipay_notification(topup, alipay, trade_status="TRADE_CLOSED"),
        "waiting": lambda: alipay_notification(topup, alipay, trade_status="WAIT_BUYER_PAY"),
        "bad_base64": lambda: {**good, "sign": "!!!not base64!!!"},
        # the SDK's base64 decoding would skip the extra characters and verify: malformed is refused first
        "non_ascii_sign": lambda: {**good, "sign": good["sign"][:8] + "签名" + good["sign"][8:]},
        "long_sign": lambda: {**good, "sign": good["sign"] + "\n" * 2000},
        "missing_sign": lambda: {k: v for k, v in good.items() if k != "sign"},
        "rsa1": lambda: {**good, "sign_type": "RSA"},
        "float_amount": lambda: alipay_notification(topup, alipay, total_amount="123.450000001"),
    }[forgery]()
    for _ in range(3):
        assert services.do_handle_notification("alipay", dict(bad)) != "success"
    assert wallet(fan) == 0 and topup_credits(topup) == 0
    assert services.do_handle_notification("alipay", dict(good)) == "success" and wallet(fan) == 12_345


def signed_sync_answer(response_type: str, body: dict, private_pem: str) -> bytes:
    content = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    signature = rsa2_sign(private_pem, content)
    return ("{" + f'"{response_type}":{content},"sign":"{signature}"' + "}").encode()


def test_alipay_trade_query_recovers_a_lost_notification(make_user, alipay, monkeypatch):
    from tastemaker.payments.providers import ProviderUnavailable
    from tastemaker.payments.providers.alipay import AlipayProvider

    fan = make_user()
    topup, _url = services.do_start_topup(fan, 12_345, "CNY", "alipay")
    answer = {"code": "10000", "msg": "Success", "out_trade_no": topup.order_no,
              "trade_no": "2025010122001400000000000009", "trade_status": "TRADE_SUCCESS", "total_amount": "123.45"}
    asked = []

    def forged(url):
        asked.append(url)
        return signed_sync_answer("alipay_trade_query_response", answer, alipay["stranger"][0])

    monkeypatch.setattr(AlipayProvider, "transport", staticmethod(forged))
    with pytest.raises(ProviderUnavailable):
        services.do_query_topup(topup)
    assert wallet(fan) == 0 and "method=alipay.trade.query" in asked[0]

    def genuine(url):
        return signed_sync_answer("alipay_trade_query_response", answer, alipay["alipay"][0])

    monkeypatch.setattr(AlipayProvider, "transport", staticmethod(genuine))
    assert services.do_query_topup(topup).status == "succeeded" and wallet(fan) == 12_345
    assert services.do_handle_notification("alipay", alipay_notification(topup, alipay)) == "success"
    assert topup_credits(topup) == 1 and wallet(fan) == 12_345

    other, _url = services.do_start_topup(fan, 100, "CNY", "alipay")
    not_there = {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST"}
    monkeypatch.setattr(AlipayProvider, "transport", staticmethod(
        lambda url: signed_sync_answer("alipay_trade_query_response", not_there, alipay["alipay"][0])))
    assert services.do_query_topup(other).status == "pending"


def test_alipay_bill_is_parsed_exactly():
    from tastemaker.payments.providers.alipay import parse_bill

    bill = ("#支付宝业务明细查询\n#账号：[20880000000000010156]\n"
            "#起始日期：[2025年01月01日 00:00:00]   终止日期：[2025年01月02日 00:00:00]\n"
            "#-----------------------------------------业务明细列表----------------------------------------\n"
            "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,"
            "订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,"
            "券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注\n"
            "2025010122001400000000000001\t,T100\t,交易\t,top-up\t,2025-01-01 11:59:00,2025-01-01 11:59:30,,,,,"
            "buyer@example.org\t,123.45,123.45,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,-0.74,0.00,\n"
            "2025010122001400000000000002\t,T100\t,退款\t,top-up\t,2025-01-01 12:59:00,2025-01-01 12:59:30,,,,,"
            "buyer@example.org\t,-10.00,-10.00,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,R1,0.06,0.00,\n"
            "#-----------------------------------------业务明细列表结束------------------------------------\n"
            "#交易合计：1笔，商家实收共123.45元\n").encode("gbk")
    items = parse_bill(bill)
    assert len(items) == 1
    assert (items[0].order_no, items[0].trade_no, items[0].amount, items[0].status) == (
        "T100", "2025010122001400000000000001", 12_345, "succeeded")
