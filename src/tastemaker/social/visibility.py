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
   - DIRECT (issue 14, messages): the mentioned accounts only. ``Visibility`` has no DIRECT yet (the API
     answers 422), so the atom is fixed to False in ``_FIXED``; issue 14 removes it from there and gives
     it its Q and SQL below (look for "issue 14").
7. A repost is seen only if its original is seen too (``originals=True``, the default).

Mutes (decided here): a muted account's posts are hidden from lists (home, public and tag timelines,
thread replies, search, discovery) and visible when opened directly (the post, its thread's ancestors,
the account's profile and storefront, bookmarks and likes), as Mastodon does.

Surfaces (``Surface``) add to the rule what a list shows:
- ``DIRECT``: the rule as above (a post opened by id, a thread's ancestors, a profile's statuses, a
  storefront, bookmarks, likes, a card, the subject of an analytics event);
- ``LIST``: operators are ordinary viewers and muted accounts are hidden (home, thread replies);
- ``PUBLIC``: ``LIST`` and public posts only: unlisted and followers-only posts stay out (public and tag
  timelines, discovery, product pages and vertical pages);
- ``SEARCH``: ``LIST`` and unlisted posts only your own (followers-only posts are found by those who may
  read them).

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

from collections.abc import Collection, Iterable, Mapping
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
    DIRECT = "direct"  # visibility = direct (issue 14; fixed False until then, see _FIXED)
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
_AUDIENCE = any_(
    all_(not_(A.FOLLOWERS_ONLY), not_(A.DIRECT), not_(A.LIMITED)),  # public / unlisted, author in good standing
    all_(not_(A.DIRECT), A.FOLLOWS),  # followers-only posts, and everything of a limited author: followers
    A.MENTIONED,  # and the accounts mentioned (the only audience of a DIRECT post, issue 14)
)
# may the viewer see the post (rules 1-6; rule 7, the original of a repost, is ``originals``)
_SEE = any_(
    A.OPERATOR,
    all_(not_(A.SUSPENDED), any_(A.OWN, all_(not_(A.HELD), not_(A.BLOCKED), _AUDIENCE))),
)


class Surface(StrEnum):
    DIRECT = "direct"  # opened directly: operators see everything, mutes do not hide
    LIST = "list"  # home, thread replies: mutes hide, operators are ordinary viewers
    PUBLIC = "public"  # public and tag timelines, discovery, product pages: public posts only
    SEARCH = "search"  # search: unlisted posts only the viewer's own


_LISTED = all_(_SEE, not_(A.MUTED))
_SURFACES: dict[Surface, Expr] = {
    Surface.DIRECT: _SEE,
    Surface.LIST: _LISTED,
    Surface.PUBLIC: all_(_LISTED, A.PUBLIC),
    Surface.SEARCH: all_(_LISTED, any_(A.OWN, not_(A.UNLISTED))),
}
# facts true for everyone today. issue 14 (direct messages): remove DIRECT from here and fill in its
# Q (``_atom_q``) and SQL (``_atom_sql``) renderings.
_FIXED: dict[Atom, bool] = {A.DIRECT: False}
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
    facts: dict[Atom, bool] = {**_FIXED, A.OPERATOR: viewer.operator and surface == Surface.DIRECT}
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
