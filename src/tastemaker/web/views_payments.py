"""Wallet pages, the operators' payments page, and the payment providers' pages and callbacks.

* ``/wallet``: balances per currency (available and on hold), pending holds, history with filters and
  keyset pagination, top-up, withdrawal, payout accounts. ``/wallet/topups/<order_no>`` is where a
  provider sends the payer back: the wallet with that top-up's status (polled while pending).
* ``/ops/payments`` (staff only, 404 for everyone else): the platform's accounts, recent top-ups and
  withdrawals, reconciliation runs (a provider's statement against our records).
* ``/payments/sandbox/checkout/<order_no>``: the sandbox provider's own checkout page (approve / decline),
  for the user who started the top-up only.
* ``/payments/notify/<provider>``: the providers' asynchronous notifications (CSRF-exempt, plain-text reply,
  rate-limited per client IP).

Every form that moves money is rendered with a fresh idempotency key (a hidden field) and runs through
``payments.idempotency.run_idempotent``: a double submit or a refreshed POST replays the first outcome
instead of moving money twice. Thin, like the other page modules: the rules are in ``payments.services``.
"""

from __future__ import annotations

import json
import logging
from datetime import date, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tastemaker.core.errors import DomainError, NotFound, RateLimited, ValidationFailed
from tastemaker.core.ids import parse_id
from tastemaker.core.money import accepted_currencies, format_amount, parse_amount
from tastemaker.core.pagination import Page
from tastemaker.payments import idempotency, reconcile, selectors, services
from tastemaker.payments.models import (
    IdempotencyRecord,
    PayoutAccount,
    ReconciliationRun,
    TopUp,
    TopUpStatus,
    TransactionKind,
    Withdrawal,
)
from tastemaker.payments.providers import ProviderUnavailable, enabled_providers, get_provider
from tastemaker.trust.ratelimit import check_and_hit, client_ip

from .views import domain_errors

log = logging.getLogger(__name__)

HISTORY_PAGE = 20
RECENT = 5  # top-ups and withdrawals shown on the wallet page
OPS_RECENT = 20
MAX_RECONCILE_DAYS = 92

MISMATCH_KINDS = {
    "missing_ours": gettext_lazy("The provider has it, we do not"),
    "missing_theirs": gettext_lazy("We have it, the provider does not"),
    "amount_differs": gettext_lazy("Amounts differ"),
    "status_differs": gettext_lazy("Statuses differ"),
}
RECORD_KINDS = {"payment": gettext_lazy("Top-up"), "payout": gettext_lazy("Withdrawal")}


# --- helpers --------------------------------------------------------------------------------

def provider_choices() -> list[tuple[str, str]]:
    """The enabled providers that can be used now, as (name, label)."""
    out = []
    for name in enabled_providers():
        try:
            out.append((name, get_provider(name).label))
        except DomainError:  # listed but not configured (e.g. Alipay without keys): not offered
            continue
    return out


