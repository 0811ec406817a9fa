"""Partner stores: creating, changing and approving them, their API key and webhook secret, and their
deposit (what funds the commissions of the creators who sell for them)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tastemaker.accounts.models import User
from tastemaker.core.errors import Forbidden, NotFound, ValidationFailed
from tastemaker.core.money import check_currency

from . import links
from .commissions import fund_waiting_commissions
from .models import PartnerStore, StoreStatus, store_name_key

MAX_DOMAINS = 20
# what a store may set: settings (TASTEMAKER_SHOWCASE_MAX_COMMISSION_BP and friends), read at each check
REVIEWED_FIELDS = ("name", "domains", "commission_bp", "attribution_days", "return_days")


def store_limits() -> dict[str, tuple[int, int]]:
    """The allowed range of each number a store sets, from the settings."""
    return {"commission_bp": (0, settings.SHOWCASE_MAX_COMMISSION_BP),
            "attribution_days": (settings.SHOWCASE_MIN_ATTRIBUTION_DAYS, settings.SHOWCASE_MAX_ATTRIBUTION_DAYS),
            "return_days": (settings.SHOWCASE_MIN_RETURN_DAYS, settings.SHOWCASE_MAX_RETURN_DAYS)}


# --- partner stores -------------------------------------------------------------------------

@dataclass
class StoreSecrets:
    """Shown once, right after creation or rotation; only a hash of the key is kept."""

    api_key: str
    webhook_secret: str


def _check_store_fields(name: str, domains, commission_bp, attribution_days, return_days,
                        store: PartnerStore | None = None) -> dict:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed(_("A store needs a name of at most 100 characters."), field="name")
    key = store_name_key(name)
    if not key:
        raise ValidationFailed(_("A store name needs letters or digits."), field="name")
    if PartnerStore.objects.filter(name_key=key).exclude(pk=store.pk if store else None).exists():
        raise ValidationFailed(_("Another partner store already has this name (or one that differs only in letter "
                                 "case, width, spacing or punctuation)."), field="name")
    if isinstance(domains, str):
        domains = [d for d in re.split(r"[\s,]+", domains) if d]
    if not isinstance(domains, list | tuple) or not domains:
        raise ValidationFailed(_("A store needs at least one domain its purchase links use."), field="domains")
    if len(domains) > MAX_DOMAINS:
        raise ValidationFailed(_("A store has at most %(n)d domains.") % {"n": MAX_DOMAINS}, field="domains")
    clean = []
    for d in domains:
        host = links.normalise_domain(str(d))
        if host not in clean:
            clean.append(host)
    out = {"name": name, "name_key": key, "domains": clean}
    limits = store_limits()
    for key, value in (("commission_bp", commission_bp), ("attribution_days", attribution_days),
                       ("return_days", return_days)):
        if value is None:
            continue
        low, high = limits[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValidationFailed(_("%(field)s must be a whole number from %(low)d to %(high)d.")
                                   % {"field": key, "low": low, "high": high}, field=key)
        out[key] = value
    return out


def _save_store(store: PartnerStore, **kwargs) -> None:
    """Save; a concurrent store that took the same name (the unique name key) is the same 422."""
    try:
        with transaction.atomic():
            store.save(**kwargs)
    except IntegrityError:
        if PartnerStore.objects.filter(name_key=store.name_key).exclude(pk=store.pk).exists():
            raise ValidationFailed(_("Another partner store already has this name (or one that differs only in "
                                     "letter case, width, spacing or punctuation)."), field="name") from None
        raise


def _new_secrets(store: PartnerStore) -> StoreSecrets:
    prefix = "tm_" + secrets.token_hex(6)
    api_key = f"{prefix}_{secrets.token_urlsafe(24)}"
    store.api_key_prefix = prefix
    store.api_key_hash = hashlib.sha256(api_key.encode()).hexdigest()
    store.webhook_secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    store.secrets_rotated_at = timezone.now()
    return StoreSecrets(api_key=api_key, webhook_secret=store.webhook_secret)


def do_create_store(actor: User, *, name: str, domains, commission_bp: int | None = None,
                    attribution_days: int | None = None, return_days: int | None = None
                    ) -> tuple[PartnerStore, StoreSecrets]:
    """An operator's store is approved at once; a brand account's waits for an operator."""
    fields = _check_store_fields(name, domains, commission_bp, attribution_days, return_days)
    fields.setdefault("commission_bp", settings.SHOWCASE_COMMISSION_BP)
    fields.setdefault("attribution_days", settings.SHOWCASE_ATTRIBUTION_DAYS)
    fields.setdefault("return_days", settings.SHOWCASE_RETURN_DAYS)
    store = PartnerStore(owner=None if actor.is_staff else actor, **fields)
    if actor.is_staff:
        store.status = StoreStatus.APPROVED
        store.decided_at, store.decided_by = timezone.now(), actor
    elif actor.is_suspended:
        raise Forbidden(_("This account is suspended."))
    created = _new_secrets(store)
    _save_store(store)
    return store, created


def do_update_store(actor: User, store: PartnerStore, **changes) -> PartnerStore:
    """Change a store. A brand changing anything an operator reviewed (its name, domains, rate or windows)
    sends an approved store back to review; saving the same values (the web form always sends them all)
    does not. An operator's change is itself the review."""
    check_store_admin(actor, store)
    current = {"name": store.name, "domains": store.domains, "commission_bp": None, "attribution_days": None,
               "return_days": None}
    current.update({k: v for k, v in changes.items() if k in current})
    fields = _check_store_fields(**current, store=store)
    changed = (fields["name"] != store.name or set(fields["domains"]) != set(store.domains)
               or any(fields.get(k, getattr(store, k)) != getattr(store, k)
                      for k in ("commission_bp", "attribution_days", "return_days")))
    if changed and not actor.is_staff and store.status == StoreStatus.APPROVED:
        store.status = StoreStatus.PENDING
    for key, value in fields.items():
        setattr(store, key, value)
    _save_store(store)
    return store


