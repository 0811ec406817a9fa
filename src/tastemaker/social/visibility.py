"""Who may see what: the ONE place that decides whether a viewer may see a post (and so a Showcase card,
which is a post) and which accounts may appear in lists (issue 12). Every read asks this module, as a
queryset filter (``posts_q``, ``accounts_q``), a check of one post (``can_see``), a batch check
(``visible_authors``) or, for the raw SQL of the home timeline and the fan-out, a SQL condition
(``post_sql``, ``published_sql``) rendered from the same rule.

The rule
--------
1. Operators (``is_staff``) see every post when they open it directly (``Surface.DIRECT``); in lists
   they are ordinary viewers.
2. A suspended author's posts (``accounts.standing.suspended_q``: suspended by an operator, deactivated,
   or a credit score of 0): operators only.
3. Your own posts: always (held ones too).
4. A held post (``Post.held``: held for review by the spam rules or an operator): its author and
   operators only. Held posts are not fanned out either (``published_q``).
5. Blocks, either way (the author blocked you, or you blocked the author): none of the author's posts.
6. The audience of a post:
   - public and unlisted posts of an author in good standing: everyone (signed in or not);
   - followers-only posts: the author's approved followers (a pending follow request gives nothing) and
     the accounts mentioned in the post;
   - a limited author (``accounts.standing.limited_q``: limited by an operator, or a credit score below
     ``CREDIT_LIMITED_BELOW``): each of their posts reaches only their followers and the accounts it
     mentions, as if it were followers-only: not public or tag timelines, search, discovery, storefronts
     or product pages for anyone else, and not when opened directly either;
   - direct messages (``Visibility.DIRECT``, issue 14): the accounts the post mentions only (its
     recipients; with rule 3, its author) — not followers, not operators in any list.
7. A repost is seen only if its original is seen too (``originals=True``, the default).

Mutes (decided here): a muted account's posts are hidden from lists (home, public and tag timelines,
thread replies, search, discovery) and visible when opened directly (the post, its thread's ancestors,
the account's profile and storefront, bookmarks and likes), as Mastodon does.

Surfaces (``Surface``) add to the rule what a list shows:
- ``DIRECT``: the rule as above (a post opened by id, a thread's ancestors, bookmarks, likes, a
  conversation's messages);
- ``PROFILE``: ``DIRECT`` without direct messages (a profile's statuses, a storefront, a card, the subject of
  an analytics event): a message is never shown as part of its author's public presence;
- ``THREAD``: operators are ordinary viewers and muted accounts are hidden (a thread's replies: a direct
  reply is seen there by its participants only);
- ``LIST``: ``THREAD`` without direct messages (home, lists: a message never appears in a timeline);
- ``PUBLIC``: ``LIST`` and public posts only: unlisted and followers-only posts stay out (public and tag
  timelines, discovery, product pages and vertical pages);
- ``SEARCH``: ``LIST`` and unlisted posts only your own (followers-only posts are found by those who may
  read them; direct messages never).

Delivery (``published_q`` / ``published_sql``: what is fanned out to followers' home feeds) is the rule for a
follower who is not mentioned, so a direct message is never fanned out.

Accounts (``accounts_q``): ``AccountReach.LISTED`` (followers and following lists, follow requests,
notifications, who recommends a product, a profile by name): not suspended (which includes deactivated);
``AccountReach.DISCOVERY`` (account search, suggestions, expert directories, onboarding, learned
interests): also not hidden from the viewer (blocked either way, muted) and, for non-followers, not limited.

How the rule is kept once
-------------------------
The rule is a small boolean expression over named atoms (``Atom``: "the post is the viewer's", "the
author is suspended", "the viewer follows the author"…), written once (``_SEE`` and the surfaces in
``_SURFACES``). For a viewer, what is already known is substituted and the expression simplified
(``_simplify``: an anonymous viewer owns nothing, follows no one; the home timeline knows the viewer
follows every author in it). What remains is rendered by ``_to_q`` to a Django ``Q`` or by ``_to_sql`` to
a SQL condition, from one table of atoms each, so the ORM lists and the raw timeline SQL cannot drift.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Union

from django.conf import settings
from django.db.models import Exists, OuterRef, Q

from tastemaker.accounts.standing import limited_q, limited_sql, suspended_q, suspended_sql

from .models import Block, Follow, Mention, Mute, Post, Visibility

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tastemaker.accounts.models import User


# --- the rule, as an expression over atoms ---------------------------------------------------------

class Atom(StrEnum):
    OPERATOR = "operator"  # the viewer is an operator (always known: never rendered)
    OWN = "own"  # the viewer wrote the post
    SUSPENDED = "suspended"  # the author is suspended (standing.suspended_q)
    HELD = "held"  # the post is held for review
    BLOCKED = "blocked"  # the author blocked the viewer, or the viewer blocked the author
    MUTED = "muted"  # the viewer muted the author
    FOLLOWS = "follows"  # the viewer follows the author (an approved follow)
    MENTIONED = "mentioned"  # the post mentions the viewer
    LIMITED = "limited"  # the author is limited (standing.limited_q)
    FOLLOWERS_ONLY = "followers_only"  # visibility = private
    DIRECT = "direct"  # visibility = direct (a direct message, issue 14)
    PUBLIC = "public"  # visibility = public
    UNLISTED = "unlisted"  # visibility = unlisted


@dataclass(frozen=True)
class _All:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class _Any:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class _Not:
    part: Expr


Expr = Union[bool, Atom, _All, _Any, _Not]  # noqa: UP007 (a runtime alias: the dataclasses name it)


def all_(*parts: Expr) -> Expr:
    return _All(parts)


def any_(*parts: Expr) -> Expr:
    return _Any(parts)


def not_(part: Expr) -> Expr:
    return _Not(part)


A = Atom
# who a post reaches (rule 6). Cheap column tests come first: SQL evaluates OR / AND left to right in practice.
# (written so that a viewer known to follow the author folds it to "not a direct message, or mentioned":
# the simplifier substitutes and folds constants, it does not factor)
_AUDIENCE = any_(
    all_(not_(A.DIRECT), any_(
        all_(not_(A.FOLLOWERS_ONLY), not_(A.LIMITED)),  # public / unlisted, author in good standing
        A.FOLLOWS,  # followers-only posts, and everything of a limited author: followers
    )),
    A.MENTIONED,  # and the accounts mentioned (the only audience of a direct message, issue 14)
)
# may the viewer see the post (rules 1-6; rule 7, the original of a repost, is ``originals``)
_SEE = any_(
    A.OPERATOR,
    all_(not_(A.SUSPENDED), any_(A.OWN, all_(not_(A.HELD), not_(A.BLOCKED), _AUDIENCE))),
)


class Surface(StrEnum):
    DIRECT = "direct"  # opened directly: operators see everything, mutes do not hide
    PROFILE = "profile"  # a profile, a storefront, a card, an analytics subject: DIRECT without messages
    THREAD = "thread"  # thread replies: mutes hide, operators are ordinary viewers
    LIST = "list"  # home, lists: THREAD without direct messages
    PUBLIC = "public"  # public and tag timelines, discovery, product pages: public posts only
    SEARCH = "search"  # search: unlisted posts only the viewer's own


_THREAD = all_(_SEE, not_(A.MUTED))
_LISTED = all_(_THREAD, not_(A.DIRECT))  # no direct message in any list or timeline
_SURFACES: dict[Surface, Expr] = {
    Surface.DIRECT: _SEE,
    Surface.PROFILE: all_(_SEE, not_(A.DIRECT)),
    Surface.THREAD: _THREAD,
    Surface.LIST: _LISTED,
    Surface.PUBLIC: all_(_LISTED, A.PUBLIC),
    Surface.SEARCH: all_(_LISTED, any_(A.OWN, not_(A.UNLISTED))),
}
# the surfaces where an operator sees every post (opened directly)
_OPERATOR_SURFACES = frozenset({Surface.DIRECT, Surface.PROFILE})
# facts true for everyone (none today; an atom not yet backed by data would be fixed here)
_FIXED: dict[Atom, bool] = {}
# what nobody signed out has
_ANONYMOUS: dict[Atom, bool] = {A.OPERATOR: False, A.OWN: False, A.BLOCKED: False, A.MUTED: False,
                                A.FOLLOWS: False, A.MENTIONED: False}


def _simplify(expr: Expr, facts: Mapping[Atom, bool]) -> Expr:
    """``expr`` with the known atoms replaced by their values and the constants folded away."""
    if isinstance(expr, bool):
        return expr
    if isinstance(expr, Atom):
        return facts.get(expr, expr)
    if isinstance(expr, _Not):
        inner = _simplify(expr.part, facts)
        return (not inner) if isinstance(inner, bool) else _Not(inner)
    is_all = isinstance(expr, _All)
    kept: list[Expr] = []
    for part in expr.parts:
        value = _simplify(part, facts)
        if value is (not is_all):  # False in an AND, True in an OR decides it
            return value
        if value is not is_all:  # True in an AND, False in an OR changes nothing
            kept.append(value)
    if not kept:
        return is_all
    if len(kept) == 1:
        return kept[0]
    return _All(tuple(kept)) if is_all else _Any(tuple(kept))


# --- viewers --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Viewer:
    """Who is looking: an account id (None: signed out) and whether it is an operator."""
    id: int | None = None
    operator: bool = False


ViewerLike = Union["User", "AnonymousUser", Viewer, None]  # noqa: UP007
Param = Union[bool, int, str, None]  # noqa: UP007 (a SQL parameter)


def viewer_of(who: ViewerLike) -> Viewer:
    if isinstance(who, Viewer):
        return who
    if who is None or not who.is_authenticated:
        return Viewer()
    return Viewer(who.pk, bool(who.is_staff))


def _expr(viewer: Viewer, surface: Surface, known: Mapping[Atom, bool] | None = None) -> Expr:
    facts: dict[Atom, bool] = {**_FIXED, A.OPERATOR: viewer.operator and surface in _OPERATOR_SURFACES}
    if viewer.id is None:
        facts.update(_ANONYMOUS)
    if known:
        facts.update(known)
    return _simplify(_SURFACES[surface], facts)


# --- rendering: Q ---------------------------------------------------------------------------------

def _atom_q(atom: Atom, p: str, viewer_id: int | None) -> Q:
    """One atom as a filter on posts reached by the prefix ``p`` (e.g. ``"post__"``)."""
    author = OuterRef(f"{p}author_id")
    if atom == A.OWN:
        return Q(**{f"{p}author_id": viewer_id})
    if atom == A.SUSPENDED:
        return suspended_q(f"{p}author__")
    if atom == A.LIMITED:
        return limited_q(f"{p}author__")
    if atom == A.HELD:
        return Q(**{f"{p}held": True})
    if atom == A.FOLLOWERS_ONLY:
        return Q(**{f"{p}visibility": Visibility.PRIVATE})
    if atom == A.PUBLIC:
        return Q(**{f"{p}visibility": Visibility.PUBLIC})
    if atom == A.UNLISTED:
        return Q(**{f"{p}visibility": Visibility.UNLISTED})
    if atom == A.DIRECT:
        return Q(**{f"{p}visibility": Visibility.DIRECT})
    if atom == A.BLOCKED:
        return (Q(Exists(Block.objects.filter(account_id=author, target_id=viewer_id)))
                | Q(Exists(Block.objects.filter(account_id=viewer_id, target_id=author))))
    if atom == A.MUTED:
        return Q(Exists(Mute.objects.filter(account_id=viewer_id, target_id=author)))
    if atom == A.FOLLOWS:
        return Q(Exists(Follow.objects.filter(follower_id=viewer_id, target_id=author)))
    if atom == A.MENTIONED and viewer_id is not None:  # signed out: known False, never rendered
        return Q(Exists(Mention.objects.filter(post_id=OuterRef(f"{p}id"), user_id=viewer_id)))
    raise ValueError(f"the atom {atom} has no queryset filter (it must be known: {atom} is fixed)")


def _to_q(expr: Expr, p: str, viewer_id: int | None) -> Q:
    if isinstance(expr, bool):  # not Q(): an empty Q is dropped from an OR instead of making it true
        return Q(**{f"{p}pk__isnull": False}) if expr else Q(**{f"{p}pk__in": []})
    if isinstance(expr, Atom):
        return _atom_q(expr, p, viewer_id)
    if isinstance(expr, _Not):
        return ~_to_q(expr.part, p, viewer_id)
    out = _to_q(expr.parts[0], p, viewer_id)
    for part in expr.parts[1:]:
        nxt = _to_q(part, p, viewer_id)
        out = (out & nxt) if isinstance(expr, _All) else (out | nxt)
    return out


def posts_q(viewer: ViewerLike, surface: Surface = Surface.DIRECT, prefix: str = "", *,
            originals: bool = True) -> Q:
    """THE visibility rule as a filter on posts (``prefix`` reaches the post from another model, e.g.
    ``"post__"`` on bookmarks). ``originals``: a repost also needs its original to pass (rule 7); pass
    False where reposts are excluded anyway, which saves the join."""
    v = viewer_of(viewer)
    rule = _to_q(_expr(v, surface), prefix, v.id)
    if originals:
        rule &= Q(**{f"{prefix}reblog_of__isnull": True}) | _to_q(_expr(v, surface), f"{prefix}reblog_of__", v.id)
    return rule


def can_see(viewer: ViewerLike, post: Post, surface: Surface = Surface.DIRECT) -> bool:
    """``posts_q`` for one post (one query)."""
    return Post.objects.filter(pk=post.pk).filter(posts_q(viewer, surface)).exists()


def visible_authors(viewer: ViewerLike, post_ids: Iterable[int], surface: Surface = Surface.DIRECT, *,
                    originals_only: bool = False) -> dict[int, int]:
    """Of ``post_ids``, the posts the viewer may see, as ``{post id: author id}``, in one query. A post that
    does not exist and one the viewer may not see are both simply absent. ``originals_only`` leaves
    reposts out."""
    qs = Post.objects.filter(pk__in=list(post_ids))
    if originals_only:
        qs = qs.filter(reblog_of__isnull=True).filter(posts_q(viewer, surface, originals=False))
    else:
        qs = qs.filter(posts_q(viewer, surface))
    return dict(qs.values_list("pk", "author_id"))


def seen_by_everyone(post_ids: Iterable[int], surface: Surface = Surface.LIST) -> dict[int, int]:
    """Of ``post_ids``, the original posts (reposts left out: their originals' authors count too) every
    viewer may see unless a block (either way) or a mute stands between the viewer and the author, as
    ``{post id: author id}``: what a signed-out viewer sees. The rule only
    grows with what a viewer has (own, follows, mentioned, operator) and shrinks only with blocks and mutes
    (``_ANONYMOUS`` sets the first false and the second false too), so a caller that already knows a
    viewer's blocks and mutes (``hidden_sql``) needs no per-viewer query for these posts (the ad decision:
    ``promotion.selectors``). Tested against every viewer in ``tests/social/test_visibility_rule.py``."""
    return visible_authors(Viewer(), post_ids, surface, originals_only=True)


def visible_authors_many(wanted: Sequence[tuple[ViewerLike, Collection[int]]], surface: Surface = Surface.DIRECT,
                         *, originals_only: bool = False) -> dict[int | None, dict[int, int]]:
    """``visible_authors`` for several viewers at once (the analytics ingest: one batch of events from many
    viewers), as ``{viewer id: {post id: author id}}``: the rule rendered to SQL (``post_sql``, cached per
    shape), one statement per ``_MANY_CHUNK`` viewers instead of one ORM query each."""
    from django.db import connection

    from tastemaker.accounts.models import User as UserModel

    out: dict[int | None, dict[int, int]] = {}
    parts: list[str] = []
    params: list[Param] = []

    def run() -> None:
        if not parts:
            return
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            for viewer_id, pid, author, reblog_of in cursor.fetchall():
                if not (originals_only and reblog_of is not None):
                    out.setdefault(viewer_id, {})[pid] = author
        parts.clear()
        params.clear()

    for who, ids in wanted:
        v = viewer_of(who)
        out.setdefault(v.id, {})
        if not ids:
            continue
        # the originals test is made in Python: "reblog_of_id IS NULL" in the WHERE led SQLite to walk the
        # repost index (every original post) instead of the ids
        rule, rule_params = post_sql(v, surface, post="mp", author="mu", originals=not originals_only)
        parts.append(f"SELECT %s, mp.id, mp.author_id, mp.reblog_of_id FROM {Post._meta.db_table} mp"
                     f" JOIN {UserModel._meta.db_table} mu ON mu.id = mp.author_id"
                     f" WHERE mp.id IN ({', '.join(['%s'] * len(ids))}) AND ({rule})")
        params.extend([v.id, *ids, *rule_params])
        if len(parts) >= _MANY_CHUNK:
            run()
    run()
    return out


_MANY_CHUNK = 20  # viewers per statement (SQLite's parameter limit stays far away)


def messages_q(prefix: str = "") -> Q:
    """The direct messages (issue 14), as a filter on posts: what has no public presence at all, not even for
    its author — no analytics report, no export (``analytics.selectors.post_for_report`` leaves them out)."""
    return _atom_q(A.DIRECT, prefix, None)


def published_q(prefix: str = "") -> Q:
    """The part of the rule that does not depend on the viewer: the author is not suspended and the post
    is not held (the rule for a follower who is not the author). What is fanned out to home timelines and
    what a card's /go/ link may lead from."""
    return _to_q(_expr(Viewer(), Surface.LIST, _DELIVERY), prefix, None)


