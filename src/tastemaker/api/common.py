"""What every resource module of the API shares: ids from paths, pages and Link headers, statuses rendered
for the viewer, accounts and posts looked up (404 when missing or hidden), and the idempotent answer of a
money request. No queries of its own: each helper calls a selector or a service."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpResponse

from tastemaker.core.errors import NotFound, ValidationFailed
from tastemaker.core.ids import parse_id
from tastemaker.core.money import format_amount
from tastemaker.core.pagination import Page, link_header, page_from
from tastemaker.payments import idempotency
from tastemaker.social import selectors as social

from . import serializers as ser
from .auth import viewer

# an operation that moves money declares the header it needs
KEY_HEADER = {"parameters": [{
    "in": "header", "name": "Idempotency-Key", "required": True,
    "description": "A unique string (1-255 printable ASCII characters) per money request: repeating it with the "
                   "same body replays the first response; with another body it is refused (422); missing: 400.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255}}]}


# --- ids ------------------------------------------------------------------------------------

def id_or_404(value: str | None) -> int:
    """A record id from the path; anything that is not one is simply not found."""
    number = parse_id(value) if value is not None else None
    if number is None:
        raise NotFound("Record not found")
    return number


def optional_id(value: str | None, field: str) -> int | None:
    """An id from the body, or None; anything else is a 422 naming the field."""
    if value in (None, ""):
        return None
    number = parse_id(value)
    if number is None:
        raise ValidationFailed(f"{field}: must be an id (digits)", field=field)
    return number


def money(amount: int | None, currency: str) -> str | None:
    return format_amount(amount, currency) if amount is not None and currency else None


# --- pages and Link headers -----------------------------------------------------------------

def page(request) -> Page:
    return page_from(request.GET)


def set_links(request, response: HttpResponse, first: int | None, last: int | None) -> None:
    link = link_header(request.build_absolute_uri(request.path), request.GET.dict(), first, last)
    if link:
        response["Link"] = link


def next_link(request, response: HttpResponse, last_id: int | None, full: bool) -> None:
    """rel="next" (older) for a full page, for the lists that page by max_id only."""
    if last_id is None or not full:
        return
    keep = {k: v for k, v in request.GET.dict().items() if k not in ("max_id", "since_id", "min_id") and v != ""}
    response["Link"] = f'<{request.build_absolute_uri(request.path)}?{urlencode({**keep, "max_id": last_id})}>; rel="next"'


# --- statuses and accounts ------------------------------------------------------------------

def statuses(request, posts) -> list[dict]:
    state = social.hydrate(posts, viewer(request))
    ctx = ser.load_cards(ser.Ctx(request, state), posts)
    return [ser.status(p, ctx) for p in posts]


def status(request, post) -> dict:
    return statuses(request, [post])[0]


def account_or_404(account_id: str):
    number = parse_id(account_id)
    account = social.get_account(number) if number is not None else None
    if account is None:
        raise NotFound("Record not found")
    return account


def post_or_404(request, status_id: str):
    number = parse_id(status_id)
    post = social.get_post(viewer(request), number) if number is not None else None
    if post is None:
        raise NotFound("Record not found")
    return post


def relationship(request, target) -> dict:
    return ser.relationship(social.relationships(request.user, [target.pk])[0])


def account_list(request, response, rows) -> list[dict]:
    """A page of accounts from a selector's (accounts, first id, last id), with its Link header."""
    accounts, first, last = rows
    set_links(request, response, first, last)
    ctx = ser.Ctx(request)
    return [ser.account(a, ctx) for a in accounts]


# --- money requests -------------------------------------------------------------------------

def keyed(request, operation: str, payload: dict, act) -> HttpResponse:
    """Run ``act`` once per (user, Idempotency-Key) and answer with the stored response."""
    return keyed_response(idempotency.run_keyed(request.user, request.headers.get("Idempotency-Key"), operation,
                                                payload, act))


def keyed_response(result: idempotency.IdempotentResponse) -> HttpResponse:
    """A stored (or just made) idempotent response as HTTP, marked when it is a replay."""
    response = HttpResponse(result.body, status=result.status, content_type="application/json; charset=utf-8")
    if result.replayed:
        response["Idempotent-Replayed"] = "true"
    return response
