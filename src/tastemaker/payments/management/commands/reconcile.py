"""``tastemaker reconcile PROVIDER [--date D | --from D --to D] [--statement FILE] [--settle]``

Compares the provider's statement with our top-ups and withdrawals and lists every mismatch; exits
with status 1 when there is any, or when the clearing account does not net to zero for a settled day.
Without ``--statement`` the statement is fetched from the provider (the sandbox makes it from its own
records). ``--write-statement FILE`` only writes the provider's statement (CSV) for the dates.
Dates default to yesterday (local time).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tastemaker.core.errors import DomainError
from tastemaker.core.money import to_decimal_string
from tastemaker.payments.providers import get_provider
from tastemaker.payments.providers.sandbox import statement_csv
from tastemaker.payments.reconcile import load_statement, parse_day, reconcile


class Command(BaseCommand):
    help = "Reconcile a payment provider's statement with our records and list every mismatch."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("provider", help="sandbox or alipay")
        parser.add_argument("--date", help="one day, YYYY-MM-DD (default: yesterday)")
        parser.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", help="last day, YYYY-MM-DD (inclusive)")
        parser.add_argument("--statement", help="read the statement from this file instead of the provider")
        parser.add_argument("--write-statement", metavar="FILE", help="write the provider's statement (CSV) and stop")
        parser.add_argument("--settle", action="store_true",
                            help="when nothing mismatches, record the provider's settlement of each day")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            if opts["date"] and (opts["date_from"] or opts["date_to"]):
                raise CommandError("Give --date or --from/--to, not both.")
            if opts["date"]:
                date_from = date_to = parse_day(opts["date"])
            elif opts["date_from"] or opts["date_to"]:
                date_from = parse_day(opts["date_from"] or opts["date_to"])
                date_to = parse_day(opts["date_to"] or opts["date_from"])
            else:
                date_from = date_to = timezone.localdate() - timedelta(days=1)
            provider = opts["provider"]
            if opts["write_statement"]:
                items = get_provider(provider).statement(date_from, date_to)
                Path(opts["write_statement"]).write_text(statement_csv(items), encoding="utf-8")
                self.stdout.write(f"wrote {len(items)} lines to {opts['write_statement']}")
                return
            statement = None
            if opts["statement"]:
                raw = Path(opts["statement"]).read_bytes()
                try:
                    text = raw.decode("utf-8-sig")
                except UnicodeDecodeError:
                    text = raw.decode("gbk")  # Alipay bills are GBK
                statement = load_statement(text)
                self.stdout.write(f"read {len(statement)} lines from {opts['statement']}")
            run = reconcile(provider, date_from, date_to, statement=statement, settle=opts["settle"],
                            progress=self.stdout.write)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        except OSError as exc:
            raise CommandError(str(exc)) from None
        for row in run.report["clearing"]:
            cur = row["currency"]
            self.stdout.write(f"  clearing {row['date']} {cur}: movement {to_decimal_string(row['movement'], cur)}, "
                              f"settlement {to_decimal_string(row['settlement'], cur)}, "
                              f"net {to_decimal_string(row['net'], cur)}" + ("" if row["settled"] else " (not settled)"))
        summary = (f"{provider} {date_from}..{date_to}: {run.statement_lines} statement lines, {run.matched} matched, "
                   f"{run.mismatch_count} mismatches (run {run.pk})")
        if not run.ok:
            raise CommandError(summary, returncode=1)
        self.stdout.write(self.style.SUCCESS(summary))
