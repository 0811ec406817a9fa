"""Payment providers, selected by ``settings.PAYMENT_PROVIDERS`` (default: the sandbox only).

``alipay`` is available when its app id, seller id and both key files are configured
(``TASTEMAKER_ALIPAY_*``); listing it without them is a configuration error reported at use.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from tastemaker.core.errors import NotFound, ValidationFailed

from .alipay import AlipayProvider
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
from .sandbox import SandboxProvider

__all__ = ["InvalidNotification", "PaymentResult", "PayoutResult", "Provider", "ProviderUnavailable",
           "StatementItem", "enabled_providers", "get_provider", "notify_url", "return_url"]


def _classes() -> dict[str, type[Provider]]:
    return {"sandbox": SandboxProvider, "alipay": AlipayProvider}


def enabled_providers() -> list[str]:
    """The providers this instance offers, in the configured order."""
    known = _classes()
    return [name for name in settings.PAYMENT_PROVIDERS if name in known]


def get_provider(name: str) -> Provider:
    """The provider by name; ``NotFound`` when it is not enabled here."""
    if name not in enabled_providers():
        raise NotFound(_("Unknown payment provider: %(name)s") % {"name": str(name)[:24]})
    provider = _classes()[name]()
    return provider


def check_provider_currency(provider: Provider, currency: str) -> None:
    if provider.currencies is not None and currency not in provider.currencies:
        raise ValidationFailed(
            _("%(provider)s accepts only %(currencies)s.")
            % {"provider": provider.label, "currencies": ", ".join(provider.currencies)}, field="currency")
