"""The payment provider interface. Two implementations: ``sandbox`` (in the product) and ``alipay``.

A provider never touches the ledger: it talks to the outside world and returns plain results; the
services in ``payments.services`` check them against our records and move the money.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings

if TYPE_CHECKING:
    from ..models import PayoutAccount, TopUp, Withdrawal


class InvalidNotification(Exception):
    """A notification that failed verification (signature, app id, seller id, malformed fields)."""


class ProviderUnavailable(Exception):
    """The provider could not be reached or answered with an error; try again later."""


@dataclass(frozen=True)
class PaymentResult:
    """What a provider says about one of our top-up orders (from a notification or a query)."""

    order_no: str
    trade_no: str
    amount: int  # minor units, parsed exactly from the provider's decimal string
    currency: str
    status: str  # "paid" | "closed" | "pending"

    @property
    def paid(self) -> bool:
        return self.status == "paid"


@dataclass(frozen=True)
class PayoutResult:
    status: str  # "succeeded" | "failed" | "pending" (ask again later)
    provider_ref: str = ""
    reason: str = ""


@dataclass(frozen=True)
class StatementItem:
    """One line of a provider statement, normalised: only money that actually moved."""

    kind: str  # "payment" (a top-up paid to us) | "payout" (a withdrawal paid by us)
    order_no: str
    trade_no: str
    amount: int
    currency: str
    status: str  # "succeeded" | "failed"
    occurred_at: datetime | None


class Provider:
    name: ClassVar[str]
    label: ClassVar[str]
    currencies: ClassVar[tuple[str, ...] | None] = None  # None: every accepted currency

    def create_checkout(self, topup: TopUp) -> str:
        """The URL to send the payer's browser to for this top-up."""
        raise NotImplementedError

    def parse_notification(self, params: dict[str, str]) -> PaymentResult:
        """Verify an asynchronous notification (signature, our app/seller ids) and parse it.
        Raises ``InvalidNotification``. Our own business checks (order, amount) are the caller's."""
        raise NotImplementedError

    def query_trade(self, order_no: str) -> PaymentResult | None:
        """Ask the provider about an order (for a notification that never came). None: unknown there."""
        raise NotImplementedError

    def payout(self, withdrawal: Withdrawal, payout_account: PayoutAccount) -> PayoutResult:
        """Pay a withdrawal out. Must be idempotent by ``withdrawal.order_no``."""
        raise NotImplementedError

    def statement(self, date_from: date, date_to: date) -> list[StatementItem]:
        """The provider's record of money moved in [date_from, date_to] (inclusive, local dates)."""
        raise NotImplementedError

    def check_payout_identifier(self, identifier: str) -> str:
        return identifier.strip()


def notify_url(provider: str) -> str:
    """Where the provider posts its asynchronous notifications (settings.PAYMENT_NOTIFY_URL)."""
    return settings.PAYMENT_NOTIFY_URL.format(provider=provider)


def return_url(topup: TopUp) -> str:
    """Where the payer's browser comes back to after the checkout (settings.PAYMENT_RETURN_URL)."""
    return settings.PAYMENT_RETURN_URL.format(order_no=topup.order_no, provider=topup.provider)
