"""Discovery reads: a user's interests, who-to-follow with reasons, onboarding experts, posts by vertical."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from tastemaker.accounts.models import User
from tastemaker.core.ids import id_floor
from tastemaker.experts.models import AbilityLabel, PostLabel, Vertical
from tastemaker.social.models import Bookmark, Favourite, Follow, Post
from tastemaker.social.visibility import AccountReach, Surface, accounts_q, hidden_sql, posts_q

from .models import UserInterest

PICKED_WEIGHT = 1.0
MAX_INTERESTS_USED = 3


# --- interests ------------------------------------------------------------------------------

@dataclass
class Interest:
    vertical: Vertical
    picked: bool
    learned_weight: float
    hidden: bool

    @property
    def weight(self) -> float:
        if self.hidden:
            return 0.0
        return max(PICKED_WEIGHT if self.picked else 0.0, self.learned_weight)


def interests(user: User) -> list[Interest]:
    """Picked and learned interests (hidden ones included, flagged), strongest first."""
    rows = UserInterest.objects.filter(user=user, vertical__active=True).select_related("vertical")
    out = [Interest(r.vertical, r.picked, r.learned_weight, r.hidden) for r in rows
           if r.picked or r.learned_weight > 0 or r.hidden]
    out.sort(key=lambda i: (-i.weight, i.vertical.position))
    return out


def active_interest_weights(user_id: int) -> dict[int, float]:
    """vertical id -> weight, for ranking (one query)."""
    from django.db import connection

    out: dict[int, float] = {}
    with connection.cursor() as cur:
        cur.execute("SELECT vertical_id, picked, learned_weight FROM discovery_userinterest "
                    "WHERE user_id = %s AND hidden = %s", [user_id, False])
        rows = cur.fetchall()
    for vid, picked, learned in rows:
        weight = max(PICKED_WEIGHT if picked else 0.0, learned)
        if weight > 0:
            out[vid] = weight
    return out


# learned-interest signals: (weight, how to find the posts), from the tables that exist today.
# Events (reads, click-outs) from the analytics app feed in through settings.DISCOVERY_INTEREST_SOURCES:
# dotted paths of callables ``fn(user, since) -> {vertical_slug: weight}``.
W_FAVOURITE, W_BOOKMARK, W_REBLOG, W_REPLY, W_FOLLOW = 1.0, 2.0, 2.0, 1.5, 3.0
LEARN_WINDOW_DAYS = 90
LEARN_MIN_SHARE = 0.1
LEARN_MAX_POSTS = 400


def engaged_post_ids(user: User, since: datetime) -> list[tuple[int, float]]:
    floor = id_floor(since)
    out: list[tuple[int, float]] = []
    out += [(pid, W_FAVOURITE) for pid in Favourite.objects.filter(user=user, id__gte=floor)
            .order_by("-id").values_list("post_id", flat=True)[:LEARN_MAX_POSTS]]
    out += [(pid, W_BOOKMARK) for pid in Bookmark.objects.filter(user=user, id__gte=floor)
            .order_by("-id").values_list("post_id", flat=True)[:LEARN_MAX_POSTS]]
    out += [(pid, W_REBLOG) for pid in Post.objects.filter(author=user, reblog_of__isnull=False, id__gte=floor)
            .order_by("-id").values_list("reblog_of_id", flat=True)[:LEARN_MAX_POSTS]]
    out += [(pid, W_REPLY) for pid in Post.objects.filter(author=user, in_reply_to__isnull=False, id__gte=floor)
            .exclude(in_reply_to_account_id=user.pk)
            .order_by("-id").values_list("in_reply_to_id", flat=True)[:LEARN_MAX_POSTS]]
    return out


@dataclass
class Learned:
    """A user's learned interests: ``weights`` (vertical id -> share of recent engagement) and ``unlabelled``,
    the posts engaged with that have no stored label yet (they count for nothing this time)."""

    weights: dict[int, float]
    unlabelled: list[int] = field(default_factory=list)


def learned_interests(user: User) -> Learned:
    """Learned interests from stored post labels only: classifying costs milliseconds per post and this runs in
    requests too, so a post nobody labelled yet is reported in ``unlabelled`` (the service has a job label
    it, and the next computation counts it) instead of being classified here."""
    since = timezone.now() - timedelta(days=LEARN_WINDOW_DAYS)
    engaged = engaged_post_ids(user, since)
    totals = cast("dict[int, float]", Counter())  # a Counter (a missing vertical reads 0) of float weights
    unlabelled: list[int] = []
    if engaged:
        ids = list({pid for pid, _w in engaged})
        labels: dict[int, int | None] = dict(PostLabel.objects.filter(post_id__in=ids).values_list("post_id", "vertical_id"))
        missing = [i for i in ids if i not in labels]
        if missing:  # posts without text have nothing to label
            unlabelled = sorted(Post.objects.filter(pk__in=missing).exclude(text="").values_list("id", flat=True))
        for pid, weight in engaged:
            vid = labels.get(pid)
            if vid:
                totals[vid] += weight
    followed = Follow.objects.filter(follower=user).order_by("-id").values_list("target_id", flat=True)[:200]
    # experts who shape your interests: only accounts discovery shows (not suspended, not limited)
    for vid, score in (AbilityLabel.objects.filter(user_id__in=list(followed), suppressed=False,
                                                   score__gte=settings.LABEL_MIN_SCORE)
                       .filter(accounts_q(None, AccountReach.DISCOVERY, "user__")).values_list("vertical_id", "score")):
        totals[vid] += W_FOLLOW * score / 100
    sources = getattr(settings, "DISCOVERY_INTEREST_SOURCES", [])
    if sources:
        by_slug = dict(Vertical.objects.values_list("slug", "pk"))
        for path in sources:
            for slug, weight in import_string(path)(user, since).items():
                if slug in by_slug and weight > 0:
                    totals[by_slug[slug]] += float(weight)
    total = sum(totals.values())
    if not total:
        return Learned({}, unlabelled)
    return Learned({vid: round(w / total, 4) for vid, w in totals.items() if w / total >= LEARN_MIN_SHARE},
                   unlabelled)


def learned_weights(user: User) -> dict[int, float]:
    """vertical id -> share of the user's recent engagement (likes, bookmarks, reposts, replies, follows)."""
    return learned_interests(user).weights