# a follower who is not the author, does not block and is not blocked (a block removes the follow), has not
# muted the author (mutes are applied when the timeline is read) and is not an operator
_DELIVERY: dict[Atom, bool] = {A.OPERATOR: False, A.OWN: False, A.FOLLOWS: True, A.BLOCKED: False,
                               A.MUTED: False, A.MENTIONED: False}


# --- rendering: SQL (the home timeline and the fan-out) -------------------------------------------------

@dataclass(frozen=True)
class _Slot:
    """A parameter known only when the SQL is bound: the viewer's id, or the i-th blocked / muted account."""
    kind: str  # "viewer" | "blocked" | "muted"
    index: int = 0


_VIEWER = _Slot("viewer")
_P = Union[Param, _Slot]  # noqa: UP007 (a parameter, or a slot for one)


@dataclass(frozen=True)
class _SqlCtx:
    post: str  # alias of social_post
    author: str | None  # alias of accounts_user joined on the post's author (None: not joined)
    blocked: int | None  # how many accounts are blocked either way, when read beforehand (else a subquery)
    muted: int | None  # the same for muted accounts


def _in_list(column: str, kind: str, n: int) -> tuple[str, list[_P]]:
    return f"{column} IN ({', '.join(['%s'] * n)})", [_Slot(kind, i) for i in range(n)]


