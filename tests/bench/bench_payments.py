"""Payments benchmark (figure p of ``tests/bench/run.py``; also runnable alone):

  p) transfers/s between random wallets (``payments.services.do_transfer``: two conditional balance
     updates in primary-key order, two entries, the transaction row and its balance trigger, one
     database transaction each) among 1,000 funded wallets — on one connection and on 4 concurrent
     ones — on SQLite (WAL file) and on PostgreSQL; the ledger invariants are checked afterwards
     (every transaction balanced, all balances sum to zero, cached balances = sum of entries, no
     wallet negative). References, same run, same database: a raw insert of the same number of entry
     rows (2 per transfer) into a plain table of the same shape, (a) in bulk, one transaction, and
     (b) one transaction per pair of rows, the way each transfer commits.

SQLite runs in its own data dir (default ``var/bench-payments``). PostgreSQL: ``--pg-url`` /
``BENCH_PG_URL``, or a throwaway server started here as ``scripts/test.sh`` does (and stopped after).
Usage: ``.venv/bin/python tests/bench/bench_payments.py [--transfers 10000] [--db sqlite,postgres]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
N_WALLETS = 1_000
START_BALANCE = 1_000_000  # minor units per wallet
THREADS = 4


# --- one database, in a child process (settings are read once per process) --------------------

def setup_django(data_dir: Path, db_url: str | None) -> None:
    os.environ["TASTEMAKER_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tastemaker.settings"
    os.environ.setdefault("TASTEMAKER_SECRET_KEY", "bench-secret-key-not-for-production-0123456789")
    os.environ["TASTEMAKER_HUEY_IMMEDIATE"] = "0"
    if db_url:
        os.environ["TASTEMAKER_DATABASE_URL"] = db_url
    else:
        os.environ.pop("TASTEMAKER_DATABASE_URL", None)
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def build(n_wallets: int) -> list:
    """Migrate, make the users and fund every wallet in one balanced transaction."""
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from tastemaker.accounts.models import User
    from tastemaker.payments.ledger import post_transaction, provider_clearing, wallet_for

    call_command("migrate", verbosity=0)
    password = make_password(None)
    User.objects.bulk_create([User(username=f"pay{i}", email=f"pay{i}@bench.example", password=password)
                              for i in range(n_wallets)], batch_size=1000)
    users = list(User.objects.filter(username__startswith="pay").order_by("pk"))
    wallets = [wallet_for(u, "CNY") for u in users]
    post_transaction("topup", [(provider_clearing("sandbox", "CNY"), -START_BALANCE * len(wallets)),
                               *[(w, START_BALANCE) for w in wallets]], reference="bench:funding")
    return users


def transfer_run(users: list, n: int, threads: int, seed: int) -> float:
    """Seconds for ``n`` random transfers on ``threads`` connections."""
    from django.db import connections

    from tastemaker.payments.ledger import InsufficientFunds
    from tastemaker.payments.services import do_transfer

    rng = random.Random(seed)
    jobs = []
    for _ in range(n):
        a, b = rng.sample(users, 2)
        jobs.append((a, b, rng.randint(1, 5_000)))
    chunks = [jobs[i::threads] for i in range(threads)]
    failures = []

    def work(chunk):
        try:
            for a, b, amount in chunk:
                try:
                    do_transfer(a, b, amount, "CNY")
                except InsufficientFunds:  # cannot happen with these balances; counted if it does
                    failures.append(1)
        finally:
            connections.close_all()

    t0 = time.perf_counter()
    if threads == 1:
        work(jobs)
    else:
        pool = [threading.Thread(target=work, args=(c,)) for c in chunks]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    elapsed = time.perf_counter() - t0
    assert not failures, f"{len(failures)} transfers refused"
    return elapsed


def raw_inserts(n_rows: int, per_pair: bool) -> float:
    """Insert ``n_rows`` entry-shaped rows into a plain table (no triggers, same index)."""
    from django.db import connection, transaction

    from tastemaker.core.ids import new_id

    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_raw_entry")
        cur.execute("CREATE TABLE bench_raw_entry (id bigint PRIMARY KEY, transaction_id bigint NOT NULL, "
                    "account_id bigint NOT NULL, amount bigint NOT NULL, currency varchar(3) NOT NULL)")
        cur.execute("CREATE INDEX bench_raw_entry_account ON bench_raw_entry (account_id, id)")
    rows = [(new_id(), i // 2, 1 + (i % 997), (-1) ** i * 100, "CNY") for i in range(n_rows)]
    sql = "INSERT INTO bench_raw_entry (id, transaction_id, account_id, amount, currency) VALUES (%s, %s, %s, %s, %s)"
    t0 = time.perf_counter()
    if per_pair:
        for i in range(0, n_rows, 2):
            with transaction.atomic(), connection.cursor() as cur:
                cur.executemany(sql, rows[i:i + 2])
    else:
        with transaction.atomic(), connection.cursor() as cur:
            for i in range(0, n_rows, 1000):
                cur.executemany(sql, rows[i:i + 1000])
    elapsed = time.perf_counter() - t0
    with connection.cursor() as cur:
        cur.execute("DROP TABLE bench_raw_entry")
    return elapsed


def check_invariants() -> dict:
    from django.db import connection

    checks = {
        "unbalanced_transactions": "SELECT count(*) FROM (SELECT transaction_id FROM payments_entry "
                                   "GROUP BY transaction_id, currency HAVING sum(amount) <> 0) t",
        "short_transactions": "SELECT count(*) FROM (SELECT transaction_id FROM payments_entry "
                              "GROUP BY transaction_id HAVING count(*) < 2) t",
        "sum_of_balances": "SELECT coalesce(sum(balance), 0) FROM payments_account",
        "cached_differs": "SELECT count(*) FROM payments_account a WHERE a.balance <> "
                          "(SELECT coalesce(sum(e.amount), 0) FROM payments_entry e WHERE e.account_id = a.id)",
        "negative_wallets": "SELECT count(*) FROM payments_account WHERE kind IN ('wallet', 'held') AND balance < 0",
    }
    out = {}
    with connection.cursor() as cur:
        for name, sql in checks.items():
            cur.execute(sql)
            out[name] = int(cur.fetchone()[0])
    out["ok"] = all(v == 0 for v in out.values())
    return out


def child(args) -> None:
    data_dir = Path(args.data_dir)
    if args.db == "sqlite":
        shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    setup_django(data_dir, args.url)
    from django.db import connection

    users = build(N_WALLETS)
    n = args.transfers
    transfer_run(users, min(500, n), 1, seed=1)  # warm up: caches, prepared paths, pages
    single = transfer_run(users, n, 1, seed=2)
    concurrent = transfer_run(users, n, THREADS, seed=3)
    invariants = check_invariants()
    bulk = raw_inserts(2 * n, per_pair=False)
    per_pair = raw_inserts(2 * n, per_pair=True)
    result = {
        "database": connection.vendor, "wallets": N_WALLETS, "transfers": n,
        "single_s": single, "single_per_s": n / single,
        "concurrent_threads": THREADS, "concurrent_s": concurrent, "concurrent_per_s": n / concurrent,
        "raw_bulk_s": bulk, "raw_bulk_rows_per_s": 2 * n / bulk,
        "raw_pair_s": per_pair, "raw_pair_commits_per_s": n / per_pair,
        "ratio_vs_bulk": single / bulk, "ratio_vs_pair_commits": single / per_pair,
        "invariants": invariants,
    }
    Path(args.out).write_text(json.dumps(result))


# --- orchestration ----------------------------------------------------------------------------

def _pg_bin() -> str | None:
    found = shutil.which("initdb")
    if found:
        return str(Path(found).parent)
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: [int(x) for x in p.parent.name.split(".")
                                                                                   if x.isdigit()])
    return str(candidates[-1]) if candidates else None


class ThrowawayPostgres:
    """initdb + pg_ctl on a free loopback port (as the postgres user when run as root), stopped after."""

    def __init__(self):
        self.bin = _pg_bin()
        if not self.bin:
            raise RuntimeError("PostgreSQL binaries not found")
        self.dir = Path(tempfile.mkdtemp(prefix="tastemaker-bench-pg."))
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.as_pg = []
        if os.getuid() == 0:
            shutil.chown(self.dir, "postgres")
            self.as_pg = ["runuser", "-u", "postgres", "--"]

    def start(self) -> str:
        data = self.dir / "data"
        subprocess.run([*self.as_pg, f"{self.bin}/initdb", "-A", "trust", "-U", "postgres", "-E", "UTF8", "-D",
                        str(data)], check=True, stdout=subprocess.DEVNULL)
        # durable settings (fsync on): the figure should mean what production gets
        subprocess.run([*self.as_pg, f"{self.bin}/pg_ctl", "-D", str(data), "-w", "-l", str(self.dir / "log"),
                        "-o", f"-h 127.0.0.1 -p {self.port} -k {self.dir}", "start"], check=True,
                       stdout=subprocess.DEVNULL)
        return f"postgres://postgres@127.0.0.1:{self.port}/tastemaker_bench_payments"

    def stop(self) -> None:
        data = self.dir / "data"
        if (data / "postmaster.pid").exists():
            subprocess.run([*self.as_pg, f"{self.bin}/pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)


def _fresh_pg_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def run_one(db: str, transfers: int, data_dir: Path, url: str | None) -> dict:
    out = data_dir.parent / f"{data_dir.name}-{db}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--db", db, "--transfers", str(transfers),
           "--data-dir", str(data_dir / db), "--out", str(out)]
    if url:
        cmd += ["--url", url]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASTEMAKER_")}
    subprocess.run(cmd, check=True, env=env, timeout=3600)
    return json.loads(out.read_text())


def figures(transfers: int, dbs: list[str], data_dir: Path, pg_url: str | None = None) -> dict:
    results: dict = {}
    for db in dbs:
        print(f"  {db}: {N_WALLETS:,} wallets, {transfers:,} transfers ...", flush=True)
        server = None
        try:
            url = None
            if db == "postgres":
                url = pg_url
                if not url:
                    server = ThrowawayPostgres()
                    url = server.start()
                _fresh_pg_database(url)
            r = run_one(db, transfers, data_dir, url)
        except (RuntimeError, subprocess.CalledProcessError, OSError) as exc:
            print(f"  {db}: skipped ({exc})")
            continue
        finally:
            if server:
                server.stop()
        results[db] = r
        inv = "invariants hold" if r["invariants"]["ok"] else f"INVARIANTS BROKEN {r['invariants']}"
        print(f"  {db}: {r['single_per_s']:,.0f} transfers/s on one connection, {r['concurrent_per_s']:,.0f}/s on "
              f"{r['concurrent_threads']}; raw insert of {2 * transfers:,} entry rows: {r['raw_bulk_rows_per_s']:,.0f} "
              f"rows/s in bulk (ratio {r['ratio_vs_bulk']:.1f}), {r['raw_pair_commits_per_s']:,.0f} pair-commits/s "
              f"(ratio {r['ratio_vs_pair_commits']:.2f}); {inv}")
    return results


def print_table(results: dict) -> None:
    head = ("database", "transfers/s (1 conn)", f"transfers/s ({THREADS} conns)", "raw rows/s (bulk)",
            "time ÷ bulk", "raw pair-commits/s", "time ÷ pair-commits", "invariants")
    rows = [head]
    for db, r in results.items():
        rows.append((db, f"{r['single_per_s']:,.0f}", f"{r['concurrent_per_s']:,.0f}", f"{r['raw_bulk_rows_per_s']:,.0f}",
                     f"{r['ratio_vs_bulk']:.1f}", f"{r['raw_pair_commits_per_s']:,.0f}",
                     f"{r['ratio_vs_pair_commits']:.2f}", "ok" if r["invariants"]["ok"] else "BROKEN"))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(head))]
    for i, row in enumerate(rows):
        print("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
        if i == 0:
            print("  " + "  ".join("-" * w for w in widths))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--transfers", type=int, default=int(os.environ.get("BENCH_TRANSFERS", "10000")))
    ap.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both (comma-separated)")
    ap.add_argument("--data-dir", default=os.environ.get("BENCH_PAYMENTS_DIR", str(ROOT / "var" / "bench-payments")))
    ap.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL"), help="an existing server (its database "
                    "named in the URL is dropped and re-created)")
    ap.add_argument("--out", help="write the results as JSON here")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args)
        return 0
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    print(f"[p] payments: transfers between random wallets ({args.db})")
    results = figures(args.transfers, [d.strip() for d in args.db.split(",") if d.strip()], data_dir, args.pg_url)
    print_table(results)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))
    return 0 if all(r["invariants"]["ok"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
