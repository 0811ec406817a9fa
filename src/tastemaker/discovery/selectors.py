"""Discovery reads: a user's interests, who-to-follow with reasons, onboarding experts, posts by vertical."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tastemaker.accounts.models import User
from tastemaker.core.ids import id_floor
from tastemaker.experts.models import AbilityLabel, PostLabel, Vertical
from tastemaker.social.models import Block, Follow, Mute, Post, Visibility

from .models import SuggestionDismissal, UserInterest

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


def interests(user) -> list[Interest]:
    """Picked and learned interests (hidden ones included, flagged), strongest first."""
    rows = UserInterest.objects.filter(user=user, vertical__active=True).select_related("vertical")
    out = [Interest(r.vertical, r.picked, r.learned_weight, r.hidden) for r in rows
           if r.picked or r.learned_weight > 0 or r.hidden]
    out.sort(key=lambda i: (-i.weight, i.vertical.position))
    return out


def active_interest_weights(user_id: int) -> dict[int, float]:
    """vertical id -> weight, for ranking (one query)."""
    out: dict[int, float] = {}
    for vid, picked, learned, hidden in UserInterest.objects.filter(user_id=user_id, hidden=False).values_list(
            "vertical_id", "picked", "learned_weight", "hidden"):
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


def engaged_post_ids(user, since) -> list[tuple[int, float]]:
    from tastemaker.social.models import Bookmark, Favourite

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


def learned_weights(user) -> dict[int, float]:
    """vertical id -> share of the user's recent engagement (likes, bookmarks, reposts, replies, follows)."""
    from django.utils.module_loading import import_string

    from tastemaker.experts.services import label_posts

    since = timezone.now() - timedelta(days=LEARN_WINDOW_DAYS)
    engaged = engaged_post_ids(user, since)
    totals: Counter = Counter()
    if engaged:
        ids = list({pid for pid, _w in engaged})
        labels = dict(PostLabel.objects.filter(post_id__in=ids).values_list("post_id", "vertical_id"))
        missing = [i for i in ids if i not in labels]
        if missing:  # posts engaged with whose authors were never labelled: classify them now
            rows = list(Post.objects.filter(pk__in=missing).exclude(text="").values("id", "author_id", "text"))
            labels.update({pid: pl.vertical_id for pid, pl in label_posts(rows).items()})
        for pid, weight in engaged:
            vid = labels.get(pid)
            if vid:
                totals[vid] += weight
    followed = Follow.objects.filter(follower=user).order_by("-id").values_list("target_id", flat=True)[:200]
    for vid, score in AbilityLabel.objects.filter(user_id__in=list(followed), suppressed=False,
                                                  score__gte=settings.LABEL_MIN_SCORE).values_list("vertical_id",
                                                                                                   "score"):
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
        return {}
    return {vid: round(w / total, 4) for vid, w in totals.items() if w / total >= LEARN_MIN_SHARE}


# --- exclusions -----------------------------------------------------------------------------

def excluded_ids(user) -> set[int]:
    """Never suggested: yourself, whom you follow, block or mute (either way), or dismissed."""
    uid = user.pk
    ids = {uid}
    ids |= set(Follow.objects.filter(follower_id=uid).values_list("target_id", flat=True))
    for a, t in Block.objects.filter(Q(account_id=uid) | Q(target_id=uid)).values_list("account_id", "target_id"):
        ids.add(a if t == uid else t)
    for a, t in Mute.objects.filter(Q(account_id=uid) | Q(target_id=uid)).values_list("account_id", "target_id"):
        ids.add(a if t == uid else t)
    ids |= set(SuggestionDismissal.objects.filter(user_id=uid).values_list("target_id", flat=True))
    return ids


# --- who to follow --------------------------------------------------------------------------

@dataclass
class Suggestion:
    account: User
    score: float = 0.0
    sources: list[str] = field(default_factory=list)
    reasons: list[tuple[float, str, str]] = field(default_factory=list)  # (weight, kind, text)
    vertical: Vertical | None = None

    @property
    def reason(self) -> str:
        return max(self.reasons)[2] if self.reasons else ""

    @property
    def kind(self) -> str:
        return max(self.reasons)[1] if self.reasons else ""

    @property
    def source(self) -> str:
        """Mastodon's deprecated single ``source``."""
        return "past_interactions" if {"friends_of_friends", "similar_to_recently_followed"} & set(
            self.sources) else "global"