# --- exclusions -----------------------------------------------------------------------------

# never suggested, besides whom the viewer's lists hide (social.visibility.hidden_sql): accounts that muted
# the viewer, and suggestions the viewer dismissed
_NOT_SUGGESTED_SQL = (
    " UNION ALL SELECT 2, account_id FROM social_mute WHERE target_id = %s"
    " UNION ALL SELECT 2, target_id FROM discovery_suggestiondismissal WHERE user_id = %s"
)


def excluded_ids(user: User) -> set[int]:
    """Never suggested: yourself, whom you follow, block or mute (either way), or dismissed."""
    exclude, _recent = _exclusions(user.pk)
    return exclude


def _exclusions(uid: int) -> tuple[set[int], list[int]]:
    """(excluded ids, followed ids newest first) in two queries."""
    from django.db import connection

    with connection.cursor() as cur:  # raw SQL: this runs on every suggestions request
        cur.execute("SELECT target_id FROM social_follow WHERE follower_id = %s ORDER BY id DESC", [uid])
        following = [row[0] for row in cur.fetchall()]
        sql, params = hidden_sql(uid)
        cur.execute(sql + _NOT_SUGGESTED_SQL, [*params, uid, uid])
        hidden = {row[1] for row in cur.fetchall()}
    return {uid, *following, *hidden}, following


# --- who to follow --------------------------------------------------------------------------

