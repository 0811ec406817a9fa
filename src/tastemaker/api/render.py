"""Fast rendering of Mastodon ``Status`` lists straight from rows, for the hot list endpoints.

``api.serializers.status`` over ORM objects hydrated by ``social.selectors.hydrate`` is the reference
rendering (and what every other endpoint uses). This module produces the same JSON (a test compares
them, ``tests/perf/test_home_render.py``) with a fixed number of queries and no model instances:

* ``home_json``: the page's posts, their authors, and for reposts the original and its author, in one
  statement on top of ``feeds.selectors.home_page_ids_sql`` (the statements are ``feeds.rows``; this module
  only renders their rows);
* ``statuses_json``: the same for given ``(post id, reblog_of id)`` pairs;
* then one ``UNION ALL`` for the media of the shown posts (a description can change after posting), the
  hashtags and mentions of the posts not in the cache, the viewer's favourited / reblogged /
  bookmarked flags, and which posts carry a product card;
* only when some do, their cards (``showcase.selectors.cards_for_posts``: two queries for the whole page),
  rendered fresh every time (prices, stock and stores change).

Posts cannot be edited, so the JSON of each post's immutable fields (content HTML, tags, mentions, ids,
dates, visibility) is kept in a process-local LRU keyed by (post id, base URL) and checked against the
author, text (its hash) and username read with the row; a deleted post simply no longer comes back from the query.
Counters, media and the author's account are always read fresh; an account's JSON is memoised by the
values read, so any profile or counter change shows at once. The response is assembled from these JSON
fragments without building and re-encoding one big structure.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import UTC, datetime

from tastemaker.analytics.filters import device_class, request_reason
from tastemaker.feeds import rows as feed_rows
from tastemaker.promotion import selectors as promotion
from tastemaker.promotion.services import do_record_delivery
from tastemaker.social.formatting import render_html

from . import serializers as ser

# entries are JSON fragments of ~1 kB: 50,000 posts is ~60 MB per worker at most
POST_CACHE_SIZE = 50_000
ACCOUNT_CACHE_SIZE = 20_000


class _LRU:
    """A small LRU map (per process; gunicorn workers are single-threaded, and a lost race only
    means one entry rendered twice)."""

    def __init__(self, size: int):
        self.size = size
        self.data: OrderedDict = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key):
        value = self.data.get(key)
        if value is None:
            self.misses += 1
            return None
        self.hits += 1
        try:
            self.data.move_to_end(key)
        except KeyError:
            pass
        return value

    def put(self, key, value) -> None:
        self.data[key] = value
        while len(self.data) > self.size:
            try:
                self.data.popitem(last=False)
            except KeyError:
                break

    def clear(self) -> None:
        self.data.clear()
        self.hits = self.misses = 0


post_parts = _LRU(POST_CACHE_SIZE)
accounts = _LRU(ACCOUNT_CACHE_SIZE)


def clear_caches() -> None:
    post_parts.clear()
    accounts.clear()
    promotion.forget_active()


def _dt(value) -> datetime | None:
    """A datetime column as read by a raw cursor (SQLite: text in UTC; PostgreSQL: aware datetime)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None and value.utcoffset():
        value = value.astimezone(UTC)
    return value


def _iso(value) -> str | None:
    """``serializers.iso`` of a datetime column; SQLite's stored text is re-cut without parsing it."""
    if isinstance(value, str) and len(value) in (19, 26) and value[10] == " " and value[19:20] in ("", "."):
        return f"{value[:10]}T{value[11:19]}.{value[20:23] or '000'}Z"
    return ser.iso(_dt(value))


def _date(value) -> str | None:
    if isinstance(value, str) and len(value) in (19, 26) and value[10] == " ":
        return value[:10]
    value = _dt(value)
    return value.date().isoformat() if value else None


_ACCOUNT_SLICE = slice(14, None)


