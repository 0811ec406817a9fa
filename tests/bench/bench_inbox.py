"""Direct-message inbox benchmark (figure n of ``tests/bench/run.py``; also runnable alone):

  n) ``GET /api/v1/conversations`` (a page of 20) p50 for an account with 1,000 conversations ÷ the p50 of
     the trivial ``GET /api/health``, the same process, the same client, requests alternating    goal ≤ 3

The conversations are real: 1,000 accounts (followed by the reader, so they land in the inbox) each send the
reader a direct message through ``social.services.do_create_post``. Django's test client in process (the
HTTP server is not what is measured; figure a measures it). Its own SQLite database in ``var/bench-inbox``
(``--db-url`` for PostgreSQL). Usage: ``.venv/bin/python tests/bench/bench_inbox.py [--conversations 1000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def setup_django(data_dir: Path, db_url: str | None) -> None:
    os.environ["TASTEMAKER_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tastemaker.settings"
    os.environ.setdefault("TASTEMAKER_SECRET_KEY", "bench-secret-key-not-for-production-0123456789")
    os.environ["TASTEMAKER_HUEY_IMMEDIATE"] = "0"
    os.environ["TASTEMAKER_ALLOWED_HOSTS"] = "testserver"
    os.environ["TASTEMAKER_RATE_MESSAGE"] = "100000/60"
    os.environ["TASTEMAKER_STREAM_BACKEND"] = "off"
    if db_url:
        os.environ["TASTEMAKER_DATABASE_URL"] = db_url
    else:
        os.environ.pop("TASTEMAKER_DATABASE_URL", None)
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def build(n: int):
    import secrets
    from datetime import timedelta

    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model, get_application_model

    from tastemaker.accounts.models import User
    from tastemaker.social.models import Follow
    from tastemaker.social.services import do_create_post

    call_command("migrate", verbosity=0)
    password = make_password(None)
    reader = User.objects.create(username="reader", email="reader@bench.example", password=password)
    User.objects.bulk_create([User(username=f"s{i}", email=f"s{i}@bench.example", password=password)
                              for i in range(n)], batch_size=1000)
    senders = list(User.objects.filter(username__startswith="s").order_by("pk"))
    Follow.objects.bulk_create([Follow(follower=reader, target=s) for s in senders], batch_size=1000)
    t0 = time.perf_counter()
    for i, s in enumerate(senders):
        do_create_post(s, text=f"@reader hello from shop {i}, is the blue one still in stock?", visibility="direct")
    built_s = time.perf_counter() - t0
    app = get_application_model().objects.create(name="bench", client_type="confidential",
                                                 authorization_grant_type="authorization-code",
                                                 redirect_uris="urn:ietf:wg:oauth:2.0:oob", scopes="read")
    token = get_access_token_model().objects.create(user=reader, application=app, token=secrets.token_urlsafe(24),
                                                    scope="read", expires=timezone.now() + timedelta(days=1))
    return Client(HTTP_AUTHORIZATION=f"Bearer {token.token}"), built_s


def measure(client, rounds: int) -> dict:
    def once(path: str) -> float:
        t = time.perf_counter()
        r = client.get(path)
        took = (time.perf_counter() - t) * 1000
        assert r.status_code == 200, r.content[:200]
        return took

    first = client.get("/api/v1/conversations").json()
    assert len(first) == 20 and all(c["last_status"]["visibility"] == "direct" for c in first)
    for _ in range(20):  # warm both
        once("/api/health")
        once("/api/v1/conversations")
    health, inbox = [], []
    for _ in range(rounds):
        health.append(once("/api/health"))
        inbox.append(once("/api/v1/conversations"))
    h, i = statistics.median(health), statistics.median(inbox)
    return {"health_p50_ms": h, "inbox_p50_ms": i, "ratio": i / h, "samples": rounds}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=str(ROOT / "var" / "bench-inbox"))
    ap.add_argument("--db-url", default=None)
    ap.add_argument("--conversations", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=400)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    data_dir = Path(args.data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    setup_django(data_dir, args.db_url)
    client, built_s = build(args.conversations)
    res = {**measure(client, args.rounds), "conversations": args.conversations, "built_s": built_s}
    print(f"n) inbox API p50 with {args.conversations:,} conversations {res['inbox_p50_ms']:.2f} ms ÷ /api/health "
          f"{res['health_p50_ms']:.2f} ms = {res['ratio']:.2f} (goal ≤ 3)")
    if args.out:
        Path(args.out).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
