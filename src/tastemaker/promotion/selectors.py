"""Promotion reads: the ad decision for a home page and for suggestions, campaign lists and reports, the
review queue, the audience estimate and the reconcile check.

The ad decision (``home_promotions``, ``promoted_accounts``) is on the home timeline's hot path, so:

* the deliverable campaigns (``live_campaigns``) are cached per process for ``PROMOTION_CACHE_SECONDS`` (a
  campaign started, paused or ended here drops the cache at once: ``forget_active``), with what the
  auction needs precomputed: predicted follow rate, today's pacing, the look-alike profile;
* with no deliverable campaign it costs nothing (no query);
* otherwise one round trip reads all the viewer knows (served today, Fan Headlines ever seen, hidden
  items, muted advertisers, opt-out, follows, blocks and mutes by ``social.visibility.hidden_sql``,
  interests), then the auction runs in memory, then the winners' posts are checked by the ONE visibility
  rule (``social.visibility.visible_authors``, surface LIST), accounts by ``accounts_q`` (DISCOVERY).

Auction: per slot, the eligible campaigns are ranked by expected value per impression (eCPM in milli
minor units: a CPM bid as is, a CPF bid times the predicted follow rate); the winner pays the second's
eCPM (or the reserve, ``PROMOTION_MIN_BID``) converted back to its own unit, never more than its bid
(``auction``). Pacing (``paced_out``): a campaign with a daily budget sits out while the share of the
day's budget it has reserved runs ahead of the share of the day gone by (plus ``PACING_SLACK``).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tastemaker.analytics.models import Event, Surface
from tastemaker.experts.models import Vertical
from tastemaker.payments.models import Account, AccountKind, Entry, Hold, TransactionKind
from tastemaker.social import visibility
from tastemaker.social.models import Post
from tastemaker.social.visibility import AccountReach, accounts_q

from . import pending
from .models import (
    AutoPromotion,
    Campaign,
    CampaignDay,
    CampaignStatus,
    Charge,
    ChargeKind,
    ChargeStatus,
    PriceModel,
    PromotedFollow,
    Serve,
    TargetingOptOut,
    Tool,
)

if TYPE_CHECKING:
    from tastemaker.accounts.models import User

PACING_SLACK = 0.1  # a daily campaign may run this far (share of its day's budget) ahead of the clock
RATE_PRIOR = (1, 20)  # predicted follow rate before evidence: (follows + 1) / (serves + 20)
LOOKALIKE_SECONDS = 600  # how long an owner's look-alike profile is kept
LOOKALIKE_SAMPLE = 500  # followers looked at
_lock = threading.Lock()
_cache: dict[str, object] = {}
_lookalike: dict[int, tuple[float, frozenset[int], frozenset[int]]] = {}


@dataclass(frozen=True)
class Live:
    """A deliverable campaign, as the ad decision needs it."""

    id: int
    owner_id: int
    owner_username: str
    tool: str
    post_id: int | None
    price_model: str
    unit_milli: int  # the bid per unit (impression / follower reached / follow) in milli minor units
    rate: float  # expected units per impression (1 for CPM; the predicted follow rate for CPF)
    verticals: frozenset[int]
    languages: frozenset[str]
    regions: frozenset[str]
    lookalike: bool
    like_verticals: frozenset[int] = frozenset()  # the owner's followers' main interests
    like_accounts: frozenset[int] = frozenset()  # accounts the owner's followers follow most
    paced_out: bool = False
    author_id: int = 0  # the subject's author (the post's, or the account itself); 0: the owner
    post_open: bool = False  # the post is one everyone may see but for blocks and mutes (seen_by_everyone)

    @property
    def author(self) -> int:
        return self.author_id or self.owner_id

    @property
    def ecpm(self) -> float:
        return self.unit_milli * self.rate

    @property
    def interest_based(self) -> bool:
        return bool(self.verticals) or self.lookalike


@dataclass(frozen=True)
class Pick:
    """One promoted item for a page: the campaign, its subject, the clearing price and why it was shown."""

    campaign_id: int
    owner_id: int
    post_id: int | None
    account_id: int | None
    price_milli: int
    why: str
    position: int = 0  # home: how many organic items come before it
    tool: str = Tool.PASSERBY


def forget_active() -> None:
    """Drop this process's cached list of deliverable campaigns (a campaign started, paused or ended)."""
    with _lock:
        _cache.clear()


def paced_out(committed_today: int, daily_budget: int | None, day_fraction: float, unit: int) -> bool:
    """Pacing: sit out while the day's reserved share runs ahead of the day's elapsed share (+ slack), or
    when the day's budget cannot take one more unit."""
    if daily_budget is None:
        return False
    cap = daily_budget * 1000
    if committed_today + unit > cap:
        return True
    return committed_today / cap > day_fraction + PACING_SLACK