# what the account entity (api.serializers.account) and the web rows read: no password hashes etc.
ACCOUNT_FIELDS = ("id", "username", "display_name", "locked", "bot", "date_joined", "bio", "avatar", "header",
                  "followers_count", "following_count", "statuses_count", "last_status_at", "interests",
                  "language", "is_active", "is_suspended", "is_staff")


class AccountRow:
    """The account fields of a suggested user, read without building a model instance (this is a hot
    list). Quacks like ``User`` for ``api.serializers.account`` and the web templates."""

    __slots__ = ACCOUNT_FIELDS
    # the slots, as read from accounts.User (annotations only: no class attributes beside __slots__)
    id: int
    username: str
    display_name: str
    locked: bool
    bot: bool
    date_joined: datetime
    bio: str
    avatar: str
    header: str
    followers_count: int
    following_count: int
    statuses_count: int
    last_status_at: datetime | None
    interests: Any
    language: str
    is_active: bool
    is_suspended: bool
    is_staff: bool

    def __init__(self, values: Iterable[Any]) -> None:
        for name, value in zip(ACCOUNT_FIELDS, values, strict=True):
            setattr(self, name, value)

    @property
    def pk(self) -> int:
        return self.id

    @property
    def name(self) -> str:
        return self.display_name or self.username

    def __str__(self) -> str:
        return f"@{self.username}"


TOP_CACHE_SECONDS = 60  # per-vertical rankings change when labels are recomputed (every few minutes)
TOP_PER_VERTICAL = 300


@dataclass
class Suggestion:
    account: User | AccountRow  # AccountRow from suggestions(): the fields of User, no model instance
    score: float = 0.0
    sources: list[str] = field(default_factory=list)
    reasons: list[tuple[float, str, tuple[Any, ...]]] = field(default_factory=list)  # (weight, kind, params)
    vertical: Vertical | None = None
    reason: str = ""

    @property
    def kind(self) -> str:
        return max(self.reasons, key=lambda r: r[0])[1] if self.reasons else ""

    @property
    def source(self) -> str:
        """Mastodon's deprecated single ``source``."""
        return "past_interactions" if {"friends_of_friends", "similar_to_recently_followed"} & set(
            self.sources) else "global"


def _active_verticals() -> dict[int, Vertical]:
    from django.core.cache import cache

    found: dict[int, Vertical] | None = cache.get("discovery:verticals")
    if found is None:
        found = {v.pk: v for v in Vertical.objects.filter(active=True)}
        cache.set("discovery:verticals", found, TOP_CACHE_SECONDS)
    return found


def _ranked(vertical_ids: list[int], rising: bool = False) -> dict[int, list[tuple[int, float]]]:
    """Top creators (user id, score) of each vertical, best first; shared by all users, cached briefly.
    Missing verticals are read in one UNION ALL query (one LIMITed index scan per vertical)."""
    from django.core.cache import cache
    from django.db import connection

    key = "discovery:rising:%d" if rising else "discovery:top:%d"
    found = cache.get_many([key % vid for vid in vertical_ids])
    out = {vid: found[key % vid] for vid in vertical_ids if key % vid in found}
    missing = [vid for vid in vertical_ids if vid not in out]
    if missing:
        week_ago = timezone.now() - timedelta(days=7)
        extra = " AND changed_at >= %s AND previous_score > 0 AND score >= previous_score + 10" if rising else ""
        part = ("SELECT * FROM (SELECT vertical_id, user_id, score FROM experts_abilitylabel "
                f"WHERE vertical_id = %s AND suppressed = %s AND score >= %s{extra} ORDER BY score DESC LIMIT %s) t%s")
        sql, params = [], []
        for n, vid in enumerate(missing):
            sql.append(part.replace("t%s", f"t{n}"))
            params += [vid, False, settings.LABEL_MIN_SCORE] + ([week_ago] if rising else []) + [TOP_PER_VERTICAL]
        fresh: dict[int, list[tuple[int, float]]] = {vid: [] for vid in missing}
        with connection.cursor() as cur:
            cur.execute(" UNION ALL ".join(sql), params)
            for vid, uid, score in cur.fetchall():
                fresh[vid].append((uid, score))
        for rows in fresh.values():
            rows.sort(key=lambda r: -r[1])
        cache.set_many({key % vid: rows for vid, rows in fresh.items()}, TOP_CACHE_SECONDS)
        out.update(fresh)
    return out


