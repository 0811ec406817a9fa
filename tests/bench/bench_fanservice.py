"""Fan service benchmark (figure m of ``tests/bench/run.py``; also runnable alone):

  m) a broadcast to N subscribers (default 100,000) delivered by the job (``fanservice.delivery``: chunks of
     FANSERVICE_CHUNK fans, each one ``INSERT … SELECT`` with the segment, block, suspension, idempotency and
     daily-cap checks, its own transaction and resume point) ÷ one raw bulk ``INSERT … SELECT`` of the same
     N inbox rows into the same table (no checks, one statement)                          goal ≤ 2

Each is run twice, alternating, and the faster of each is kept; the rows are deleted between runs (not
timed). Its own SQLite database in ``var/bench-fanservice`` (``--db-url`` for PostgreSQL). Usage:
``.venv/bin/python tests/bench/bench_fanservice.py [--subscribers 100000] [--db-url postgres://…] [--out r.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


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


def build(n: int) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection, transaction

    from tastemaker.accounts.models import User
    from tastemaker.fanservice.models import Subscription

    call_command("migrate", verbosity=0)
    password = make_password(None)
    owner = User.objects.create(username="brand", email="brand@bench.example", password=password)
    t0 = time.perf_counter()
    with transaction.atomic():
        for start in range(0, n, 20_000):
            User.objects.bulk_create([User(username=f"f{i}", email=f"f{i}@bench.example", password=password)
                                      for i in range(start, min(n, start + 20_000))], batch_size=5_000)
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {Subscription._meta.db_table} (id, owner_id, fan_id, created_at) "
                           f"SELECT u.id + 1000000000000, %s, u.id, %s FROM {User._meta.db_table} u "
                           f"WHERE u.username LIKE %s", [owner.pk, owner.date_joined, "f%"])
    return {"owner": owner, "build_s": time.perf_counter() - t0}


def bench(world: dict, n: int) -> dict:
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from tastemaker.fanservice import delivery
    from tastemaker.fanservice.models import (
        Broadcast,
        BroadcastStatus,
        InboxItem,
        Message,
        MessageKind,
        Subscription,
    )

    owner = world["owner"]
    inbox, subs = InboxItem._meta.db_table, Subscription._meta.db_table
    message = Message.objects.create(sender=owner, kind=MessageKind.BROADCAST, text="Weekend sale")
    b = Broadcast.objects.create(owner=owner, message=message, status=BroadcastStatus.SENDING,
                                 send_day=delivery.utc_today())

    def raw() -> float:
        t = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {inbox} (recipient_id, message_id, sender_id, broadcast_id, read, created_at, "
                           f"day, slot) SELECT s.fan_id, %s, %s, %s, %s, %s, %s, 1 FROM {subs} s WHERE s.owner_id = %s",
                           [message.pk, owner.pk, b.pk, False, timezone.now(), delivery.utc_today(), owner.pk])
        return time.perf_counter() - t

    def real() -> float:
        Broadcast.objects.filter(pk=b.pk).update(status=BroadcastStatus.SENDING, next_fan_id=0, delivered=0, deferred=0)
        t = time.perf_counter()
        while delivery.deliver_next_chunk(b.pk):
            pass
        return time.perf_counter() - t

    def clear() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {inbox} WHERE message_id = %s", [message.pk])
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM ANALYZE {inbox}")

    raws, reals = [], []
    for _ in range(2):
        raws.append(raw())
        assert InboxItem.objects.filter(message=message).count() == n
        clear()
        reals.append(real())
        got = Broadcast.objects.get(pk=b.pk)
        assert got.delivered == n and InboxItem.objects.filter(message=message).count() == n, got.delivered
        clear()
    best_raw, best_real = min(raws), min(reals)
    return {"subscribers": n, "chunk": settings.FANSERVICE_CHUNK, "database": connection.vendor,
            "deliver_s": round(best_real, 3), "raw_insert_s": round(best_raw, 3),
            "ratio": round(best_real / best_raw, 2), "runs_deliver_s": [round(x, 3) for x in reals],
            "runs_raw_s": [round(x, 3) for x in raws]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=str(ROOT / "var" / "bench-fanservice"))
    ap.add_argument("--db-url", default=None)
    ap.add_argument("--subscribers", type=int, default=100_000)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    data_dir = Path(args.data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    setup_django(data_dir, args.db_url)
    world = build(args.subscribers)
    res = bench(world, args.subscribers)
    print(f"m) broadcast to {res['subscribers']:,} subscribers ({res['database']}, chunks of {res['chunk']}): "
          f"delivered in {res['deliver_s']:.2f} s ÷ raw bulk INSERT … SELECT {res['raw_insert_s']:.2f} s = "
          f"{res['ratio']:.2f} (goal ≤ 2)")
    if args.out:
        Path(args.out).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