def _atom_sql(atom: Atom, c: _SqlCtx) -> tuple[str, list[_P]]:
    p = c.post
    if atom in (A.SUSPENDED, A.LIMITED):
        if c.author is None:
            raise ValueError(f"the atom {atom} needs the author joined (author=…) or known")
        sql, values = suspended_sql(c.author) if atom == A.SUSPENDED else limited_sql(c.author)
        return sql, [*values]
    if atom == A.OWN:
        return f"{p}.author_id = %s", [_VIEWER]
    if atom == A.HELD:
        return f"{p}.held = %s", [True]
    if atom == A.FOLLOWERS_ONLY:
        return f"{p}.visibility = %s", [Visibility.PRIVATE.value]
    if atom == A.PUBLIC:
        return f"{p}.visibility = %s", [Visibility.PUBLIC.value]
    if atom == A.UNLISTED:
        return f"{p}.visibility = %s", [Visibility.UNLISTED.value]
    if atom == A.DIRECT:
        return f"{p}.visibility = %s", [Visibility.DIRECT.value]
    if atom == A.BLOCKED:
        if c.blocked is not None:
            return _in_list(f"{p}.author_id", "blocked", c.blocked)
        table = Block._meta.db_table
        return (f"(EXISTS (SELECT 1 FROM {table} vb WHERE vb.account_id = {p}.author_id AND vb.target_id = %s)"
                f" OR EXISTS (SELECT 1 FROM {table} vb WHERE vb.account_id = %s AND vb.target_id = {p}.author_id))",
                [_VIEWER, _VIEWER])
    if atom == A.MUTED:
        if c.muted is not None:
            return _in_list(f"{p}.author_id", "muted", c.muted)
        return (f"EXISTS (SELECT 1 FROM {Mute._meta.db_table} vm WHERE vm.account_id = %s"
                f" AND vm.target_id = {p}.author_id)", [_VIEWER])
    if atom == A.FOLLOWS:
        return (f"EXISTS (SELECT 1 FROM {Follow._meta.db_table} vf WHERE vf.follower_id = %s"
                f" AND vf.target_id = {p}.author_id)", [_VIEWER])
    if atom == A.MENTIONED:
        return (f"EXISTS (SELECT 1 FROM {Mention._meta.db_table} vn WHERE vn.post_id = {p}.id"
                f" AND vn.user_id = %s)", [_VIEWER])
    raise ValueError(f"the atom {atom} has no SQL (it must be known: {atom} is fixed)")


