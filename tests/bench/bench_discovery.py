"""Benchmarks for experts and discovery (issue 5), run by run.py:

  g) labeler top-1 accuracy on the held-out corpus (never trained on), overall and per language
     (goal ≥ 0.9), and posts labelled per second on one core (classification + reason terms)
  h) GET /api/v2/suggestions p50 on the benchmark dataset ÷ p50 of the trivial /api/health, both measured
     with one connection (latency, no queueing) on the same gunicorn server      goal ≤ 5

For h) the dataset gets ability labels (10% of accounts are creators with 1-2 labelled verticals, as the
nightly job would leave them) and interests for the token users; both are added once and reused.
"""

from __future__ import annotations

import json
import random
import statistics
import time

LABELLED_SHARE = 0.10
MARKER = "discovery-v1"


def labeler_figures() -> dict:
    import os

    from tastemaker.experts import corpus, labeler

    t0 = time.perf_counter()
    lab = labeler.get_labeler()
    load_s = time.perf_counter() - t0
    rows = corpus.load(corpus.HELDOUT_FILE)
    result = labeler.evaluate(rows, lab)
    texts = [r["text"] for r in rows]
    # throughput on one core: classification in batches plus the reason terms of each post
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    t0 = time.perf_counter()
    rounds = 3
    for _ in range(rounds):
        for start in range(0, len(texts), 256):
            lab.label_many(texts[start: start + 256])  # what experts.services.label_posts runs
    per_s = rounds * len(texts) / (time.perf_counter() - t0)
    out = {"accuracy": result["accuracy"], "n": result["n"],
           "per_language": {k: v["accuracy"] for k, v in result["per_language"].items()},
           "per_vertical": {k: v["accuracy"] for k, v in result["per_vertical"].items()},
           "posts_per_s": per_s, "model_load_or_train_s": load_s}
    print(f"  held-out top-1 accuracy {out['accuracy']:.4f} (n={out['n']}): "
          + ", ".join(f"{k} {v:.4f}" for k, v in out["per_language"].items()))
    print("  per vertical: " + ", ".join(f"{k} {v:.3f}" for k, v in out["per_vertical"].items()))
    print(f"  {per_s:,.0f} posts labelled per second (one process), model ready in {load_s:.1f} s")
    return out


def ensure_discovery_data(info: dict, token_rows) -> dict:
    """Ability labels for 10% of the accounts and picked interests for the token users (idempotent)."""
    from bench_dataset import user_id
    from django.db import connection, transaction

    from tastemaker.discovery.models import UserInterest
    from tastemaker.experts.models import AbilityLabel, Vertical

    with connection.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bench_meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
        cur.execute("SELECT v FROM bench_meta WHERE k = %s", [MARKER])
        row = cur.fetchone()
    if row and AbilityLabel.objects.exists():
        return json.loads(row[0])
    t0 = time.perf_counter()
    rng = random.Random(5)
    verticals = list(Vertical.objects.values_list("pk", flat=True))
    n_users = info["users"]
    creators = rng.sample(range(n_users), int(n_users * LABELLED_SHARE))
    labels = []
    for i in creators:
        for vid in rng.sample(verticals, rng.choice([1, 1, 2])):
            score = round(rng.uniform(20, 95), 1)
            prev = score - rng.uniform(10, 30) if rng.random() < 0.05 else score
            labels.append(AbilityLabel(user_id=user_id(i), vertical_id=vid, score=score, previous_score=max(prev, 1),
                                       share=0.6, engagement=0.5, consistency=0.5, post_count=6,
                                       sample_post_ids=[], terms=[]))
    interests = [UserInterest(user_id=uid, vertical_id=vid, picked=True)
                 for uid, _tok in token_rows for vid in rng.sample(verticals, rng.choice([1, 2, 3]))]
    with transaction.atomic():
        AbilityLabel.objects.all().delete()
        UserInterest.objects.all().delete()
        AbilityLabel.objects.bulk_create(labels, batch_size=5000)
        UserInterest.objects.bulk_create(interests, batch_size=5000)
        meta = {"labels": len(labels), "creators": len(creators), "interests": len(interests),
                "seconds": round(time.perf_counter() - t0, 1)}
        with connection.cursor() as cur:
            cur.execute("INSERT OR REPLACE INTO bench_meta (k, v) VALUES (%s, %s)", [MARKER, json.dumps(meta)])
    return meta


def _p50(server, path: str, tokens: list[str] | None, n: int) -> tuple[float, int]:
    lat, bad = [], 0
    for i in range(n):
        token = tokens[i % len(tokens)] if tokens else None
        t0 = time.perf_counter()
        status, _body = server.get(path, token)
        lat.append(time.perf_counter() - t0)
        bad += status != 200
    return statistics.median(lat) * 1000, bad


def suggestions_figures(data_dir, workers: int, token_rows, info: dict, threshold: int) -> dict:
    import bench_http

    meta = ensure_discovery_data(info, token_rows)
    print(f"  discovery data: {meta['labels']:,} ability labels on {meta['creators']:,} creators, "
          f"{meta['interests']:,} picked interests")
    from django.db import connections

    connections.close_all()
    server = bench_http.Server(data_dir, workers, {"TASTEMAKER_FANOUT_THRESHOLD": str(threshold),
                                                   "TASTEMAKER_HUEY_IMMEDIATE": "0"})
    try:
        server.wait()
        tokens = [t for _uid, t in token_rows]
        path = "/api/v2/suggestions?limit=40"
        status, body = server.get(path, tokens[0])
        if status != 200:
            raise RuntimeError(f"{path} answered {status}: {body[:200]!r}")
        sample = json.loads(body)
        print(f"  {path} answers 200 with {len(sample)} suggestions; first: "
              f"{sample[0]['tastemaker']['reason'] if sample else '—'}")
        _p50(server, "/api/health", None, 200)  # warm every worker
        _p50(server, path, tokens, 200)
        health, bad_h = _p50(server, "/api/health", None, 1000)
        sugg, bad_s = _p50(server, path, tokens[200:], 1000)  # users not seen while warming
        sugg20, _bad = _p50(server, "/api/v2/suggestions?limit=20", tokens[1200:], 1000)
        ratio = sugg / health
        print(f"  p50 /api/health {health:.2f} ms, p50 /api/v2/suggestions {sugg:.2f} ms "
              f"(non-200: {bad_h}/{bad_s}); ratio {ratio:.2f}; with limit=20: {sugg20:.2f} ms "
              f"(ratio {sugg20 / health:.2f})")
        return {"health_p50_ms": health, "suggestions_p50_ms": sugg, "ratio": ratio, "non_200": bad_s,
                "suggestions20_p50_ms": sugg20, "ratio20": sugg20 / health,
                "data": meta, "suggestions_returned": len(sample)}
    finally:
        server.stop()
