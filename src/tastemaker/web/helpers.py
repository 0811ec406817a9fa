"""What every page module shares: domain errors as pages, the safe ``next``, ids from the URL, a page of
posts, and the keyed (idempotent) money forms. One copy of each; the page modules import from here.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from tastemaker.core.errors import DomainError, NotFound, RateLimited, ValidationFailed
from tastemaker.core.ids import id_or_404, parse_id
from tastemaker.core.money import accepted_currencies, parse_amount
from tastemaker.core.pagination import page_from
from tastemaker.payments import idempotency
from tastemaker.social import selectors

from .forms import FieldErrors, error_text, show_error

PAGE_SIZE = 20

__all__ = ["PAGE_SIZE", "account_or_404", "amount_field", "csv_response", "currency_field", "domain_errors",
           "error_response", "iso_bucket",
           "id_or_404", "keyed_form", "keyed_outcome", "page_of", "post_or_404", "query_max_id", "posted", "safe_next", "see_other",
           "timeline_page", "viewer_of"]


# --- errors as pages ------------------------------------------------------------------------

def error_response(request, message: str, status: int, retry_after: int | None = None) -> HttpResponse:
    if request.htmx:
        # shown in the page's message area (base.html lets htmx swap 4xx responses)
        response = render(request, "web/_flash.html", {"error": message}, status=status)
        response["HX-Retarget"] = "#flash"
        response["HX-Reswap"] = "innerHTML"
    else:
        response = render(request, "web/error.html", {"message": message, "status": status}, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def domain_errors(view):
    """Turn any DomainError raised by a service into a page (or fragment) with its status."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
            return error_response(request, error_text(exc), exc.status, retry_after)

    return wrapper


# --- the request ----------------------------------------------------------------------------

def viewer_of(request):
    """The signed-in user, or None."""
    return request.user if request.user.is_authenticated else None


def safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def page_of(request):
    return page_from(request.GET, default_limit=PAGE_SIZE)


def page_number(request, *, first: int, last: int) -> int:
    """``?page=N`` clamped to ``first..last``; missing or not a number: ``first``."""
    try:
        return max(first, min(int(request.GET.get("page") or first), last))
    except ValueError:
        return first


def query_max_id(request) -> int | None:
    raw = request.GET.get("max_id")
    return parse_id(raw) if raw else None


def posted(request, *names: str) -> dict:
    """The named POST fields, stripped and capped (as typed, to show again)."""
    return {name: (request.POST.get(name) or "").strip()[:200] for name in names}


def see_other(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def account_or_404(username: str):
    account = selectors.get_account(username)
    if account is None:
        raise NotFound(_("Account not found."))
    return account


def post_or_404(request, post_id: int):
    post = selectors.get_post(viewer_of(request), post_id)
    if post is None:
        raise NotFound(_("Post not found."))
    return post


# --- a page of posts ------------------------------------------------------------------------

def timeline_page(request, template: str, context: dict, posts: list, next_max_id=None, limit=None):
    """Render a page of posts; an htmx "load more" request gets just the next slice and pager."""
    state = selectors.hydrate(posts, viewer_of(request))
    limit = limit or PAGE_SIZE
    if next_max_id is None and posts:
        next_max_id = posts[-1].pk
    context.update(posts=posts, state=state, next_max_id=next_max_id if len(posts) >= limit else None)
    if request.htmx and request.GET.get("max_id"):
        response = render(request, "web/_post_list.html", context)
    else:
        response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- CSV exports (the report pages, the campaign page) -----------------------------------

def csv_response(filename: str, header: list[str], rows: list[list]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        # no spreadsheet formulas from stored values
        writer.writerow([f"'{v}" if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v for v in row])
    return response


def iso_bucket(bucket: int) -> str:
    """A bucket start (epoch seconds) as ISO 8601 UTC."""
    return datetime.fromtimestamp(bucket, tz=UTC).isoformat().replace("+00:00", "Z")


# --- money forms ----------------------------------------------------------------------------

def amount_field(values: dict, prefix: str, currency: str, errors: FieldErrors) -> int | None:
    """The amount typed into ``<prefix>_amount`` in minor units, or None with the message next to it."""
    field = f"{prefix}_amount"
    text = values.get(field, "")
    if not text:
        show_error(errors, _("Enter an amount, for example 12.30."), at=field)
        return None
    try:
        amount = parse_amount(text, currency, field=_("Amount"))
    except ValidationFailed as exc:
        show_error(errors, exc, at=field)
        return None
    if amount <= 0:
        show_error(errors, _("The amount must be greater than zero."), at=field)
        return None
    return amount


def currency_field(values: dict, prefix: str, errors: FieldErrors) -> str:
    currency = values.get(f"{prefix}_currency") or settings.DEFAULT_CURRENCY
    if currency not in accepted_currencies():
        show_error(errors, _("Choose one of the currencies offered."), at=f"{prefix}_amount")
        return settings.DEFAULT_CURRENCY
    return currency


def keyed_form(request, body: dict, act, errors: FieldErrors, prefix: str,
               fields: dict[str, str]) -> tuple[dict | None, int]:
    """Run ``act`` once per idempotency key (the hidden field of the form). Returns (data, status); data is
    None when it was refused, with the message in ``errors`` next to the field the service named."""
    try:
        result = idempotency.run_keyed(request.user, request.POST.get("idempotency_key"), request.path, body, act)
    except idempotency.MissingIdempotencyKey:
        show_error(errors, _("This form is out of date: check it and submit it again."), at=prefix)
        return None, 400
    except idempotency.IdempotencyKeyReused:
        show_error(errors, _("This form was already submitted with other values. Check it and submit it again."),
                   at=prefix)
        return None, 422
    return keyed_outcome(request, result, errors, prefix, fields)


def keyed_outcome(request, result: idempotency.IdempotentResponse, errors: FieldErrors, prefix: str,
                  fields: dict[str, str]) -> tuple[dict | None, int]:
    """A keyed request's stored outcome on a form: (data, status), or (None, status) with the message next to
    the field the service named; a replay says that nothing was done twice."""
    data = json.loads(result.body)
    if result.status >= 400:
        show_error(errors, data.get("error") or _("That did not work."), at=fields.get(data.get("field") or "", prefix))
        return None, result.status
    if result.replayed:
        messages.info(request, _("This form was already submitted: nothing was done twice."))
    return data, result.status