def _to_sql(expr: Expr, c: _SqlCtx) -> tuple[str, list[_P]]:
    """SQL for ``expr``, as short as the precedence allows (the home timeline's statement repeats it per
    arm): an atom is one comparison, an IN list, an EXISTS or a parenthesised disjunction, so only an OR
    under an AND and a compound under a NOT need parentheses."""
    if isinstance(expr, bool):
        return ("1 = 1" if expr else "1 = 0"), []
    if isinstance(expr, Atom):
        return _atom_sql(expr, c)
    if isinstance(expr, _Not):
        inner, inner_params = _to_sql(expr.part, c)
        return (f"NOT {inner}" if isinstance(expr.part, Atom) else f"NOT ({inner})"), inner_params
    is_all = isinstance(expr, _All)
    parts: list[str] = []
    params: list[_P] = []
    for part in expr.parts:
        sql, ps = _to_sql(part, c)
        parts.append(f"({sql})" if is_all and isinstance(part, _Any) else sql)
        params += ps
    return (" AND " if is_all else " OR ").join(parts), params


@lru_cache(maxsize=512)
def _sql_template(signed_in: bool, operator: bool, surface: Surface, post: str, author: str | None,
                  blocked: int | None, muted: int | None, known: frozenset[tuple[Atom, bool]], originals: bool,
                  limited_below: int) -> tuple[str, tuple[_P, ...]]:
    """``post_sql`` rendered once per shape (the home timeline asks for the same few shapes all day): the SQL
    and its parameters, with ``_Slot`` where the viewer's values go. ``limited_below`` is in the key so a
    changed setting renders anew."""
    viewer = Viewer(1 if signed_in else None, operator)
    lists: dict[Atom, bool] = {}
    if blocked == 0:
        lists[A.BLOCKED] = False
    if muted == 0:
        lists[A.MUTED] = False
    sql, params = _to_sql(_expr(viewer, surface, {**lists, **dict(known)}), _SqlCtx(post, author, blocked, muted))
    if not originals:
        return sql, tuple(params)
    o, ou = f"{post}_o", f"{post}_ou"
    osql, oparams = _to_sql(_expr(viewer, surface, lists), _SqlCtx(o, ou, blocked, muted))
    return (f"({sql}) AND ({post}.reblog_of_id IS NULL OR EXISTS (SELECT 1 FROM {Post._meta.db_table} {o}"
            f" JOIN accounts_user {ou} ON {ou}.id = {o}.author_id WHERE {o}.id = {post}.reblog_of_id"
            f" AND ({osql})))"), (*params, *oparams)


