"""Reconciliation: the provider's statement against our top-ups and withdrawals.

``reconcile(provider, date_from, date_to)`` reads the provider's statement for the dates (or one
given as a file), matches it line by line by order number and lists every mismatch:

* ``missing_ours``    the provider moved money for an order we do not know;
* ``missing_theirs``  we recorded a top-up paid / withdrawal paid out in the period, the provider did not;
* ``amount_differs``  both know the order, with different amounts (or currencies);
* ``status_differs``  the provider says it succeeded, our record does not (e.g. a lost notification:
  ``services.do_query_topup`` fixes a top-up).

It then checks the provider clearing account per day and currency: the day's movements (top-ups
credited, payouts made) plus the day's settlement must net to zero for every settled day. With
``settle=True`` and no mismatches, the period's days are settled first (``services.do_settle``,
with the provider's net for each day), so a clean run leaves the clearing account at zero for them.

The run (report and statement lines) is stored as a ``ReconciliationRun`` for the operator page.
``tastemaker reconcile PROVIDER`` is the command-line face of it.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from tastemaker.core.errors import ValidationFailed
from tastemaker.core.money import check_currency, parse_amount, to_decimal_string

from . import services
from .models import (
    Entry,
    ReconciliationRun,
    StatementLine,
    TopUp,
    TopUpStatus,
    Transaction,
    TransactionKind,
    Withdrawal,
    WithdrawalStatus,
)
from .providers import StatementItem, enabled_providers, get_provider
from .providers.sandbox import STATEMENT_FIELDS, day_bounds

if TYPE_CHECKING:
    from tastemaker.accounts.models import User

    from .idempotency import IdempotentResponse

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Mismatch:
    kind: str  # missing_ours | missing_theirs | amount_differs | status_differs
    record: str  # payment | payout
    order_no: str
    ours: str  # "12.30 CNY succeeded", or "" when we have nothing
    theirs: str
    note: str = ""


def _describe(amount: int, currency: str, status: str) -> str:
    return f"{to_decimal_string(amount, currency)} {currency} {status}"


def load_statement(text: str) -> list[StatementItem]:
    """A statement file: our CSV (``kind,order_no,trade_no,amount,currency,status,occurred_at``, as the
    sandbox writes it) or an Alipay trade bill. ``ValidationFailed`` naming the line for bad input."""
    if "商户订单号" in text[:4000]:
        from .providers.alipay import parse_bill

        return parse_bill(text.encode("utf-8-sig") if not text.startswith("\ufeff") else text.encode("utf-8"))
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or [f.strip() for f in reader.fieldnames][:len(STATEMENT_FIELDS)] != STATEMENT_FIELDS:
        raise ValidationFailed(_("The statement's first line must be: %(fields)s")
                               % {"fields": ",".join(STATEMENT_FIELDS)})
    items = []
    for number, row in enumerate(reader, start=2):
        try:
            currency = check_currency(row["currency"])
            kind, status = row["kind"].strip(), row["status"].strip()
            if kind not in ("payment", "payout") or status not in ("succeeded", "failed") or not row["order_no"]:
                raise ValidationFailed(_("kind, status or order number is not valid"))
            occurred = parse_datetime(row["occurred_at"].strip()) if row.get("occurred_at") else None
            items.append(StatementItem(kind=kind, order_no=row["order_no"].strip(), trade_no=row["trade_no"].strip(),
                                       amount=parse_amount(row["amount"], currency), currency=currency,
                                       status=status, occurred_at=occurred))
        except (ValidationFailed, KeyError, ValueError, AttributeError) as exc:
            message = getattr(exc, "message", str(exc))
            raise ValidationFailed(_("Statement line %(n)d: %(error)s") % {"n": number, "error": message}) from None
    return items


def reconcile(provider: str, date_from: date, date_to: date, *, statement: list[StatementItem] | None = None,
              settle: bool = False, progress: Progress | None = None) -> ReconciliationRun:
    """Compare, optionally settle, store and return the run (see the module docstring)."""
    say = progress or (lambda _msg: None)
    if date_to < date_from:
        raise ValidationFailed(_("The end date is before the start date."))
    if statement is None:
        say(f"fetching the {provider} statement for {date_from} .. {date_to}")
        statement = get_provider(provider).statement(date_from, date_to)
    else:
        get_provider(provider)  # must be enabled
    say(f"statement: {len(statement)} lines")
    mismatches, matched = _compare(provider, date_from, date_to, statement, say)
    say(f"matched {matched}, mismatches {len(mismatches)}")
    settled_now = []
    if settle and not mismatches:
        for (day, currency), net in sorted(_statement_nets(statement, date_from, date_to).items()):
            if services.do_settle(provider, currency, day, net) is not None:
                settled_now.append({"date": day.isoformat(), "currency": currency, "amount": net})
                say(f"settled {day} {currency}: {to_decimal_string(net, currency)}")
    clearing = clearing_check(provider, date_from, date_to)
    clearing_ok = all(row["net"] == 0 for row in clearing if row["settled"])
    if not any(row["settled"] for row in clearing):
        say("clearing account: no settled day in the period")
    else:
        say("clearing account: " + ("nets to zero for the settled days" if clearing_ok
                                    else "DOES NOT net to zero for a settled day"))
    with transaction.atomic():
        run = ReconciliationRun.objects.create(
            provider=provider, date_from=date_from, date_to=date_to, statement_lines=len(statement), matched=matched,
            mismatch_count=len(mismatches),
            report={"mismatches": [asdict(m) for m in mismatches], "clearing": clearing, "clearing_ok": clearing_ok,
                    "settled": settled_now})
        StatementLine.objects.bulk_create(
            [StatementLine(run=run, kind=i.kind, order_no=i.order_no[:64], trade_no=i.trade_no[:64], amount=i.amount,
                           currency=i.currency, status=i.status, occurred_at=i.occurred_at) for i in statement],
            batch_size=1000)
    return run


def _compare(provider: str, date_from: date, date_to: date, statement: list[StatementItem],
             say: Callable[[str], object]) -> tuple[list[Mismatch], int]:
    start, end = day_bounds(date_from, date_to)
    theirs = {(i.kind, i.order_no): i for i in statement}
    orders = {"payment": [i.order_no for i in statement if i.kind == "payment"],
              "payout": [i.order_no for i in statement if i.kind == "payout"]}
    ours: dict[tuple[str, str], tuple[int, str, str, datetime | None]] = {}  # (kind, order) -> (amount, currency, status, when)
    topups = TopUp.objects.filter(provider=provider).filter(
        order_no__in=orders["payment"]) | TopUp.objects.filter(
        provider=provider, status=TopUpStatus.SUCCEEDED, paid_at__gte=start, paid_at__lt=end)
    for t in topups.distinct():
        ours[("payment", t.order_no)] = (t.amount, t.currency, t.status, t.paid_at)
    wds = Withdrawal.objects.filter(provider=provider).filter(order_no__in=orders["payout"]) | Withdrawal.objects.filter(
        provider=provider, status=WithdrawalStatus.SUCCEEDED, finished_at__gte=start, finished_at__lt=end)
    for w in wds.distinct():
        ours[("payout", w.order_no)] = (w.amount, w.currency, w.status, w.finished_at)
    say(f"our records: {len(ours)}")
    mismatches: list[Mismatch] = []
    matched = 0
    for key, item in theirs.items():
        record, order_no = key
        mine = ours.get(key)
        their_text = _describe(item.amount, item.currency, item.status)
        if mine is None:
            mismatches.append(Mismatch("missing_ours", record, order_no, "", their_text,
                                       f"trade {item.trade_no}" if item.trade_no else ""))
        elif (mine[0], mine[1]) != (item.amount, item.currency):
            mismatches.append(Mismatch("amount_differs", record, order_no, _describe(*mine[:3]), their_text))
        elif (mine[2] == "succeeded") != (item.status == "succeeded"):
            mismatches.append(Mismatch("status_differs", record, order_no, _describe(*mine[:3]), their_text))
        else:
            matched += 1
    for key, mine in ours.items():
        if key not in theirs and mine[2] == "succeeded" and mine[3] is not None and start <= mine[3] < end:
            mismatches.append(Mismatch("missing_theirs", key[0], key[1], _describe(*mine[:3]), ""))
    mismatches.sort(key=lambda m: (m.kind, m.order_no))
    for m in mismatches:
        say(f"  {m.kind:<15} {m.record:<8} {m.order_no:<24} ours: {m.ours or '-':<24} theirs: {m.theirs or '-'}")
    return mismatches, matched


def _statement_nets(statement: list[StatementItem], date_from: date, date_to: date) -> dict[tuple[date, str], int]:
    nets: dict[tuple[date, str], int] = defaultdict(int)
    for item in statement:
        if item.status != "succeeded" or item.occurred_at is None:
            continue
        day = timezone.localtime(item.occurred_at).date()
        if date_from <= day <= date_to:
            nets[(day, item.currency)] += item.amount if item.kind == "payment" else -item.amount
    return nets


def clearing_check(provider: str, date_from: date, date_to: date) -> list[dict[str, Any]]:
    """Per day and currency: the clearing account's movement, the settlement posted for the day, and
    their net (zero when our records and the settled amount agree)."""
    rows = []
    currencies = set(Entry.objects.filter(account__kind="provider_clearing", account__provider=provider)
                     .values_list("currency", flat=True).distinct())
    day = date_from
    while day <= date_to:
        for currency in sorted(currencies):
            movement = services.clearing_movement(provider, currency, day)
            settlement = Transaction.objects.filter(
                kind=TransactionKind.SETTLEMENT, reference=f"settle:{provider}:{currency}:{day.isoformat()}").first()
            settled_amount = 0
            if settlement is not None:
                settled_amount = sum(e.amount for e in settlement.entries.select_related("account")
                                     if e.account.kind == "provider_clearing")
            if movement or settlement is not None:
                rows.append({"date": day.isoformat(), "currency": currency, "movement": movement,
                             "settled": settlement is not None, "settlement": settled_amount,
                             "net": movement + settled_amount})
        day += timedelta(days=1)
    return rows


def parse_day(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise ValidationFailed(_("Dates are written YYYY-MM-DD.")) from None


# --- a reconciliation asked for by an operator (the web page and the API: one rule) -----------

MAX_RECONCILE_DAYS = 92


def check_reconcile_request(provider: str, date_from: date, date_to: date) -> None:
    """What an operator may ask to reconcile: an enabled provider, a period that runs forwards, at most
    ``MAX_RECONCILE_DAYS`` long, and over (not ending in the future)."""

    if provider not in enabled_providers():
        raise ValidationFailed(_("Choose a payment provider."), field="provider")
    if date_to < date_from:
        raise ValidationFailed(_("The end date is before the start date."), field="date_to")
    if (date_to - date_from).days >= MAX_RECONCILE_DAYS:
        raise ValidationFailed(_("Reconcile at most %(n)d days at once.") % {"n": MAX_RECONCILE_DAYS},
                               field="date_to")
    if date_to > timezone.localdate():
        raise ValidationFailed(_("The period cannot end in the future."), field="date_to")


def do_reconcile_request(user: User, key: str | None, operation: str, provider: str, date_from: date,
                         date_to: date, settle: bool,
                         respond: Callable[[ReconciliationRun], dict[str, Any]]) -> IdempotentResponse:
    """One reconciliation per idempotency key (``payments.idempotency``): checked first, then the remote
    provider's statement is fetched before the database transaction (and not at all for a replay); ``respond``
    makes the stored body from the run. Raises ProviderUnavailable when the provider cannot be reached."""
    from . import idempotency

    check_reconcile_request(provider, date_from, date_to)
    key = idempotency.require_key(key)
    statement = None
    if not idempotency.key_used(user, key):
        statement = get_provider(provider).statement(date_from, date_to)

    def act() -> tuple[int, Any]:
        run = reconcile(provider, date_from, date_to, statement=statement, settle=settle)
        return 201, respond(run)

    body = {"provider": provider, "date_from": date_from, "date_to": date_to, "settle": settle}
    return idempotency.run_keyed(user, key, operation, body, act)
