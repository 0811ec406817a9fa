"""Fast rendering of Mastodon ``Status`` lists straight from rows, for the hot list endpoints.

``api.serializers.status`` over ORM objects hydrated by ``social.selectors.hydrate`` is the reference
rendering (and what every other endpoint uses). This module produces the same JSON (a test compares
them, ``tests/perf/test_home_render.py``) for a page of ``(post id, reblog_of id)`` pairs with a
fixed number of queries and no model instances:

1. the posts (page + reposted originals) joined with their authors, counters and account fields fresh;
2. media of the shown posts (a description can change after posting), plus hashtags and mentions of
   the posts not in the cache — one ``UNION ALL``;
3. the viewer's favourited / reblogged / bookmarked flags — one ``UNION ALL``.

Posts cannot be edited, so each post's rendered immutable parts (content HTML, tags, mentions) are
kept in a process-local LRU keyed by (post id, base URL), checked against the author and text read in
query 1. A deleted post simply no longer comes back from query 1. Accounts are rendered from their
freshly read fields and memoised by those values, so any profile or counter change shows at once.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import UTC, datetime

from django.db import connection

from tastemaker.social.formatting import render_html

from . import serializers as ser

POST_CACHE_SIZE = 20_000
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


def _dt(value) -> datetime | None:
    """A datetime column as read by a raw cursor (SQLite: text in UTC; PostgreSQL: aware datetime)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None and value.utcoffset():
        value = value.astimezone(UTC)
    return value


def _in(ids) -> str:
    return ", ".join(["%s"] * len(ids))


_POST_COLUMNS = (
    "p.id, p.author_id, p.reblog_of_id, p.text, p.in_reply_to_id, p.in_reply_to_account_id, p.visibility,"
    " p.language, p.sensitive, p.spoiler_text, p.created_at, p.replies_count, p.reblogs_count,"
    " p.favourites_count,"
    " u.username, u.display_name, u.locked, u.bot, u.date_joined, u.bio, u.avatar, u.header,"
    " u.followers_count, u.following_count, u.statuses_count, u.last_status_at, u.interests, u.language"
)
_ACCOUNT_SLICE = slice(14, None)


def _account(author_id: int, row: tuple, ctx: ser.Ctx) -> dict:
    key = (ctx.base, author_id, row)
    data = accounts.get(key)
    if data is not None:
        return data
    (username, display_name, locked, bot, date_joined, bio, avatar, header, followers, following,
     statuses, last_status_at, interests, language) = row
    if isinstance(interests, str | bytes):
        interests = json.loads(interests)
    avatar_url = ctx.media_url(avatar) if avatar else ctx.static("api/avatar.png")
    header_url = ctx.media_url(header) if header else ctx.static("api/header.png")
    url = f"{ctx.base}/@{username}"
    last = _dt(last_status_at)
    data = {
        "id": str(author_id),
        "username": username,
        "acct": username,
        "display_name": display_name,
        "locked": bool(locked),
        "bot": bool(bot),
        "discoverable": True,
        "group": False,
        "indexable": True,
        "created_at": ser.iso(_dt(date_joined)),
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
        "last_status_at": last.date().isoformat() if last else None,
        "emojis": [],
        "fields": [],
        "tastemaker": {"interests": list(interests or []), "language": language},
    }
    accounts.put(key, data)
    return data


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