def _follow_key(prefix: str, ids: list[int]) -> str:
    import hashlib

    return prefix + hashlib.blake2b(",".join(map(str, ids)).encode(), digest_size=12).hexdigest()


FOF_CACHE_SECONDS = 300
FOF_MAX = 200


def _friends_of_friends(followed: list[int]) -> list[tuple[int, int]]:
    """Accounts followed by the accounts you follow, most shared first. Cached by the exact list of
    accounts you follow (a new follow recomputes it at once), for five minutes otherwise."""
    if not followed:
        return []
    from django.core.cache import cache

    key = _follow_key("discovery:fof:", followed)
    found: list[tuple[int, int]] | None = cache.get(key)
    if found is None:
        from django.db import connection

        with connection.cursor() as cur:
            marks = ",".join(["%s"] * len(followed))
            cur.execute(f"SELECT target_id, COUNT(*) AS n FROM social_follow WHERE follower_id IN ({marks}) "
                        "GROUP BY target_id ORDER BY n DESC, target_id LIMIT %s", [*followed, FOF_MAX])
            found = [(t, n) for t, n in cur.fetchall()]
        cache.set(key, found, FOF_CACHE_SECONDS)
    return found


def _seeds(recent: list[int], verticals: dict[int, Vertical]) -> list[tuple[int, str]]:
    """(strongest vertical, username) of the accounts followed most recently; cached like fof."""
    if not recent:
        return []
    from django.core.cache import cache

    key = _follow_key("discovery:seeds:", recent)
    found = cache.get(key)
    if found is None:
        found, seen = [], set()
        for seed_uid, vid, username in (AbilityLabel.objects.filter(
                user_id__in=recent, suppressed=False, score__gte=settings.LABEL_MIN_SCORE)
                .order_by("user_id", "-score").values_list("user_id", "vertical_id", "user__username")):
            if seed_uid not in seen:
                seen.add(seed_uid)
                found.append((vid, username))
        cache.set(key, found, FOF_CACHE_SECONDS)
    return [(vid, username) for vid, username in found if vid in verticals]


class _Candidates:
    def __init__(self, exclude: set[int]):
        self.exclude = exclude
        self.rows: dict[int, dict[str, Any]] = {}

    def add(self, uid: int, weight: float, source: str, kind: str, params: tuple[Any, ...],
            vertical_id: int | None = None) -> None:
        if uid in self.exclude or weight <= 0:
            return
        row = self.rows.get(uid)
        if row is None:
            row = self.rows[uid] = {"score": 0.0, "sources": [], "reasons": [], "vertical_id": vertical_id}
        row["score"] += weight
        if source not in row["sources"]:
            row["sources"].append(source)
        row["reasons"].append((weight, kind, params))