def post_sql(viewer: ViewerLike, surface: Surface, *, post: str, author: str | None = None,
             blocked: Collection[int] | None = None, muted: Collection[int] | None = None,
             known: Mapping[Atom, bool] | None = None, originals: bool = True) -> tuple[str, list[Param]]:
    """THE visibility rule as a SQL condition on ``social_post`` under the alias ``post`` (with its author's
    ``accounts_user`` row under ``author``, when the rule still needs it), with its parameters.

    ``blocked`` / ``muted``: the viewer's accounts blocked either way / muted, when the caller read them
    beforehand (``hidden_sql``: one round trip) — tested as ``IN`` lists instead of subqueries. ``known``:
    atoms the caller's query guarantees for every row (the home timeline: the viewer follows every author
    in it), which ``_simplify`` folds away before rendering; they hold for the post, not for the original
    of a repost, which ``originals`` checks with the whole rule (a correlated subquery, only for reposts)."""
    v = viewer_of(viewer)
    b = sorted(blocked) if blocked is not None else None
    m = sorted(muted) if muted is not None else None
    sql, template = _sql_template(v.id is not None, v.operator, surface, post, author,
                                  None if b is None else len(b), None if m is None else len(m),
                                  frozenset((known or {}).items()), originals, settings.CREDIT_LIMITED_BELOW)
    values = {"blocked": b or [], "muted": m or []}
    params: list[Param] = [
        (v.id if p.kind == "viewer" else values[p.kind][p.index]) if isinstance(p, _Slot) else p for p in template]
    return sql, params


