"""Partner-store pages: a brand's stores (create, edit, rotate secrets, fund the deposit) and the operators'
review. Thin, like the other page modules: the rules in ``showcase.services``, the reads in
``showcase.selectors``; a refused form comes back as typed with the message next to its field."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from tastemaker.core.errors import NotFound, RateLimited, ValidationFailed
from tastemaker.core.money import format_amount
from tastemaker.payments import idempotency
from tastemaker.payments import selectors as payments
from tastemaker.showcase import selectors as showcase
from tastemaker.showcase import services
from tastemaker.showcase.models import StoreStatus
from tastemaker.trust.ratelimit import check_and_hit

from .forms import FieldErrors, show_error
from .helpers import amount_field, domain_errors, id_or_404, keyed_form, query_max_id
from .views_showcase import COMMISSIONS_PAGE, with_titles


def _no_store(response):
    """Secrets are in this response: no cache keeps a copy."""
    response["Cache-Control"] = "no-store, private"
    response["Pragma"] = "no-cache"
    return response


# --- partner stores -------------------------------------------------------------------------

STORE_FIELDS = ("name", "domains", "commission_percent", "attribution_days", "return_days")
STORE_ERROR_FIELDS = {"name": "name", "domains": "domains", "commission_bp": "commission_percent",
                      "attribution_days": "attribution_days", "return_days": "return_days"}


def _store_values(request, store=None, posted: bool = True) -> dict:
    if request.method == "POST" and posted:
        return {name: request.POST.get(name) or "" for name in STORE_FIELDS}
    if store is None:
        return {"name": "", "domains": "", "commission_percent": _percent(settings.SHOWCASE_COMMISSION_BP),
                "attribution_days": str(settings.SHOWCASE_ATTRIBUTION_DAYS),
                "return_days": str(settings.SHOWCASE_RETURN_DAYS)}
    return {"name": store.name, "domains": "\n".join(store.domains),
            "commission_percent": _percent(store.commission_bp), "attribution_days": str(store.attribution_days),
            "return_days": str(store.return_days)}


def _percent(basis_points: int) -> str:
    whole, rest = divmod(basis_points, 100)
    return str(whole) if not rest else f"{whole}.{rest:02d}".rstrip("0")


# the shapes checked before anything is converted: a number typed into the form is never handed to Decimal or
# int whole ("1e999999" or five thousand digits cost seconds of CPU or raise where nothing catches it)
_PERCENT_RE = re.compile(r"^\d{1,2}(?:[.,]\d{1,2})?$")
_DAYS_RE = re.compile(r"^\d{1,3}$")


def _store_fields(values: dict, errors: dict) -> dict | None:
    out: dict = {"name": values["name"], "domains": [d.strip() for d in values["domains"].splitlines() if d.strip()]}
    text = values["commission_percent"].strip().removesuffix("%").strip()
    if text.isascii() and _PERCENT_RE.fullmatch(text):
        whole, _sep, cents = text.replace(",", ".").partition(".")
        out["commission_bp"] = int(whole) * 100 + int(cents.ljust(2, "0"))
        if out["commission_bp"] > settings.SHOWCASE_MAX_COMMISSION_BP:
            show_error(errors, _("The commission rate is at most %(n)s%%.")
                       % {"n": _percent(settings.SHOWCASE_MAX_COMMISSION_BP)}, at="commission_percent")
    else:
        show_error(errors, _("The commission rate is a percentage like 5 or 7.5 (at most two decimals)."),
                   at="commission_percent")
    limits = services.store_limits()
    for key in ("attribution_days", "return_days"):
        low, high = limits[key]
        text = values[key].strip()
        if text.isascii() and _DAYS_RE.fullmatch(text) and low <= int(text) <= high:
            out[key] = int(text)
        else:
            show_error(errors, _("Enter a whole number of days from %(low)d to %(high)d.")
                       % {"low": low, "high": high}, at=key)
    return None if errors else out


def _store_or_404(request, store_id) -> object:
    store = showcase.store_for(request.user, id_or_404(store_id, _("No such partner store.")))
    if store is None:
        raise NotFound(_("No such partner store."))
    return store


def _integration(request, store) -> dict:
    return {"catalog_url": request.build_absolute_uri("/api/v1/showcase/catalog"),
            "webhook_url": request.build_absolute_uri(f"/api/v1/showcase/stores/{store.pk}/webhooks")}


def _secrets_page(request, store, secrets, *, created: bool):
    response = render(request, "web/showcase/store_secrets.html", {
        "store": store, "secrets": secrets, "created": created, **_integration(request, store)})
    return _no_store(response)


@login_required
@domain_errors
def stores(request):
    rows = showcase.stores_for(request.user)
    pending = showcase.pending_stores(rows) if request.user.is_staff else []
    return render(request, "web/showcase/stores.html", {"stores": rows, "pending": pending})


@login_required
@never_cache
@domain_errors
def store_new(request):
    values = _store_values(request)
    errors: FieldErrors = {}
    status = 200
    retry_after = None
    if request.method == "POST":
        fields = _store_fields(values, errors)
        status = 422
        if fields is not None:
            try:
                # counted once the form is well-formed: each store created waits for an operator's review
                check_and_hit("store_create", request.user.pk, "RATE_STORE_CREATE")
                store, secrets = services.do_create_store(request.user, **fields)
            except RateLimited as exc:
                show_error(errors, exc, at="general")
                status, retry_after = 429, exc.retry_after
            except ValidationFailed as exc:
                show_error(errors, exc, at="general", fields=STORE_ERROR_FIELDS)
            else:
                return _secrets_page(request, store, secrets, created=True)
    response = render(request, "web/showcase/store_form.html", {"values": values, "errors": errors, "store": None,
                                                                "limits": _limits()}, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@login_required
@never_cache
@domain_errors
def store_detail(request, store_id: int):
    store = _store_or_404(request, store_id)
    values = _store_values(request, store)
    errors: FieldErrors = {}
    status = 200
    if request.method == "POST":
        fields = _store_fields(values, errors)
        if fields is not None:
            was = store.status
            try:
                services.do_update_store(request.user, store, **fields)
            except ValidationFailed as exc:
                store.refresh_from_db()
                show_error(errors, exc, at="general", fields=STORE_ERROR_FIELDS)
            else:
                messages.success(request, _("The store is saved."))
                if was == StoreStatus.APPROVED and store.status == StoreStatus.PENDING:
                    messages.info(request, _("A new name, domains, rate or window needs an operator's approval "
                                             "again; until then cards cannot link to this store."))
                return redirect("web:store", store_id=store.pk)
        status = 422
    return _store_page(request, store, values, errors, status)


def _limits() -> dict:
    limits = services.store_limits()
    return {"max_percent": _percent(limits["commission_bp"][1]), "attribution": limits["attribution_days"],
            "return": limits["return_days"]}


def _store_page(request, store, values: dict, errors: dict, status: int, deposit_errors: dict | None = None,
                deposit_values: dict | None = None):
    max_id = query_max_id(request)
    rows = showcase.commissions(store_id=store.pk, max_id=max_id, limit=COMMISSIONS_PAGE)
    return render(request, "web/showcase/store.html", {
        "store": store, "values": values, "errors": errors, "commissions": with_titles(rows), "max_id": max_id,
        "next_max_id": rows[-1].pk if len(rows) >= COMMISSIONS_PAGE else None, **_integration(request, store),
        "limits": _limits(), "funds": showcase.store_funds(store), "deposit_key": idempotency.new_key(),
        "deposit_errors": deposit_errors or {}, "deposit_values": deposit_values or {},
        "wallet": payments.balance(request.user, settings.DEFAULT_CURRENCY),
        "can_withdraw": (store.owner_id == request.user.pk) if store.owner_id else request.user.is_staff,
    }, status=status)


@login_required
@require_POST
@never_cache
@domain_errors
def store_deposit(request, store_id: int):
    """Fund the store's deposit from your wallet, or take back what is free in it (one idempotency key per
    rendered form, so a double submit moves money once)."""
    store = _store_or_404(request, store_id)
    action = "withdraw" if request.POST.get("action") == "withdraw" else "fund"
    values = {"deposit_amount": (request.POST.get("deposit_amount") or "").strip()[:200]}
    currency = settings.DEFAULT_CURRENCY
    errors: FieldErrors = {}
    amount = amount_field(values, "deposit", currency, errors)
    status = 422
    if amount is not None:
        move = services.do_fund_store_deposit if action == "fund" else services.do_withdraw_store_deposit

        def act():
            tx = move(request.user, store, amount, currency)
            return 201, {"transaction_id": str(tx.pk)}

        data, status = keyed_form(request, {"action": action, "amount": amount, "currency": currency},
                                  act, errors, "deposit_amount", {"amount": "deposit_amount"})
        if data is not None:
            text = (_("%(amount)s added to the store's deposit.") if action == "fund"
                    else _("%(amount)s taken back from the store's deposit to your wallet."))
            messages.success(request, text % {"amount": format_amount(amount, currency)})
            return redirect(reverse("web:store", args=[store.pk]) + "#deposit")
    return _store_page(request, store, _store_values(request, store, posted=False), {}, status,
                       deposit_errors=errors, deposit_values=values)


@login_required
@require_POST
@never_cache
@domain_errors
def store_rotate(request, store_id: int):
    store = _store_or_404(request, store_id)
    secrets = services.do_rotate_store_secrets(request.user, store)
    return _secrets_page(request, store, secrets, created=False)


@login_required
@require_POST
@domain_errors
def store_decide(request, store_id: int):
    store = _store_or_404(request, store_id)
    approve = request.POST.get("decision") == "approve"
    services.do_decide_store(request.user, store, approve=approve, note=request.POST.get("note", ""))
    messages.success(request, _("%(store)s is approved.") % {"store": store.name} if approve
                     else _("%(store)s is rejected.") % {"store": store.name})
    return redirect("web:stores")