class _Candidates:
    def __init__(self, exclude: set[int]):
        self.exclude = exclude
        self.rows: dict[int, dict] = {}

    def add(self, uid: int, weight: float, source: str, kind: str, reason, vertical_id: int | None = None):
        if uid in self.exclude or weight <= 0:
            return
        row = self.rows.setdefault(uid, {"score": 0.0, "sources": [], "reasons": [], "vertical_id": None})
        row["score"] += weight
        if source not in row["sources"]:
            row["sources"].append(source)
        row["reasons"].append((weight, kind, reason))
        if vertical_id and row["vertical_id"] is None:
            row["vertical_id"] = vertical_id


def _top_in_vertical(vertical_id: int, n: int, *, rising: bool = False) -> list[tuple[int, float]]:
    qs = AbilityLabel.objects.filter(vertical_id=vertical_id, suppressed=False, score__gte=settings.LABEL_MIN_SCORE)
    if rising:
        # rose by 10+ points in the last week from an earlier score (a first label is not "rising")
        qs = qs.filter(changed_at__gte=timezone.now() - timedelta(days=7), previous_score__gt=0,
                       score__gte=models_F_previous_plus(10))
    return list(qs.order_by("-score").values_list("user_id", "score")[:n])


def models_F_previous_plus(points: float):
    from django.db.models import F

    return F("previous_score") + points


def suggestions(user, limit: int = 20) -> list[Suggestion]:
    """Who to follow, each with the reason: your interests, people you follow, accounts similar to the
    ones you followed recently, accounts rising in your verticals (and popular experts as a fallback)."""
    limit = max(1, min(limit, settings.SUGGESTIONS_MAX))
    exclude = excluded_ids(user)
    cands = _Candidates(exclude)
    verticals = {v.pk: v for v in Vertical.objects.filter(active=True)}
    widen = limit * 2 + min(len(exclude), 200)  # fetch past the excluded ones, bounded

    weights = active_interest_weights(user.pk)
    top_interests = sorted(((w, vid) for vid, w in weights.items() if vid in verticals), reverse=True)
    top_interests = top_interests[:MAX_INTERESTS_USED]
    # 1. experts in your interests, by ability
    for w, vid in top_interests:
        for uid, score in _top_in_vertical(vid, widen):
            cands.add(uid, 1.0 * w * score / 100, "featured", "interest",
                      _("Expert in %(v)s, one of your interests") % {"v": verticals[vid].name}, vid)
    # 2. followed by people you follow
    recent_follows = list(Follow.objects.filter(follower=user).order_by("-id").values_list("target_id", flat=True)[:200])
    if recent_follows:
        fof = (Follow.objects.filter(follower_id__in=recent_follows).values("target_id")
               .annotate(n=Count("id")).order_by("-n")[: widen + 20])
        for row in fof:
            n = row["n"]
            cands.add(row["target_id"], 0.7 * min(1.0, n / 3), "friends_of_friends", "fof",
                      ("fof", n))
    # 3. similar to accounts you followed recently (their strongest vertical)
    if recent_follows:
        seed_labels = (AbilityLabel.objects.filter(user_id__in=recent_follows[:5], suppressed=False,
                                                   score__gte=settings.LABEL_MIN_SCORE)
                       .order_by("user_id", "-score").values_list("user_id", "vertical_id", "user__username"))
        seen_seed: set[int] = set()
        for seed_uid, vid, username in seed_labels:
            if seed_uid in seen_seed or vid not in verticals:
                continue
            seen_seed.add(seed_uid)
            for uid, score in _top_in_vertical(vid, limit + min(len(exclude), 100)):
                cands.add(uid, 0.5 * score / 100, "similar_to_recently_followed", "similar",
                          _("Similar to @%(u)s, whom you followed recently") % {"u": username}, vid)
    # 4. rising in your verticals
    for _w, vid in top_interests:
        for uid, _score in _top_in_vertical(vid, limit, rising=True):
            cands.add(uid, 0.4, "most_interactions", "rising",
                      _("Rising in %(v)s") % {"v": verticals[vid].name}, vid)
    # 5. fallback: the strongest experts anywhere (not big accounts: ability, not follower count)
    if len(cands.rows) < limit:
        top = (AbilityLabel.objects.filter(suppressed=False, score__gte=settings.LABEL_MIN_SCORE)
               .order_by("-score").values_list("user_id", "vertical_id")[: widen + 20])
        for uid, vid in top:
            if vid in verticals and uid not in cands.rows:
                cands.add(uid, 0.05, "most_followed", "popular",
                          _("Top expert in %(v)s") % {"v": verticals[vid].name}, vid)
    if not cands.rows:
        return []
    ranked = sorted(cands.rows.items(), key=lambda kv: (-kv[1]["score"], kv[0]))
    ids = [uid for uid, _row in ranked[: limit * 2]]
    users = {u.pk: u for u in User.objects.filter(pk__in=ids, is_active=True, is_suspended=False)}
    out: list[Suggestion] = []
    for uid, row in ranked:
        if uid in users:
            out.append(Suggestion(users[uid], row["score"], row["sources"], row["reasons"],
                                  verticals.get(row["vertical_id"])))
        if len(out) >= limit:
            break
    _explain_fof(out, recent_follows)
    return out


