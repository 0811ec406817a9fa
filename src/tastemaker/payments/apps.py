from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core import checks


class PaymentsConfig(AppConfig):
    name = "tastemaker.payments"
    label = "payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        checks.register(check_providers)
        checks.register(check_sandbox_in_production, checks.Tags.security, deploy=True)


def check_providers(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from django.conf import settings

    from .providers import alipay

    errors: list[checks.CheckMessage] = []
    known = {"sandbox", "alipay"}
    for name in settings.PAYMENT_PROVIDERS:
        if name not in known:
            errors.append(checks.Error(f"TASTEMAKER_PAYMENT_PROVIDERS names an unknown provider: {name!r}",
                                       hint="Known providers: sandbox, alipay.", id="payments.E001"))
    if "alipay" in settings.PAYMENT_PROVIDERS and not alipay.configured():
        errors.append(checks.Error(
            "Alipay is enabled but not configured.",
            hint="Set TASTEMAKER_ALIPAY_APP_ID, _SELLER_ID, _PRIVATE_KEY_FILE and _PUBLIC_KEY_FILE.",
            id="payments.E002"))
    real = [name for name in settings.PAYMENT_PROVIDERS if name in known and name != "sandbox"]
    if "sandbox" in settings.PAYMENT_PROVIDERS and real:
        errors.append(checks.Error(
            f"The sandbox payment provider is enabled together with a real one ({', '.join(real)}).",
            hint="Balances are per currency, not per provider: money approved in the sandbox could be "
                 "withdrawn through a real provider. Enable the sandbox alone (development, the demo) or only real "
                 "providers (TASTEMAKER_PAYMENT_PROVIDERS).",
            id="payments.E003"))
    return errors


def check_sandbox_in_production(app_configs: Sequence[AppConfig] | None = None,
                                 **kwargs: Any) -> list[checks.CheckMessage]:
    from django.conf import settings

    if "sandbox" in settings.PAYMENT_PROVIDERS and not settings.DEBUG:
        return [checks.Warning(
            "The sandbox payment provider is enabled: every user can give themselves money.",
            hint="Set TASTEMAKER_PAYMENT_PROVIDERS=alipay on a public instance.", id="payments.W001")]
    return []