def _account(author_id: int, row: tuple, ctx: ser.Ctx) -> dict:
    """An account's ``Account`` from its row (``_account_json`` caches its JSON)."""
    (username, display_name, locked, bot, date_joined, bio, avatar, header, followers, following,
     statuses, last_status_at, interests, language) = row
    if isinstance(interests, str | bytes):
        interests = json.loads(interests)
    avatar_url = ctx.media_url(avatar) if avatar else ctx.static("api/avatar.png")
    header_url = ctx.media_url(header) if header else ctx.static("api/header.png")
    url = f"{ctx.base}/@{username}"
    return {
        "id": str(author_id),
        "username": username,
        "acct": username,
        "display_name": display_name,
        "locked": bool(locked),
        "bot": bool(bot),
        "discoverable": True,
        "group": False,
        "indexable": True,
        "created_at": _iso(date_joined),
        "note": render_html(bio, ctx.base),
        "url": url,
        "uri": url,
        "avatar": avatar_url,
        "avatar_static": avatar_url,
        "header": header_url,
        "header_static": header_url,
        "followers_count": followers,
        "following_count": following,
        "statuses_count": statuses,
        "last_status_at": _date(last_status_at),
        "emojis": [],
        "fields": [],
        "tastemaker": {"interests": list(interests or []), "language": language},
    }


def _media(row: tuple, ctx: ser.Ctx) -> dict:
    _kind, _post_id, media_id, _position, width, height, file, preview, description = row

    def size(w: int, h: int) -> dict:
        return {"width": w, "height": h, "size": f"{w}x{h}", "aspect": round(w / h, 4) if h else 1.0}

    biggest = max(width, height)
    scale = min(1.0, 480 / biggest) if biggest else 1.0
    return {
        "id": str(media_id),
        "type": "image",
        "url": ctx.media_url(file),
        "preview_url": ctx.media_url(preview),
        "remote_url": None,
        "meta": {"original": size(width, height),
                 "small": size(max(1, round(width * scale)), max(1, round(height * scale)))},
        "description": description or None,
        "blurhash": None,
    }


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_SHELL = {  # what a status has when it is only a repost (api.serializers._status_shell)
    "edited_at": None, "content": "", "text": None, "sensitive": False, "spoiler_text": "",
    "media_attachments": [], "application": None, "mentions": [], "tags": [], "emojis": [],
    "reblogs_count": 0, "favourites_count": 0, "replies_count": 0, "in_reply_to_id": None,
    "in_reply_to_account_id": None, "reblog": None, "poll": None, "card": None, "tastemaker_card": None,
    "language": None, "tastemaker_promoted": None,
    "favourited": None, "reblogged": None, "muted": None, "bookmarked": None, "pinned": None, "filtered": [],
}
_TRUE_FALSE = ("false", "true")


def _static_head(row: tuple, base: str, content: str | None = None, post_mentions=(), post_tags=()) -> str:
    """The JSON of a status's immutable fields, without its closing brace (the fresh fields follow).

    For a repost (``content`` None) that is all of the shell but account, reblog and viewer flags."""
    pid = row[0]
    url = f"{base}/@{row[14]}/{pid}"
    data = {"id": str(pid), "uri": url, "url": url, "created_at": _iso(row[10]), "visibility": row[6]}
    if content is None:
        data.update(_SHELL)
        for fresh in ("reblog", "favourited", "reblogged", "bookmarked"):
            del data[fresh]
    else:
        data.update({
            "edited_at": None, "content": content, "text": row[3], "sensitive": bool(row[8]),
            "spoiler_text": row[9], "application": None, "mentions": list(post_mentions),
            "tags": list(post_tags), "emojis": [],
            "in_reply_to_id": str(row[4]) if row[4] else None,
            "in_reply_to_account_id": str(row[5]) if row[5] else None,
            "reblog": None, "poll": None, "language": row[7] or None, "filtered": [], "tastemaker_promoted": None,
        })
    return _dumps(data)[:-1]


def _account_json(author_id: int, row: tuple, ctx: ser.Ctx) -> str:
    key = (ctx.base, author_id, row)
    text = accounts.get(key)
    if text is None:
        text = _dumps(_account(author_id, row, ctx))
        accounts.put(key, text)
    return text


def _cards(post_ids: list[int]) -> dict:
    """CardViews of the posts that carry a card: two queries, none when no post on the page has one."""
    if not post_ids:
        return {}
    from tastemaker.showcase.selectors import cards_for_posts

    return cards_for_posts(post_ids)


