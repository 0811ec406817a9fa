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

import logging
from datetime import date, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
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
from tastemaker.core.money import accepted_currencies, format_amount
from tastemaker.core.pagination import Page
from tastemaker.payments import idempotency, reconcile, selectors, services
from tastemaker.payments.models import ReconciliationRun, TopUp, TopUpStatus, TransactionKind
from tastemaker.payments.providers import ProviderUnavailable, enabled_providers, get_provider
from tastemaker.trust.ratelimit import check_and_hit, client_ip

from .forms import FieldErrors, show_error
from .helpers import amount_field, currency_field, domain_errors, keyed_form, keyed_outcome, posted, see_other

log = logging.getLogger(__name__)

HISTORY_PAGE = 20
RECENT = 5  # top-ups and withdrawals shown on the wallet page
OPS_RECENT = 20

MISMATCH_KINDS = {
    "missing_ours": gettext_lazy("The provider has it, we do not"),
    "missing_theirs": gettext_lazy("We have it, the provider does not"),
    "amount_differs": gettext_lazy("Amounts differ"),
    "status_differs": gettext_lazy("Statuses differ"),
}
RECORD_KINDS = {"payment": gettext_lazy("Top-up"), "payout": gettext_lazy("Withdrawal")}
RECONCILE_FIELDS = {"provider": "provider", "date_from": "date_from", "date_to": "date_to"}


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


def _day(text: str) -> date | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(_("Dates are written YYYY-MM-DD.")) from None
    return selectors.check_day(day, "date")  # years 2000-2100: a far date would overflow, not filter


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
    values = posted(request, "topup_amount", "topup_currency", "topup_provider")
    errors: FieldErrors = {}
    currency = currency_field(values, "topup", errors)
    amount = amount_field(values, "topup", currency, errors)
    provider = values["topup_provider"]
    if provider not in dict(provider_choices()):
        show_error(errors, _("Choose a payment provider."), at="topup_provider")
    if errors:
        return _wallet_page(request, 422, values=values, errors=errors)
    user = request.user
    check_and_hit("payments_topup", user.pk, "RATE_POST")  # each one opens an order at the provider

    def act():
        topup, url = services.do_start_topup(user, amount, currency, provider)
        return 303, {"redirect": url, "order_no": topup.order_no}

    data, status = keyed_form(request, {"amount": amount, "currency": currency, "provider": provider}, act, errors,
                          "topup", {"amount": "topup_amount", "currency": "topup_amount", "provider": "topup_provider"})
    if data is None:
        return _wallet_page(request, status, values=values, errors=errors)
    topup = selectors.topup_for(user, data["order_no"])
    if topup.status != TopUpStatus.PENDING:  # a replay after the payment: show its outcome
        return see_other(reverse("web:wallet_topup", args=[topup.order_no]))
    return see_other(data["redirect"])


@login_required
@require_POST
@never_cache
@domain_errors
def request_withdrawal(request):
    values = posted(request, "withdraw_amount", "withdraw_currency", "withdraw_payout_account")
    errors: FieldErrors = {}
    user = request.user
    currency = currency_field(values, "withdraw", errors)
    amount = amount_field(values, "withdraw", currency, errors)
    accounts = {str(a.pk): a for a in selectors.payout_accounts(user)}
    if not accounts:
        show_error(errors, _("Bind a payout account first: withdrawals are paid out to it."), at="withdraw")
    elif values["withdraw_payout_account"] not in accounts:
        show_error(errors, _("Choose one of your payout accounts."), at="withdraw_payout_account")
    if errors:
        return _wallet_page(request, 422, values=values, errors=errors)
    account = accounts[values["withdraw_payout_account"]]

    def act():
        w = services.do_request_withdrawal(user, amount, currency, payout_account=account)
        return 303, {"redirect": reverse("web:wallet"), "withdrawal": str(w.pk), "amount": amount,
                     "currency": currency, "to": f"{account.provider}:{account.identifier}"}

    body = {"amount": amount, "currency": currency, "payout_account": account.pk}
    data, status = keyed_form(request, body, act, errors, "withdraw",
                          {"amount": "withdraw_amount", "currency": "withdraw_amount",
                           "payout_account": "withdraw_payout_account"})
    if data is None:
        return _wallet_page(request, status, values=values, errors=errors)
    messages.success(request, _("Withdrawal of %(amount)s to %(to)s requested. The money is on hold until the "
                                "provider has paid it out; if the payout fails it comes back to your wallet.")
                     % {"amount": format_amount(data["amount"], data["currency"]), "to": data["to"]})
    return see_other(data["redirect"] + "#withdrawals")


