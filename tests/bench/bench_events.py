"""Events and reports benchmark (figures d, e, f of ``tests/bench/run.py``; also runnable alone):

  d) sustained batched ingest (``analytics.services.do_record_events``, batches of 500: filters, raw
     insert with de-duplication, counter upserts, one transaction per batch) in events/s ÷ a raw bulk
     insert of the same rows into the same table, same batches            goal ≥ 0.3 and ≥ 20,000/s
  e) freshness at that rate: a writer process ingests continuously at the target rate while probes
     measure accepted → visible in the report API (in-process, the real view)     goal p99 ≤ 1 s
  f) report API (over HTTP, gunicorn) for a post with 1,000,000 events: p50 ÷ p50 of /api/health
                                                                                   goal ≤ 5

Own data dir (default ``var/bench-events``, SQLite), so it never touches the feed benchmark's dataset.
Usage: ``.venv/bin/python tests/bench/bench_events.py [--only def] [--events 200000]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BATCH = 500
N_USERS = 5_000
N_AUTHORS = 200
N_POSTS = 2_000
BIG_EVENTS = 1_000_000
UA_SHARE = {"": 0.95, "bot": 0.03, "prefetch": 0.02}


def setup_django(data_dir: Path) -> None:
    os.environ["TASTEMAKER_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tastemaker.settings"
    os.environ.setdefault("TASTEMAKER_SECRET_KEY", "bench-secret-key-not-for-production-0123456789")
    os.environ.setdefault("TASTEMAKER_HUEY_IMMEDIATE", "0")
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


# --- dataset --------------------------------------------------------------------------------

def ensure_dataset() -> dict:
    from django.core.management import call_command
    from django.db import transaction

    from tastemaker.accounts.models import User
    from tastemaker.social.models import Follow, Post

    call_command("migrate", verbosity=0)
    if User.objects.filter(username="ev_author0").exists():
        return _meta()
    rng = random.Random(7)
    t0 = time.perf_counter()
    with transaction.atomic():
        users = [User(username=f"ev_user{i}", email=f"ev_user{i}@example.org", password="!",
                      language=rng.choice(["en", "en", "zh-hans"])) for i in range(N_USERS)]
        authors = [User(username=f"ev_author{i}", email=f"ev_author{i}@example.org", password="!")
                   for i in range(N_AUTHORS)]
        User.objects.bulk_create(users + authors, batch_size=2000)
        posts = [Post(author=authors[i % N_AUTHORS], text=f"bench post {i}") for i in range(N_POSTS + 1)]
        Post.objects.bulk_create(posts, batch_size=2000)
        follows = {(rng.randrange(N_USERS), rng.randrange(N_AUTHORS)) for _ in range(40_000)}
        Follow.objects.bulk_create([Follow(follower=users[u], target=authors[a]) for u, a in follows],
                                   batch_size=5000)
    print(f"  dataset: {N_USERS:,} viewers, {N_AUTHORS} authors, {N_POSTS:,} posts, {len(follows):,} follows "
          f"({time.perf_counter() - t0:.1f} s)")
    return _meta()


def _meta() -> dict:
    from tastemaker.accounts.models import User
    from tastemaker.social.models import Post

    viewers = list(User.objects.filter(username__startswith="ev_user").values_list("pk", flat=True))
    posts = list(Post.objects.filter(author__username__startswith="ev_author").order_by("pk")
                 .values_list("pk", "author_id"))
    return {"viewers": viewers, "posts": posts[:-1], "big_post": posts[-1]}


def make_stream(meta: dict, n: int, seed: int, at_ms=None) -> list:
    """A realistic mix: Zipf-popular posts, 30 % signed-in viewers, anonymous visitors, some repeats,
    bots and prefetches; spread over surfaces and devices."""
    from tastemaker.analytics.services import EventIn

    rng = random.Random(seed)
    posts, viewers = meta["posts"], meta["viewers"]
    weights = [1 / (i + 1) ** 0.9 for i in range(len(posts))]
    chosen = rng.choices(posts, weights=weights, k=n)
    out = []
    for i, (pid, owner) in enumerate(chosen):
        signed_in = rng.random() < 0.3
        r = rng.random()
        reason = "bot" if r < UA_SHARE["bot"] else "prefetch" if r < UA_SHARE["bot"] + UA_SHARE["prefetch"] else ""
        out.append(EventIn(
            metric="impression" if rng.random() < 0.85 else rng.choice(["read", "link_click"]),
            subject_type="post", subject_id=pid, owner_id=owner,
            surface=rng.choice(["home", "home", "home", "profile", "search", "public", "promoted"]),
            viewer_id=rng.choice(viewers) if signed_in else None,
            visitor="" if signed_in else f"{rng.randrange(200_000):032x}", reason=reason,
            device=rng.choice(["mobile", "mobile", "mobile", "desktop", "tablet"]), language="en",
            at_ms=None if at_ms is None else at_ms(i)))
    return out


# --- d) ingest ------------------------------------------------------------------------------

def wait_rolled_up(timeout: float = 120) -> None:
    from tastemaker.analytics.models import Pending

    deadline = time.perf_counter() + timeout
    while Pending.objects.exists():
        if time.perf_counter() > deadline:
            raise RuntimeError("the rollup did not catch up")
        time.sleep(0.01)


def ingest(events: list, wait: bool = True) -> float:
    """Ingest in batches (the request path) with the rollup thread counting meanwhile; the time runs
    until every event is in the counters."""
    from tastemaker.analytics.services import do_record_events

    t0 = time.perf_counter()
    for i in range(0, len(events), BATCH):
        do_record_events(events[i:i + BATCH])
    if wait:
        wait_rolled_up()
    return time.perf_counter() - t0


def ingest_batches(events: list, size: int) -> None:
    from tastemaker.analytics.services import do_record_events

    for i in range(0, len(events), size):
        do_record_events(events[i:i + size])
    wait_rolled_up()


def raw_insert(first_id: int, n: int) -> float:
    """The same rows (copied from what the ingest stored), inserted plainly in the same batches."""
    from django.db import connection, transaction

    from tastemaker.analytics.models import Event
    from tastemaker.analytics.services import EVENT_COLUMNS
    from tastemaker.core.ids import new_id

    cols = ", ".join(EVENT_COLUMNS)
    with connection.cursor() as c:
        c.execute(f"SELECT {cols} FROM analytics_event WHERE id >= %s ORDER BY id LIMIT %s", [first_id, n])
        rows = [(new_id(), *r[1:13], None) for r in c.fetchall()]
    sql = f"INSERT INTO analytics_event ({cols}) VALUES ({', '.join(['%s'] * len(EVENT_COLUMNS))})"
    t0 = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        with transaction.atomic(), connection.cursor() as c:
            c.executemany(sql, rows[i:i + BATCH])
    elapsed = time.perf_counter() - t0
    Event.objects.filter(pk__in=[r[0] for r in rows]).delete() if len(rows) < 50_000 else \
        _delete_ids([r[0] for r in rows])
    return elapsed


def _delete_ids(ids: list[int]) -> None:
    from tastemaker.analytics.models import Event

    for i in range(0, len(ids), 20_000):
        Event.objects.filter(pk__in=ids[i:i + 20_000]).delete()


def sustained_ingest(meta: dict, n: int) -> dict:
    from tastemaker.core.ids import new_id

    warm = make_stream(meta, 5_000, seed=1)
    ingest(warm)
    events = make_stream(meta, n, seed=2)
    gc.freeze()  # the pre-generated stream is the benchmark's, not the server's: keep it out of GC scans
    first = new_id()
    seconds = ingest(events)
    raw = raw_insert(first, n)
    rate, raw_rate = n / seconds, n / raw
    print(f"  ingest: {n:,} events in {seconds:.2f} s = {rate:,.0f} events/s; raw bulk insert of the same rows "
          f"{raw:.2f} s = {raw_rate:,.0f} rows/s; ratio {rate / raw_rate:.2f}")
    return {"events": n, "seconds": seconds, "events_per_s": rate, "raw_seconds": raw, "raw_rows_per_s": raw_rate,
            "ratio": rate / raw_rate, "batch": BATCH}


# --- e) freshness ---------------------------------------------------------------------------

def _writer(data_dir: str, meta: dict, rate: float, seconds: float, out, ready) -> None:
    setup_django(Path(data_dir))
    from tastemaker.analytics.services import do_record_events

    events = make_stream(meta, int(rate * seconds) + BATCH, seed=3)
    gc.freeze()  # the pre-generated stream is the benchmark's, not the server's: keep it out of GC scans
    ready.set()
    interval = BATCH / rate
    start = time.perf_counter()
    sent = 0
    next_at = start
    while time.perf_counter() - start < seconds and sent + BATCH <= len(events):
        do_record_events(events[sent:sent + BATCH])
        sent += BATCH
        next_at += interval
        delay = next_at - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    out.put(sent / (time.perf_counter() - start))


def _author_token(author_id: int) -> str:
    import secrets
    from datetime import timedelta

    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model, get_application_model

    app, _ = get_application_model().objects.get_or_create(
        name="bench-events", defaults={"client_type": "confidential", "authorization_grant_type": "password",
                                       "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"})
    token = secrets.token_urlsafe(24)
    get_access_token_model().objects.create(user_id=author_id, application=app, token=token, scope="read write",
                                            expires=timezone.now() + timedelta(days=1))
    return token


def freshness(meta: dict, data_dir: Path, rate: float, seconds: float) -> dict:
    from django.db import connections
    from django.test import Client

    from tastemaker.analytics.services import EventIn, do_record_events

    probe_post, owner = meta["posts"][-1]
    token = _author_token(owner)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    path = f"/api/v1/tastemaker/reports/posts/{probe_post}"

    def seen() -> int:
        return client.get(path).json()["totals"]["impression"]

    base = seen()
    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    queue, ready = ctx.Queue(), ctx.Event()
    writer = ctx.Process(target=_writer, args=(str(data_dir), meta, rate, seconds, queue, ready))
    writer.start()
    ready.wait(120)
    time.sleep(0.3)
    lat = []
    end = time.perf_counter() + seconds - 1
    n = 0
    while time.perf_counter() < end:
        n += 1
        t0 = time.perf_counter()  # the event is accepted (the request arrives) now
        do_record_events([EventIn(metric="impression", subject_type="post", subject_id=probe_post, owner_id=owner,
                                  surface="home", visitor=f"probe{time.time_ns()}", device="mobile")])
        while seen() < base + n:
            if time.perf_counter() - t0 > 10:
                raise RuntimeError("probe not visible within 10 s")
            time.sleep(0.005)  # poll like a busy client, without hogging a core
        lat.append(time.perf_counter() - t0)
        time.sleep(0.02)
    writer.join(seconds + 60)
    achieved = queue.get(timeout=5)
    lat.sort()
    p50, p99 = lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print(f"  freshness under {achieved:,.0f} events/s background ingest: {len(lat)} probes, "
          f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {lat[-1] * 1000:.1f} ms")
    return {"probes": len(lat), "p50_s": p50, "p99_s": p99, "max_s": lat[-1], "background_rate": achieved,
            "target_rate": rate}


# --- f) report API on a post with 1M events -------------------------------------------------

def ensure_big_post(meta: dict) -> dict:
    from tastemaker.analytics import selectors

    pid, owner = meta["big_post"]
    have = sum(selectors.totals("post", pid).values()) + sum(selectors.invalid_totals("post", pid).values())
    if have >= BIG_EVENTS:
        return {"post": pid, "owner": owner, "events": have, "build_s": 0}
    t0 = time.perf_counter()
    now_ms = int(time.time() * 1000)
    span = 7 * 86_400_000  # a week of history: minute, hour and day series all have data
    big = {"posts": [(pid, owner)], "viewers": meta["viewers"]}
    todo = BIG_EVENTS - have
    chunk = 100_000
    done = 0
    while done < todo:
        k = min(chunk, todo - done)
        start = now_ms - span + (span * done) // todo
        step = max(1, (span // todo))
        stream = make_stream(big, k, seed=100 + done, at_ms=lambda i, s=start, st=step: s + i * st)
        ingest_batches(stream, 5_000)  # building the fixture, not measuring: bigger batches
        done += k
        print(f"    {have + done:,} events on the big post ({time.perf_counter() - t0:.0f} s)", flush=True)
    return {"post": pid, "owner": owner, "events": have + done, "build_s": time.perf_counter() - t0}


def report_latency(meta: dict, data_dir: Path, requests: int = 300) -> dict:
    import bench_http
    from django.db import connections

    info = ensure_big_post(meta)
    token = _author_token(info["owner"])
    connections.close_all()
    server = bench_http.Server(data_dir, 2, {"TASTEMAKER_HUEY_IMMEDIATE": "0"})
    try:
        server.wait()
        out = {"post_events": info["events"], "build_s": info["build_s"]}
        paths = {"health": ("/api/health", None),
                 "report": (f"/api/v1/tastemaker/reports/posts/{info['post']}", token),
                 "report_minute": (f"/api/v1/tastemaker/reports/posts/{info['post']}?granularity=minute", token)}
        for path, tok in paths.values():
            status, body = server.get(path, tok)
            assert status == 200, (path, status, body[:300])
            for _ in range(30):
                server.get(path, tok)
        for name, (path, tok) in paths.items():
            lat = []
            for _ in range(requests):
                t0 = time.perf_counter()
                server.get(path, tok)
                lat.append(time.perf_counter() - t0)
            out[name] = {"p50_ms": statistics.median(lat) * 1000,
                         "p99_ms": sorted(lat)[int(len(lat) * 0.99)] * 1000}
        status, body = server.get(paths["report"][0], token)
        total = json.loads(body)["totals"]["impression"]
        out["impressions_shown"] = total
        out["ratio"] = out["report"]["p50_ms"] / out["health"]["p50_ms"]
        out["ratio_minute"] = out["report_minute"]["p50_ms"] / out["health"]["p50_ms"]
        print(f"  report API on a post with {info['events']:,} events: p50 {out['report']['p50_ms']:.2f} ms "
              f"(minute series {out['report_minute']['p50_ms']:.2f} ms) vs /api/health p50 "
              f"{out['health']['p50_ms']:.2f} ms; ratio {out['ratio']:.2f}")
        return out
    finally:
        server.stop()


def run(data_dir: Path, only: str, n_events: int, fresh_seconds: float, rate: float) -> dict:
    setup_django(data_dir)
    meta = ensure_dataset()
    res: dict = {}
    if "d" in only:
        print(f"\n[d] sustained batched ingest ({n_events:,} events, batches of {BATCH})")
        res["ingest"] = sustained_ingest(meta, n_events)
    if "e" in only:
        print(f"\n[e] freshness at {rate:,.0f} events/s for {fresh_seconds:.0f} s")
        res["freshness"] = freshness(meta, data_dir, rate, fresh_seconds)
    if "f" in only:
        print("\n[f] report API for a post with 1,000,000 events (gunicorn -w 2, sequential requests)")
        res["report"] = report_latency(meta, data_dir)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=str(ROOT / "var" / "bench-events"))
    ap.add_argument("--only", default="def")
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--fresh-seconds", type=float, default=15)
    ap.add_argument("--rate", type=float, default=20_000, help="background ingest rate for the freshness figure")
    ap.add_argument("--out", default="", help="write the results as JSON here")
    args = ap.parse_args(argv)
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    res = run(data_dir, args.only, args.events, args.fresh_seconds, args.rate)
    if args.out:
        Path(args.out).write_text(json.dumps(res, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