def messages_sql(post: str) -> tuple[str, list[Param]]:
    """``messages_q`` as SQL on ``social_post`` under ``post``: a home timeline's own-posts arm leaves them out."""
    sql, params = _atom_sql(A.DIRECT, _SqlCtx(post, None, None, None))
    return sql, [p for p in params if not isinstance(p, _Slot)]


# the atoms about the post and its author alone (not about a viewer): read once when many viewers ask about one post
_POST_ATOMS = (A.SUSPENDED, A.HELD, A.LIMITED, A.FOLLOWERS_ONLY, A.DIRECT, A.PUBLIC, A.UNLISTED)


def viewers_who_see(post_id: int, viewers: Iterable[ViewerLike], surface: Surface = Surface.DIRECT, *,
                    chunk: int = 500) -> set[int | None]:
    """Of ``viewers``, those who may see one post (by id; None for a signed-out viewer). For the streaming API,
    which asks it for every connected follower of an author at once: the post's own atoms (its author's
    standing, held, its visibility) are read in one query and folded into the rule (``known``); then one
    statement per ``chunk`` signed-in viewers checks what is left, the rule's SQL template with the viewer's
    id as a column (``_viewer_column_sql``), and one for a signed-out viewer. A post that does not exist is
    seen by nobody."""
    from django.db import connection

    table, users = Post._meta.db_table, "accounts_user"
    unique = list({viewer_of(v) for v in viewers})
    if not unique:
        return set()
    ctx = _SqlCtx("sp", "sa", None, None)
    columns: list[str] = []
    column_params: list[Param] = []
    for atom in _POST_ATOMS:
        sql, atom_values = _atom_sql(atom, ctx)
        columns.append(f"CASE WHEN {sql} THEN 1 ELSE 0 END")
        for value in atom_values:
            if isinstance(value, _Slot):
                raise ValueError(f"the atom {atom} is about a viewer")
            column_params.append(value)
    with connection.cursor() as cur:
        cur.execute(f"SELECT {', '.join(columns)} FROM {table} sp JOIN {users} sa ON sa.id = sp.author_id"
                    f" WHERE sp.id = %s", [*column_params, post_id])
        row = cur.fetchone()
    if row is None:
        return set()
    known = frozenset((atom, bool(value)) for atom, value in zip(_POST_ATOMS, row, strict=True))
    found: set[int | None] = set()
    if any(v.id is None for v in unique):
        rule, values = post_sql(Viewer(), surface, post="sp", author="sa", known=dict(known))
        with connection.cursor() as cur:
            cur.execute(f"SELECT 1 FROM {table} sp JOIN {users} sa ON sa.id = sp.author_id WHERE sp.id = %s"
                        f" AND ({rule})", [post_id, *values])
            if cur.fetchone() is not None:
                found.add(None)
    for operator in (False, True):
        ids = [v.id for v in unique if v.id is not None and v.operator == operator]
        if not ids:
            continue
        rule, values = _viewer_column_sql(operator, surface, known, "vu.id")
        for start in range(0, len(ids), chunk):
            part = ids[start:start + chunk]
            # the ids are integers written into the statement (a thousand placeholders cost the driver more
            # to parse than the database to run)
            listed = ", ".join(str(int(i)) for i in part)
            with connection.cursor() as cur:
                cur.execute(f"SELECT vu.id FROM {users} vu, {table} sp JOIN {users} sa ON sa.id = sp.author_id"
                            f" WHERE sp.id = %s AND vu.id IN ({listed}) AND ({rule})", [post_id, *values])
                found.update(viewer_id for (viewer_id,) in cur.fetchall())
    return found