def _explain_fof(out: list[Suggestion], recent_follows: list[int]) -> None:
    """Turn ("fof", n) placeholders into "Followed by @a, @b and 3 others you follow" (one query)."""
    need = [s for s in out if any(r[1] == "fof" for r in s.reasons)]
    if not need:
        return
    names: dict[int, list[str]] = {}
    for target_id, username in (Follow.objects.filter(follower_id__in=recent_follows,
                                                      target_id__in=[s.account.pk for s in need])
                                .order_by("-follower__followers_count").values_list("target_id",
                                                                                    "follower__username")):
        names.setdefault(target_id, []).append(username)
    for s in need:
        fixed = []
        for weight, kind, reason in s.reasons:
            if kind == "fof":
                who = names.get(s.account.pk, [])
                n = reason[1]
                shown = ", ".join(f"@{u}" for u in who[:2])
                if n > 2:
                    reason = _("Followed by %(who)s and %(n)d others you follow") % {"who": shown, "n": n - 2}
                else:
                    reason = _("Followed by %(who)s, whom you follow") % {"who": shown}
            fixed.append((weight, kind, reason))
        s.reasons = fixed


# --- onboarding and directory ---------------------------------------------------------------

def experts_for_onboarding(user, vertical: Vertical, limit: int = 5) -> list[AbilityLabel]:
    """The strongest creators in a vertical whom the user could follow (exclusions applied)."""
    exclude = excluded_ids(user) - {fid for fid in Follow.objects.filter(follower=user)
                                    .values_list("target_id", flat=True)}  # show followed ones as followed
    exclude.add(user.pk)
    qs = (AbilityLabel.objects.filter(vertical=vertical, suppressed=False, score__gte=settings.LABEL_MIN_SCORE,
                                      user__is_suspended=False, user__is_active=True)
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


def vertical_posts(viewer, vertical: Vertical, limit: int = 20, offset: int = 0) -> list[Post]:
    """Posts in a vertical ranked by freshness, the author's ability in it and engagement.

    Showcase (product card) posts arrive with issue 4; until then every labelled post competes.
    """
    from tastemaker.social.selectors import hidden_author_ids

    floor = id_floor(timezone.now() - timedelta(days=FRESH_DAYS))
    ids = list(PostLabel.objects.filter(vertical=vertical, post_id__gte=floor)
               .order_by("-post_id").values_list("post_id", flat=True)[:500])
    if not ids:
        return []
    qs = Post.objects.filter(pk__in=ids, visibility=Visibility.PUBLIC, reblog_of__isnull=True,
                             in_reply_to__isnull=True, author__is_suspended=False).select_related("author")
    hidden = hidden_author_ids(viewer)
    if hidden:
        qs = qs.exclude(author_id__in=hidden)
    posts = list(qs)
    ability = dict(AbilityLabel.objects.filter(vertical=vertical, user_id__in={p.author_id for p in posts},
                                               suppressed=False).values_list("user_id", "score"))
    now = timezone.now()

    def rank(p: Post) -> float:
        age_h = max(0.0, (now - p.created_at).total_seconds() / 3600)
        fresh = 0.5 ** (age_h / HALF_LIFE_HOURS)
        engagement = math.log2(2 + p.favourites_count + 2 * p.reblogs_count + p.replies_count)
        return fresh * (1 + ability.get(p.author_id, 0.0) / 50) * engagement

    posts.sort(key=lambda p: (-rank(p), -p.pk))
    return posts[offset: offset + limit]