@login_required
@require_POST
@never_cache
@domain_errors
def bind_payout_account(request):
    values = posted(request, "bind_provider", "bind_identifier", "bind_holder_name")
    errors: FieldErrors = {}
    if values["bind_provider"] not in dict(provider_choices()):
        show_error(errors, _("Choose a payment provider."), at="bind_provider")
    else:
        try:
            account = services.do_bind_payout_account(request.user, values["bind_provider"],
                                                      values["bind_identifier"], values["bind_holder_name"])
        except ValidationFailed as exc:
            show_error(errors, exc, at="bind", fields={"identifier": "bind_identifier",
                                                       "holder_name": "bind_holder_name"})
        else:
            messages.success(request, _("Payout account %(account)s is bound: withdrawals go there.")
                             % {"account": f"{account.provider}:{account.identifier}"})
            return see_other(reverse("web:wallet") + "#payout-accounts")
    return _wallet_page(request, 422, values=values, errors=errors)


@login_required
@require_POST
@domain_errors
def unbind_payout_account(request, account_id: str):
    account = selectors.payout_account_or_404(request.user, account_id)
    services.do_unbind_payout_account(request.user, account)
    messages.success(request, _("Payout account %(account)s is unbound.")
                     % {"account": f"{account.provider}:{account.identifier}"})
    return see_other(reverse("web:wallet") + "#payout-accounts")


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
        values = posted(request, "provider", "date_from", "date_to")
        values["settle"] = request.POST.get("settle") == "1"
        return values
    return {"provider": providers[0] if providers else "", "date_from": yesterday, "date_to": yesterday,
            "settle": False}


@login_required
@never_cache
@domain_errors
def ops_payments(request):
    _staff_only(request)
    values = _reconcile_values(request)
    errors: FieldErrors = {}
    status = 200
    if request.method == "POST":
        try:
            date_from = reconcile.parse_day(values["date_from"])
            date_to = reconcile.parse_day(values["date_to"] or values["date_from"])
            result = reconcile.do_reconcile_request(
                request.user, request.POST.get("idempotency_key"), request.path, values["provider"], date_from,
                date_to, values["settle"], respond=lambda run: {"run": str(run.pk)})
        except idempotency.MissingIdempotencyKey:
            show_error(errors, _("This form is out of date: check it and submit it again."), at="reconcile")
            status = 400
        except idempotency.IdempotencyKeyReused:
            show_error(errors, _("This form was already submitted with other values. Check it and submit it again."),
                       at="reconcile")
            status = 422
        except ProviderUnavailable as exc:
            show_error(errors, _("The provider could not be reached: %(why)s") % {"why": str(exc)[:200]},
                       at="reconcile")
            status = 503
        except DomainError as exc:
            show_error(errors, exc, at="reconcile", fields=RECONCILE_FIELDS)
            status = exc.status
        else:
            data, status = keyed_outcome(request, result, errors, "reconcile", {})
            if data is not None:
                return see_other(reverse("web:ops_payments") + f"?run={data['run']}#run")
    shown = None
    run_id = parse_id(request.GET.get("run") or "") if request.GET.get("run") else None
    if run_id is not None:
        shown = run_view(selectors.reconciliation_run(run_id))
    overview = selectors.platform_overview()
    return render(request, "web/payments/ops.html", {
        "accounts": overview["accounts"],
        "currencies": sorted(overview["currencies"].items()),
        "topups": selectors.recent_topups(OPS_RECENT), "withdrawals": selectors.recent_withdrawals(OPS_RECENT),
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
        return see_other(checkout.return_url)  # from the settings and our order: never from the request
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