_NO_CARD = ',"card":null,"tastemaker_card":null'


def _card_json(view, row: tuple, ctx: ser.Ctx) -> str:
    """The ``card`` and ``tastemaker_card`` members of an original post (as api.serializers.status)."""
    if view is None:
        return _NO_CARD
    username = row[14]
    card = ser.preview_card(view, ctx, author_name=row[15] or username, author_url=f"{ctx.base}/@{username}")
    return f',"card":{_dumps(card)},"tastemaker_card":{_dumps(ser.tastemaker_card(view, ctx))}'


def statuses_json(request, refs: list[tuple[int, int | None]], viewer) -> bytes:
    """The JSON array of Mastodon ``Status`` for ``refs`` (page order kept; posts deleted meanwhile are
    left out). Three queries: the posts with their authors, then ``_render``'s one."""
    if not refs:
        return b"[]"
    return _join(statuses_parts(request, refs, viewer))


def statuses_parts(request, refs: list[tuple[int, int | None]], viewer) -> list[tuple[int, str]]:
    """``statuses_json`` as (post id, that status's JSON) pairs, for a caller that places statuses inside
    its own objects (a conversation's ``last_status``) without parsing them again."""
    if not refs:
        return []
    rows = feed_rows.post_rows(list({pid for pid, _ in refs} | {orig for _, orig in refs if orig}))
    return _render_parts(request, viewer, refs, rows)


def accounts_json_by_id(ids: list[int], ctx: ser.Ctx) -> dict[int, str]:
    """Mastodon ``Account`` JSON of these ids (those that exist) from rows, one statement, through the
    account cache: what ``serializers.account`` gives for a model instance."""
    return {pk: _account_json(pk, row, ctx) for pk, row in feed_rows.account_rows(ids).items()}


def _join(parts: list[tuple[int, str]]) -> bytes:
    return ("[" + ",".join(text for _pid, text in parts) + "]").encode()


def _marks(flags: set[str]) -> str:
    return (f',"favourited":{_TRUE_FALSE["f" in flags]},"reblogged":{_TRUE_FALSE["r" in flags]}'
            f',"bookmarked":{_TRUE_FALSE["b" in flags]}')


def status_for_viewers(request_for, ref: tuple[int, int | None], viewers: list) -> dict[int | None, str]:
    """The JSON of one status for each of ``viewers`` (None: signed out), by viewer id, as ``statuses_json``
    renders it for each (the streaming API's ``update`` to every follower of an author). It is rendered once
    for the first signed-in viewer (and once signed out); what differs between signed-in viewers is only their
    favourited / reblogged / bookmarked marks, read for all of them in one query and swapped in. ``request_for``
    makes the request a viewer's rendering sees. A status that is gone is left out."""
    out: dict[int | None, str] = {}
    signed = list({v.pk: v for v in viewers if v is not None}.values())
    if any(v is None for v in viewers):
        body = statuses_json(request_for(None), [ref], None)
        if body != b"[]":
            out[None] = body[1:-1].decode()
    if not signed:
        return out
    first = signed[0]
    body = statuses_json(request_for(first), [ref], first)
    if body == b"[]":
        return out
    text = body[1:-1].decode()
    shown = ref[1] or ref[0]
    flags: dict[int, set[str]] = {}
    for kind, _post_id, viewer_id in feed_rows.viewer_marks([shown], [v.pk for v in signed]):
        flags.setdefault(viewer_id, set()).add(kind)
    mine = _marks(flags.get(first.pk, set()))
    for viewer in signed:
        if viewer is first:
            out[viewer.pk] = text
        elif mine in text:
            out[viewer.pk] = text.replace(mine, _marks(flags.get(viewer.pk, set())))
        else:  # the first viewer's marks changed in between: render this one in full
            own = statuses_json(request_for(viewer), [ref], viewer)
            if own != b"[]":
                out[viewer.pk] = own[1:-1].decode()
    return out


