"""Tastemaker benchmark: ``.venv/bin/python tests/bench/run.py [--scale 0.1]`` (``make bench``).

Each figure is printed next to a reference measured in the same run, as a ratio, with its goal:

  a) home timeline API requests/s under concurrent load ÷ requests/s of the trivial /api/health
     on the same gunicorn server                                                   goal ≥ 0.5
  b) fan-out of one post to 100,000 followers (feeds.services.fanout_post) ÷ one raw bulk
     INSERT … SELECT of the same 100,000 timeline rows                             goal ≤ 2
  c) a post by an account above FANOUT_THRESHOLD (followed by everyone): time from
     do_create_post until it is on a follower's home page (absolute goal ≤ 1 s); reference:
     the same home-page read without the new post
  g) labeler top-1 accuracy on hand-written natural posts, overall and per language goal ≥ 0.9
     ÷ the previous TF-IDF labeler's (trained in the same run); posts labelled per second on one core
     (goal ≥ 500) and one post's p99 latency (goal ≤ 5 ms), each beside the previous labeler's
  h) GET /api/v2/suggestions p50 ÷ /api/health p50 (one connection, same server) goal ≤ 5
  i) /go/<token> click-out redirects/s (recorded through the events pipeline) ÷ requests/s of the trivial
     /api/health on the same gunicorn server (tests/bench/bench_showcase.py)        goal ≥ 0.7
  j) store webhook deliveries processed/s over HTTP, with p50 / p99 latency       (report)
  p) payments: transfers/s between 1,000 random wallets on SQLite and PostgreSQL, ledger invariants
     checked after; reference: a raw insert of the same entry rows (bulk, and one commit per pair)
     (tests/bench/bench_payments.py)                                                (report)
  r) rules: p99 of do_create_post with the anti-flooding and spam checks on − the same with them off
     (RULES_ENABLED), alternating post by post in one run (tests/bench/bench_rules.py)  goal ≤ 2 ms
  s) streaming (tests/bench/bench_streaming.py): 1,000 open user streams held by one streaming server process;
     p99 from a post's commit to its arrival on every follower's stream                 goal ≤ 1 s
  x) promotion (tests/bench/bench_promotion.py): home timeline API req/s with 50 competing campaigns ÷ without
     (goal ≥ 0.9); the ad decision's p99 (goal ≤ 1 ms); 1,000,000 impressions across 100 campaigns settled,
     spend exact to the fen (report)
  m) fan service (tests/bench/bench_fanservice.py): a broadcast to 100,000 subscribers delivered by the job
     (chunks of FANSERVICE_CHUNK, one INSERT … SELECT each with every check) ÷ one raw bulk INSERT … SELECT
     of the same 100,000 inbox rows                                                 goal ≤ 2
  n) direct messages (tests/bench/bench_inbox.py): GET /api/v1/conversations p50 with 1,000 conversations ÷
     /api/health p50, same process                                                   goal ≤ 3

The dataset (SQLite, in var/bench) is built once with bulk SQL and reused. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")),
                    help="dataset size factor (1 = 100k users, 2M follows, 10M entries; env BENCH_SCALE)")
    ap.add_argument("--data-dir", default=os.environ.get("BENCH_DATA_DIR", str(ROOT / "var" / "bench")))
    ap.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", "20")),
                    help="seconds of load per HTTP endpoint")
    ap.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    ap.add_argument("--connections", type=int, default=8, help="concurrent connections of the load generator")
    ap.add_argument("--only", default="abcdefghijprsxmn", help="which figures to measure, e.g. 'bc'")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the dataset even if one matches")
    ap.add_argument("--profile", action="store_true", help="write a pyinstrument profile of one fan-out")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["TASTEMAKER_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tastemaker.settings"
    os.environ.setdefault("TASTEMAKER_SECRET_KEY", "bench-secret-key-not-for-production-0123456789")
    os.environ.setdefault("TASTEMAKER_HUEY_IMMEDIATE", "0")
    # below full scale the everyone-follows account would not be "big": scale the threshold with the data
    threshold = int(os.environ.get("TASTEMAKER_FANOUT_THRESHOLD", "0")) or (
        10_000 if args.scale >= 1 else max(50, int(10_000 * args.scale)))
    os.environ["TASTEMAKER_FANOUT_THRESHOLD"] = str(threshold)
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(ROOT / "src"))

    import django

    django.setup()
    import bench_dataset
    import bench_feeds
    from django.conf import settings

    t_start = time.monotonic()
    print(f"Tastemaker benchmark — scale {args.scale:g}, data in {data_dir}, FANOUT_THRESHOLD {threshold}")
    if set(args.only) <= {"g"}:  # the labeler needs no dataset
        return labeler_only(data_dir)
    if set(args.only) == {"s"}:  # nor does streaming (its own small database): `run.py --only s`
        results = streaming_phase(data_dir)
        print_table(results)
        return 0
    info = bench_dataset.ensure_dataset(args.scale, rebuild=args.rebuild)
    print(f"Dataset: {info['users']:,} users, {info['follows_built']:,} follows "
          f"({info['celebrity_followers']:,} of them to one celebrity), {info['posts']:,} posts, "
          f"{info['entries_built']:,} timeline entries, {info['pulled_accounts']} accounts above the threshold; "
          f"built in {info['build_seconds']:.0f} s (of which timeline rebuild {info['rebuild_seconds']:.0f} s).")
    token_rows = bench_dataset.load_tokens()
    results: dict = {"when": datetime.now(tz=UTC).isoformat(timespec="seconds"), "scale": args.scale,
                     "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "platform": platform.platform()},
                     "settings": {"FANOUT_THRESHOLD": settings.FANOUT_THRESHOLD,
                                  "FANOUT_CHUNK": settings.FANOUT_CHUNK, "TIMELINE_CAP": settings.TIMELINE_CAP,
                                  "database": settings.DATABASES["default"]["ENGINE"]},
                     "dataset": info}

    if "b" in args.only:
        print(f"\n[b] push path: fan-out to {info['celebrity_followers']:,} followers")
        results["push"] = bench_feeds.push_path(info)
        if args.profile:
            bench_feeds.profile_fanout(info, data_dir / "fanout_profile.txt")
    if "c" in args.only:
        print("\n[c] pull path: a post by the celebrity reaching a follower's home page (in-process)")
        results["pull"] = bench_feeds.pull_path(info, token_rows[0][0])
    if "g" in args.only:
        import bench_discovery

        print("\n[g] labeler: held-out accuracy and throughput")
        results["labeler"] = bench_discovery.labeler_figures()
    if "h" in args.only:
        import bench_discovery

        print("\n[h] HTTP: GET /api/v2/suggestions vs /api/health (p50, one connection)")
        results["suggestions"] = bench_discovery.suggestions_figures(data_dir, args.workers, token_rows, info,
                                                                     threshold)
    if "a" in args.only or "c" in args.only:
        from django.db import connections

        connections.close_all()
        results.update(http_phase(args, data_dir, token_rows, threshold, info))

    if set("def") & set(args.only):
        results.update(events_phase(args, data_dir))
    if set("ij") & set(args.only):
        results.update(showcase_phase(args, data_dir))
    if "p" in args.only:
        results.update(payments_phase(data_dir))
    if "r" in args.only:
        results.update(rules_phase(data_dir))
    if "x" in args.only:
        results.update(promotion_phase(data_dir))
    if "s" in args.only:
        results.update(streaming_phase(data_dir))
    if "m" in args.only:
        results.update(fanservice_phase(data_dir))
    if "n" in args.only:
        results.update(inbox_phase(data_dir))
    results["total_seconds"] = round(time.monotonic() - t_start, 1)
    (data_dir / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print_table(results)
    print(f"\nResults written to {data_dir / 'results.json'}")
    return 0


def labeler_only(data_dir: Path) -> int:
    import bench_discovery

    print("\n[g] labeler: natural-post accuracy and speed")
    results = {"when": datetime.now(tz=UTC).isoformat(timespec="seconds"), "scale": 0,
               "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
               "dataset": {"users": 0, "entries_built": 0}, "labeler": bench_discovery.labeler_figures()}
    (data_dir / "results-labeler.json").write_text(json.dumps(results, indent=2, default=str))
    print_table(results)
    return 0


def http_phase(args, data_dir: Path, token_rows, threshold: int, info: dict) -> dict:
    import bench_http

    out: dict = {}
    server = bench_http.Server(data_dir, args.workers, {"TASTEMAKER_FANOUT_THRESHOLD": str(threshold),
                                                         "TASTEMAKER_HUEY_IMMEDIATE": "0"})
    try:
        server.wait()
        tokens = [t for _uid, t in token_rows]
        status, body = server.get("/api/v1/timelines/home?limit=20", tokens[0])
        home_ok = status == 200
        if not home_ok:
            print(f"  GET /api/v1/timelines/home answered {status}: {body[:200]!r}")
        else:
            print(f"  home timeline answers 200 with {len(json.loads(body))} statuses")
        if "a" in args.only:
            print(f"\n[a] HTTP: gunicorn -w {args.workers}, {args.connections} connections, "
                  f"{args.duration} s per endpoint")
            # warm every worker (imports, jieba, connections) on both endpoints
            bench_http.load(server, "/api/health", None, 2, args.connections)
            if home_ok:
                bench_http.load(server, "/api/v1/timelines/home?limit=20", tokens, 3, args.connections)
            health = bench_http.load(server, "/api/health", None, args.duration, args.connections)
            print(f"  /api/health: {health['rps']:.0f} req/s, p50 {health['p50_ms']} ms, p99 {health['p99_ms']} ms")
            home = None
            if home_ok:
                home = bench_http.load(server, "/api/v1/timelines/home?limit=20", tokens, args.duration,
                                       args.connections)
                print(f"  /api/v1/timelines/home: {home['rps']:.0f} req/s, p50 {home['p50_ms']} ms, "
                      f"p99 {home['p99_ms']} ms, non-2xx {home['non_2xx']}")
            out["http"] = {"health": health, "home": home, "workers": args.workers,
                           "connections": args.connections, "duration_s": args.duration,
                           "ratio": (home["rps"] / health["rps"]) if home and health["rps"] else None}
        if "c" in args.only and home_ok:
            out["pull_http"] = pull_over_http(server, token_rows[0], info)
    finally:
        server.stop()
    return out


def pull_over_http(server, viewer_token, info: dict) -> dict:
    """The pull path end to end: the post is created in this process, a follower polls the API."""
    from bench_dataset import CELEB, user_id
    from bench_feeds import _clean_post
    from django.db import connections

    from tastemaker.accounts.models import User
    from tastemaker.social.services import do_create_post

    print("\n[c] pull path over HTTP (a follower polls GET /api/v1/timelines/home)")
    _uid, token = viewer_token
    path = "/api/v1/timelines/home?limit=20"
    reads = []
    for _ in range(20):
        t0 = time.perf_counter()
        server.get(path, token)
        reads.append(time.perf_counter() - t0)
    celeb = User.objects.get(pk=user_id(CELEB))
    visible = []
    for r in range(3):
        t0 = time.perf_counter()
        post = do_create_post(celeb, text=f"HTTP 新品 drop {r} #bench")
        while True:
            status, body = server.get(path, token)
            if status == 200 and any(str(s.get("id")) == str(post.pk) for s in json.loads(body)):
                break
            if time.perf_counter() - t0 > 30:
                raise RuntimeError("the post did not show up over HTTP within 30 s")
        visible.append(time.perf_counter() - t0)
        _clean_post(post.pk)
        print(f"  run {r + 1}: visible over HTTP after {visible[-1] * 1000:.1f} ms")
    User.objects.filter(pk=celeb.pk).update(statuses_count=info["posts_per_user"])
    connections.close_all()
    vis, ref = statistics.median(visible), statistics.median(reads)
    return {"visible_s": vis, "read_s": ref, "ratio": vis / ref}


def events_phase(args, data_dir: Path) -> dict:
    """d, e, f: events and reports (tests/bench/bench_events.py), in a subprocess with its own data dir."""
    import subprocess

    out_file = data_dir.parent / (data_dir.name + "-events") / "results.json"
    out_file.parent.mkdir(parents=True, exist_ok=True)
    only = "".join(c for c in args.only if c in "def")
    cmd = [sys.executable, str(HERE / "bench_events.py"), "--only", only, "--data-dir", str(out_file.parent),
           "--out", str(out_file)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASTEMAKER_")}
    subprocess.run(cmd, check=True, env=env, timeout=3600)
    return {"events": json.loads(out_file.read_text())}


def showcase_phase(args, data_dir: Path) -> dict:
    """i, j: click-outs and store webhooks (tests/bench/bench_showcase.py), in a subprocess with its own data dir."""
    import subprocess

    out_file = data_dir.parent / (data_dir.name + "-showcase") / "results.json"
    out_file.parent.mkdir(parents=True, exist_ok=True)
    only = "".join(c for c in args.only if c in "ij")
    cmd = [sys.executable, str(HERE / "bench_showcase.py"), "--only", only, "--data-dir", str(out_file.parent),
           "--out", str(out_file), "--duration", str(args.duration), "--workers", str(args.workers),
           "--connections", str(args.connections)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASTEMAKER_")}
    subprocess.run(cmd, check=True, env=env, timeout=3600)
    return {"showcase": json.loads(out_file.read_text())}


def payments_phase(data_dir: Path) -> dict:
    """p: payments transfers (tests/bench/bench_payments.py), in a subprocess with its own data dirs."""
    import subprocess

    out_file = data_dir.parent / (data_dir.name + "-payments") / "results.json"
    out_file.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(HERE / "bench_payments.py"), "--data-dir", str(out_file.parent), "--out", str(out_file)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASTEMAKER_")}
    subprocess.run(cmd, check=False, env=env, timeout=3600)
    return {"payments": json.loads(out_file.read_text()) if out_file.exists() else {}}


def script_phase(data_dir: Path, key: str, script: str, timeout: int = 3600) -> dict:
    """A figure measured by its own script in a subprocess, with its own database under ``<data_dir>-<key>``
    (r: bench_rules, x: bench_promotion, s: bench_streaming, m: bench_fanservice, n: bench_inbox); its
    results.json under ``key`` ({} when it failed)."""
    import subprocess

    out_file = data_dir.parent / (data_dir.name + f"-{key}") / "results.json"
    out_file.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(HERE / script), "--data-dir", str(out_file.parent / "db"), "--out", str(out_file)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASTEMAKER_")}
    subprocess.run(cmd, check=False, env=env, timeout=timeout)
    return {key: json.loads(out_file.read_text()) if out_file.exists() else {}}


def rules_phase(data_dir: Path) -> dict:
    """r: the rules' cost per post (tests/bench/bench_rules.py)."""
    return script_phase(data_dir, "rules", "bench_rules.py")


