"""Alipay (支付宝) adapter on the PyPI package ``python-alipay-sdk`` (public-key mode, RSA2).

Configuration (all required to enable it; add "alipay" to ``TASTEMAKER_PAYMENT_PROVIDERS``):
``TASTEMAKER_ALIPAY_APP_ID``, ``TASTEMAKER_ALIPAY_SELLER_ID`` (the merchant PID, 2088…),
``TASTEMAKER_ALIPAY_PRIVATE_KEY_FILE`` (our application private key, PEM),
``TASTEMAKER_ALIPAY_PUBLIC_KEY_FILE`` (Alipay's public key, PEM), ``TASTEMAKER_ALIPAY_SANDBOX=1`` for
Alipay's own sandbox gateway. Notifications go to ``PAYMENT_NOTIFY_URL`` (must be public HTTPS).

* Checkout: ``alipay.trade.page.pay`` — a signed gateway URL the browser is redirected to.
* Notification: the form Alipay POSTs. Verified with Alipay's public key (RSA2 over the sorted
  parameters without ``sign`` and ``sign_type``), then ``app_id`` and ``seller_id`` must be ours;
  ``total_amount`` is parsed exactly (``core.money.parse_amount``, never float). TRADE_SUCCESS and
  TRADE_FINISHED mean paid; TRADE_CLOSED closed; anything else pending.
* Query: ``alipay.trade.query`` for a notification that never came (signed synchronous answer).
* Payout: ``alipay.fund.trans.toaccount.transfer`` to a login id (idempotent by ``out_biz_no``).
* Statement: ``alipay.data.dataservice.bill.downloadurl.query`` (bill type ``trade``), a zip of GBK
  CSV files; ``parse_bill`` reads the detail file.

HTTP goes through ``AlipayProvider.transport`` (``url -> bytes``), so tests can answer for Alipay
without a network.
"""

from __future__ import annotations

import binascii
import csv
import io
import json
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from tastemaker.core.errors import ValidationFailed
from tastemaker.core.money import parse_amount, to_decimal_string

from .base import (
    InvalidNotification,
    PaymentResult,
    PayoutResult,
    Provider,
    ProviderUnavailable,
    StatementItem,
    notify_url,
    return_url,
)

if TYPE_CHECKING:
    from ..models import PayoutAccount, TopUp, Withdrawal

NAME = "alipay"
MAX_SIGN_LENGTH = 1024
PAID = {"TRADE_SUCCESS", "TRADE_FINISHED"}
_STATUS = {"TRADE_SUCCESS": "paid", "TRADE_FINISHED": "paid", "TRADE_CLOSED": "closed", "WAIT_BUYER_PAY": "pending"}


def configured() -> bool:
    return all([settings.ALIPAY_APP_ID, settings.ALIPAY_SELLER_ID, settings.ALIPAY_PRIVATE_KEY_FILE,
                settings.ALIPAY_PUBLIC_KEY_FILE])


def http_get(url: str) -> bytes:
    import requests

    try:
        response = requests.get(url, timeout=settings.ALIPAY_TIMEOUT)
        response.raise_for_status()
    except requests.RequestException as exc:
        raise ProviderUnavailable(f"alipay: {exc.__class__.__name__}") from None
    return response.content


def _client_class() -> type[Any]:
    from alipay import AliPay

    class Client(AliPay):
        """The SDK's client with its HTTP call routed through ``AlipayProvider.transport``."""

        def verified_sync_response(self, data: dict[str, Any], response_type: str) -> Any:
            url = self._gateway + "?" + self.sign_data(data)
            raw = AlipayProvider.transport(url).decode("utf-8")
            return self._verify_and_return_sync_response(raw, response_type)

    return Client


_clients: dict[tuple[object, ...], Any] = {}


def _client() -> Any:
    """The SDK client, kept while the configuration and key files are unchanged (parsing RSA keys is slow)."""
    private, public = Path(settings.ALIPAY_PRIVATE_KEY_FILE), Path(settings.ALIPAY_PUBLIC_KEY_FILE)
    key = (settings.ALIPAY_APP_ID, notify_url(NAME), settings.ALIPAY_SANDBOX, str(private), private.stat().st_mtime_ns,
           str(public), public.stat().st_mtime_ns)
    client = _clients.get(key)
    if client is None:
        client = _client_class()(
            appid=settings.ALIPAY_APP_ID,
            app_notify_url=notify_url(NAME),
            app_private_key_string=private.read_text(),
            alipay_public_key_string=public.read_text(),
            sign_type="RSA2",
            debug=settings.ALIPAY_SANDBOX,
        )
        _clients.clear()
        _clients[key] = client
    return client