def home_json(request, viewer, page) -> tuple[bytes, int | None, int | None]:
    """The viewer's home page as JSON, with the first and last post ids (for the Link header).

    Two queries before ``_render``'s one: who is hidden / pulled (``feeds.selectors.viewer_filters``),
    then the page's ids (``feeds.selectors.home_page_ids_sql``) joined with the posts, their authors,
    and for reposts the original and its author, in one statement."""
    fetched = feed_rows.home_rows(viewer.pk, page)
    rows: dict[int, tuple] = {}
    refs: list[tuple[int, int | None]] = []
    for row in fetched:
        post = row[:feed_rows.POST_WIDTH]
        rows[post[0]] = post
        if post[2]:
            original = row[feed_rows.POST_WIDTH:]
            if original[0] is not None:
                rows[original[0]] = original
        refs.append((post[0], post[2]))
    # paid promotion: the ad decision (no query while no campaign is deliverable), then the promoted posts
    picks = promotion.home_promotions(viewer, len(refs), first_page=page.max_id is None and page.min_id is None)
    promoted: dict[int, promotion.Pick] = {}
    if picks:
        refs, promoted = _with_promotions(refs, rows, picks)
    if not refs:
        return b"[]", None, None
    body = _render(request, viewer, refs, rows, promoted)
    if promoted:
        do_record_delivery(viewer, list(promoted.values()),
                           reason=request_reason(request),
                           device=device_class(request.META.get("HTTP_USER_AGENT", "")))
    return body, (fetched[0][0] if fetched else None), (fetched[-1][0] if fetched else None)


def _with_promotions(refs: list[tuple[int, int | None]], rows: dict[int, tuple], picks: list[promotion.Pick],
                     ) -> tuple[list[tuple[int, int | None]], dict[int, promotion.Pick]]:
    """The page with the promoted posts slotted in (a promoted post is shown once: its organic copy, or a
    repost of it, leaves the page), and the picks by post id."""
    wanted = [p for p in picks if p.post_id is not None]
    missing = [p.post_id for p in wanted if p.post_id not in rows]
    if missing:
        rows.update(feed_rows.post_rows([m for m in missing if m is not None]))
    promoted = {p.post_id: p for p in wanted if p.post_id is not None and p.post_id in rows}
    organic = [(pid, orig) for pid, orig in refs if pid not in promoted and orig not in promoted]
    out: list[tuple[int, int | None]] = []
    slots = sorted(promoted.values(), key=lambda p: p.position)
    for index, ref in enumerate(organic):
        while slots and slots[0].position <= index:
            out.append((slots.pop(0).post_id or 0, None))
        out.append(ref)
    out += [(p.post_id or 0, None) for p in slots]
    return out, promoted


PROMOTED_MARKER = "推广 · Promoted"  # bilingual on purpose: what any stock client shows above a promoted post


def _promoted_json(text: str, pick: promotion.Pick, ctx: ser.Ctx) -> str:
    """A status marked as promoted: a first paragraph stock clients display, and ``tastemaker_promoted``."""
    marker = _dumps(f"<p>{PROMOTED_MARKER}</p>")[1:-1]
    text = text.replace('"content":"', f'"content":"{marker}', 1)
    return text.replace('"tastemaker_promoted":null', f'"tastemaker_promoted":{_dumps(ser.promoted_mark(pick))}', 1)


def _render(request, viewer, refs: list[tuple[int, int | None]], rows: dict[int, tuple],
            promoted: dict[int, promotion.Pick] | None = None) -> bytes:
    """The JSON array of ``_render_parts``."""
    return _join(_render_parts(request, viewer, refs, rows, promoted))