def statuses(request, refs: list[tuple[int, int | None]], viewer) -> list[dict]:
    """Mastodon ``Status`` dicts for ``refs`` (page order kept; posts deleted meanwhile are left out).

    The dicts may share nested (cached) parts: serialise them, do not mutate them."""
    if not refs:
        return []
    ctx = ser.Ctx(request)
    base = ctx.base
    wanted = {pid for pid, _ in refs} | {orig for _, orig in refs if orig}
    ids = list(wanted)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT {_POST_COLUMNS} FROM social_post p JOIN accounts_user u ON u.id = p.author_id"
            f" WHERE p.id IN ({_in(ids)})",
            ids,
        )
        rows = {row[0]: row for row in cur.fetchall()}
        shown = [orig if orig else pid for pid, orig in refs if pid in rows and (not orig or orig in rows)]
        shown = list(dict.fromkeys(shown))
        parts: dict[int, tuple] = {}
        missing: list[int] = []
        for pid in shown:
            row = rows[pid]
            cached = post_parts.get((pid, base))
            if cached is not None and cached[0] == (row[1], row[3]):
                parts[pid] = cached
            else:
                missing.append(pid)
        media: dict[int, list[tuple]] = {}
        tags: dict[int, list[tuple[int, str]]] = {}
        mentions: dict[int, list[tuple[int, int, str]]] = {}
        if shown:
            sql = (
                "SELECT 'm', post_id, id, position, width, height, file, preview, description"
                f" FROM social_media WHERE post_id IN ({_in(shown)})"
            )
            params: list = list(shown)
            if missing:
                sql += (
                    " UNION ALL SELECT 't', pt.post_id, pt.id, 0, 0, 0, h.name, '', ''"
                    " FROM social_posttag pt JOIN social_hashtag h ON h.id = pt.hashtag_id"
                    f" WHERE pt.post_id IN ({_in(missing)})"
                    " UNION ALL SELECT 'u', mn.post_id, mn.id, mu.id, 0, 0, mu.username, '', ''"
                    " FROM social_mention mn JOIN accounts_user mu ON mu.id = mn.user_id"
                    f" WHERE mn.post_id IN ({_in(missing)})"
                )
                params += missing + missing
            cur.execute(sql, params)
            for row in cur.fetchall():
                kind = row[0]
                if kind == "m":
                    media.setdefault(row[1], []).append(row)
                elif kind == "t":
                    tags.setdefault(row[1], []).append((row[2], row[6]))
                else:
                    mentions.setdefault(row[1], []).append((row[2], row[3], row[6]))
        favourited: set[int] = set()
        reblogged: set[int] = set()
        bookmarked: set[int] = set()
        if viewer is not None and shown:
            marks = _in(shown)
            cur.execute(
                f"SELECT 'f', post_id FROM social_favourite WHERE user_id = %s AND post_id IN ({marks})"
                f" UNION ALL SELECT 'r', reblog_of_id FROM social_post WHERE author_id = %s AND reblog_of_id IN ({marks})"
                f" UNION ALL SELECT 'b', post_id FROM social_bookmark WHERE user_id = %s AND post_id IN ({marks})",
                [viewer.pk, *shown, viewer.pk, *shown, viewer.pk, *shown],
            )
            flags = {"f": favourited, "r": reblogged, "b": bookmarked}
            for kind, pid in cur.fetchall():
                flags[kind].add(pid)

    for pid in missing:
        row = rows[pid]
        post_mentions = sorted(mentions.get(pid, ()))  # in the order they were made (as the reference)
        known = {name.lower() for _id, _uid, name in post_mentions}
        entry = (
            (row[1], row[3]),
            render_html(row[3], base, known),
            [{"id": str(uid), "username": name, "acct": name, "url": f"{base}/@{name}"}
             for _id, uid, name in post_mentions],
            [{"name": name, "url": f"{base}/tags/{name}"} for _id, name in sorted(tags.get(pid, ()))],
        )
        post_parts.put((pid, base), entry)
        parts[pid] = entry

    authenticated = viewer is not None
    rendered: dict[int, dict] = {}

    def shell(row: tuple) -> dict:
        pid = row[0]
        url = f"{base}/@{row[14]}/{pid}"
        return {
            "id": str(pid),
            "uri": url,
            "url": url,
            "created_at": ser.iso(_dt(row[10])),
            "edited_at": None,
            "account": _account(row[1], row[_ACCOUNT_SLICE], ctx),
            "content": "",
            "text": None,
            "visibility": row[6],
            "sensitive": False,
            "spoiler_text": "",
            "media_attachments": [],
            "application": None,
            "mentions": [],
            "tags": [],
            "emojis": [],
            "reblogs_count": 0,
            "favourites_count": 0,
            "replies_count": 0,
            "in_reply_to_id": None,
            "in_reply_to_account_id": None,
            "reblog": None,
            "poll": None,
            "card": None,
            "language": None,
            "favourited": None,
            "reblogged": None,
            "muted": None,
            "bookmarked": None,
            "pinned": None,
            "filtered": [],
        }

    def status(pid: int) -> dict:
        data = rendered.get(pid)
        if data is not None:
            return data
        row = rows[pid]
        _fingerprint, content, post_mentions, post_tags = parts[pid]
        data = shell(row)
        data.update({
            "content": content,
            "text": row[3],
            "sensitive": bool(row[8]),
            "spoiler_text": row[9],
            "media_attachments": [_media(m, ctx) for m in sorted(media.get(pid, ()), key=lambda m: (m[3], m[2]))],
            "mentions": post_mentions,
            "tags": post_tags,
            "replies_count": row[11],
            "reblogs_count": row[12],
            "favourites_count": row[13],
            "in_reply_to_id": str(row[4]) if row[4] else None,
            "in_reply_to_account_id": str(row[5]) if row[5] else None,
            "language": row[7] or None,
        })
        if authenticated:
            data.update({
                "favourited": pid in favourited,
                "reblogged": pid in reblogged,
                "bookmarked": pid in bookmarked,
                "muted": False,
                "pinned": False,
            })
        rendered[pid] = data
        return data

    out = []
    for pid, orig in refs:
        if pid not in rows or (orig and orig not in rows):
            continue
        if orig:
            inner = status(orig)
            data = shell(rows[pid])
            data.update({"reblog": inner, "favourited": inner["favourited"], "reblogged": inner["reblogged"],
                         "bookmarked": inner["bookmarked"]})
        else:
            data = status(pid)
        out.append(data)
    return out


def statuses_json(request, refs: list[tuple[int, int | None]], viewer) -> bytes:
    return json.dumps(statuses(request, refs, viewer), ensure_ascii=False, separators=(",", ":")).encode()