class AlipayProvider(Provider):
    name = NAME
    label = "Alipay"
    currencies = ("CNY",)
    transport: ClassVar = staticmethod(http_get)

    def __init__(self) -> None:
        if not configured():
            raise ValidationFailed(_("Alipay is not configured."))
        self.app_id = settings.ALIPAY_APP_ID
        self.seller_id = settings.ALIPAY_SELLER_ID
        self.client = _client()

    # --- checkout and notifications ---------------------------------------------------------

    def create_checkout(self, topup: TopUp) -> str:
        query = self.client.api_alipay_trade_page_pay(
            subject=f"{settings.SITE_NAME} wallet top-up {topup.order_no}",
            out_trade_no=topup.order_no,
            total_amount=to_decimal_string(topup.amount, topup.currency),
            return_url=return_url(topup),
            notify_url=notify_url(NAME),
        )
        return f"{self.client._gateway}?{query}"

    def verify_signature(self, params: dict[str, str]) -> bool:
        from alipay.exceptions import AliPayException

        data = dict(params)
        signature = data.pop("sign", "")
        # base64 of an RSA signature: ASCII and short (a 4096-bit key's is 684 characters); the SDK would
        # silently drop non-base64 characters, so anything else is refused before it
        if not isinstance(signature, str) or not signature or len(signature) > MAX_SIGN_LENGTH \
                or not signature.isascii():
            return False
        if data.get("sign_type", "RSA2") != "RSA2":
            return False
        try:
            return bool(self.client.verify(data, signature))
        except (ValueError, TypeError, binascii.Error, AliPayException):  # malformed base64, odd sign_type
            return False

    def parse_notification(self, params: dict[str, str]) -> PaymentResult:
        if not self.verify_signature(params):
            raise InvalidNotification("RSA2 signature does not verify")
        if params.get("app_id") != self.app_id:
            raise InvalidNotification("app_id is not ours")
        if params.get("seller_id") != self.seller_id:
            raise InvalidNotification("seller_id is not ours")
        order_no, trade_no = params.get("out_trade_no", ""), params.get("trade_no", "")
        if not order_no or not trade_no:
            raise InvalidNotification("out_trade_no or trade_no missing")
        try:
            amount = parse_amount(params.get("total_amount", ""), "CNY")
        except ValidationFailed as exc:
            raise InvalidNotification(f"total_amount unreadable: {exc.message}") from None
        return PaymentResult(order_no=order_no, trade_no=trade_no, amount=amount, currency="CNY",
                             status=_STATUS.get(params.get("trade_status", ""), "pending"))

    def query_trade(self, order_no: str) -> PaymentResult | None:
        from alipay.exceptions import AliPayException, AliPayValidationError

        try:
            response = self.client.api_alipay_trade_query(out_trade_no=order_no)
        except AliPayValidationError:
            raise ProviderUnavailable("alipay: the query answer's signature does not verify") from None
        except AliPayException as exc:
            if "TRADE_NOT_EXIST" in str(exc):
                return None
            raise ProviderUnavailable(f"alipay: {exc}") from None
        except (ValueError, KeyError) as exc:
            raise ProviderUnavailable(f"alipay: unreadable answer ({exc})") from None
        if response.get("code") != "10000":
            if response.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
                return None
            raise ProviderUnavailable(f"alipay: {response.get('code')} {response.get('sub_code', '')}")
        if response.get("out_trade_no") != order_no:
            raise ProviderUnavailable("alipay: the answer is about another order")
        try:
            amount = parse_amount(response.get("total_amount", ""), "CNY")
        except ValidationFailed:
            raise ProviderUnavailable("alipay: unreadable total_amount") from None
        return PaymentResult(order_no=order_no, trade_no=response.get("trade_no", ""), amount=amount,
                             currency="CNY", status=_STATUS.get(response.get("trade_status", ""), "pending"))

    # --- payouts ----------------------------------------------------------------------------

    def check_payout_identifier(self, identifier: str) -> str:
        identifier = identifier.strip()
        if not (3 <= len(identifier) <= 100) or any(c.isspace() for c in identifier):
            raise ValidationFailed(_("An Alipay account is an e-mail address or a mobile number."),
                                   field="identifier")
        return identifier

    def payout(self, withdrawal: Withdrawal, payout_account: PayoutAccount) -> PayoutResult:
        from alipay.exceptions import AliPayException, AliPayValidationError

        try:
            response = self.client.api_alipay_fund_trans_toaccount_transfer(
                out_biz_no=withdrawal.order_no, payee_type="ALIPAY_LOGONID",
                payee_account=payout_account.identifier,
                amount=to_decimal_string(withdrawal.amount, withdrawal.currency),
                payee_real_name=payout_account.holder_name, remark=f"{settings.SITE_NAME} withdrawal")
        except AliPayValidationError:
            return PayoutResult(status="pending", reason="answer signature does not verify")
        except AliPayException as exc:
            return _payout_outcome(str(exc.code or ""), "", str(exc))
        except (ValueError, KeyError, ProviderUnavailable) as exc:
            return PayoutResult(status="pending", reason=str(exc)[:200])
        return _payout_outcome(str(response.get("code", "")), str(response.get("sub_code", "")),
                               json.dumps(response, ensure_ascii=False), response.get("order_id", ""))

    # --- statements -------------------------------------------------------------------------

    def statement(self, date_from: date, date_to: date) -> list[StatementItem]:
        from alipay.exceptions import AliPayException

        items: list[StatementItem] = []
        day = date_from
        while day <= date_to:
            try:
                response = self.client.server_api("alipay.data.dataservice.bill.downloadurl.query",
                                                  {"bill_type": "trade", "bill_date": day.isoformat()})
            except AliPayException as exc:
                raise ProviderUnavailable(f"alipay bill {day}: {exc}") from None
            url = response.get("bill_download_url")
            if not url:
                raise ProviderUnavailable(f"alipay bill {day}: no download URL")
            items.extend(parse_bill_archive(AlipayProvider.transport(url)))
            day += timedelta(days=1)
        return items


