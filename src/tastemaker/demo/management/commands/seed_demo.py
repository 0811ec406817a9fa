"""``tastemaker seed-demo``: a believable demo community, in Chinese and English.

By default about 2,000 accounts (60 of them experts across the 12 verticals), a power-law follow
graph in which experts are heavily followed, 20,000 posts over the last 30 days (hashtags, replies,
reposts, likes, images), filled home timelines and a search index. Deterministic for a ``--seed``.

Idempotent: the account ``demo`` is the marker; if it exists, nothing is changed.
Everything is written with bulk inserts; all denormalised counters are computed from the rows
before they are written, so they agree with the tables.
"""

from __future__ import annotations

import bisect
import colorsys
import io
import random
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import override_settings
from tqdm import tqdm

from tastemaker.accounts.models import User
from tastemaker.core.ids import new_id, now_ms
from tastemaker.core.text import extract_hashtags, search_text
from tastemaker.demo.content import (
    EN_FIRST,
    EN_LAST,
    EN_REPLIES,
    EN_TEMPLATES,
    EXPERT_EN_BIO,
    EXPERT_ZH_BIO,
    FAN_EN_BIO,
    FAN_ZH_BIO,
    PALETTES,
    TOPICS,
    VERTICAL_ZH,
    VERTICALS,
    ZH_GIVEN,
    ZH_REPLIES,
    ZH_SURNAMES,
    ZH_TEMPLATES,
)
from tastemaker.demo.showcase import seed_showcase
from tastemaker.discovery.models import UserInterest
from tastemaker.experts.models import Vertical
from tastemaker.experts.tasks import recompute_all
from tastemaker.feeds.management.commands.rebuild_feeds import rebuild_viewers
from tastemaker.images.intake import process_image
from tastemaker.social.models import Favourite, Follow, Hashtag, Media, Mention, Post, PostTag
from tastemaker.social.search import FTS_TABLE

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password-123"
DAY_MS = 24 * 3600 * 1000



@dataclass
class Account:
    id: int
    username: str
    display_name: str
    language: str
    verticals: list[str]
    expert: bool
    joined_ms: int
    bio: str = ""
    followers: int = 0
    following: int = 0
    statuses: int = 0
    last_ms: int = 0


@dataclass
class PostRow:
    id: int
    author: int
    ms: int
    text: str = ""
    language: str = "en"
    vertical: str = ""
    reply_to: int | None = None
    reply_to_account: int | None = None
    reblog_of: int | None = None
    replies: int = 0
    reblogs: int = 0
    favourites: int = 0
    tags: list[str] = field(default_factory=list)