def _render_parts(request, viewer, refs: list[tuple[int, int | None]], rows: dict[int, tuple],
                  promoted: dict[int, promotion.Pick] | None = None) -> list[tuple[int, str]]:
    """JSON for each of ``refs`` from post+author ``rows``, built from cached fragments of the immutable
    parts and the fresh fields; one query for media, hashtags and mentions (of posts not cached), the
    viewer's flags and which posts have a product card; two more for those cards, if any."""
    ctx = ser.Ctx(request)
    base = ctx.base
    refs = [(pid, orig) for pid, orig in refs if pid in rows and (not orig or orig in rows)]
    if not refs:
        return []
    shown = list(dict.fromkeys(orig or pid for pid, orig in refs))
    heads: dict[int, str] = {}
    missing: list[int] = []
    for pid in shown:
        row = rows[pid]
        cached = post_parts.get((pid, base))
        if cached is not None and cached[0] == (row[1], hash(row[3]), row[14]):
            heads[pid] = cached[1]
        else:
            missing.append(pid)
    media: dict[int, list[tuple]] = {}
    tags: dict[int, list[tuple[int, str]]] = {}
    mentions: dict[int, list[tuple[int, int, str]]] = {}
    favourited: set[int] = set()
    reblogged: set[int] = set()
    bookmarked: set[int] = set()
    carded: list[int] = []
    extra = feed_rows.post_extras(shown, missing, viewer.pk if viewer is not None else None)
    for row in extra:
        kind = row[0]
        if kind == "m":
            media.setdefault(row[1], []).append(row)
        elif kind == "t":
            tags.setdefault(row[1], []).append((row[2], row[6]))
        elif kind == "u":
            mentions.setdefault(row[1], []).append((row[2], row[3], row[6]))
        elif kind == "f":
            favourited.add(row[1])
        elif kind == "r":
            reblogged.add(row[1])
        elif kind == "c":
            carded.append(row[1])
        else:
            bookmarked.add(row[1])
    cards = _cards(carded)

    for pid in missing:
        row = rows[pid]
        post_mentions = sorted(mentions.get(pid, ()))  # in the order they were made (as the reference)
        known = {name.lower() for _id, _uid, name in post_mentions}
        head = _static_head(
            row, base, render_html(row[3], base, known),
            [{"id": str(uid), "username": name, "acct": name, "url": f"{base}/@{name}"}
             for _id, uid, name in post_mentions],
            [{"name": name, "url": f"{base}/tags/{name}"} for _id, name in sorted(tags.get(pid, ()))],
        )
        post_parts.put((pid, base), ((row[1], hash(row[3]), row[14]), head))
        heads[pid] = head

    authenticated = viewer is not None
    rendered: dict[int, tuple[str, str]] = {}

    def status(pid: int) -> tuple[str, str]:
        """(JSON, viewer flags JSON fragment) of an original post."""
        done = rendered.get(pid)
        if done is not None:
            return done
        row = rows[pid]
        items = media.get(pid)
        media_json = _dumps([_media(m, ctx) for m in sorted(items, key=lambda m: (m[3], m[2]))]) if items else "[]"
        if authenticated:
            marks = (f',"favourited":{_TRUE_FALSE[pid in favourited]},"reblogged":{_TRUE_FALSE[pid in reblogged]}'
                     f',"bookmarked":{_TRUE_FALSE[pid in bookmarked]}')
            tail = ',"muted":false,"pinned":false}'
        else:
            marks = ',"favourited":null,"reblogged":null,"bookmarked":null'
            tail = ',"muted":null,"pinned":null}'
        text = (f'{heads[pid]},"account":{_account_json(row[1], row[_ACCOUNT_SLICE], ctx)}'
                f',"media_attachments":{media_json},"replies_count":{int(row[11])},"reblogs_count":{int(row[12])}'
                f',"favourites_count":{int(row[13])}{_card_json(cards.get(pid), row, ctx)}{marks}{tail}')
        rendered[pid] = done = (text, marks)
        return done

    out: list[tuple[int, str]] = []
    for pid, orig in refs:
        if orig:
            inner, marks = status(orig)
            row = rows[pid]
            cached = post_parts.get((pid, base))
            if cached is not None and cached[0] == (row[1], orig, row[14]):
                head = cached[1]
            else:
                head = _static_head(row, base)
                post_parts.put((pid, base), ((row[1], orig, row[14]), head))
            out.append((pid, f'{head},"account":{_account_json(row[1], row[_ACCOUNT_SLICE], ctx)}'
                             f',"reblog":{inner}{marks}}}'))
        elif promoted and pid in promoted:
            out.append((pid, _promoted_json(status(pid)[0], promoted[pid], ctx)))
        else:
            out.append((pid, status(pid)[0]))
    return out