def _payout_outcome(code: str, sub_code: str, message: str, order_id: str = "") -> PayoutResult:
    """10000 is paid. A system error (20000, SYSTEM_ERROR) leaves the outcome unknown: ask again later
    with the same out_biz_no (the transfer is idempotent by it). Anything else is a final refusal."""
    if code == "10000":
        return PayoutResult(status="succeeded", provider_ref=order_id)
    if code == "20000" or sub_code in {"SYSTEM_ERROR", "isp.unknow-error", "aop.unknow-error"}:
        return PayoutResult(status="pending", reason=message[:200])
    return PayoutResult(status="failed", reason=message[:200])


# --- the downloadable bill --------------------------------------------------------------------

ORDER_COL, TRADE_COL, TYPE_COL = "商户订单号", "支付宝交易号", "业务类型"
AMOUNT_COLS = ("订单金额（元）", "订单金额(元)")
FINISHED_COL = "完成时间"


def parse_bill_archive(blob: bytes) -> list[StatementItem]:
    """The ``trade`` bill zip: read the detail file (业务明细, not the summary 汇总)."""
    items: list[StatementItem] = []
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        for name in archive.namelist():
            if name.endswith(".csv") and "汇总" not in name:
                items.extend(parse_bill(archive.read(name)))
    return items


def parse_bill(raw: bytes) -> list[StatementItem]:
    """Alipay's trade detail CSV (GBK; comment lines start with '#'; cells padded with tabs/spaces).
    Only ``交易`` rows (payments received) become statement items; refunds are not used here."""
    text = raw.decode("gbk", errors="replace") if not raw.startswith(b"\xef\xbb\xbf") else raw.decode("utf-8-sig")
    rows = [r for r in csv.reader(io.StringIO(text)) if r and not r[0].lstrip().startswith("#")]
    header_at = next((i for i, r in enumerate(rows) if any(c.strip() == ORDER_COL for c in r)), None)
    if header_at is None:
        return []
    header = [c.strip() for c in rows[header_at]]
    col = {name: i for i, name in enumerate(header)}
    amount_col = next((col[a] for a in AMOUNT_COLS if a in col), None)
    items = []
    for row in rows[header_at + 1:]:
        cells = [c.strip() for c in row]
        if len(cells) < len(header) or cells[col[TYPE_COL]] != "交易" or amount_col is None:
            continue
        try:
            amount = parse_amount(cells[amount_col], "CNY")
        except ValidationFailed:
            continue
        occurred = None
        if FINISHED_COL in col and cells[col[FINISHED_COL]]:
            try:
                occurred = datetime.strptime(cells[col[FINISHED_COL]], "%Y-%m-%d %H:%M:%S").replace(
                    tzinfo=timezone.get_current_timezone())
            except ValueError:
                occurred = None
        items.append(StatementItem(kind="payment", order_no=cells[col[ORDER_COL]], trade_no=cells[col[TRADE_COL]],
                                   amount=amount, currency="CNY", status="succeeded", occurred_at=occurred))
    return items