def auction(candidates: Sequence[Live], reserve_milli: int | None = None) -> tuple[Live, int] | None:
    """Second-price auction on expected value: the highest eCPM wins (ties: the older campaign) and pays,
    per unit of its own price model, what the runner-up's eCPM (or the reserve) would be at its predicted
    rate, rounded up, never more than its bid. Returns (winner, price per unit in milli) or None."""
    if not candidates:
        return None
    ranked = sorted(candidates, key=lambda c: (-c.ecpm, c.id))
    winner = ranked[0]
    reserve = settings.PROMOTION_MIN_BID if reserve_milli is None else reserve_milli
    second = ranked[1].ecpm if len(ranked) > 1 else float(reserve)
    second = max(second, float(reserve))
    price = int(-(-second // winner.rate)) if winner.rate > 0 else winner.unit_milli
    return winner, max(1, min(winner.unit_milli, price))


def _lookalike_profile(owner_id: int) -> tuple[frozenset[int], frozenset[int]]:
    now = time.monotonic()
    found = _lookalike.get(owner_id)
    if found is not None and now - found[0] < LOOKALIKE_SECONDS:
        return found[1], found[2]
    with connection.cursor() as cur:
        cur.execute("SELECT follower_id FROM social_follow WHERE target_id = %s ORDER BY id DESC LIMIT %s",
                    [owner_id, LOOKALIKE_SAMPLE])
        followers = [r[0] for r in cur.fetchall()]
    verticals: frozenset[int] = frozenset()
    accounts: frozenset[int] = frozenset()
    if followers:
        marks = ", ".join(["%s"] * len(followers))
        with connection.cursor() as cur:
            cur.execute(f"SELECT vertical_id, COUNT(*) n FROM discovery_userinterest WHERE user_id IN ({marks})"
                        " AND hidden = %s GROUP BY vertical_id ORDER BY n DESC LIMIT 3", [*followers, False])
            verticals = frozenset(r[0] for r in cur.fetchall())
            cur.execute(f"SELECT target_id, COUNT(*) n FROM social_follow WHERE follower_id IN ({marks})"
                        " AND target_id <> %s GROUP BY target_id ORDER BY n DESC LIMIT 20", [*followers, owner_id])
            accounts = frozenset(r[0] for r in cur.fetchall())
    _lookalike[owner_id] = (now, verticals, accounts)
    return verticals, accounts


def _load_live(now: datetime) -> list[Live]:
    rows = list(Campaign.objects.filter(status=CampaignStatus.ACTIVE, starts_at__lte=now, ends_at__gt=now)
                .values_list("pk", "owner_id", "owner__username", "tool", "post_id", "price_model", "bid",
                             "verticals", "languages", "regions", "lookalike", "daily_budget"))
    if not rows:
        return []
    ids = [r[0] for r in rows]
    slugs = {slug for r in rows for slug in (r[7] or [])}
    vertical_ids = dict(Vertical.objects.filter(slug__in=slugs).values_list("slug", "pk")) if slugs else {}
    serves = dict(Serve.objects.filter(campaign_id__in=ids).values("campaign_id").annotate(n=Count("id"))
                  .values_list("campaign_id", "n"))
    follows = dict(PromotedFollow.objects.filter(campaign_id__in=ids).values("campaign_id")
                   .annotate(n=Count("id")).values_list("campaign_id", "n"))
    today = now.date()
    committed = dict(CampaignDay.objects.filter(campaign_id__in=ids, day=today)
                     .values_list("campaign_id", "committed_milli"))
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    day_fraction = (now - midnight).total_seconds() / 86400
    post_ids = {r[4] for r in rows if r[4] is not None}
    # posts everyone may see but for blocks and mutes (the ONE rule, signed out): the decision then needs
    # no per-viewer visibility query for them; the others (followers-only...) are checked per viewer
    open_posts = visibility.seen_by_everyone(post_ids) if post_ids else {}
    authors = dict(Post.objects.filter(pk__in=post_ids).values_list("pk", "author_id")) if post_ids else {}
    out = []
    for (pk, owner_id, username, tool, post_id, price_model, bid, verticals, languages, regions, lookalike,
         daily) in rows:
        unit = bid * 1000 if price_model == PriceModel.CPF else bid
        rate = 1.0 if price_model == PriceModel.CPM else (follows.get(pk, 0) + RATE_PRIOR[0]) / (
            serves.get(pk, 0) + RATE_PRIOR[1])
        like_v, like_a = _lookalike_profile(owner_id) if lookalike else (frozenset(), frozenset())
        out.append(Live(pk, owner_id, username, tool, post_id, price_model, unit, rate,
                        frozenset(vertical_ids[s] for s in verticals or [] if s in vertical_ids),
                        frozenset(languages or []), frozenset(regions or []), bool(lookalike), like_v, like_a,
                        paced_out(committed.get(pk, 0), daily, day_fraction, unit),
                        authors.get(post_id, 0) if post_id is not None else 0, post_id in open_posts))
    return out


def live_campaigns() -> list[Live]:
    """The deliverable campaigns (active, within their time), cached per process."""
    if settings.PROMOTION_CACHE_SECONDS <= 0:
        return _load_live(timezone.now())
    now = time.monotonic()
    with _lock:
        at = _cache.get("at")
        if isinstance(at, float) and now - at < settings.PROMOTION_CACHE_SECONDS:
            return _cache["live"]  # type: ignore[return-value]
    live = _load_live(timezone.now())
    with _lock:
        _cache["at"], _cache["live"] = now, live
    return live


@dataclass
class _ViewerState:
    served_today: set[int] = field(default_factory=set)
    headlines_seen: set[int] = field(default_factory=set)
    hidden: set[int] = field(default_factory=set)
    muted_advertisers: set[int] = field(default_factory=set)
    opted_out: bool = False
    follows: set[int] = field(default_factory=set)
    blocked: set[int] = field(default_factory=set)
    muted: set[int] = field(default_factory=set)
    interests: set[int] = field(default_factory=set)
    visible_posts: set[int] = field(default_factory=set)
    region: str = ""
    count_today: int = 0


@dataclass(frozen=True)
class _StateSql:
    sql: str  # parameters: the viewer's id, the day, then the viewer's id ``viewers - 1`` more times
    viewers: int
    closed_posts: list[int]  # campaign posts not everyone may see: checked per viewer by the rule
    headlines: frozenset[int]  # the Fan Headline campaigns


def _state_sql(live: Sequence[Live]) -> _StateSql:
    """The decision's statement for this list of campaigns, built once per list (the same for every viewer;
    the campaigns' ids are integers from the database, written into the SQL)."""
    found = _cache.get("state_sql")
    if isinstance(found, tuple) and found[0] is live:  # the list itself is kept: its identity is the key
        return found[1]  # type: ignore[no-any-return]

    def ids(values: Iterable[int]) -> str:
        return ", ".join(str(int(v)) for v in sorted(values))

    owners = {c.owner_id for c in live} | {a for c in live for a in c.like_accounts}
    headlines = [c.id for c in live if c.tool == Tool.FAN_HEADLINE]
    posts = sorted({c.post_id for c in live if c.post_id is not None and not c.post_open})
    parts = ["SELECT 0, campaign_id FROM promotion_serve WHERE viewer_id = %s AND day = %s",
             "SELECT 2, campaign_id FROM promotion_hiddenpromotion WHERE user_id = %s",
             "SELECT 3, advertiser_id FROM promotion_mutedadvertiser WHERE user_id = %s",
             "SELECT 4, user_id FROM promotion_targetingoptout WHERE user_id = %s"]
    if headlines:
        parts.append(f"SELECT 1, campaign_id FROM promotion_serve WHERE viewer_id = %s AND campaign_id IN "
                     f"({ids(headlines)})")
    if owners:
        parts.append(f"SELECT 5, target_id FROM social_follow WHERE follower_id = %s AND target_id IN ({ids(owners)})")
    hidden_sql, _hidden_params = visibility.hidden_sql(0)  # three viewer-id parameters
    parts.append("SELECT 6 + h.k, h.target FROM ("
                 + hidden_sql.replace("SELECT 0, target_id", "SELECT 0 k, target_id target", 1) + ") h")
    if any(c.verticals or c.lookalike for c in live):
        parts.append("SELECT 8, vertical_id FROM discovery_userinterest WHERE user_id = %s AND hidden = FALSE"
                     " AND (picked = TRUE OR learned_weight > 0)")
    sql = " UNION ALL ".join(parts)
    built = _StateSql(sql, sql.count("%s") - 1, posts, frozenset(headlines))
    _cache["state_sql"] = (live, built)
    return built


def _viewer_state(viewer: User, live: Sequence[Live], today: date) -> _ViewerState:
    """Everything the decision needs about the viewer, in one round trip: served today, Fan Headlines seen,
    hidden items, muted advertisers, opt-out, follows, blocks and mutes (``visibility.hidden_sql``),
    interests, and which of the campaigns' posts that not everyone may see this viewer may
    (``visibility.post_sql``, the ONE rule rendered to SQL, surface LIST)."""
    viewer_id = viewer.pk
    shape = _state_sql(live)
    sql, posts = shape.sql, shape.closed_posts
    params: list[visibility.Param] = [viewer_id, today.isoformat(), *[viewer_id] * (shape.viewers - 1)]
    if posts:
        rule, rule_params = visibility.post_sql(viewer, visibility.Surface.LIST, post="vp", author="vu",
                                                originals=False)
        sql += (f" UNION ALL SELECT 9, vp.id FROM {Post._meta.db_table} vp JOIN accounts_user vu ON vu.id ="
                f" vp.author_id WHERE vp.id IN ({', '.join(['%s'] * len(posts))}) AND ({rule})")
        params += [*posts, *rule_params]
    queued = pending.served(viewer_id, today)  # read before the query: a batch is forgotten after its commit
    state = _ViewerState()
    sets = {0: state.served_today, 1: state.headlines_seen, 2: state.hidden, 3: state.muted_advertisers,
            5: state.follows, 6: state.blocked, 7: state.muted, 8: state.interests, 9: state.visible_posts}
    with connection.cursor() as cur:
        cur.execute(sql, params)
        for kind, value in cur.fetchall():
            if kind == 4:
                state.opted_out = True
            elif kind == 0:
                state.count_today += 1
                state.served_today.add(value)
            else:
                sets[kind].add(value)
    unwritten = queued - state.served_today
    state.served_today |= unwritten
    state.count_today += len(unwritten)
    state.headlines_seen |= unwritten & shape.headlines
    if any(c.regions for c in live):
        with connection.cursor() as cur:
            cur.execute("SELECT region FROM analytics_audienceprofile WHERE user_id = %s", [viewer_id])
            row = cur.fetchone()
            state.region = (row[0] or "").upper() if row else ""
    return state


# reasons a campaign matched (translated only for the winners)
_EVERYONE, _INTERESTS, _LANGUAGE, _REGION, _LOOKALIKE = "everyone", "interests", "language", "region", "lookalike"


def _match(c: Live, viewer_language: str, state: _ViewerState) -> tuple[str, ...] | None:
    """Whether ``c`` may reach this viewer, and if so, what matched (codes)."""
    if c.tool == Tool.FAN_HEADLINE:
        return ("follower",) if c.owner_id in state.follows else None
    if c.owner_id in state.follows:
        return None  # Passer-by and recommendations are for people who do not follow yet
    if state.opted_out and c.interest_based:
        return None
    reasons: list[str] = []
    if c.verticals:
        if not c.verticals & state.interests:
            return None
        reasons.append(_INTERESTS)
    if c.languages:
        lang = (viewer_language or "").split("-")[0].lower()
        if not any(lang == lg.split("-")[0].lower() for lg in c.languages):
            return None
        reasons.append(_LANGUAGE)
    if c.regions:
        if state.region not in c.regions:
            return None
        reasons.append(_REGION)
    if c.lookalike:
        if not (c.like_verticals & state.interests or c.like_accounts & state.follows):
            return None
        reasons.append(_LOOKALIKE)
    return tuple(reasons) or (_EVERYONE,)


def _why(c: Live, codes: tuple[str, ...], state: _ViewerState, names: dict[int, str]) -> str:
    """"Why am I seeing this?": the targeting that matched, in words."""
    if codes == ("follower",):
        return _("Promoted by @%(name)s, whom you follow.") % {"name": c.owner_username}
    if codes == (_EVERYONE,):
        return _("Promoted by @%(name)s to everyone.") % {"name": c.owner_username}
    words = {
        _INTERESTS: lambda: _("your interests (%(names)s)") % {
            "names": ", ".join(sorted(names.get(v, "?") for v in c.verticals & state.interests))},
        _LANGUAGE: lambda: _("your language"),
        _REGION: lambda: _("your region"),
        _LOOKALIKE: lambda: _("people like @%(name)s's followers") % {"name": c.owner_username},
    }
    return _("Promoted by @%(name)s. It matched %(reasons)s.") % {
        "name": c.owner_username, "reasons": "; ".join(words[code]() for code in codes)}


def _eligible(viewer: User, c: Live, state: _ViewerState) -> tuple[str, ...] | None:
    """Whether campaign ``c`` may reach the viewer now, and what matched: not paced out, not the viewer's
    own, within the caps, not hidden or muted, the author not blocked or muted, the post visible by the
    rule, the targeting matched."""
    if c.paced_out or c.owner_id == viewer.pk or c.id in state.served_today or c.id in state.hidden:
        return None
    if c.owner_id in state.muted_advertisers or c.owner_id in state.blocked or c.owner_id in state.muted:
        return None
    if c.author != c.owner_id and (c.author in state.blocked or c.author in state.muted):
        return None
    if c.post_id is not None and not c.post_open and c.post_id not in state.visible_posts:
        return None
    if c.tool == Tool.FAN_HEADLINE and c.id in state.headlines_seen:
        return None
    return _match(c, viewer.language, state)


def _ranked(live: Sequence[Live]) -> list[Live]:
    """The campaigns in auction order (eCPM, then the older), sorted once per list of campaigns."""
    found = _cache.get("ranked")
    if isinstance(found, tuple) and found[0] is live:  # the list itself is kept: its identity is the key
        return found[1]  # type: ignore[no-any-return]
    ranked = sorted(live, key=lambda c: (-c.ecpm, c.id))
    _cache["ranked"] = (live, ranked)
    return ranked


def _names(live: Sequence[Live]) -> dict[int, str]:
    ids = {v for c in live for v in c.verticals}
    if not ids:
        return {}
    cached = _cache.get("names")
    if not (isinstance(cached, dict) and ids <= cached.keys()):
        cached = {pk: (en, zh) for pk, en, zh in Vertical.objects.filter(pk__in=ids)
                  .values_list("pk", "name_en", "name_zh")}
        _cache["names"] = cached
    zh = (get_language() or "en").lower().startswith("zh")
    return {pk: (names[1] if zh and names[1] else names[0]) for pk, names in cached.items()}


def _run_slots(viewer: User, slots: list[tuple[int, tuple[str, ...]]], live: Sequence[Live],
               state: _ViewerState) -> list[Pick]:
    budget = max(0, settings.PROMOTION_DAILY_CAP - state.count_today)
    if not budget:
        return []
    ranked = _ranked(live)
    codes: dict[int, tuple[str, ...] | None] = {}  # eligibility, checked lazily: in auction order, as needed

    def top_two(tools: tuple[str, ...], skip: set[int], owners: set[int]) -> list[Live]:
        """The two best eligible campaigns for a slot (all a second-price auction needs, in its order)."""
        found: list[Live] = []
        for c in ranked:
            if c.tool not in tools or c.id in skip or c.owner_id in owners:
                continue
            if c.id not in codes:
                codes[c.id] = _eligible(viewer, c, state)
            if codes[c.id] is not None:
                found.append(c)
                if len(found) == 2:
                    break
        return found

    names: dict[int, str] | None = None
    refused: set[int] = set()
    for _attempt in range(3):
        picks: list[Pick] = []
        taken: set[int] = set()
        owners: set[int] = set()
        for position, tools in slots[:budget]:
            won = auction(top_two(tools, taken | refused, owners))
            if won is None:
                continue
            winner, price = won
            taken.add(winner.id)
            owners.add(winner.owner_id)
            names = _names(live) if names is None else names
            matched = codes[winner.id]
            assert matched is not None  # top_two returns eligible campaigns only
            picks.append(Pick(winner.id, winner.owner_id, winner.post_id,
                              winner.owner_id if winner.post_id is None else None, price,
                              _why(winner, matched, state, names), position, winner.tool))
        # posts were checked by the visibility rule in the state's round trip; accounts by accounts_q here
        accounts = [p.account_id for p in picks if p.account_id is not None]
        shown = set(_listed_accounts(viewer, accounts)) if accounts else set()
        bad = {p.campaign_id for p in picks if p.account_id is not None and p.account_id not in shown}
        if not bad:
            return picks
        refused |= bad
    return [p for p in picks if p.campaign_id not in refused]


def _listed_accounts(viewer: User, ids: list[int]) -> list[int]:
    from tastemaker.accounts.models import User as UserModel

    return list(UserModel.objects.filter(pk__in=ids).filter(accounts_q(viewer, AccountReach.DISCOVERY))
                .values_list("pk", flat=True))


def home_promotions(viewer: User, organic_count: int, *, first_page: bool = True) -> list[Pick]:
    """The promoted items for one home page of ``organic_count`` items: a Fan Headline on top (position 0,
    first page only), then a Passer-by item after every ``PROMOTION_SLOT_EVERY`` organic items (a shorter
    first page gets one at its end), at most ``PROMOTION_PER_PAGE``; within the daily caps."""
    live = live_campaigns()
    if not live or settings.PROMOTION_DAILY_CAP == 0:
        return []
    slots: list[tuple[int, tuple[str, ...]]] = []
    if first_page and any(c.tool == Tool.FAN_HEADLINE for c in live):
        slots.append((0, (Tool.FAN_HEADLINE,)))
    if any(c.tool == Tool.PASSERBY for c in live):
        every = settings.PROMOTION_SLOT_EVERY
        positions = list(range(every, organic_count + 1, every))[:settings.PROMOTION_PER_PAGE]
        if not positions and first_page and settings.PROMOTION_PER_PAGE:
            positions = [organic_count]
        slots += [(p, (Tool.PASSERBY,)) for p in positions]
    if not slots:
        return []
    state = _viewer_state(viewer, live, timezone.now().date())
    return _run_slots(viewer, slots, live, state)


def promoted_accounts(viewer: User, limit: int = 1) -> list[Pick]:
    """Promoted accounts for who-to-follow (Account Recommendation), within the caps."""
    live = [c for c in live_campaigns() if c.tool == Tool.ACCOUNT_REC]
    if not live or limit <= 0 or settings.PROMOTION_DAILY_CAP == 0:
        return []
    state = _viewer_state(viewer, live, timezone.now().date())
    return _run_slots(viewer, [(i, (Tool.ACCOUNT_REC,)) for i in range(limit)], live, state)


# --- reconcile: spend = billable valid events x price, per campaign ------------------------------------

@dataclass(frozen=True)
class CampaignMismatch:
    campaign_id: int
    check: str
    expected: int
    found: int


def reconcile_campaigns(campaign_ids: Iterable[int] | None = None) -> list[CampaignMismatch]:
    """Prove, for every campaign (or those given), that the money agrees with the deliveries:

    * ``captured``: the campaign's spend equals ``floor(sum of its captured charges' prices / 1000)``;
    * ``ledger``: the ledger's captures of its hold into ``promotion_spend`` (references
      ``promotion:<id>:<batch>``) add up to the same, and so does the hold's ``captured``;
    * ``committed``: the reserved budget equals the prices of its pending and captured charges, and never
      exceeds the budget;
    * ``invalid``: every impression or reach charge stands on an analytics event that is valid,
      ``surface=promoted``, of the campaign's subject and viewer (the existing filter decided).

    Returns the mismatches (empty: all agree)."""
    qs = Campaign.objects.filter(activated_at__isnull=False)  # every campaign that ever held money
    if campaign_ids is not None:
        qs = qs.filter(pk__in=list(campaign_ids))
    out: list[CampaignMismatch] = []
    campaigns = list(qs.values_list("pk", "captured", "settled_milli", "committed_milli", "budget", "post_id",
                                    "account_id"))
    ids = [c[0] for c in campaigns]
    sums: dict[tuple[int, str], int] = defaultdict(int)
    for cid, status, s in (Charge.objects.filter(campaign_id__in=ids).values("campaign_id", "status")
                           .annotate(s=Sum("unit_milli")).values_list("campaign_id", "status", "s")):
        sums[(cid, status)] = s or 0
    # a campaign's holds: one per active spell (a pause releases it, a resume holds the rest again)
    holds: dict[int, int] = defaultdict(int)
    for ref, hold_captured in Hold.objects.filter(reference__startswith="promotion:").values_list("reference",
                                                                                                 "captured"):
        parts = (ref or "").split(":")
        if len(parts) >= 3 and parts[1].isdigit() and parts[2] == "hold":
            holds[int(parts[1])] += hold_captured
    ledger: dict[int, int] = defaultdict(int)
    spend_ids = list(Account.objects.filter(kind=AccountKind.PROMOTION_SPEND).values_list("pk", flat=True))
    for ref, amount in (Entry.objects.filter(account_id__in=spend_ids, transaction__kind=TransactionKind.CAPTURE,
                                             transaction__reference__startswith="promotion:")
                        .values_list("transaction__reference", "amount")):
        parts = (ref or "").split(":")
        if len(parts) == 3 and parts[1].isdigit():
            ledger[int(parts[1])] += amount
    for cid, captured, settled, committed, budget, post_id, account_id in campaigns:
        charged = sums[(cid, ChargeStatus.CAPTURED)]
        pending = sums[(cid, ChargeStatus.PENDING)]
        checks = [("captured", charged // 1000, captured), ("settled", charged, settled),
                  ("ledger", captured, ledger.get(cid, 0)), ("hold", captured, holds.get(cid, 0)),
                  ("committed", charged + pending, committed)]
        if committed > budget * 1000:
            checks.append(("budget", budget * 1000, committed))
        out += [CampaignMismatch(cid, name, want, got) for name, want, got in checks if want != got]
        subject = post_id if post_id is not None else account_id
        rows = list(Charge.objects.filter(campaign_id=cid, kind__in=(ChargeKind.IMPRESSION, ChargeKind.REACH))
                    .exclude(status=ChargeStatus.VOIDED).values_list("event_id", "viewer_id"))
        events = {e: (v, s, sub, key) for e, v, s, sub, key in Event.objects.filter(
            pk__in=[r[0] for r in rows if r[0] is not None]).values_list("pk", "valid", "surface", "subject_id",
                                                                         "viewer_key")}
        bad = sum(1 for event_id, viewer in rows
                  if event_id not in events or events[event_id] != (True, Surface.PROMOTED, subject, f"u{viewer}"))
        if bad:
            out.append(CampaignMismatch(cid, "invalid", 0, bad))
    return out


# --- pages: promoted posts in a list of posts, promoted accounts in who-to-follow ------------------------

def splice_home_posts(viewer: User, posts: list[Post], *, first_page: bool = True) -> tuple[list[Post], list[Pick]]:
    """The web home page's posts with the promoted ones slotted in (``home_promotions``); each promoted
    post carries ``promoted`` (its ``Pick``) for the template. A promoted post is shown once per page."""
    picks = [p for p in home_promotions(viewer, len(posts), first_page=first_page) if p.post_id is not None]
    if not picks:
        return posts, []
    found = Post.objects.select_related("author").in_bulk([p.post_id for p in picks])
    picks = [p for p in picks if p.post_id in found]
    promoted_ids = {p.post_id for p in picks}
    organic = [p for p in posts if p.pk not in promoted_ids and p.reblog_of_id not in promoted_ids]
    out: list[Post] = []
    slots = sorted(picks, key=lambda p: p.position)
    for index, post in enumerate(organic):
        while slots and slots[0].position <= index:
            pick = slots.pop(0)
            out.append(_marked(found[pick.post_id], pick))  # type: ignore[index]
        out.append(post)
    out += [_marked(found[p.post_id], p) for p in slots]  # type: ignore[index]
    return out, picks


def _marked(post: Post, pick: Pick) -> Post:
    post.promoted = pick  # type: ignore[attr-defined]
    return post


@dataclass
class PromotedSuggestion:
    """A promoted account for who-to-follow, shaped like ``discovery.selectors.Suggestion``."""

    account: User
    pick: Pick
    sources: list[str] = field(default_factory=lambda: ["featured"])
    vertical: None = None
    source: str = "staff"
    kind: str = "promoted"

    @property
    def reason(self) -> str:
        return self.pick.why


def promoted_suggestions(viewer: User, limit: int = 1) -> list[PromotedSuggestion]:
    """Account Recommendation campaigns' accounts for ``viewer`` (who-to-follow, ``/api/v2/suggestions``)."""
    from tastemaker.accounts.models import User as UserModel

    picks = promoted_accounts(viewer, limit)
    if not picks:
        return []
    users = UserModel.objects.in_bulk([p.account_id for p in picks if p.account_id is not None])
    return [PromotedSuggestion(users[p.account_id], p) for p in picks if p.account_id in users]


def merge_suggestions(promoted: list[PromotedSuggestion], organic: list[Any], limit: int) -> list[Any]:
    """Promoted accounts first, then the organic suggestions without them, ``limit`` in all."""
    ids = {s.account.pk for s in promoted}
    return (list(promoted) + [s for s in organic if s.account.pk not in ids])[:limit]


# --- lists, the review queue, standing orders -------------------------------------------------------------

def campaigns_of(owner: User, *, max_id: int | None = None, limit: int = 20, status: str | None = None
                 ) -> list[Campaign]:
    """The owner's campaigns, newest first (keyset by id)."""
    qs = Campaign.objects.filter(owner=owner)
    if status:
        qs = qs.filter(status=status)
    if max_id is not None:
        qs = qs.filter(pk__lt=max_id)
    return list(qs.order_by("-pk")[:limit])


def campaign_for(user: User, campaign_id: int) -> Campaign | None:
    """A campaign its owner (or an operator) may see; None for anyone else and for one that does not exist."""
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None or (campaign.owner_id != user.pk and not user.is_staff):
        return None
    return campaign


def review_queue(*, max_id: int | None = None, limit: int = 20) -> list[Campaign]:
    """Campaigns waiting for an operator, oldest first."""
    qs = Campaign.objects.filter(status=CampaignStatus.PENDING_REVIEW).select_related("owner")
    if max_id is not None:
        qs = qs.filter(pk__lt=max_id)
    return list(qs.order_by("pk")[:limit])


def standing_orders(owner: User) -> list[AutoPromotion]:
    return list(AutoPromotion.objects.filter(owner=owner).select_related("vertical").order_by("-pk"))


# --- the audience estimate ---------------------------------------------------------------------------------

def audience_estimate(owner: User, tool: str, verticals: Iterable[str] = (), languages: Iterable[str] = (),
                      regions: Iterable[str] = (), lookalike: bool = False) -> int:
    """How many accounts a campaign could reach: the owner's followers for a Fan Headline; otherwise active
    accounts that do not follow the owner, match the targeting and have not opted out of interest
    targeting when it is used."""
    from tastemaker.accounts.models import User as UserModel
    from tastemaker.analytics.models import AudienceProfile
    from tastemaker.discovery.models import UserInterest
    from tastemaker.social.models import Follow

    if tool == Tool.FAN_HEADLINE:
        return Follow.objects.filter(target=owner).filter(accounts_q(None, AccountReach.LISTED, "follower__")).count()
    qs = (UserModel.objects.filter(accounts_q(None, AccountReach.LISTED)).exclude(pk=owner.pk)
          .exclude(pk__in=Follow.objects.filter(target=owner).values("follower_id")))
    verticals, languages, regions = list(verticals), list(languages), list(regions)
    if verticals or lookalike:
        qs = qs.exclude(pk__in=TargetingOptOut.objects.values("user_id"))
    if verticals:
        qs = qs.filter(pk__in=UserInterest.objects.filter(vertical__slug__in=verticals, hidden=False)
                       .values("user_id"))
    if lookalike:
        like_v, like_a = _lookalike_profile(owner.pk)
        qs = qs.filter(pk__in=UserInterest.objects.filter(vertical_id__in=like_v, hidden=False).values("user_id"))\
            | qs.filter(pk__in=Follow.objects.filter(target_id__in=like_a).values("follower_id"))
    if languages:
        from django.db.models import Q

        cond = Q()
        for lang in languages:
            cond |= Q(language__istartswith=lang.split("-")[0])
        qs = qs.filter(cond)
    if regions:
        qs = qs.filter(pk__in=AudienceProfile.objects.filter(region__in=[r.upper() for r in regions])
                       .values("user_id"))
    return qs.distinct().count()


# --- the report ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Report:
    """A campaign's results so far (reports read the raw events and the charges: seconds after delivery)."""

    delivered: int  # promoted items put on screen (serves)
    impressions: int  # valid promoted impressions (the analytics filter's verdict)
    invalid_impressions: int
    reads: int  # reads of the promoted post during the campaign
    engagements: int  # likes, reposts, replies during the campaign
    follows_gained: int
    follows_kept: int  # not undone within the follow window
    click_outs: int
    commissions: int  # minor units: commissions earned on the post during the campaign (showcase posts)
    spend: int  # minor units captured so far
    committed: int  # minor units reserved (captured + pending), rounded down
    cpm: int | None  # spend per 1,000 valid impressions (minor units)
    cost_per_follow: int | None
    organic_median_reads: int | None  # the author's other recent posts' median reads
    ratio: float | None  # reads / organic median ("double the reads")


def report(campaign: Campaign) -> Report:
    from statistics import median

    from tastemaker.analytics.models import Metric, Stat
    from tastemaker.core.ids import id_floor
    from tastemaker.showcase.models import Commission

    start = campaign.activated_at or campaign.created_at
    end = campaign.ended_at or timezone.now()
    lo, hi = id_floor(start), id_floor(end + timedelta(seconds=1))
    subject_type = "post" if campaign.post_id is not None else "account"
    subject = campaign.post_id if campaign.post_id is not None else (campaign.account_id or 0)
    events = Event.objects.filter(subject_type=subject_type, subject_id=subject, pk__gte=lo, pk__lt=hi)
    counts = {(m, v, s): n for m, v, s, n in events.values("metric", "valid", "surface")
              .annotate(n=Count("id")).values_list("metric", "valid", "surface", "n")}

    def count(metric: str, *, promoted: bool | None = None, valid: bool = True) -> int:
        return sum(n for (m, v, s), n in counts.items()
                   if m == metric and v == valid and (promoted is None or (s == Surface.PROMOTED) == promoted))

    follows = PromotedFollow.objects.filter(campaign=campaign)
    gained = follows.count()
    kept = follows.filter(undone_at__isnull=True).count()
    impressions = count(Metric.IMPRESSION, promoted=True)
    reads = count(Metric.READ)
    commissions = 0
    if campaign.post_id is not None:
        commissions = (Commission.objects.filter(post_id=campaign.post_id, created_at__gte=start,
                                                 created_at__lte=end).aggregate(s=Sum("amount"))["s"] or 0)
    organic: int | None = None
    ratio: float | None = None
    if campaign.post_id is not None:
        others = list(Post.objects.filter(author_id=campaign.owner_id, reblog_of__isnull=True)
                      .exclude(pk=campaign.post_id).order_by("-pk").values_list("pk", flat=True)[:20])
        if others:
            totals = dict(Stat.objects.filter(subject_type="post", subject_id__in=others, metric=Metric.READ,
                                              granularity="t", dimension="").values_list("subject_id", "count"))
            organic = int(median([totals.get(pid, 0) for pid in others]))
            ratio = round(reads / organic, 2) if organic else None
    spend = campaign.captured
    return Report(
        delivered=Serve.objects.filter(campaign=campaign).count(), impressions=impressions,
        invalid_impressions=count(Metric.IMPRESSION, promoted=True, valid=False), reads=reads,
        engagements=count(Metric.LIKE) + count(Metric.REPOST) + count(Metric.REPLY),
        follows_gained=gained, follows_kept=kept, click_outs=count(Metric.CLICK_OUT), commissions=commissions,
        spend=spend, committed=campaign.committed_milli // 1000,
        cpm=(spend * 1000 // impressions) if impressions else None,
        cost_per_follow=(spend // kept) if kept else None, organic_median_reads=organic, ratio=ratio)
