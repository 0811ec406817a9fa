"""The benchmark dataset, built with raw bulk SQL on SQLite (not part of the test suite).

At scale 1: 100,000 accounts, ~2,000,000 follows drawn from a Zipf popularity law (plus one
"celebrity" followed by everyone), ~5 posts per account over the last 30 days, and ~10,000,000
home-timeline entries — materialised by the production rebuild (``rebuild-feeds``), so they are
exactly what fan-out would have produced. One OAuth app and a bearer token per benchmark user.

Ids are deterministic: account ``i`` has id ``(BASE_MS + i) << 16``, so a statement can name any
account without a lookup. A row in ``bench_meta`` records what was built; a matching dataset is reused.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from tqdm import tqdm

BASE_MS = 1_700_000_000_000  # 2023-11-14: accounts were made "before" the posts
CELEB = 0  # account index of the account followed by everyone
DAY_MS = 86_400_000
VERSION = 4


def user_id(i: int) -> int:
    return (BASE_MS + i) << 16


def params_for(scale: float) -> dict:
    return {
        "version": VERSION,
        "scale": scale,
        "users": max(200, int(100_000 * scale)),
        "follows": max(4_000, int(2_000_000 * scale)),
        "entries": max(20_000, int(10_000_000 * scale)),
        "tokens": max(50, min(5_000, int(5_000 * scale))),
        "threshold": settings.FANOUT_THRESHOLD,
    }


def _meta(cur) -> dict | None:
    cur.execute("CREATE TABLE IF NOT EXISTS bench_meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
    cur.execute("SELECT v FROM bench_meta WHERE k = 'dataset'")
    row = cur.fetchone()
    return json.loads(row[0]) if row else None


def ensure_dataset(scale: float, *, rebuild: bool = False, log=print) -> dict:
    """Returns the dataset description (built now, or reused when the same parameters were built)."""
    call_command("migrate", verbosity=0)
    want = params_for(scale)
    with connection.cursor() as cur:
        have = _meta(cur)
    if have and not rebuild and all(have.get(k) == v for k, v in want.items()):
        log(f"Reusing the dataset in {settings.DATA_DIR} (built in {have['build_seconds']:.0f} s).")
        return have
    if have or _has_rows():
        log("Dropping the previous benchmark data …")
        _wipe()
        call_command("migrate", verbosity=0)
    started = time.monotonic()
    info = _build(want, log)
    info["build_seconds"] = round(time.monotonic() - started, 1)
    with connection.cursor() as cur:
        cur.execute("INSERT OR REPLACE INTO bench_meta (k, v) VALUES ('dataset', %s)", [json.dumps(info)])
    log(f"Dataset built in {info['build_seconds']:.0f} s.")
    return info


def _has_rows() -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT EXISTS (SELECT 1 FROM accounts_user)")
        return bool(cur.fetchone()[0])


def _wipe() -> None:
    """Start from an empty database: delete the bench database files (this data dir is the bench's own)."""
    name = Path(settings.DATABASES["default"]["NAME"])
    if name.parent.resolve() != Path(settings.DATA_DIR).resolve():
        raise RuntimeError(f"refusing to delete {name}: not inside the bench data dir")
    connection.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{name}{suffix}").unlink(missing_ok=True)


def _secondary_indexes(cur, table: str) -> list[tuple[str, str]]:
    cur.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL "
                "AND sql NOT LIKE 'CREATE UNIQUE%%'", [table])
    return list(cur.fetchall())


