"""Showcase benchmark (figures i and j of ``tests/bench/run.py``; also runnable alone):

  i) ``/go/<token>`` click-out redirects/s (each one recorded through the events pipeline and its filter)
     ÷ requests/s of the trivial JSON endpoint ``/api/health`` on the same gunicorn server   goal ≥ 0.7
  j) store webhook deliveries processed/s over HTTP (Standard Webhooks verification, dedup, order fold,
     attribution, commission and trail), with p50 / p99 latency; reference: /api/health p50     (report)

Own data dir (default ``var/bench-showcase``, SQLite). Usage:
``.venv/bin/python tests/bench/bench_showcase.py [--only ij] [--duration 15]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
N_POSTS = 300
N_CLICKS = 3_000
BROWSER_UA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36"

GO_LUA = """
local paths = {}
local n = 0
init = function(args)
  -- a different sequence on every run (wrk's Lua would repeat the same visitors, making repeats invalid)
  math.randomseed(os.time() + tonumber(string.sub(tostring({}), 8), 16))
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  n = math.random(#paths)
end
request = function()
  n = (n % #paths) + 1
  -- a returning visitor: the site's pages gave them the tm_vid cookie (one of 50,000 visitors)
  local visitor = string.format("%08x%08x%08x%08x", math.random(0, 50000), 0, 0, 0)
  return wrk.format("GET", paths[n], {["User-Agent"] = "UA", ["Cookie"] = "tm_vid=" .. visitor})
end
""".replace("UA", BROWSER_UA)


def setup_django(data_dir: Path) -> None:
    os.environ["TASTEMAKER_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tastemaker.settings"
    os.environ.setdefault("TASTEMAKER_SECRET_KEY", "bench-secret-key-not-for-production-0123456789")
    os.environ.setdefault("TASTEMAKER_HUEY_IMMEDIATE", "0")
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def ensure_dataset(data_dir: Path) -> dict:
    """An approved store, creators with showcase posts, and a pool of valid click-outs to attribute."""
    import io

    from django.core.management import call_command
    from PIL import Image

    from tastemaker.accounts.models import User
    from tastemaker.accounts.services import register
    from tastemaker.showcase.cards import CardInput, do_create_showcase_post
    from tastemaker.showcase.clicks import do_click_out, link_target
    from tastemaker.showcase.models import CardLink, ClickOut, PartnerStore
    from tastemaker.showcase.stores import do_create_store
    from tastemaker.social.services import do_upload_media

    call_command("migrate", verbosity=0)
    meta = data_dir / "showcase.json"
    if meta.exists() and PartnerStore.objects.exists():
        info = json.loads(meta.read_text())
        if CardLink.objects.count() >= N_POSTS:
            return info
    t0 = time.monotonic()
    operator = User.objects.filter(username="bench_ops").first() or register(
        username="bench_ops", email="ops@bench.example", password="Bench-Passw0rd!", display_name="ops")
    User.objects.filter(pk=operator.pk).update(is_staff=True)
    operator.refresh_from_db()
    store, store_secrets = do_create_store(operator, name="Bench Store", domains=["shop.bench.example"],
                                           commission_bp=800)
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 120, 200)).save(buf, "PNG")
    png = buf.getvalue()
    creators = []
    for i in range(20):
        creators.append(User.objects.filter(username=f"sc_creator{i}").first() or register(
            username=f"sc_creator{i}", email=f"sc{i}@bench.example", password="Bench-Passw0rd!", display_name=""))
    tokens = []
    for n in range(N_POSTS):
        author = creators[n % len(creators)]
        media = do_upload_media(author, png)
        post = do_create_showcase_post(author, text=f"pick {n}", card=CardInput(
            title=f"Hydrating cream no. {n}", reason="I used it for a month and my skin stopped flaking in winter.",
            url=f"https://shop.bench.example/p/{n}", disclosure="affiliate", image_media_id=media.pk,
            price=12900, stock=10, vertical="beauty"))
        tokens.append(post.card.links.get().token)
    clicks = []
    for n in range(N_CLICKS):
        target = link_target(tokens[n % len(tokens)])
        click = do_click_out(target, viewer_id=None, visitor=f"{n:032x}", reason="", device="mobile", language="en")
        clicks.append(click.pk)
    assert ClickOut.objects.filter(valid=True).count() >= N_CLICKS
    info = {"store_id": store.pk, "webhook_secret": store_secrets.webhook_secret, "tokens": tokens, "clicks": clicks,
            "build_s": round(time.monotonic() - t0, 1)}
    meta.write_text(json.dumps(info))
    return info


def wrk_go(base: str, tokens: list[str], seconds: int, connections: int) -> dict:
    import bench_http

    with tempfile.TemporaryDirectory() as tmp:
        paths = Path(tmp) / "paths.txt"
        paths.write_text("\n".join(f"/go/{t}" for t in tokens) + "\n")
        script = Path(tmp) / "go.lua"
        script.write_text(GO_LUA)
        cmd = [shutil.which("wrk"), "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--latency",
               "--timeout", "10s", "-s", str(script), base + "/", "--", str(paths)]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    result = bench_http._parse_wrk(out)
    result["tool"] = "wrk"
    return result


def _deliver_worker(args) -> tuple[int, int, list[float]]:
    """One client process: sign and POST its deliveries one after another, timing each."""
    import http.client
    import uuid
    from datetime import UTC, datetime

    from standardwebhooks.webhooks import Webhook

    port, store_id, secret, jobs = args
    hook = Webhook(secret)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    ok = bad = 0
    lat = []
    path = f"/api/v1/showcase/stores/{store_id}/webhooks"
    for kind, data in jobs:
        body = json.dumps({"type": kind, "data": data})
        msg_id = f"msg_{uuid.uuid4().hex}"
        now = time.time()
        headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(now)),
                   "webhook-signature": hook.sign(msg_id, datetime.fromtimestamp(now, tz=UTC), body),
                   "content-type": "application/json"}
        t = time.perf_counter()
        try:
            conn.request("POST", path, body=body.encode(), headers=headers)
            resp = conn.getresponse()
            resp.read()
            good = resp.status == 200
            if resp.getheader("connection", "").lower() == "close":
                conn.close()
        except (OSError, http.client.HTTPException):
            conn.close()
            good = False
        lat.append(time.perf_counter() - t)
        ok += good
        bad += not good
    return ok, bad, lat


def webhooks(server, info: dict, clients: int, per_client: int) -> dict:
    """Each client sends order.paid for distinct orders (attributed to a pooled click), and a partial refund
    for every fourth one: what a store's order stream looks like."""
    run = f"{int(time.time())}"
    jobs: list[list] = [[] for _ in range(clients)]
    clicks = info["clicks"]
    for c in range(clients):
        for k in range(per_client):
            order = f"B{run}-{c}-{k}"
            if k % 4 == 3:
                jobs[c].append(("order.refunded", {"order_id": f"B{run}-{c}-{k - 1}", "amount": 1000,
                                                   "currency": "CNY", "refund_id": f"r{k}"}))
            else:
                jobs[c].append(("order.paid", {"order_id": order, "amount": 12900, "currency": "CNY",
                                               "click_id": str(clicks[(c * per_client + k) % len(clicks)])}))
    t0 = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        results = pool.map(_deliver_worker, [(server.port, info["store_id"], info["webhook_secret"], j)
                                              for j in jobs])
    wall = time.perf_counter() - t0
    ok = sum(r[0] for r in results)
    bad = sum(r[1] for r in results)
    lat = sorted(x for r in results for x in r[2])
    return {"deliveries": ok + bad, "ok": ok, "failed": bad, "per_s": ok / wall if wall else 0.0,
            "p50_ms": lat[len(lat) // 2] * 1000, "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000,
            "clients": clients}


def health_p50(server, n: int = 300) -> float:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        server.get("/api/health")
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1000


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=str(ROOT / "var" / "bench-showcase"))
    ap.add_argument("--only", default="ij")
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--clients", type=int, default=4, help="concurrent webhook senders")
    ap.add_argument("--deliveries", type=int, default=500, help="deliveries per webhook sender")
    ap.add_argument("--out", default="")
    args = ap.parse_args(argv)
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    setup_django(data_dir)
    import bench_http
    from django.db import connections

    print(f"Showcase benchmark — data in {data_dir}")
    info = ensure_dataset(data_dir)
    print(f"  dataset: {len(info['tokens'])} showcase posts, {len(info['clicks']):,} pooled click-outs"
          + (f" (built in {info['build_s']} s)" if info.get("build_s") else ""))
    connections.close_all()
    out: dict = {}
    server = bench_http.Server(data_dir, args.workers, {"TASTEMAKER_HUEY_IMMEDIATE": "0",
                                                         "TASTEMAKER_RATE_STORE_API": "100000000/60"})
    try:
        server.wait()
        if "i" in args.only:
            print(f"\n[i] /go/<token> vs /api/health: gunicorn -w {args.workers}, {args.connections} connections, "
                  f"{args.duration} s each")
            bench_http.load(server, "/api/health", None, 2, args.connections)
            wrk_go(server.base, info["tokens"], 2, args.connections)
            health = bench_http.load(server, "/api/health", None, args.duration, args.connections)
            go = wrk_go(server.base, info["tokens"], args.duration, args.connections)
            ratio = go["rps"] / health["rps"] if health["rps"] else 0.0
            print(f"  /api/health: {health['rps']:.0f} req/s, p50 {health['p50_ms']} ms, p99 {health['p99_ms']} ms")
            print(f"  /go/<token>: {go['rps']:.0f} redirects/s, p50 {go['p50_ms']} ms, p99 {go['p99_ms']} ms, "
                  f"non-2xx/3xx {go['non_2xx']}")
            print(f"  ratio {ratio:.2f} (goal ≥ 0.7)")
            out["go"] = {"health": health, "go": go, "ratio": ratio, "workers": args.workers,
                         "connections": args.connections}
        if "j" in args.only:
            print(f"\n[j] store webhooks over HTTP: {args.clients} senders × {args.deliveries} deliveries")
            ref = health_p50(server)
            hooks = webhooks(server, info, args.clients, args.deliveries)
            print(f"  {hooks['ok']:,} processed ({hooks['failed']} failed) at {hooks['per_s']:.0f} deliveries/s; "
                  f"p50 {hooks['p50_ms']:.1f} ms, p99 {hooks['p99_ms']:.1f} ms (/api/health p50 {ref:.2f} ms)")
            hooks["health_p50_ms"] = ref
            out["webhooks"] = hooks
    finally:
        server.stop()
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
