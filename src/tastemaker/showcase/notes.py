"""What a commission's trail says, for people: the notes and the rule are stored in English as an audit record
(with raw minor units); these render them in the reader's language with money formatted."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.utils.translation import gettext as _

from tastemaker.core.money import format_amount

# An unknown shape is shown as stored.
_RULE_RE = re.compile(r"within (\d+) days; (product|store) rate ([\d.]+)%; pending for the (\d+)-day return window")
_NOTE_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str], str], str]]] = [
    (re.compile(r"^held (\d+) of the store's deposit; held now (\d+)$"),
     lambda m, cur: _("%(amount)s of the store's deposit held; %(total)s held in all.") % {
         "amount": format_amount(int(m[1]), cur), "total": format_amount(int(m[2]), cur)}),
    (re.compile(r"^released (\d+) to the store's deposit; held now (\d+)$"),
     lambda m, cur: _("%(amount)s released to the store's deposit; %(total)s held in all.") % {
         "amount": format_amount(int(m[1]), cur), "total": format_amount(int(m[2]), cur)}),
    (re.compile(r"^the store's deposit cannot cover (\d+) more; awaiting the store's funding$"),
     lambda m, cur: _("The store's deposit cannot cover %(amount)s more; awaiting the store's funding.") % {
         "amount": format_amount(int(m[1]), cur)}),
    (re.compile(r"^return window closed$"), lambda m, cur: _("The return window closed.")),
    (re.compile(r"^creator suspended$"), lambda m, cur: _("The creator's account is suspended: payout on hold.")),
    (re.compile(r"^paid from the store's deposit to the creator's wallet$"),
     lambda m, cur: _("Paid from the store's deposit to the creator's wallet.")),
    (re.compile(r"^order\.(paid|refunded|cancelled) after the return window closed: not applied$"),
     lambda m, cur: _("%(event)s after the return window closed: not applied.") % {"event": _EVENT_NAMES[m[1]]()}),
    (re.compile(r"^order paid: (\d+) [A-Z]{3} \(minor units\)$"),
     lambda m, cur: _("Order paid: %(amount)s.") % {"amount": format_amount(int(m[1]), cur)}),
    (re.compile(r"^refund (.*): (\d+); refunded in total (\d+) of (\d+)$"),
     lambda m, cur: _("Refund %(id)s: %(amount)s; %(total)s of %(paid)s refunded in all.") % {
         "id": m[1], "amount": format_amount(int(m[2]), cur), "total": format_amount(int(m[3]), cur),
         "paid": format_amount(int(m[4]), cur)}),
    (re.compile(r"^order cancelled: commission voided$"), lambda m, cur: _("Order cancelled: the commission is void.")),
]
_EVENT_NAMES: dict[str, Callable[[], str]] = {
    "paid": lambda: _("Order paid"), "refunded": lambda: _("Order refunded"), "cancelled": lambda: _("Order cancelled")}


def step_note(note: str, currency: str) -> str:
    """A trail step's note in the reader's language, money formatted (¥199.00, never 19900)."""
    for pattern, render in _NOTE_PATTERNS:
        match = pattern.match(note)
        if match:
            return render(match, currency)
    return note


def rule_text(rule: str) -> str:
    """The attribution rule a commission was made under, as a sentence in the reader's language."""
    match = _RULE_RE.search(rule)
    if not match:
        return rule
    days, source, rate, window = match.groups()
    params = {"days": int(days), "rate": rate, "window": int(window)}
    if source == "product":
        text = _("The last valid click-out within %(days)d days earns it, at the product's rate of %(rate)s%%; it "
                 "stays pending for the %(window)d-day return window and is paid from the store's deposit.")
    else:
        text = _("The last valid click-out within %(days)d days earns it, at the store's rate of %(rate)s%%; it "
                 "stays pending for the %(window)d-day return window and is paid from the store's deposit.")
    return text % params