def suggestions(user: User, limit: int = 20) -> list[Suggestion]:
    """Who to follow, each with the reason: your interests, people you follow, accounts similar to the
    ones you followed recently, accounts rising in your verticals (and top experts as a fallback).

    Ranks by ability in a vertical, never by follower count alone (the source platform's lesson)."""
    limit = max(1, min(limit, settings.SUGGESTIONS_MAX))
    exclude, following = _exclusions(user.pk)
    cands = _Candidates(exclude)
    verticals = _active_verticals()
    weights = active_interest_weights(user.pk)
    top_interests = sorted(((w, vid) for vid, w in weights.items() if vid in verticals), reverse=True)
    top_interests = top_interests[:MAX_INTERESTS_USED]
    seeds = _seeds(following[:5], verticals)  # (vertical, username) of accounts followed recently
    wanted = list(dict.fromkeys([vid for _w, vid in top_interests] + [vid for vid, _u in seeds]))
    ranked = _ranked(wanted) if wanted else {}
    depth = limit + len(exclude)  # enough to fill ``limit`` from a ranked list after exclusions

    # 1. experts in your interests, by ability
    for w, vid in top_interests:
        for uid, score in ranked[vid][:depth]:
            cands.add(uid, w * score / 100, "featured", "interest", (vid,), vid)
    # 2. followed by people you follow
    for target_id, n in _friends_of_friends(following[:200])[: limit + len(exclude)]:
        cands.add(target_id, 0.7 * min(1.0, n / 3), "friends_of_friends", "fof", (n,))
    # 3. similar to accounts you followed recently (their strongest vertical)
    for vid, username in seeds:
        for uid, score in ranked[vid][:depth]:
            cands.add(uid, 0.5 * score / 100, "similar_to_recently_followed", "similar", (username,), vid)
    # 4. rising in your verticals
    if top_interests:
        rising = _ranked([vid for _w, vid in top_interests], rising=True)
        for _w, vid in top_interests:
            for uid, _score in rising[vid][:depth]:
                cands.add(uid, 0.4, "most_interactions", "rising", (vid,), vid)
    # 5. fallback: the strongest experts anywhere (ability, not follower count)
    if len(cands.rows) < limit:
        everywhere = _ranked(list(verticals))
        for rank in range(limit + len(exclude)):
            for vid, rows in everywhere.items():
                if rank < len(rows) and rows[rank][0] not in cands.rows:
                    cands.add(rows[rank][0], 0.05 * rows[rank][1] / 100, "most_followed", "popular", (vid,), vid)
            if len(cands.rows) >= limit * 2:
                break
    if not cands.rows:
        return []
    order = sorted(cands.rows.items(), key=lambda kv: (-kv[1]["score"], kv[0]))[: limit + 10]
    users = {row.pk: row for row in (AccountRow(values) for values in User.objects.filter(
        pk__in=[uid for uid, _r in order]).filter(accounts_q(user, AccountReach.DISCOVERY))
        .values_list(*ACCOUNT_FIELDS))}
    out: list[Suggestion] = []
    for uid, row in order:
        if uid in users:
            out.append(Suggestion(users[uid], row["score"], row["sources"], row["reasons"],
                                  verticals.get(row["vertical_id"])))
        if len(out) >= limit:
            break
    _explain(out, following, verticals)
    return out


def _explain(out: list[Suggestion], following: list[int], verticals: dict[int, Vertical]) -> None:
    """Each suggestion's main reason as a sentence (only for the suggestions returned)."""
    need_names = [s.account.pk for s in out if s.kind == "fof"]
    names: dict[int, list[str]] = {}
    if need_names:
        for target_id, username in (Follow.objects.filter(follower_id__in=following[:200], target_id__in=need_names)
                                    .order_by("-follower__followers_count")
                                    .values_list("target_id", "follower__username")):
            names.setdefault(target_id, []).append(username)
    for s in out:
        _w, kind, params = max(s.reasons, key=lambda r: r[0])
        if kind == "interest":
            s.reason = _("Expert in %(v)s, one of your interests") % {"v": verticals[params[0]].name}
        elif kind == "fof":
            who = ", ".join(f"@{u}" for u in names.get(s.account.pk, [])[:2])
            if params[0] > 2:
                s.reason = _("Followed by %(who)s and %(n)d others you follow") % {"who": who, "n": params[0] - 2}
            else:
                s.reason = _("Followed by %(who)s, whom you follow") % {"who": who}
        elif kind == "similar":
            s.reason = _("Similar to @%(u)s, whom you followed recently") % {"u": params[0]}
        elif kind == "rising":
            s.reason = _("Rising in %(v)s") % {"v": verticals[params[0]].name}
        else:
            s.reason = _("Top expert in %(v)s") % {"v": verticals[params[0]].name}