class Command(BaseCommand):
    help = "Load a demo community (Chinese and English): experts, fans, follows, posts, images, likes."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=2000, help="accounts, experts and demo included")
        parser.add_argument("--experts", type=int, default=60, help="experts, spread over the 12 verticals")
        parser.add_argument("--posts", type=int, default=20000, help="posts, replies and reposts included")
        parser.add_argument("--seed", type=int, default=2015, help="random seed (same seed, same community)")
        parser.add_argument("--images", type=int, default=48, help="distinct images generated and reused")
        parser.add_argument("--no-progress", action="store_true", help="no progress bars")

    # ---------------------------------------------------------------------------------------------
    def handle(self, *args, users=2000, experts=60, posts=20000, seed=2015, images=48, no_progress=False,
               **options):
        if User.objects.filter(username__iexact=DEMO_USERNAME).exists():
            self.stdout.write(f"The demo data is already loaded (the account @{DEMO_USERNAME} exists); nothing to do.")
            return
        if users < 2 or experts < 1 or experts >= users or posts < 1 or images < 1:
            raise CommandError("Need --users ≥ 2, 1 ≤ --experts < --users, --posts ≥ 1 and --images ≥ 1.")
        self.quiet = no_progress
        self.rng = random.Random(seed)
        started = time.monotonic()
        self.now = now_ms()
        self.used_ids: set[int] = set()

        pool = self._make_images(images)
        accounts = self._make_accounts(users, experts)
        follows = self._make_follows(accounts)
        rows = self._make_posts(accounts, follows, posts)
        likes = self._make_likes(accounts, rows, follows)
        with transaction.atomic():
            self._write_users(accounts, pool)
            self._write_follows(follows)
            self._write_posts(rows, accounts, pool)
            self._write_likes(likes)
            self._write_search(rows)
        entries = rebuild_viewers([a.id for a in accounts], progress=not self.quiet, desc="home timelines")
        labelled = self._label_creators(accounts)
        admin_note = self._ensure_admin()
        showcase = self._seed_showcase(accounts, pool)
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(
            f"Demo community loaded in {elapsed:.1f} s: {len(accounts)} accounts ({experts} experts), "
            f"{len(follows)} follows, {len(rows)} posts, {len(likes)} likes, {entries} timeline entries, "
            f"{self.n_media} images attached ({len(pool)} distinct pictures), ability labels for {labelled} creators; "
            f"Showcase: {showcase['stores']} partner stores, {showcase['posts']} showcase posts, "
            f"{showcase['clicks']} click-outs, {showcase['orders']} orders reported by webhook."))
        self.stdout.write(f"Log in as  {DEMO_USERNAME} / {DEMO_PASSWORD}")
        if admin_note:
            self.stdout.write(admin_note)

    def _seed_showcase(self, accounts, pool) -> dict:
        """Partner stores, a catalog, showcase posts by experts and the demo account, click-outs and orders
        (through the real services and signed webhooks)."""
        operator = User.objects.filter(is_superuser=True).order_by("pk").first()
        demo = next(a for a in accounts if a.username == DEMO_USERNAME)
        experts = [(a.id, a.verticals[0], a.language) for a in accounts if a.expert and a.verticals]
        fans = [a.id for a in accounts if not a.expert][:400]
        self.stdout.write("showcase: stores, catalog, showcase posts, click-outs and orders …")
        # the demo's posts are written by the operator's command, several per expert within seconds: the
        # anti-flooding rules (repeats, near duplicates) are for people, not for seeding
        with override_settings(RULES_ENABLED=False):
            return seed_showcase(operator=operator, experts=experts, fan_ids=fans, demo_id=demo.id, topics=TOPICS,
                                 pool=pool, rng=self.rng)

    def _label_creators(self, accounts) -> int:
        """Ability labels for everyone who posted (as the nightly job would), and each account's picked
        verticals as discovery interests, so experts, who-to-follow and onboarding work at once."""
        by_slug = {v.slug: v.pk for v in Vertical.objects.all()}
        UserInterest.objects.bulk_create(
            [UserInterest(user_id=a.id, vertical_id=by_slug[v], picked=True)
             for a in accounts for v in a.verticals if v in by_slug], ignore_conflicts=True)
        return recompute_all()

    # --- helpers ---------------------------------------------------------------------------------
    def _bar(self, iterable=None, **kw):
        return tqdm(iterable, disable=self.quiet, leave=True, **kw)

    def _id(self, ms: int) -> int:
        while True:
            value = new_id(at_ms=ms)
            if value not in self.used_ids:
                self.used_ids.add(value)
                return value

    # --- images ----------------------------------------------------------------------------------
    def _make_images(self, count: int) -> list[dict]:
        """``count`` distinct pictures (gradients and shapes in each vertical's colours), run through
        the media pipeline once; posts then share them."""
        from PIL import Image, ImageDraw

        pool = []
        for i in self._bar(range(count), desc="images", unit="img"):
            vertical = VERTICALS[i % len(VERTICALS)]
            hue = PALETTES[vertical]
            w, h = self.rng.choice([(1080, 1080), (1080, 1350), (1200, 800)])
            top = tuple(int(c * 255) for c in colorsys.hsv_to_rgb(hue, 0.35, 0.98))
            bottom = tuple(int(c * 255) for c in colorsys.hsv_to_rgb((hue + 0.08) % 1, 0.75, 0.70))
            img = Image.linear_gradient("L").resize((w, h))
            img = Image.composite(Image.new("RGB", (w, h), bottom), Image.new("RGB", (w, h), top), img)
            draw = ImageDraw.Draw(img)
            for _ in range(self.rng.randint(3, 7)):
                cx, cy = self.rng.randint(0, w), self.rng.randint(0, h)
                r = self.rng.randint(min(w, h) // 12, min(w, h) // 4)
                shade = tuple(int(c * 255) for c in colorsys.hsv_to_rgb(
                    (hue + self.rng.uniform(-0.06, 0.06)) % 1, self.rng.uniform(0.2, 0.9), self.rng.uniform(0.6, 1)))
                if self.rng.random() < 0.5:
                    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=shade)
                else:
                    draw.rounded_rectangle((cx - r, cy - r // 2, cx + r, cy + r // 2), radius=r // 5, fill=shade)
            buf = io.BytesIO()
            img.save(buf, "JPEG", quality=88)
            info = process_image(buf.getvalue(), user=None)  # made by the server: no upload limit
            info["vertical"] = vertical
            pool.append(info)
        return pool

    # --- accounts --------------------------------------------------------------------------------
    def _make_accounts(self, users: int, experts: int) -> list[Account]:
        rng = self.rng
        taken: set[str] = set(u.lower() for u in User.objects.values_list("username", flat=True))
        out: list[Account] = []

        def unique(base: str) -> str:
            base = base[:24] or "user"
            name = base
            while name.lower() in taken:
                name = f"{base}{rng.randint(2, 9999)}"
            taken.add(name.lower())
            return name

        def joined() -> int:
            return self.now - rng.randint(31, 720) * DAY_MS - rng.randint(0, DAY_MS)

        # the demo account first: a fan of a few verticals, in English
        demo_ms = joined()
        out.append(Account(self._id(demo_ms), unique(DEMO_USERNAME), "Demo 演示", "en",
                           ["beauty", "tech", "food", "travel"], False, demo_ms,
                           "The demo account · 演示账号. Look around!"))
        for i in self._bar(range(users - 1), desc="accounts", unit="user"):
            zh = rng.random() < 0.5
            ms = joined()
            if i < experts:
                vertical = VERTICALS[i % len(VERTICALS)]
                verticals = [vertical]
            else:
                vertical = None
                verticals = rng.sample(VERTICALS, rng.choice([1, 2, 2, 3]))
            if zh:
                (sur, sur_py), (given, given_py) = rng.choice(ZH_SURNAMES), rng.choice(ZH_GIVEN)
                if vertical:
                    display = f"{given}的{VERTICAL_ZH[vertical]}日记"
                    username = unique(f"{given_py}_{vertical}")
                    bio = EXPERT_ZH_BIO.format(v=VERTICAL_ZH[vertical])
                else:
                    display = sur + given
                    username = unique(f"{sur_py}{given_py}")
                    bio = rng.choice(FAN_ZH_BIO)
                language = "zh-hans"
            else:
                first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
                if vertical:
                    display = f"{first} {last} · {vertical.title()}"
                    username = unique(f"{first.lower()}_{vertical}")
                    bio = EXPERT_EN_BIO.format(v=vertical.title())
                else:
                    display = f"{first} {last}"
                    username = unique(f"{first.lower()}{last.lower()}{rng.randint(1, 99)}")
                    bio = rng.choice(FAN_EN_BIO)
                language = "en"
            out.append(Account(self._id(ms), username, display, language, verticals, bool(vertical), ms, bio))
        return out

    # --- follow graph ----------------------------------------------------------------------------
    def _make_follows(self, accounts: list[Account]) -> list[tuple[int, int, int]]:
        """Preferential attachment: each account follows k others (heavy-tailed k), chosen with
        probability ∝ (a Zipf weight + followers so far); experts in one's verticals weigh much more."""
        rng = self.rng
        n = len(accounts)
        experts = [a for a in accounts if a.expert]
        fans = [a for a in accounts if not a.expert]
        # a Zipf popularity rank for everyone; experts rank first
        order = experts + rng.sample(fans, len(fans))
        base_weight = {a.id: 1.0 / (rank + 1) ** 0.9 for rank, a in enumerate(order)}
        by_vertical: dict[str, list[Account]] = {v: [] for v in VERTICALS}
        for a in experts:
            by_vertical[a.verticals[0]].append(a)
        follows: dict[tuple[int, int], int] = {}
        indegree: dict[int, int] = {a.id: 0 for a in accounts}
        ids = [a.id for a in order]
        shuffled = rng.sample(accounts, n)
        refresh = 0
        cum: list[float] = []
        total = 0.0
        for a in self._bar(shuffled, desc="follow graph", unit="user"):
            # how many to follow: heavy-tailed, 3 … ~200, mean ≈ 25
            k = min(n - 1, max(3, int(rng.paretovariate(1.6) * 10)), 200)
            chosen: set[int] = set()
            # experts in one's own verticals first (most fans follow several)
            for v in a.verticals:
                pool = [e for e in by_vertical[v] if e.id != a.id]
                for e in rng.sample(pool, min(len(pool), rng.randint(1, max(1, len(pool))))):
                    chosen.add(e.id)
            # then preferential attachment over everyone (weights refreshed every 25 accounts)
            if refresh % 25 == 0:
                cum = _cumulative([base_weight[i] * 50 + indegree[i] for i in ids])
                total = cum[-1]
            refresh += 1
            tries = 0
            while len(chosen) < k and tries < k * 20:
                tries += 1
                if rng.random() < 0.3:  # friends, colleagues, people met in replies: anyone
                    target = ids[rng.randrange(n)]
                else:
                    target = ids[bisect.bisect_left(cum, rng.random() * total)]
                if target != a.id:
                    chosen.add(target)
            chosen.discard(a.id)
            for target in chosen:
                if (a.id, target) not in follows:
                    follows[(a.id, target)] = max(a.joined_ms, rng.randint(a.joined_ms, self.now - DAY_MS))
                    indegree[target] += 1
        by_id = {a.id: a for a in accounts}
        out = []
        for (follower, target), ms in follows.items():
            by_id[follower].following += 1
            by_id[target].followers += 1
            out.append((follower, target, ms))
        return out

    # --- posts -----------------------------------------------------------------------------------
    def _make_posts(self, accounts, follows, total) -> list[PostRow]:
        rng = self.rng
        experts = [a for a in accounts if a.expert]
        fans = [a for a in accounts if not a.expert]
        # activity: experts write ~35% of everything; fans by a Zipf activity rank
        fan_weights = [1.0 / (r + 1) ** 0.8 for r in range(len(fans))]
        fans_by_activity = rng.sample(fans, len(fans))
        fan_cum = _cumulative(fan_weights)
        # posting times over the last 30 days, denser in the evening (UTC+8)
        start = self.now - 30 * DAY_MS
        times = []
        for _ in range(total):
            day = rng.randint(0, 29)
            hour = (rng.choice([9, 12, 13, 19, 20, 21, 22, 23, 10, 15]) - 8) % 24
            ms = start + day * DAY_MS + hour * 3600_000 + rng.randint(0, 3600_000 - 1)
            times.append(min(ms, self.now - 1000))
        times.sort()
        rows: list[PostRow] = []
        originals: list[PostRow] = []
        orig_weight: list[float] = []  # experts' posts draw more replies, likes and reposts
        reblogged: set[tuple[int, int]] = set()
        by_id = {a.id: a for a in accounts}
        for ms in self._bar(times, desc="posts", unit="post"):
            if rng.random() < 0.35 and experts:
                author = rng.choice(experts)
            elif fans:
                author = fans_by_activity[bisect.bisect_left(fan_cum, rng.random() * fan_cum[-1])]
            else:
                author = rng.choice(experts)
            ms = max(ms, author.joined_ms + 1000)
            kind = rng.random()
            zh = author.language == "zh-hans" if rng.random() < 0.85 else author.language != "zh-hans"
            row = PostRow(self._id(ms), author.id, ms, language="zh-hans" if zh else "en")
            if originals and kind < 0.15:  # a reply
                parent = originals[_pick(rng, orig_weight)]
                parent_author = by_id[parent.author]
                row.reply_to, row.reply_to_account = parent.id, parent.author
                body = rng.choice(ZH_REPLIES if zh else EN_REPLIES)
                row.text = f"@{parent_author.username} {body}"
                row.vertical = parent.vertical
                parent.replies += 1
            elif originals and kind < 0.25 and (parent := originals[_pick(rng, orig_weight)]).author != author.id \
                    and (author.id, parent.id) not in reblogged:  # a repost (once per post and account)
                reblogged.add((author.id, parent.id))
                row.reblog_of = parent.id
                row.language = ""
                parent.reblogs += 1
            else:
                vertical = rng.choice(author.verticals)
                item_en, item_zh = rng.choice(TOPICS[vertical]["items"])
                tags_en, tags_zh = TOPICS[vertical]["tags"]
                if zh:
                    text = rng.choice(ZH_TEMPLATES).format(item=item_zh)
                    tags = rng.sample(tags_zh, rng.randint(1, 2)) + ([vertical] if rng.random() < 0.2 else [])
                else:
                    text = rng.choice(EN_TEMPLATES).format(item=item_en)
                    tags = rng.sample(tags_en, rng.randint(1, 2))
                row.text = text + " " + " ".join(f"#{t}" for t in tags)
                row.vertical = vertical
                originals.append(row)
                orig_weight.append(8.0 if author.expert else 1.0)
            if row.text:
                row.tags = extract_hashtags(row.text)
            author.statuses += 1
            author.last_ms = max(author.last_ms, ms)
            rows.append(row)
        return rows

    def _make_likes(self, accounts, rows, follows) -> list[tuple[int, int, int]]:
        """Likes: mostly from followers, heavily on experts' posts; each user likes a post once."""
        rng = self.rng
        followers_of: dict[int, list[int]] = {}
        for follower, target, _ms in follows:
            followers_of.setdefault(target, []).append(follower)
        experts = {a.id for a in accounts if a.expert}
        everyone = [a.id for a in accounts]
        likes = []
        for row in self._bar([r for r in rows if r.reblog_of is None], desc="likes", unit="post"):
            fans = followers_of.get(row.author, [])
            mean = (0.05 * len(fans) + 3) if row.author in experts else (0.15 * len(fans) + 0.5)
            n = min(int(rng.expovariate(1 / mean)), len(fans) + 5, len(everyone) - 1)
            if n <= 0:
                continue
            likers = set(rng.sample(fans, min(n, len(fans))))
            while len(likers) < n:
                likers.add(rng.choice(everyone))
            likers.discard(row.author)
            for uid in likers:
                likes.append((uid, row.id, rng.randint(row.ms, max(row.ms, self.now - 1))))
            row.favourites = len(likers)
        return likes

    # --- writes ----------------------------------------------------------------------------------
    def _write_users(self, accounts: list[Account], pool: list[dict]) -> None:
        demo_hash = make_password(DEMO_PASSWORD)
        rng = self.rng
        objs = []
        for a in accounts:
            demo = a.username == DEMO_USERNAME
            avatar = ""
            if a.expert or rng.random() < 0.3:
                candidates = [p for p in pool if p["vertical"] in a.verticals] or pool
                avatar = rng.choice(candidates)["preview"]
            objs.append(User(
                id=a.id, username=a.username, email=f"{a.username.lower()}@demo.tastemaker.local",
                password=demo_hash if demo else make_password(None), display_name=a.display_name[:60],
                bio=a.bio, avatar=avatar, language=a.language, interests=a.verticals,
                followers_count=a.followers, following_count=a.following, statuses_count=a.statuses,
                last_status_at=_dt(a.last_ms) if a.last_ms else None, date_joined=_dt(a.joined_ms),
                is_active=True,
            ))
        for i in self._bar(range(0, len(objs), 1000), desc="write accounts", unit="batch"):
            User.objects.bulk_create(objs[i: i + 1000])

    def _write_follows(self, follows) -> None:
        objs = [Follow(id=self._id(ms), follower_id=f, target_id=t, created_at=_dt(ms)) for f, t, ms in follows]
        for i in self._bar(range(0, len(objs), 5000), desc="write follows", unit="batch"):
            Follow.objects.bulk_create(objs[i: i + 5000])

    def _write_posts(self, rows: list[PostRow], accounts, pool) -> None:
        rng = self.rng
        texts = {r.text for r in rows if r.text}
        segmented = {t: search_text(t) for t in self._bar(sorted(texts), desc="segment text", unit="text")}
        objs = []
        tag_names: set[str] = set()
        for r in rows:
            objs.append(Post(
                id=r.id, author_id=r.author, text=r.text, in_reply_to_id=r.reply_to,
                in_reply_to_account_id=r.reply_to_account, reblog_of_id=r.reblog_of, visibility="public",
                language=r.language, created_at=_dt(r.ms), replies_count=r.replies, reblogs_count=r.reblogs,
                favourites_count=r.favourites, search_text=segmented.get(r.text, ""),
            ))
            tag_names.update(t[:64] for t in r.tags)
        for i in self._bar(range(0, len(objs), 2000), desc="write posts", unit="batch"):
            Post.objects.bulk_create(objs[i: i + 2000])
        # hashtags
        existing = dict(Hashtag.objects.filter(name__in=tag_names).values_list("name", "id"))
        Hashtag.objects.bulk_create([Hashtag(name=n) for n in sorted(tag_names) if n not in existing])
        tag_ids = dict(Hashtag.objects.filter(name__in=tag_names).values_list("name", "id"))
        post_tags = [PostTag(post_id=r.id, hashtag_id=tag_ids[t[:64]]) for r in rows for t in r.tags]
        PostTag.objects.bulk_create(post_tags, batch_size=5000)
        # replies mention the account replied to (as do_create_post does)
        Mention.objects.bulk_create(
            [Mention(post_id=r.id, user_id=r.reply_to_account) for r in rows
             if r.reply_to_account and r.reply_to_account != r.author], batch_size=5000)
        # images: ~40% of original posts carry 1–4 of the shared pictures, from their vertical
        by_vertical: dict[str, list[dict]] = {}
        for p in pool:
            by_vertical.setdefault(p["vertical"], []).append(p)
        media = []
        for r in self._bar([r for r in rows if r.vertical and r.reply_to is None], desc="media", unit="post"):
            if rng.random() >= 0.4:
                continue
            choices = by_vertical.get(r.vertical) or pool
            count = min(len(choices), rng.choice([1, 1, 1, 2, 3, 4]))
            for position, pic in enumerate(rng.sample(choices, count)):
                media.append(Media(
                    id=self._id(r.ms - 1000), owner_id=r.author, post_id=r.id, position=position,
                    file=pic["file"], preview=pic["preview"], width=pic["width"], height=pic["height"],
                    description=f"{VERTICAL_ZH.get(r.vertical, '')} {r.vertical} photo".strip(),
                    created_at=_dt(r.ms - 1000)))
        Media.objects.bulk_create(media, batch_size=5000)
        self.n_media = len(media)

    def _write_likes(self, likes) -> None:
        objs = [Favourite(id=self._id(ms), user_id=u, post_id=p) for u, p, ms in likes]
        for i in self._bar(range(0, len(objs), 5000), desc="write likes", unit="batch"):
            Favourite.objects.bulk_create(objs[i: i + 5000])

    def _write_search(self, rows: list[PostRow]) -> None:
        if connection.vendor != "sqlite":
            return  # PostgreSQL: the GIN index over social_post.search_text is maintained by the database
        ids = [r.id for r in rows if r.text]
        with connection.cursor() as cur:
            for i in self._bar(range(0, len(ids), 5000), desc="search index", unit="batch"):
                chunk = ids[i: i + 5000]
                cur.execute(
                    f"INSERT OR REPLACE INTO {FTS_TABLE}(rowid, body) SELECT id, search_text FROM social_post "
                    f"WHERE id IN ({','.join(['%s'] * len(chunk))})", chunk)

    def _ensure_admin(self) -> str:
        if User.objects.filter(is_superuser=True).exists():
            return ""
        if User.objects.filter(username__iexact="admin").exists():
            return "No superuser exists and the name 'admin' is taken: create one with `tastemaker createsuperuser`."
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username="admin", email=settings.ADMIN_EMAIL, password=password,
                                      display_name="Operator")
        return f"Operator account created:  admin / {password}   (shown once; change it after logging in)"


def _cumulative(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _pick(rng: random.Random, weights: list[float]) -> int:
    """Index drawn ∝ weights, biased towards recent items (people answer what is in their feed)."""
    n = len(weights)
    # look at a recent window most of the time
    lo = max(0, n - 400) if rng.random() < 0.8 else 0
    window = weights[lo:]
    total = sum(window)
    x = rng.random() * total
    for i, w in enumerate(window):
        x -= w
        if x <= 0:
            return lo + i
    return n - 1


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)