def _build(p: dict, log) -> dict:
    rng = random.Random(20150101)
    n_users = p["users"]
    now_ms = int(time.time() * 1000)
    joined = datetime.fromtimestamp(BASE_MS / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
    steps = tqdm(total=6, desc="dataset", unit="step", position=0)
    with connection.cursor() as cur:
        cur.execute("PRAGMA synchronous = OFF")
        cur.execute("PRAGMA cache_size = -2000000")  # 2 GB page cache while building
        # secondary (non-unique) indexes are dropped during the load and rebuilt once at the end
        dropped = []
        for table in ("social_follow", "social_post", "feeds_timelineentry"):
            for name, sql in _secondary_indexes(cur, table):
                cur.execute(f'DROP INDEX "{name}"')
                dropped.append(sql)

        # 1. accounts -----------------------------------------------------------------------------
        steps.set_postfix_str("accounts")
        with transaction.atomic():
            cur.execute(
                "INSERT INTO accounts_user (password, last_login, is_superuser, username, first_name, last_name, "
                "email, is_staff, is_active, date_joined, id, display_name, bio, avatar, header, language, "
                "interests, locked, bot, is_suspended, is_limited, credit_score, followers_count, following_count, "
                "statuses_count, last_status_at) "
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < %s) "
                "SELECT '!unusable', NULL, 0, CASE WHEN i = 0 THEN 'celebrity' ELSE 'u' || i END, '', '', "
                "'u' || i || '@bench.local', 0, 1, %s, (%s + i) << 16, "
                "CASE WHEN i = 0 THEN 'The Celebrity' ELSE 'Bench user ' || i END, '', '', '', "
                "CASE WHEN i %% 2 = 0 THEN 'zh-hans' ELSE 'en' END, '[]', 0, 0, 0, 0, 80, 0, 0, 0, NULL FROM n",
                [n_users, joined, BASE_MS],
            )
        steps.update()

        # 2. follows: Zipf popularity, heavy-tailed out-degree, plus everyone -> the celebrity ----------
        steps.set_postfix_str("follows")
        ranks = list(range(1, n_users))
        rng.shuffle(ranks)  # popularity rank independent of id
        popular = [0] * n_users
        for idx, rank in zip(range(1, n_users), ranks, strict=True):
            popular[rank - 1] = idx  # popular[r] = account of rank r
        weights = [1.0 / (r + 1) ** 0.9 for r in range(n_users - 1)]
        cum = []
        total = 0.0
        for w in weights:
            total += w
            cum.append(total)
        population = popular[: n_users - 1]
        mean_out = (p["follows"] - (n_users - 1)) / n_users
        created = joined
        follow_id = (BASE_MS + n_users + 10) << 16
        n_follows = 0
        sql = "INSERT INTO social_follow (id, created_at, follower_id, target_id) VALUES (%s, %s, %s, %s)"
        with tqdm(total=n_users, desc="  follows", unit="user", position=1, leave=False) as bar:
            batch: list = []
            for i in range(1, n_users):
                k = min(150, max(1, round(rng.expovariate(1 / max(mean_out, 1)))))
                targets = set(rng.choices(population, cum_weights=cum, k=k))
                targets.discard(i)
                while len(targets) < k:  # popular accounts are drawn twice: draw again until k distinct
                    targets.update(rng.choices(population, cum_weights=cum, k=k - len(targets)))
                    targets.discard(i)
                targets.add(CELEB)
                for t in sorted(targets):
                    follow_id += 1
                    batch.append((follow_id, created, user_id(i), user_id(t)))
                if len(batch) >= 50_000 or i == n_users - 1:
                    with transaction.atomic():
                        cur.executemany(sql, batch)
                    n_follows += len(batch)
                    bar.update(len({row[2] for row in batch}))
                    batch = []
        steps.update()

        # 3. posts: P per account, evenly over the last 30 days; ids time-ordered and unique ---------
        steps.set_postfix_str("counters")
        with transaction.atomic():
            for sql_text in dropped:
                if '"social_follow"' in sql_text:
                    cur.execute(sql_text)
            cur.execute(
                "UPDATE accounts_user SET "
                "followers_count = (SELECT COUNT(*) FROM social_follow f WHERE f.target_id = accounts_user.id), "
                "following_count = (SELECT COUNT(*) FROM social_follow f WHERE f.follower_id = accounts_user.id)"
            )
            cur.execute(
                "SELECT COALESCE(SUM(u.followers_count), 0) FROM accounts_user u WHERE u.followers_count <= %s",
                [settings.FANOUT_THRESHOLD],
            )
            pushed_follows = cur.fetchone()[0]
            cur.execute("SELECT COUNT(*) FROM accounts_user WHERE followers_count > %s", [settings.FANOUT_THRESHOLD])
            n_pulled = cur.fetchone()[0]
        per_user = max(1, round(p["entries"] / max(1, pushed_follows + n_users)))
        n_posts = per_user * n_users
        steps.update()
        steps.set_postfix_str("posts")
        start_ms = now_ms - 30 * DAY_MS
        step_ms = max(1, (30 * DAY_MS - 60_000) // n_posts)
        chunk = 100_000
        with tqdm(total=n_posts, desc="  posts", unit="post", position=1, leave=False) as bar:
            for lo in range(0, n_posts, chunk):
                hi = min(n_posts, lo + chunk)
                with transaction.atomic():
                    cur.execute(
                        "INSERT INTO social_post (id, text, in_reply_to_account_id, visibility, language, sensitive, "
                        "spoiler_text, created_at, replies_count, reblogs_count, favourites_count, search_text, "
                        "author_id, in_reply_to_id, reblog_of_id, held) "
                        "WITH RECURSIVE n(k) AS (SELECT %s UNION ALL SELECT k + 1 FROM n WHERE k + 1 < %s) "
                        "SELECT ((%s + k * %s) << 16) | (k & 65535), "
                        "CASE WHEN k %% 2 = 0 THEN '今天试了新买的降噪耳机，效果真不错 #数码 ' || k "
                        "ELSE 'Trying the new running shoes today, so far so good #fitness ' || k END, "
                        "NULL, 'public', CASE WHEN k %% 2 = 0 THEN 'zh-hans' ELSE 'en' END, 0, '', "
                        "datetime((%s + k * %s) / 1000, 'unixepoch'), 0, 0, 0, '', "
                        "(%s + ((k * 7919) %% %s)) << 16, NULL, NULL, 0 FROM n",
                        [lo, hi, start_ms, step_ms, start_ms, step_ms, BASE_MS, n_users],
                    )
                bar.update(hi - lo)
            cur.execute(
                "UPDATE accounts_user SET statuses_count = %s, last_status_at = datetime(%s / 1000, 'unixepoch')",
                [per_user, start_ms + n_posts * step_ms],
            )
        steps.update()

        # 4. indexes back (sorted builds are much faster than inserting into them row by row) -----
        steps.set_postfix_str("indexes")
        for sql_text in dropped:
            if '"social_post"' in sql_text:
                cur.execute(sql_text)
        cur.execute("ANALYZE")

    # 5. home timelines: the production set-based rebuild --------------------------------------------
    steps.set_postfix_str("timelines")
    from tastemaker.feeds.management.commands.rebuild_feeds import rebuild_all

    t0 = time.monotonic()
    entries = rebuild_all(progress=True, batch=1000)
    rebuild_seconds = time.monotonic() - t0
    with connection.cursor() as cur:
        for sql_text in dropped:
            if '"feeds_timelineentry"' in sql_text:
                cur.execute(sql_text)
        cur.execute("ANALYZE")
        cur.execute("PRAGMA synchronous = NORMAL")
    steps.update()

    # 6. an OAuth app and one bearer token per benchmark user -----------------------------------------
    steps.set_postfix_str("tokens")
    tokens = _make_tokens(p["tokens"], n_users)
    steps.update()
    steps.close()
    return {
        **p,
        "follows_built": n_follows,
        "posts": n_posts,
        "posts_per_user": per_user,
        "pulled_accounts": n_pulled,
        "entries_built": entries,
        "rebuild_seconds": round(rebuild_seconds, 1),
        "token_users": len(tokens),
        "celebrity_id": user_id(CELEB),
        "celebrity_followers": n_users - 1,
    }


def _make_tokens(count: int, n_users: int) -> list[tuple[int, str]]:
    from oauth2_provider.models import get_access_token_model, get_application_model

    Application = get_application_model()
    AccessToken = get_access_token_model()
    app = Application.objects.create(
        name="bench", client_type="confidential", authorization_grant_type="password",
        redirect_uris="urn:ietf:wg:oauth:2.0:oob", scopes="read write follow",
    )
    rng = random.Random(7)
    picked = sorted(rng.sample(range(1, n_users), min(count, n_users - 1)))
    expires = datetime.now(tz=UTC) + timedelta(days=3650)
    rows = [(user_id(i), secrets.token_urlsafe(32)) for i in picked]
    AccessToken.objects.bulk_create(
        [AccessToken(user_id=uid, token=tok, application=app, expires=expires, scope="read write follow")
         for uid, tok in rows],
        batch_size=1000,
    )
    (settings.DATA_DIR / "tokens.txt").write_text("".join(f"{tok}\n" for _uid, tok in rows))
    (settings.DATA_DIR / "token_users.json").write_text(json.dumps(rows))
    return rows


def load_tokens() -> list[tuple[int, str]]:
    return [tuple(r) for r in json.loads((settings.DATA_DIR / "token_users.json").read_text())]
