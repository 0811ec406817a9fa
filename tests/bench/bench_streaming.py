"""Streaming benchmark (figure s of ``tests/bench/run.py``; also runnable alone):

  s) 1,000 open streams held by one streaming server process (``uvicorn tastemaker.asgi:application``, as
     ``tastemaker serve`` starts it): every stream is a follower's ``user`` stream; the author posts, and each
     post's latency is measured from its commit to its arrival (the ``update`` event) on every follower's stream.
     Goal: p99 ≤ 1 s. Also printed: p50 and max, the time to open the 1,000 streams, the streaming server's
     memory (RSS) holding them, and the same latency with 1 stream (the floor).

The followers connect over real HTTP (asyncio sockets in this process); the posts are made in this process through
``social.services.do_create_post`` (the commit time is taken by an ``on_commit`` callback registered first, so it
runs right after the commit). Its own SQLite database in ``var/bench-streaming`` (events through local sockets);
``--db-url`` for PostgreSQL (LISTEN/NOTIFY). Runs in about a minute.
Usage: ``.venv/bin/python tests/bench/bench_streaming.py [--streams 1000] [--posts 20] [--out results.json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def setup_django(data_dir: Path, db_url: str | None) -> dict:
    env = {"TASTEMAKER_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "tastemaker.settings",
           "TASTEMAKER_SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
           "TASTEMAKER_HUEY_IMMEDIATE": "0", "TASTEMAKER_RATE_POST": "100000/60",
           "TASTEMAKER_STREAM_MAX_CONNECTIONS": "100000",
           "TASTEMAKER_RULES_ENABLED": "0"}  # anti-flooding would refuse near-same posts: not what is measured
    if db_url:
        env["TASTEMAKER_DATABASE_URL"] = db_url
    else:
        os.environ.pop("TASTEMAKER_DATABASE_URL", None)
    os.environ.pop("TASTEMAKER_REDIS_URL", None)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    return env


def build(streams: int):
    from django.core.management import call_command
    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model, get_application_model

    from tastemaker.accounts.models import User
    from tastemaker.social.models import Follow

    call_command("migrate", interactive=False, verbosity=0)
    author = User.objects.create(username="bench_author", email="author@bench.invalid")
    fans = User.objects.bulk_create([User(username=f"bench_fan{i}", email=f"fan{i}@bench.invalid")
                                     for i in range(streams)])
    Follow.objects.bulk_create([Follow(follower=f, target=author) for f in fans])
    User.objects.filter(pk=author.pk).update(followers_count=streams)
    app = get_application_model().objects.create(name="bench", client_type="confidential",
                                                 authorization_grant_type="password", redirect_uris="")
    Token = get_access_token_model()
    tokens = []
    expires = timezone.now() + timedelta(days=1)
    for fan in fans:
        raw = secrets.token_urlsafe(24)
        Token.objects.create(user=fan, application=app, token=raw, scope="read write follow", expires=expires)
        tokens.append(raw)
    return author, tokens


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Follower:
    def __init__(self, token: str):
        self.token = token
        self.arrivals: dict[str, float] = {}
        self.opened = asyncio.Event()

    async def run(self, port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        writer.write((f"GET /api/v1/streaming/user HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                      f"Authorization: Bearer {self.token}\r\nAccept: text/event-stream\r\n\r\n").encode())
        await writer.drain()
        status = await reader.readline()
        if b" 200 " not in status:
            raise RuntimeError(f"stream refused: {status!r}")
        event = None
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                if line.startswith(b":)"):
                    self.opened.set()
                elif line.startswith(b"event: "):
                    event = line[7:].strip()
                elif line.startswith(b"data: ") and event == b"update":
                    now = time.monotonic()
                    self.arrivals[json.loads(line[6:])["id"]] = now
        finally:
            writer.close()


async def measure(port: int, author, tokens: list[str], posts: int, gap: float, pid: int) -> dict:
    from django.db import transaction

    from tastemaker.social import services

    followers = [Follower(t) for t in tokens]
    t0 = time.monotonic()
    tasks = []
    for i, f in enumerate(followers):
        tasks.append(asyncio.create_task(f.run(port)))
        if i % 50 == 49:
            await asyncio.sleep(0)
    await asyncio.wait_for(asyncio.gather(*(f.opened.wait() for f in followers)), 300)
    open_seconds = time.monotonic() - t0
    rss_open = _rss_kb(pid)
    loop = asyncio.get_running_loop()
    commits: dict[str, float] = {}

    def post(n: int) -> None:
        marks: list[float] = []
        with transaction.atomic():
            transaction.on_commit(lambda: marks.append(time.monotonic()))  # first: runs right after the commit
            created = services.do_create_post(author, text=f"Bench post {n}: fresh coffee beans #bench")
        commits[str(created.pk)] = marks[0]

    for n in range(posts):
        await loop.run_in_executor(None, post, n)
        await asyncio.sleep(gap)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and sum(len(f.arrivals) for f in followers) < posts * len(followers):
        await asyncio.sleep(0.05)
    latencies = [f.arrivals[pid] - at for pid, at in commits.items() for f in followers if pid in f.arrivals]
    missing = posts * len(followers) - len(latencies)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {"streams": len(followers), "posts": posts, "arrivals": len(latencies), "missing": missing,
            "open_seconds": round(open_seconds, 2), "rss_mb_open": round(rss_open / 1024, 1), "p50_ms": round(pct(0.50), 1), "p99_ms": round(pct(0.99), 1),
            "max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
            "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else None}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--posts", type=int, default=20)
    ap.add_argument("--gap", type=float, default=0.5, help="seconds between posts")
    ap.add_argument("--data-dir", default=str(ROOT / "var" / "bench-streaming"))
    ap.add_argument("--db-url", default=None, help="e.g. postgres://… (default: SQLite in the data dir)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    data_dir = Path(args.data_dir).resolve()
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    env = setup_django(data_dir, args.db_url)
    from django.db import connection

    from tastemaker.core import streams

    if connection.vendor == "postgresql":  # a fresh database each run
        with connection.cursor() as cur:
            cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    author, tokens = build(args.streams)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "tastemaker.asgi:application", "--port", str(port), "--lifespan", "on",
         "--no-access-log", "--log-level", "warning", "--timeout-graceful-shutdown", "2"],
        env={**os.environ, **env, "PYTHONPATH": str(ROOT / "src")})
    try:
        import urllib.request

        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/streaming/health", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        floor = asyncio.run(measure(port, author, tokens[:1], min(args.posts, 10), 0.2, server.pid))
        rss_idle = _rss_kb(server.pid)
        result = asyncio.run(measure(port, author, tokens, args.posts, args.gap, server.pid))
        result["rss_mb_before"] = round(rss_idle / 1024, 1)
        result["backend"] = streams.backend()
        result["database"] = connection.vendor
        result["one_stream"] = floor
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
    result["goal_p99_ms"] = 1000
    result["ok"] = result["missing"] == 0 and result["p99_ms"] <= 1000
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