def promotion_phase(data_dir: Path) -> dict:
    """x: paid promotion's cost on the home timeline and its billing (tests/bench/bench_promotion.py)."""
    return script_phase(data_dir, "promotion", "bench_promotion.py")


def streaming_phase(data_dir: Path) -> dict:
    """s: 1,000 open streams on one streaming server, commit-to-arrival p99 (tests/bench/bench_streaming.py)."""
    return script_phase(data_dir, "streaming", "bench_streaming.py", timeout=1800)


def inbox_phase(data_dir: Path) -> dict:
    """n: the direct-message inbox API with 1,000 conversations against /api/health (tests/bench/bench_inbox.py)."""
    return script_phase(data_dir, "inbox", "bench_inbox.py", timeout=1800)


def fanservice_phase(data_dir: Path) -> dict:
    """m: a broadcast's delivery against a raw bulk insert (tests/bench/bench_fanservice.py)."""
    return script_phase(data_dir, "fanservice", "bench_fanservice.py")


def print_table(res: dict) -> None:
    rows = []

    def add(name, value, ref, ratio, goal, ok):
        rows.append((name, value, ref, ratio, goal, "PASS" if ok else "FAIL" if ok is not None else "—"))

    http = res.get("http")
    if http:
        h, m = http["health"], http["home"]
        if m:
            add("a) home timeline API, req/s", f"{m['rps']:.0f}", f"{h['rps']:.0f} (/api/health)",
                f"{http['ratio']:.2f}", "≥ 0.5", http["ratio"] >= 0.5)
        else:
            add("a) home timeline API, req/s", "n/a", f"{h['rps']:.0f} (/api/health)", "—", "≥ 0.5", None)
    push = res.get("push")
    if push:
        add(f"b) fan-out to {push['rows']:,} followers", f"{push['fanout_s']:.3f} s",
            f"{push['raw_insert_s']:.3f} s (raw INSERT)", f"{push['ratio']:.2f}", "≤ 2", push["ratio"] <= 2)
    pull = res.get("pull")
    if pull:
        add("c) pull: post → on follower's home", f"{pull['visible_s'] * 1000:.1f} ms",
            f"{pull['read_s'] * 1000:.1f} ms (home read)", f"{pull['ratio']:.2f}", "≤ 1 s", pull["visible_s"] <= 1)
    ph = res.get("pull_http")
    if ph:
        add("c) same, over HTTP", f"{ph['visible_s'] * 1000:.1f} ms", f"{ph['read_s'] * 1000:.1f} ms (GET home)",
            f"{ph['ratio']:.2f}", "≤ 1 s", ph["visible_s"] <= 1)
    lab = res.get("labeler")
    if lab:
        ref = lab["reference"]
        langs = ", ".join(f"{k} {v:.3f}" for k, v in {**lab["per_language"], **lab["per_style"]}.items())
        add("g) labeler top-1, natural posts", f"{lab['accuracy']:.3f} ({langs})",
            f"{ref['accuracy']:.3f} (previous labeler)", f"{lab['accuracy'] / ref['accuracy']:.2f}",
            "≥ 0.9 each, verticals ≥ 0.8",
            min([lab["accuracy"], *lab["per_language"].values(), *lab["per_style"].values()]) >= 0.9
            and min(lab["per_vertical"].values()) >= 0.8)
        add("g) off-topic posts labelled", f"{lab['off_topic_labelled']:.3f}", f"{ref['off_topic_labelled']:.3f}",
            "—", "(report)", None)
        # judged on CPU time (what one dedicated core takes); the wall clock is shown beside it
        add("g) posts labelled/s, one core (CPU)", f"{lab['posts_per_cpu_s']:,.0f}/s (wall {lab['posts_per_s']:,.0f}/s)",
            f"{ref['posts_per_cpu_s']:,.0f}/s", f"{lab['posts_per_cpu_s'] / ref['posts_per_cpu_s']:.2f}", "≥ 500/s",
            lab["posts_per_cpu_s"] >= 500)
        add("g) one post, p99 (request path, CPU)", f"{lab['cpu_p99_ms']:.2f} ms (wall {lab['p99_ms']:.2f} ms)",
            f"{ref['cpu_p99_ms']:.2f} ms", f"{lab['cpu_p99_ms'] / ref['cpu_p99_ms']:.2f}", "≤ 5 ms",
            lab["cpu_p99_ms"] <= 5)
        add("g) first classify, fresh process", f"{lab['first_answer_ms']:.2f} ms (model loads in the background "
            f"in {lab['load_s']:.1f} s)", f"{ref['train_s']:.1f} s (previous: trained in the request)", "—", "≤ 3 s",
            lab["first_answer_ms"] <= 3000)
    sg = res.get("suggestions")
    if sg:
        add("h) GET /api/v2/suggestions p50", f"{sg['suggestions_p50_ms']:.2f} ms",
            f"{sg['health_p50_ms']:.2f} ms (/api/health)", f"{sg['ratio']:.2f}", "≤ 5", sg["ratio"] <= 5)
        add("h) same, limit=20", f"{sg['suggestions20_p50_ms']:.2f} ms",
            f"{sg['health_p50_ms']:.2f} ms (/api/health)", f"{sg['ratio20']:.2f}", "≤ 5", sg["ratio20"] <= 5)
    ev = res.get("events") or {}
    if ev.get("ingest"):
        g = ev["ingest"]
        add("d) batched ingest, events/s", f"{g['events_per_s']:,.0f}/s", f"{g['raw_rows_per_s']:,.0f}/s (raw insert)",
            f"{g['ratio']:.2f}", "≥ 0.3 and ≥ 20,000/s", g["ratio"] >= 0.3 and g["events_per_s"] >= 20_000)
    if ev.get("freshness"):
        f = ev["freshness"]
        add("e) freshness p99 (accepted → report API)", f"{f['p99_s'] * 1000:.0f} ms",
            f"{f['background_rate']:,.0f} events/s ingest", "—", "≤ 1 s", f["p99_s"] <= 1)
    if ev.get("report"):
        r = ev["report"]
        add(f"f) report API p50, post with {r['post_events']:,} events", f"{r['report']['p50_ms']:.2f} ms",
            f"{r['health']['p50_ms']:.2f} ms (/api/health)", f"{r['ratio']:.2f}", "≤ 5", r["ratio"] <= 5)
    sc = res.get("showcase") or {}
    if sc.get("go"):
        g = sc["go"]
        add("i) /go/<token> click-outs, req/s", f"{g['go']['rps']:.0f}", f"{g['health']['rps']:.0f} (/api/health)",
            f"{g['ratio']:.2f}", "≥ 0.7", g["ratio"] >= 0.7)
    if sc.get("webhooks"):
        w = sc["webhooks"]
        add(f"j) store webhooks ({w['clients']} senders)", f"{w['per_s']:.0f}/s, p50 {w['p50_ms']:.1f} ms, "
            f"p99 {w['p99_ms']:.1f} ms", f"{w['health_p50_ms']:.2f} ms (/api/health p50)", "—", "(report)", None)
    for db, p in (res.get("payments") or {}).items():
        add(f"p) transfers/s, {db} (1; {p['concurrent_threads']} connections)",
            f"{p['single_per_s']:,.0f}/s; {p['concurrent_per_s']:,.0f}/s",
            f"{p['raw_pair_commits_per_s']:,.0f}/s (raw 2-row commits)", f"{p['ratio_vs_pair_commits']:.2f}",
            "invariants hold", p["invariants"]["ok"])
        add("p) same, 1 connection, vs a bulk insert", f"{2 * p['single_per_s']:,.0f} rows/s",
            f"{p['raw_bulk_rows_per_s']:,.0f} rows/s (raw bulk)", f"{p['ratio_vs_bulk']:.1f}", "(report)", None)
    ru = res.get("rules")
    if ru:
        on, off = ru["on"], ru["off"]
        add("r) create a post, rules on: p99 (p50)", f"{on['p99_ms']:.2f} ms ({on['p50_ms']:.2f} ms)",
            f"{off['p99_ms']:.2f} ms ({off['p50_ms']:.2f} ms) rules off", f"{ru['added_p99_ms']:+.2f} ms added",
            "≤ 2 ms added", ru["added_p99_ms"] <= 2)
        add("r) the rules' own time per post: p99 (p50)", f"{ru['check']['p99_ms']:.2f} ms "
            f"({ru['check']['p50_ms']:.2f} ms)", "inside the same calls", "—", "≤ 2 ms", ru["check"]["p99_ms"] <= 2)
    pr = res.get("promotion")
    if pr:
        h, b = pr["home"], pr["billing"]
        add(f"x) home API with {h['campaigns']} campaigns, req/s", f"{h['home_rps_with']:.0f}",
            f"{h['home_rps_without']:.0f} (none)", f"{h['ratio']:.2f}", "≥ 0.9", h["ratio"] >= 0.9)
        add("x) ad decision per home request: p99 (p50)", f"{h['decision_p99_ms']:.3f} ms "
            f"({h['decision_p50_ms']:.3f} ms)", "—", "—", "≤ 1 ms", h["decision_p99_ms"] <= 1)
        if "decision_cpu_p99_ms" in h:
            add("x) ad decision's CPU time: p99 (p50)", f"{h['decision_cpu_p99_ms']:.3f} ms "
                f"({h['decision_cpu_p50_ms']:.3f} ms)", "wall time above", "—", "(report)", True)
        add(f"x) billing {b['impressions']:,} impressions / {b['campaigns']} campaigns", f"{b['settle_s']:.2f} s",
            f"spend {b['spend']} = {b['expected_spend']}", "—", "exact to the fen", b["exact_to_the_fen"])
    st = res.get("streaming")
    if st:
        one = st["one_stream"]
        add(f"s) {st['streams']:,} open streams: commit → arrival p99 (p50)",
            f"{st['p99_ms']:.0f} ms ({st['p50_ms']:.0f} ms)", f"{one['p99_ms']:.0f} ms ({one['p50_ms']:.0f} ms) 1 stream",
            "—", "≤ 1 s", st["ok"])
        add("s) memory of the streaming server holding them", f"{st['rss_mb_open']:.0f} MB",
            f"{st['rss_mb_before']:.0f} MB (idle)", "—", "(report)", None)
    fs = res.get("fanservice")
    if fs:
        add(f"m) broadcast to {fs['subscribers']:,} subscribers ({fs['database']})", f"{fs['deliver_s']:.2f} s",
            f"{fs['raw_insert_s']:.2f} s raw INSERT … SELECT", f"{fs['ratio']:.2f}", "≤ 2", fs["ratio"] <= 2)
    ib = res.get("inbox")
    if ib:
        add(f"n) inbox API p50, {ib['conversations']:,} conversations", f"{ib['inbox_p50_ms']:.2f} ms",
            f"{ib['health_p50_ms']:.2f} ms /api/health", f"{ib['ratio']:.2f}", "≤ 3", ib["ratio"] <= 3)
    head = ("figure", "measured", "reference (same run)", "ratio", "goal", "")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    print(f"\nResults at scale {res['scale']:g} ({res['dataset']['users']:,} users, "
          f"{res['dataset']['entries_built']:,} timeline entries):")
    for r in [head, tuple("-" * w for w in widths), *rows]:
        print("  " + "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    sys.exit(main())