def _viewer_column_sql(operator: bool, surface: Surface, known: frozenset[tuple[Atom, bool]],
                       column: str) -> tuple[str, list[Param]]:
    """``post_sql`` for a signed-in viewer whose id is the SQL ``column`` (one statement for many viewers): the
    same template, the viewer's slots rendered as the column instead of a parameter."""
    sql, template = _sql_template(True, operator, surface, "sp", "sa", None, None, known, True,
                                  settings.CREDIT_LIMITED_BELOW)
    pieces = sql.split("%s")
    if len(pieces) != len(template) + 1:
        raise ValueError("the rule's SQL and its parameters do not line up")
    out: list[str] = [pieces[0]]
    params: list[Param] = []
    for slot, piece in zip(template, pieces[1:], strict=True):
        if isinstance(slot, _Slot):
            if slot.kind != "viewer":
                raise ValueError("blocked / muted lists are not used here")
            out.append(column)
        else:
            out.append("%s")
            params.append(slot)
        out.append(piece)
    return "".join(out), params


def published_sql(post: str, author: str) -> tuple[str, list[Param]]:
    """``published_q`` as SQL on ``social_post`` under ``post`` and its author under ``author``."""
    sql, params = _to_sql(_expr(Viewer(), Surface.LIST, _DELIVERY), _SqlCtx(post, author, None, None))
    bound = [p for p in params if not isinstance(p, _Slot)]
    if len(bound) != len(params):  # _DELIVERY knows every atom about a viewer
        raise ValueError("published_sql must not depend on a viewer")
    return sql, bound