def _add(errors: dict[str, list[str]], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _amount(values: dict, prefix: str, currency: str, errors: dict) -> int | None:
    text = values.get(f"{prefix}_amount", "")
    if not text:
        _add(errors, f"{prefix}_amount", _("Enter an amount, for example 12.30."))
        return None
    try:
        amount = parse_amount(text, currency, field=_("Amount"))
    except ValidationFailed as exc:
        _add(errors, f"{prefix}_amount", exc.message)
        return None
    if amount <= 0:
        _add(errors, f"{prefix}_amount", _("The amount must be greater than zero."))
        return None
    return amount


def _currency(values: dict, prefix: str, errors: dict) -> str:
    currency = values.get(f"{prefix}_currency") or settings.DEFAULT_CURRENCY
    if currency not in accepted_currencies():
        _add(errors, f"{prefix}_amount", _("Choose one of the currencies offered."))
        return settings.DEFAULT_CURRENCY
    return currency


def _day(text: str) -> date | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(_("Dates are written YYYY-MM-DD.")) from None
    return selectors.check_day(day, "date")  # years 2000-2100: a far date would overflow, not filter


def _keyed(request, body: dict, act, errors: dict, prefix: str, fields: dict[str, str]) -> tuple[dict | None, int]:
    """Run ``act`` once per idempotency key (the hidden field of the form). Returns (data, status); data is
    None when it was refused, with the message in ``errors`` next to the field the service named."""
    try:
        key = idempotency.require_key(request.POST.get("idempotency_key"))
        fingerprint = idempotency.request_fingerprint("POST", request.path, body)
        result = idempotency.run_idempotent(request.user, key, fingerprint, act)
    except idempotency.MissingIdempotencyKey:
        _add(errors, prefix, _("This form is out of date: check it and submit it again."))
        return None, 400
    except idempotency.IdempotencyKeyReused:
        _add(errors, prefix, _("This form was already submitted with other values. Check it and submit it again."))
        return None, 422
    data = json.loads(result.body)
    if result.status >= 400:
        _add(errors, fields.get(data.get("field") or "", prefix), data.get("error") or _("That did not work."))
        return None, result.status
    if result.replayed:
        messages.info(request, _("This form was already submitted: nothing was done twice."))
    return data, result.status


def _see_other(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _history_filters(params) -> tuple[dict, dict[str, str], list[str]]:
    """The history filters from the query string: (selector kwargs, the values as typed, errors)."""
    typed = {name: (params.get(name) or "").strip()[:20] for name in ("kind", "direction", "since", "until",
                                                                      "currency")}
    kwargs: dict = {}
    problems: list[str] = []
    if typed["kind"]:
        if typed["kind"] in TransactionKind.values:
            kwargs["kind"] = typed["kind"]
        else:
            problems.append(_("Unknown transaction kind."))
    if typed["direction"]:
        if typed["direction"] in ("in", "out"):
            kwargs["direction"] = typed["direction"]
        else:
            problems.append(_("Direction is money in or money out."))
    if typed["currency"]:
        if typed["currency"] in accepted_currencies():
            kwargs["currency"] = typed["currency"]
        else:
            problems.append(_("Choose one of the currencies offered."))
    for name in ("since", "until"):
        try:
            value = _day(typed[name])
        except ValidationFailed as exc:
            problems.append(exc.message)
            continue
        if value is not None:
            kwargs[name] = value
    if "since" in kwargs and "until" in kwargs and kwargs["until"] < kwargs["since"]:
        problems.append(_("The end date is before the start date."))
        kwargs.pop("until")
    return kwargs, typed, problems


def _history(request) -> dict:
    kwargs, typed, problems = _history_filters(request.GET)
    max_id = parse_id(request.GET.get("max_id") or "") if request.GET.get("max_id") else None
    rows = selectors.history(request.user, page=Page(max_id=max_id, limit=HISTORY_PAGE), **kwargs)
    older = None
    if len(rows) == HISTORY_PAGE:
        keep = {k: v for k, v in typed.items() if v}
        older = "?" + urlencode({**keep, "max_id": rows[-1].id}) + "#history"
    return {"history": rows, "filters": typed, "filter_errors": problems, "older_url": older,
            "filtered": bool(kwargs) or max_id is not None}


def _wallet_context(request, *, values: dict | None = None, errors: dict | None = None,
                    topup: TopUp | None = None) -> dict:
    user = request.user
    providers = provider_choices()
    payout_accounts = selectors.payout_accounts(user)
    now = timezone.now()
    for account in payout_accounts:  # a newly bound account waits out the cool-down before withdrawals
        account.ready_at = services.payout_account_ready_at(account)
        account.cooling = account.ready_at > now
    form = {"topup_currency": settings.DEFAULT_CURRENCY, "withdraw_currency": settings.DEFAULT_CURRENCY,
            "topup_provider": providers[0][0] if providers else "", "bind_provider": providers[0][0] if providers else "",
            "withdraw_payout_account": str(payout_accounts[0].pk) if payout_accounts else ""}
    form.update(values or {})
    return {
        "balances": selectors.balances(user),
        "holds": selectors.holds(user, page=Page(limit=50)),
        "topups": selectors.topups(user, page=Page(limit=RECENT)),
        "withdrawals": selectors.withdrawals(user, page=Page(limit=RECENT)),
        "payout_accounts": payout_accounts,
        "providers": providers,
        "currencies": accepted_currencies(),
        "kinds": TransactionKind.choices,
        "values": form,
        "errors": errors or {},
        # a fresh key per form and per rendering: a new attempt is a new request
        "keys": {"topup": idempotency.new_key(), "withdraw": idempotency.new_key()},
        "topup": topup,
        **_history(request),
    }


def _wallet_page(request, status: int = 200, **kwargs) -> HttpResponse:
    return render(request, "web/payments/wallet.html", _wallet_context(request, **kwargs), status=status)


def _posted(request, *names: str) -> dict:
    return {name: (request.POST.get(name) or "").strip()[:200] for name in names}


# --- the wallet -----------------------------------------------------------------------------

@login_required
@never_cache
@domain_errors
def wallet(request):
    return _wallet_page(request)


@login_required
@never_cache
@domain_errors
def topup_return(request, order_no: str):
    """Where the provider sends the payer back: the wallet, with this top-up's status (htmx polls it while
    the provider's notification has not arrived)."""
    topup = selectors.topup_for(request.user, order_no[:64])
    if request.htmx:
        return render(request, "web/payments/_wallet_live.html",
                      {"balances": selectors.balances(request.user), "topup": topup})
    return _wallet_page(request, topup=topup)


@login_required
@require_POST
@never_cache
@domain_errors
def start_topup(request):
    values = _posted(request, "topup_amount", "topup_currency", "topup_provider")
    errors: dict[str, list[str]] = {}
    currency = _currency(values, "topup", errors)
    amount = _amount(values, "topup", currency, errors)
    provider = values["topup_provider"]
    if provider not in dict(provider_choices()):
        _add(errors, "topup_provider", _("Choose a payment provider."))
    if errors:
        return _wallet_page(request, 422, values=values, errors=errors)
    user = request.user
    check_and_hit("payments_topup", user.pk, "RATE_POST")  # each one opens an order at the provider

    def act():
        topup, url = services.do_start_topup(user, amount, currency, provider)
        return 303, {"redirect": url, "order_no": topup.order_no}

    data, status = _keyed(request, {"amount": amount, "currency": currency, "provider": provider}, act, errors,
                          "topup", {"amount": "topup_amount", "currency": "topup_amount", "provider": "topup_provider"})
    if data is None:
        return _wallet_page(request, status, values=values, errors=errors)
    topup = TopUp.objects.filter(order_no=data["order_no"], user=user).first()
    if topup is not None and topup.status != TopUpStatus.PENDING:  # a replay after the payment: show its outcome
        return _see_other(reverse("web:wallet_topup", args=[topup.order_no]))
    return _see_other(data["redirect"])


@login_required
@require_POST
@never_cache
@domain_errors
def request_withdrawal(request):
    values = _posted(request, "withdraw_amount", "withdraw_currency", "withdraw_payout_account")
    errors: dict[str, list[str]] = {}
    user = request.user
    currency = _currency(values, "withdraw", errors)
    amount = _amount(values, "withdraw", currency, errors)
    accounts = {str(a.pk): a for a in selectors.payout_accounts(user)}
    if not accounts:
        _add(errors, "withdraw", _("Bind a payout account first: withdrawals are paid out to it."))
    elif values["withdraw_payout_account"] not in accounts:
        _add(errors, "withdraw_payout_account", _("Choose one of your payout accounts."))
    if errors:
        return _wallet_page(request, 422, values=values, errors=errors)
    account = accounts[values["withdraw_payout_account"]]

    def act():
        w = services.do_request_withdrawal(user, amount, currency, payout_account=account)
        return 303, {"redirect": reverse("web:wallet"), "withdrawal": str(w.pk), "amount": amount,
                     "currency": currency, "to": f"{account.provider}:{account.identifier}"}

    body = {"amount": amount, "currency": currency, "payout_account": account.pk}
    data, status = _keyed(request, body, act, errors, "withdraw",
                          {"amount": "withdraw_amount", "currency": "withdraw_amount",
                           "payout_account": "withdraw_payout_account"})
    if data is None:
        return _wallet_page(request, status, values=values, errors=errors)
    messages.success(request, _("Withdrawal of %(amount)s to %(to)s requested. The money is on hold until the "
                                "provider has paid it out; if the payout fails it comes back to your wallet.")
                     % {"amount": format_amount(data["amount"], data["currency"]), "to": data["to"]})
    return _see_other(data["redirect"] + "#withdrawals")


@login_required
@require_POST
@never_cache
@domain_errors
def bind_payout_account(request):
    values = _posted(request, "bind_provider", "bind_identifier", "bind_holder_name")
    errors: dict[str, list[str]] = {}
    if values["bind_provider"] not in dict(provider_choices()):
        _add(errors, "bind_provider", _("Choose a payment provider."))
    else:
        try:
            account = services.do_bind_payout_account(request.user, values["bind_provider"],
                                                      values["bind_identifier"], values["bind_holder_name"])
        except ValidationFailed as exc:
            field = {"identifier": "bind_identifier", "holder_name": "bind_holder_name"}.get(exc.field or "", "bind")
            _add(errors, field, exc.message)
        else:
            messages.success(request, _("Payout account %(account)s is bound: withdrawals go there.")
                             % {"account": f"{account.provider}:{account.identifier}"})
            return _see_other(reverse("web:wallet") + "#payout-accounts")
    return _wallet_page(request, 422, values=values, errors=errors)


@login_required
@require_POST
@domain_errors
def unbind_payout_account(request, account_id: str):
    number = parse_id(account_id)
    account = (PayoutAccount.objects.filter(pk=number, user=request.user, active=True).first()
               if number is not None else None)
    if account is None:
        raise NotFound(_("No such payout account."))
    services.do_unbind_payout_account(request.user, account)
    messages.success(request, _("Payout account %(account)s is unbound.")
                     % {"account": f"{account.provider}:{account.identifier}"})
    return _see_other(reverse("web:wallet") + "#payout-accounts")


# --- operators ------------------------------------------------------------------------------

def _staff_only(request) -> None:
    if not request.user.is_staff:
        raise NotFound(_("Page not found."))


def run_view(run: ReconciliationRun) -> dict:
    """A reconciliation run as the page shows it (labels translated, amounts formatted)."""
    report = run.report or {}
    mismatches = [{**m, "kind_display": MISMATCH_KINDS.get(m.get("kind"), m.get("kind")),
                   "record_display": RECORD_KINDS.get(m.get("record"), m.get("record"))}
                  for m in report.get("mismatches", [])]
    clearing = [{**row, "movement_display": format_amount(row["movement"], row["currency"]),
                 "settlement_display": format_amount(row["settlement"], row["currency"]),
                 "net_display": format_amount(row["net"], row["currency"])} for row in report.get("clearing", [])]
    settled = [{**s, "amount_display": format_amount(s["amount"], s["currency"])} for s in report.get("settled", [])]
    return {"run": run, "mismatches": mismatches, "clearing": clearing, "settled": settled,
            "clearing_ok": bool(report.get("clearing_ok", True)), "any_settled": any(r["settled"] for r in clearing)}


def _reconcile_values(request) -> dict:
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    providers = enabled_providers()
    if request.method == "POST":
        values = _posted(request, "provider", "date_from", "date_to")
        values["settle"] = request.POST.get("settle") == "1"
        return values
    return {"provider": providers[0] if providers else "", "date_from": yesterday, "date_to": yesterday,
            "settle": False}


def run_reconciliation(user, key: str, provider: str, date_from: date, date_to: date, settle: bool,
                       path: str) -> idempotency.IdempotentResponse:
    """One reconciliation per idempotency key. A remote provider's statement is fetched before the database
    transaction (and not at all for a replay)."""
    if date_to < date_from:
        raise ValidationFailed(_("The end date is before the start date."), field="date_to")
    if (date_to - date_from).days >= MAX_RECONCILE_DAYS:
        raise ValidationFailed(_("Reconcile at most %(n)d days at once.") % {"n": MAX_RECONCILE_DAYS},
                               field="date_to")
    if date_to >= timezone.localdate() + timedelta(days=1):
        raise ValidationFailed(_("The period cannot end in the future."), field="date_to")
    fingerprint = idempotency.request_fingerprint("POST", path, {"provider": provider, "date_from": date_from,
                                                                  "date_to": date_to, "settle": settle})
    statement = None
    if not IdempotencyRecord.objects.filter(user_id=user.pk, key=idempotency.require_key(key)).exists():
        statement = get_provider(provider).statement(date_from, date_to)

    def act():
        run = reconcile.reconcile(provider, date_from, date_to, statement=statement, settle=settle)
        return 201, {"run": str(run.pk)}

    return idempotency.run_idempotent(user, key, fingerprint, act)


def recent_topups(limit: int = OPS_RECENT) -> list[TopUp]:
    return list(TopUp.objects.select_related("user").order_by("-id")[:limit])


def recent_withdrawals(limit: int = OPS_RECENT) -> list[Withdrawal]:
    return list(Withdrawal.objects.select_related("user", "payout_account").order_by("-id")[:limit])


@login_required
@never_cache
@domain_errors
def ops_payments(request):
    _staff_only(request)
    values = _reconcile_values(request)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        try:
            if values["provider"] not in enabled_providers():
                raise ValidationFailed(_("Choose a payment provider."), field="provider")
            date_from = reconcile.parse_day(values["date_from"])
            date_to = reconcile.parse_day(values["date_to"] or values["date_from"])
            result = run_reconciliation(request.user, request.POST.get("idempotency_key") or "", values["provider"],
                                        date_from, date_to, values["settle"], request.path)
        except idempotency.MissingIdempotencyKey:
            _add(errors, "reconcile", _("This form is out of date: check it and submit it again."))
            status = 400
        except idempotency.IdempotencyKeyReused:
            _add(errors, "reconcile", _("This form was already submitted with other values. "
                                        "Check it and submit it again."))
            status = 422
        except ProviderUnavailable as exc:
            _add(errors, "reconcile", _("The provider could not be reached: %(why)s") % {"why": str(exc)[:200]})
            status = 503
        except DomainError as exc:
            field = exc.field if exc.field in ("provider", "date_from", "date_to") else "reconcile"
            _add(errors, field, exc.message)
            status = exc.status
        else:
            data = json.loads(result.body)
            if result.status >= 400:
                _add(errors, "reconcile", data.get("error") or _("That did not work."))
                status = result.status
            else:
                if result.replayed:
                    messages.info(request, _("This form was already submitted: nothing was done twice."))
                return _see_other(reverse("web:ops_payments") + f"?run={data['run']}#run")
    shown = None
    run_id = parse_id(request.GET.get("run") or "") if request.GET.get("run") else None
    if run_id is not None:
        run = ReconciliationRun.objects.filter(pk=run_id).first()
        if run is None:
            raise NotFound(_("No such reconciliation run."))
        shown = run_view(run)
    overview = selectors.platform_overview()
    return render(request, "web/payments/ops.html", {
        "accounts": overview["accounts"],
        "currencies": sorted(overview["currencies"].items()),
        "topups": recent_topups(), "withdrawals": recent_withdrawals(),
        "runs": selectors.reconciliation_runs(limit=10), "shown": shown,
        "providers": enabled_providers(), "values": values, "errors": errors,
        "key": idempotency.new_key(),
    }, status=status)


# --- the sandbox provider's checkout page, and provider notifications -----------------------

@login_required
@never_cache
@domain_errors
def sandbox_checkout(request, order_no: str):
    """The sandbox provider's checkout page: what a real provider would show the payer. It exists only while
    the sandbox is enabled, and only for the logged-in user who started the top-up (anyone else: 404): the
    sandbox makes money up, so nobody may approve an order they did not start."""
    from tastemaker.payments.providers import sandbox

    if "sandbox" not in enabled_providers():
        raise NotFound(_("This checkout does not exist."))
    order_no = order_no[:64]
    sandbox.check_payer(order_no, request.user)
    if request.method == "POST":
        decision = request.POST.get("decision")
        if decision == "approve":
            checkout = sandbox.sandbox_approve(order_no)
        elif decision == "decline":
            checkout = sandbox.sandbox_decline(order_no)
        else:
            raise ValidationFailed(_("Choose Approve or Decline."))
        return _see_other(checkout.return_url)  # from the settings and our order: never from the request
    checkout = sandbox.checkout_details(order_no)
    return render(request, "web/payments/sandbox_checkout.html", {"checkout": checkout})


@csrf_exempt
@require_POST
def provider_notify(request, provider: str):
    """A provider's asynchronous notification (form-encoded). The reply is what the provider expects:
    ``success`` only once the payment is recorded, else ``failure`` (and the provider sends it again).
    Anyone can post here: requests are counted per client IP (``RATE_PAYMENT_NOTIFY``; over it, 429 in
    plain text, and a real provider retries later)."""
    try:
        check_and_hit("payment_notify", client_ip(request), "RATE_PAYMENT_NOTIFY")
    except RateLimited as exc:
        response = HttpResponse("rate limited", status=429, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(exc.retry_after)
        return response
    try:
        params = {k: v for k, v in request.POST.items()}
        reply = services.do_handle_notification(provider[:24], params)
    except DomainError as exc:
        log.warning("payments: %s notification refused: %s", provider[:24], exc.message)
        reply = services.FAILURE
    except Exception:  # noqa: BLE001 - a provider gets "failure" and retries; never a 500 page
        log.exception("payments: %s notification could not be handled", provider[:24])
        reply = services.FAILURE
    return HttpResponse(reply, content_type="text/plain; charset=utf-8")
