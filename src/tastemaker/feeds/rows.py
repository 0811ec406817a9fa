"""Posts as raw rows, for the fast JSON rendering of status lists (``api.render``: the home timeline's hot
path). Raw SQL with bound parameters and a fixed number of statements per page; no model instances.

The column order is the contract with the renderer: a post's ``POST_WIDTH`` columns, then its author's
(``row[14]`` is the author's username), as listed in ``columns``. Datetimes come as the database gives them
(SQLite: text in UTC, read as stored; PostgreSQL: aware datetimes)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from .selectors import home_page_ids_sql

POST_WIDTH = 28


def _in(ids) -> str:
    return ", ".join(["%s"] * len(ids))


def columns(p: str, u: str, as_text: bool = False) -> str:
    """A post's columns then its author's (``row[14]`` is the author's username). ``as_text`` reads the
    datetimes as SQLite stores them (text), instead of parsing them for every row, cached or not."""

    def dt(column: str) -> str:
        return f"CAST({column} AS TEXT)" if as_text else column

    return (
        f"{p}.id, {p}.author_id, {p}.reblog_of_id, {p}.text, {p}.in_reply_to_id, {p}.in_reply_to_account_id,"
        f" {p}.visibility, {p}.language, {p}.sensitive, {p}.spoiler_text, {dt(p + '.created_at')},"
        f" {p}.replies_count, {p}.reblogs_count, {p}.favourites_count, {account_columns(u, as_text)}"
    )


def account_columns(u: str, as_text: bool = False) -> str:
    """An account's columns as a post row carries them after the post's (``row[14:]``, what
    ``api.render._account`` reads)."""

    def dt(column: str) -> str:
        return f"CAST({column} AS TEXT)" if as_text else column

    return (
        f"{u}.username, {u}.display_name, {u}.locked, {u}.bot, {dt(u + '.date_joined')}, {u}.bio, {u}.avatar,"
        f" {u}.header, {u}.followers_count, {u}.following_count, {u}.statuses_count,"
        f" {dt(u + '.last_status_at')}, {u}.interests, {u}.language"
    )


def _post_columns() -> str:
    return columns("p", "u", connection.vendor == "sqlite")


def post_rows(ids: list[int]) -> dict[int, tuple]:
    """The posts with these ids (those that still exist) and their authors, by id: one statement."""
    if not ids:
        return {}
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT {_post_columns()} FROM social_post p JOIN accounts_user u ON u.id = p.author_id"
            f" WHERE p.id IN ({_in(ids)})",
            ids,
        )
        return {row[0]: row for row in cur.fetchall()}


def account_rows(ids: Iterable[int]) -> dict[int, tuple]:
    """These accounts' columns (``account_columns``) by id, one statement: accounts rendered without model
    instances (a conversation's participants)."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    with connection.cursor() as cur:
        cur.execute(f"SELECT u.id, {account_columns('u', connection.vendor == 'sqlite')} FROM accounts_user u"
                    f" WHERE u.id IN ({_in(ids)})", ids)
        return {row[0]: row[1:] for row in cur.fetchall()}


def home_rows(viewer_id: int, page) -> list[tuple]:
    """The viewer's home page (``selectors.home_page_ids_sql``: who is hidden or pulled, keyset paging),
    newest first: each post and its author, then for a repost the original and its author (NULLs
    otherwise), in one statement."""
    ids_sql, params = home_page_ids_sql(viewer_id, page)
    order = "ASC" if page.min_id is not None else "DESC"
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT {_post_columns()}, {columns('o', 'ou', connection.vendor == 'sqlite')} FROM ({ids_sql}) page"
            " JOIN social_post p ON p.id = page.id JOIN accounts_user u ON u.id = p.author_id"
            " LEFT JOIN social_post o ON o.id = p.reblog_of_id LEFT JOIN accounts_user ou ON ou.id = o.author_id"
            f" ORDER BY p.id {order}",
            params,
        )
        fetched = cur.fetchall()
    if page.min_id is not None:
        fetched.reverse()  # min_id pages are the oldest ``limit`` above min_id, returned newest first
    return fetched


def followers_among(target_id: int, viewer_ids: Iterable[int]) -> set[int]:
    """Of ``viewer_ids``, those who follow ``target_id`` (the streaming server's connected followers). The ids are
    integers written into the statement: a thousand placeholders cost the driver more to parse than the query."""
    listed = ", ".join(str(int(i)) for i in viewer_ids)
    if not listed:
        return set()
    with connection.cursor() as cur:
        cur.execute(f"SELECT follower_id FROM social_follow WHERE target_id = %s AND follower_id IN ({listed})",
                    [target_id])
        return {row[0] for row in cur.fetchall()}


def viewer_marks(post_ids: list[int], viewer_ids: list[int]) -> list[tuple[str, int, int]]:
    """``post_extras``' viewer rows (``f``, ``r``, ``b``: favourited, reblogged, bookmarked) for many viewers at
    once, as (kind, post id, viewer id): the streaming server renders a new post once and reads only these per
    follower (api.render.status_for_viewers)."""
    if not post_ids or not viewer_ids:
        return []
    # integers written into the statement: a thousand placeholders cost the driver more to parse than the query
    posts, viewers = ", ".join(str(int(i)) for i in post_ids), ", ".join(str(int(i)) for i in viewer_ids)
    sql = (
        "SELECT 'f', post_id, user_id FROM social_favourite"
        f" WHERE post_id IN ({posts}) AND user_id IN ({viewers})"
        " UNION ALL SELECT 'r', reblog_of_id, author_id FROM social_post"
        f" WHERE reblog_of_id IN ({posts}) AND author_id IN ({viewers})"
        " UNION ALL SELECT 'b', post_id, user_id FROM social_bookmark"
        f" WHERE post_id IN ({posts}) AND user_id IN ({viewers})"
    )
    with connection.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def post_extras(shown: list[int], missing: list[int], viewer_id: int | None) -> list[tuple]:
    """In one ``UNION ALL``, rows tagged by their first column: ``m`` the media of the ``shown`` posts (a
    description can change after posting), ``c`` which of them carry a product card, ``t`` and ``u`` the
    hashtags and mentions of the ``missing`` ones (not in the renderer's cache), and for a viewer ``f``,
    ``r``, ``b`` the posts they favourited, reblogged and bookmarked."""
    marks = _in(shown)
    sql = (
        "SELECT 'm', post_id, id, position, width, height, file, preview, description"
        f" FROM social_media WHERE post_id IN ({marks})"
    )
    params: list = list(shown)
    # which shown posts carry a product card (the cards themselves are fresh: prices, stock, stores)
    sql += f" UNION ALL SELECT 'c', post_id, 0, 0, 0, 0, '', '', '' FROM showcase_productcard WHERE post_id IN ({marks})"
    params += shown
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
    if viewer_id is not None:
        sql += (
            " UNION ALL SELECT 'f', post_id, 0, 0, 0, 0, '', '', ''"
            f" FROM social_favourite WHERE user_id = %s AND post_id IN ({marks})"
            " UNION ALL SELECT 'r', reblog_of_id, 0, 0, 0, 0, '', '', ''"
            f" FROM social_post WHERE author_id = %s AND reblog_of_id IN ({marks})"
            " UNION ALL SELECT 'b', post_id, 0, 0, 0, 0, '', '', ''"
            f" FROM social_bookmark WHERE user_id = %s AND post_id IN ({marks})"
        )
        params += [viewer_id, *shown, viewer_id, *shown, viewer_id, *shown]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()