def check_store_operator(actor: User) -> None:
    """Only operators approve or reject partner stores (403)."""
    if not actor.is_staff:
        raise Forbidden(_("Only operators approve partner stores."))


def do_decide_store(operator: User, store: PartnerStore, *, approve: bool, note: str = "") -> PartnerStore:
    check_store_operator(operator)
    store.status = StoreStatus.APPROVED if approve else StoreStatus.REJECTED
    store.decided_at, store.decided_by, store.decision_note = timezone.now(), operator, (note or "")[:500]
    store.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
    return store


def do_rotate_store_secrets(actor: User, store: PartnerStore) -> StoreSecrets:
    check_store_admin(actor, store)
    created = _new_secrets(store)
    store.save(update_fields=["api_key_prefix", "api_key_hash", "webhook_secret", "secrets_rotated_at"])
    return created


def check_store_admin(actor: User, store: PartnerStore) -> None:
    if not (actor.is_staff or (store.owner_id is not None and store.owner_id == actor.pk)):
        raise NotFound(_("No such partner store."))


def store_for_api_key(key: str) -> PartnerStore | None:
    """The approved store whose API key this is (constant-time comparison of the hashes)."""
    key = (key or "").strip()
    parts = key.split("_", 2)  # "tm_<hex>_<random>": the random part may itself contain "_"
    prefix = f"{parts[0]}_{parts[1]}" if len(parts) == 3 and parts[0] == "tm" else ""
    if not prefix or len(key) > 200:
        return None
    store = PartnerStore.objects.filter(api_key_prefix=prefix).first()
    if store is None or not hmac.compare_digest(store.api_key_hash, hashlib.sha256(key.encode()).hexdigest()):
        return None
    return store


# --- the deposit ---------------------------------------------------------------------------

def do_fund_store_deposit(actor: User, store: PartnerStore, amount: int, currency: str | None = None, *,
                          reference: str | None = None):
    """Put money from the actor's wallet into the store's deposit, then fund (and pay, once confirmed) the
    store's commissions awaiting it, oldest first. A brand store is funded by its owner (or an operator);
    an operator-run store by an operator, from the operator's own wallet. ``InsufficientFunds`` (409) if
    the wallet lacks the amount."""
    from tastemaker.payments.services import do_fund_store

    check_store_admin(actor, store)
    if actor.is_suspended:
        raise Forbidden(_("This account is suspended."))
    currency = check_currency(currency or settings.DEFAULT_CURRENCY)
    with transaction.atomic():
        tx = do_fund_store(actor, store.pk, amount, currency, reference=reference,
                           memo=f"deposit for {store.name}"[:200])
        fund_waiting_commissions(store, currency)
    return tx


def do_withdraw_store_deposit(actor: User, store: PartnerStore, amount: int, currency: str | None = None, *,
                              reference: str | None = None):
    """Take back what is free in a store's deposit (not held for pending commissions): a brand store's to its
    owner's wallet (only the owner may), an operator-run store's to the acting operator's wallet.
    ``InsufficientFunds`` (409) if the free deposit lacks it."""
    from tastemaker.payments.services import do_withdraw_store_deposit as withdraw

    check_store_admin(actor, store)
    if store.owner_id is not None and store.owner_id != actor.pk:
        raise Forbidden(_("Only the brand that runs this store can take money out of its deposit."))
    if store.owner_id is None and not actor.is_staff:
        raise Forbidden(_("Only operators can take money out of an operator-run store's deposit."))
    currency = check_currency(currency or settings.DEFAULT_CURRENCY)
    return withdraw(store.pk, actor, amount, currency, reference=reference, initiator=actor)
