"""The sandbox provider: a payment provider that runs inside the product, for development and tests.

It behaves like a real one and keeps its own books (``SandboxTrade``), separate from ours:

1. ``create_checkout(topup)`` registers the order with the sandbox (amount, currency) and returns the
   URL of its checkout page (``settings.PAYMENT_SANDBOX_CHECKOUT_URL``, default
   ``/payments/sandbox/checkout/{order_no}``; the page is a web view that shows
   ``checkout_details(order_no)`` and two buttons, to the logged-in user who started the top-up only:
   ``check_payer(order_no, user)``).
2. The payer approves (``sandbox_approve``) or declines (``sandbox_decline``). Either queues an
   asynchronous notification, signed with HMAC-SHA256 under a secret derived from SECRET_KEY, sent
   after the commit by a huey job (``tasks.deliver_sandbox_notification``, which also does the sending:
   the sandbox knows nothing of our services) to our notify handler, and
   re-sent (up to ``PAYMENT_SANDBOX_RETRIES`` times) until it answers ``success`` — like Alipay.
   ``settings.PAYMENT_SANDBOX_DELIVERY``: ``"call"`` (default) calls the handler in-process,
   ``"http"`` POSTs the form to ``PAYMENT_NOTIFY_URL`` as a real provider would.
3. Payouts: succeed, unless the payout account identifier contains "fail" (then they fail).
4. ``statement(...)`` is made from its own records; ``write_statement`` writes it as CSV.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tastemaker.core.errors import Conflict, NotFound
from tastemaker.core.money import format_amount, parse_amount, to_decimal_string

from ..models import SandboxTrade, TopUp
from .base import (
    InvalidNotification,
    PaymentResult,
    PayoutResult,
    Provider,
    StatementItem,
    notify_url,
    return_url,
)

if TYPE_CHECKING:
    from tastemaker.accounts.models import User

    from ..models import PayoutAccount, TopUp, Withdrawal

NAME = "sandbox"
STATEMENT_FIELDS = ["kind", "order_no", "trade_no", "amount", "currency", "status", "occurred_at"]
_STATUS = {"TRADE_SUCCESS": "paid", "TRADE_CLOSED": "closed", "WAIT_BUYER_PAY": "pending"}


def secret() -> bytes:
    """The notification signing key: settings.PAYMENT_SANDBOX_SECRET, or derived from SECRET_KEY."""
    given = getattr(settings, "PAYMENT_SANDBOX_SECRET", "")
    if given:
        return given.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"tastemaker.payments.sandbox.notify", hashlib.sha256).digest()


def app_id() -> str:
    return settings.PAYMENT_SANDBOX_APP_ID


def _canonical(params: dict[str, str]) -> bytes:
    text = "&".join(f"{k}={params[k]}" for k in sorted(params) if k not in ("sign", "sign_type"))
    return text.encode("utf-8", "surrogatepass")  # any str signs (a forged one then fails to verify)


SIGN_LENGTH = 64  # HMAC-SHA256 as lowercase hex


def sign(params: dict[str, str], key: bytes | None = None) -> str:
    return hmac.new(key or secret(), _canonical(params), hashlib.sha256).hexdigest()


class SandboxProvider(Provider):
    name = NAME
    label = "Sandbox"
    currencies = None

    def create_checkout(self, topup: TopUp) -> str:
        try:
            with transaction.atomic():
                SandboxTrade.objects.create(kind=SandboxTrade.Kind.PAYMENT, order_no=topup.order_no,
                                            trade_no=_trade_no(), amount=topup.amount, currency=topup.currency,
                                            status="pending", counterparty=str(topup.user_id))
        except IntegrityError:
            pass  # registered already: the same order asked twice
        return settings.PAYMENT_SANDBOX_CHECKOUT_URL.format(order_no=topup.order_no)

    def parse_notification(self, params: dict[str, str]) -> PaymentResult:
        given = params.get("sign", "")
        # compare_digest refuses non-ASCII str (TypeError): anything but 64 ASCII characters is malformed
        if not isinstance(given, str) or len(given) != SIGN_LENGTH or not given.isascii():
            raise InvalidNotification("signature missing or malformed")
        if not hmac.compare_digest(given.encode("ascii"), sign(params).encode("ascii")):
            raise InvalidNotification("signature does not verify")
        if params.get("app_id") != app_id():
            raise InvalidNotification("app_id is not ours")
        currency = params.get("currency", "")
        try:
            amount = parse_amount(params.get("total_amount", ""), currency)
        except Exception as exc:
            raise InvalidNotification(f"total_amount unreadable: {exc}") from None
        order_no, trade_no = params.get("out_trade_no", ""), params.get("trade_no", "")
        if not order_no or not trade_no:
            raise InvalidNotification("out_trade_no or trade_no missing")
        return PaymentResult(order_no=order_no, trade_no=trade_no, amount=amount, currency=currency,
                             status=_STATUS.get(params.get("trade_status", ""), "pending"))

    def query_trade(self, order_no: str) -> PaymentResult | None:
        trade = SandboxTrade.objects.filter(kind=SandboxTrade.Kind.PAYMENT, order_no=order_no).first()
        if trade is None:
            return None
        status = {"succeeded": "paid", "failed": "closed"}.get(trade.status, "pending")
        return PaymentResult(order_no=trade.order_no, trade_no=trade.trade_no, amount=trade.amount,
                             currency=trade.currency, status=status)

    def payout(self, withdrawal: Withdrawal, payout_account: PayoutAccount) -> PayoutResult:
        trade = SandboxTrade.objects.filter(order_no=withdrawal.order_no).first()  # idempotent by order_no
        if trade is None:
            failing = "fail" in payout_account.identifier.lower()
            try:
                with transaction.atomic():
                    trade = SandboxTrade.objects.create(
                        kind=SandboxTrade.Kind.PAYOUT, order_no=withdrawal.order_no, trade_no=_trade_no(),
                        amount=withdrawal.amount, currency=withdrawal.currency,
                        status="failed" if failing else "succeeded", counterparty=payout_account.identifier,
                        finished_at=timezone.now(),
                        reason="the payee account refused the transfer" if failing else "")
            except IntegrityError:
                trade = SandboxTrade.objects.get(order_no=withdrawal.order_no)
        return PayoutResult(status=trade.status, provider_ref=trade.trade_no, reason=trade.reason)

    def statement(self, date_from: date, date_to: date) -> list[StatementItem]:
        start, end = day_bounds(date_from, date_to)
        rows = SandboxTrade.objects.filter(status="succeeded", finished_at__gte=start, finished_at__lt=end)
        return [StatementItem(kind=t.kind, order_no=t.order_no, trade_no=t.trade_no, amount=t.amount,
                              currency=t.currency, status=t.status, occurred_at=t.finished_at)
                for t in rows.order_by("finished_at", "id")]


def day_bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """[start of date_from, start of the day after date_to) in the current time zone."""
    tz = timezone.get_current_timezone()
    return (datetime.combine(date_from, time.min, tzinfo=tz),
            datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz))


def _trade_no() -> str:
    return "SBX" + timezone.now().strftime("%Y%m%d") + secrets.token_hex(8)


# --- the sandbox's checkout page (the payer's side) -------------------------------------------

@dataclass(frozen=True)
class Checkout:
    order_no: str
    trade_no: str
    amount: int
    currency: str
    amount_display: str
    status: str  # pending | succeeded | failed
    merchant: str
    return_url: str


def check_payer(order_no: str, user: User) -> None:
    """Only the user who started the top-up sees and answers its checkout: ``NotFound`` for anyone else
    (anonymous included), as for an order the sandbox does not know."""
    if user is None or not user.is_authenticated or not TopUp.objects.filter(
            order_no=order_no, provider=NAME, user_id=user.pk).exists():
        raise NotFound(_("This checkout does not exist."))


def checkout_details(order_no: str) -> Checkout:
    """What the sandbox checkout page shows. ``NotFound`` for an order the sandbox does not know."""
    trade = SandboxTrade.objects.filter(kind=SandboxTrade.Kind.PAYMENT, order_no=order_no).first()
    if trade is None:
        raise NotFound(_("This checkout does not exist."))
    topup = TopUp.objects.filter(order_no=order_no).first()
    back = _on_this_site(return_url(topup) if topup else settings.SITE_URL + "/")
    return Checkout(order_no=trade.order_no, trade_no=trade.trade_no, amount=trade.amount, currency=trade.currency,
                    amount_display=format_amount(trade.amount, trade.currency), status=trade.status,
                    merchant=settings.SITE_NAME, return_url=back)


def _on_this_site(url: str) -> str:
    """The checkout page is ours, so a way back to our own site is a path: the browser stays on the address
    the payer is using (another port, a LAN address, a proxy) whatever ``SITE_URL`` says. Anything else as
    configured."""
    parts = urlsplit(url)
    site = urlsplit(settings.SITE_URL)
    if (parts.scheme, parts.netloc) != (site.scheme, site.netloc):
        return url
    return urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))


def sandbox_approve(order_no: str) -> Checkout:
    """The payer approves: the sandbox records the payment and notifies the merchant (us), after commit.
    Approving an approved checkout again only re-sends the notification. Returns the checkout, whose
    ``return_url`` is where the page sends the browser back to."""
    return _finish(order_no, "succeeded")


def sandbox_decline(order_no: str) -> Checkout:
    """The payer declines: the trade is closed and the merchant told so (no money moves)."""
    return _finish(order_no, "failed")


def _finish(order_no: str, status: str) -> Checkout:
    with transaction.atomic():
        changed = SandboxTrade.objects.filter(kind=SandboxTrade.Kind.PAYMENT, order_no=order_no,
                                              status="pending").update(status=status, finished_at=timezone.now())
        trade = SandboxTrade.objects.filter(kind=SandboxTrade.Kind.PAYMENT, order_no=order_no).first()
        if trade is None:
            raise NotFound(_("This checkout does not exist."))
        if not changed and trade.status != status:
            raise Conflict(_("This checkout is already finished."))
        transaction.on_commit(lambda: enqueue_notification(order_no))
    return checkout_details(order_no)


def notification_for(order_no: str) -> dict[str, str]:
    """The signed notification the sandbox sends for an order, from its own records."""
    trade = SandboxTrade.objects.get(kind=SandboxTrade.Kind.PAYMENT, order_no=order_no)
    params = {
        "app_id": app_id(),
        "notify_id": secrets.token_hex(12),
        "notify_time": timezone.now().strftime("%Y-%m-%d %H:%M:%S"),
        "out_trade_no": trade.order_no,
        "trade_no": trade.trade_no,
        "total_amount": to_decimal_string(trade.amount, trade.currency),
        "currency": trade.currency,
        "trade_status": {"succeeded": "TRADE_SUCCESS", "failed": "TRADE_CLOSED"}.get(trade.status, "WAIT_BUYER_PAY"),
        "sign_type": "HMAC-SHA256",
    }
    params["sign"] = sign(params)
    return params


def enqueue_notification(order_no: str) -> None:
    """Queue the notification's delivery (run after commit). The one import upwards in payments, and
    written in .importlinter: the huey job lives in ``tasks`` with its body, which calls ``services``
    (our notify handler), and a job is enqueued through its task object."""
    from ..tasks import deliver_sandbox_notification

    deliver_sandbox_notification(order_no)


def post_notification(params: dict[str, str]) -> str:
    """POST a notification to our notify URL, as a real provider does; returns the reply ("success" or
    not). ``PAYMENT_SANDBOX_DELIVERY = "call"`` skips HTTP: the job calls the handler in-process."""
    import requests

    try:
        response = requests.post(notify_url(NAME), data=params, timeout=10)
    except requests.RequestException:
        return "failure"
    return response.text.strip()[:16]


# --- statements -----------------------------------------------------------------------------

def statement_csv(items: list[StatementItem]) -> str:
    """A statement as CSV (the format ``reconcile --statement`` reads): amounts as decimal strings."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(STATEMENT_FIELDS)
    for item in items:
        writer.writerow([item.kind, item.order_no, item.trade_no, to_decimal_string(item.amount, item.currency),
                         item.currency, item.status, item.occurred_at.isoformat() if item.occurred_at else ""])
    return buf.getvalue()


def write_statement(path: str | Path, date_from: date, date_to: date) -> int:
    """Write the sandbox's statement for the dates to ``path``; returns the number of lines."""
    items = SandboxProvider().statement(date_from, date_to)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(statement_csv(items))
    return len(items)