# --- onboarding and directory ---------------------------------------------------------------

def experts_for_onboarding(user: User, vertical: Vertical, limit: int = 5) -> list[AbilityLabel]:
    """The strongest creators in a vertical whom the user could follow (exclusions applied)."""
    exclude = excluded_ids(user) - {fid for fid in Follow.objects.filter(follower=user)
                                    .values_list("target_id", flat=True)}  # show followed ones as followed
    exclude.add(user.pk)
    qs = (AbilityLabel.objects.filter(vertical=vertical, suppressed=False, score__gte=settings.LABEL_MIN_SCORE)
          .filter(accounts_q(user, AccountReach.DISCOVERY, "user__"))
          .select_related("user", "vertical").order_by("-score", "user_id"))
    out = []
    for label in qs[: limit + min(len(exclude), 200)]:
        if label.user_id not in exclude:
            out.append(label)
        if len(out) >= limit:
            break
    return out


# --- product discovery ----------------------------------------------------------------------

FRESH_DAYS = 14
HALF_LIFE_HOURS = 48.0


def vertical_posts(viewer: User | None, vertical: Vertical, limit: int = 20, offset: int = 0) -> list[Post]:
    """Posts in a vertical ranked by freshness, the author's ability in it and engagement."""
    return ranked_posts(viewer, [vertical], limit=limit, offset=offset)


def ranked_posts(viewer: User | None, verticals: list[Vertical], *, limit: int = 20, offset: int = 0,
                 visual: bool = False) -> list[Post]:
    """Fresh posts labelled in any of ``verticals``, ranked by freshness, the author's ability in the post's
    vertical and engagement; each passes the one visibility rule for ``viewer``. ``visual``: only posts with
    an image or a Showcase card (the image-led discovery page)."""
    if not verticals:
        return []
    floor = id_floor(timezone.now() - timedelta(days=FRESH_DAYS))
    labelled = dict(PostLabel.objects.filter(vertical__in=verticals, post_id__gte=floor)
                    .order_by("-post_id").values_list("post_id", "vertical_id")[:500 * len(verticals)])
    if not labelled:
        return []
    qs = (Post.objects.filter(pk__in=list(labelled), reblog_of__isnull=True, in_reply_to__isnull=True)
          .filter(posts_q(viewer, Surface.PUBLIC, originals=False)).select_related("author"))
    if visual:  # an image, or a Showcase card (its reverse relation: discovery imports nothing of showcase)
        qs = qs.filter(Q(media__isnull=False) | Q(card__isnull=False)).distinct().prefetch_related("media")
    posts = list(qs)
    ability: dict[tuple[int, int], float] = {
        (u, v): score for u, v, score in AbilityLabel.objects.filter(
            vertical__in=verticals, user_id__in={p.author_id for p in posts}, suppressed=False)
        .values_list("user_id", "vertical_id", "score")}
    now = timezone.now()

    def rank(p: Post) -> float:
        age_h = max(0.0, (now - p.created_at).total_seconds() / 3600)
        fresh: float = 0.5 ** (age_h / HALF_LIFE_HOURS)  # float ** float is Any in typeshed (could be complex)
        engagement = math.log2(2 + p.favourites_count + 2 * p.reblogs_count + p.replies_count)
        return fresh * (1 + ability.get((p.author_id, labelled[p.pk]), 0.0) / 50) * engagement

    posts.sort(key=lambda p: (-rank(p), -p.pk))
    return posts[offset: offset + limit]


def for_you_verticals(user: User | None, limit: int = 3) -> list[Vertical]:
    """The verticals a "for you" page draws from: the person's strongest interests (picked or learned), else
    every active vertical."""
    if user is not None and user.is_authenticated:
        mine = [i for i in interests(user) if not i.hidden and i.weight > 0]
        mine.sort(key=lambda i: -i.weight)
        if mine:
            return [i.vertical for i in mine[:limit]]
    return list(_active_verticals().values())