def hidden_sql(viewer_id: int) -> tuple[str, list[Param]]:
    """SQL listing, as rows ``(kind, account id)``, whom the viewer's lists hide: kind 0 for accounts blocked
    either way, 1 for accounts the viewer muted (``post_sql``'s ``blocked`` and ``muted``). To be combined
    with other reads in one round trip (the home timeline does)."""
    return (f"SELECT 0, target_id FROM {Block._meta.db_table} WHERE account_id = %s"
            f" UNION ALL SELECT 0, account_id FROM {Block._meta.db_table} WHERE target_id = %s"
            f" UNION ALL SELECT 1, target_id FROM {Mute._meta.db_table} WHERE account_id = %s",
            [viewer_id, viewer_id, viewer_id])


def blocked_ids_sql(account_id: int) -> tuple[str, list[Param]]:
    """SQL listing (one column) the accounts blocked by or blocking ``account_id``: ``post_sql``'s ``blocked``
    from the other side, for a writer that must not reach them (the fan service's broadcast delivery)."""
    return (f"SELECT target_id FROM {Block._meta.db_table} WHERE account_id = %s"
            f" UNION ALL SELECT account_id FROM {Block._meta.db_table} WHERE target_id = %s", [account_id, account_id])


def hidden_author_ids(viewer: ViewerLike) -> set[int]:
    """Accounts hidden from the viewer's lists: blocked either way, or muted (one query)."""
    from django.db import connection

    v = viewer_of(viewer)
    if v.id is None:
        return set()
    sql, params = hidden_sql(v.id)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return {row[1] for row in cur.fetchall()}


# --- accounts -------------------------------------------------------------------------------------

class AccountReach(StrEnum):
    LISTED = "listed"  # followers / following lists, requests, notifications, a profile, who recommends
    DISCOVERY = "discovery"  # search, suggestions, directories, onboarding, learned interests


def accounts_q(viewer: ViewerLike = None, reach: AccountReach = AccountReach.LISTED, prefix: str = "") -> Q:
    """Which accounts may appear (``prefix`` reaches the user from another model, e.g. ``"user__"``):
    never a suspended (or deactivated) one; for discovery, not one hidden from the viewer (blocked either
    way, muted) and not a limited one unless the viewer follows it."""
    rule = ~suspended_q(prefix)
    if reach == AccountReach.LISTED:
        return rule
    v = viewer_of(viewer)
    me = OuterRef(f"{prefix}id")
    if v.id is None:
        return rule & ~limited_q(prefix)
    hidden = (Q(Exists(Block.objects.filter(account_id=me, target_id=v.id)))
              | Q(Exists(Block.objects.filter(account_id=v.id, target_id=me)))
              | Q(Exists(Mute.objects.filter(account_id=v.id, target_id=me))))
    follows = Exists(Follow.objects.filter(follower_id=v.id, target_id=me))
    return rule & ~hidden & (~limited_q(prefix) | Q(follows) | Q(**{f"{prefix}id": v.id}))


def blocked_either_way(a: int, b: int) -> bool:
    """One account blocked the other (either way): what refuses follows, replies, likes across a block."""
    return Block.objects.filter(Q(account_id=a, target_id=b) | Q(account_id=b, target_id=a)).exists()
