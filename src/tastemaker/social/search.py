"""Full-text search over posts: SQLite FTS5 or PostgreSQL full-text, both over jieba-segmented text
(so Chinese works the same as English on either database)."""

from __future__ import annotations

from django.db import connection

from tastemaker.core.text import _CJK_RE, _WORD_RE, query_grams

FTS_TABLE = "social_post_fts"


def index_post(post_id: int, text: str) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute(f"INSERT OR REPLACE INTO {FTS_TABLE}(rowid, body) VALUES (%s, %s)", [post_id, text])
    # PostgreSQL: the GIN expression index over Post.search_text is maintained by the database


def unindex_post(post_id: int) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [post_id])


def query_terms(q: str) -> list[str]:
    """Index terms that must all match: Latin words as they are, Chinese as character pairs (see
    ``core.text.cjk_grams``: the index holds those whatever jieba made of the sentence)."""
    out: dict[str, None] = {}
    for chunk in _WORD_RE.findall(q.lower()):
        for term in (query_grams(chunk) if _CJK_RE.search(chunk) else [chunk]):
            if term.strip():
                out.setdefault(term, None)
    return list(out)[:20]


def matching_post_ids(q: str, limit: int, max_id: int | None = None) -> list[int]:
    """Ids of posts matching every term of ``q``, newest first."""
    terms = query_terms(q)
    if not terms:
        return []
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            match = " AND ".join('"' + t.replace('"', '""') + '"' for t in terms)
            sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
            params: list = [match]
            if max_id is not None:
                sql += " AND rowid < %s"
                params.append(max_id)
            sql += " ORDER BY rowid DESC LIMIT %s"
            params.append(limit)
        else:
            sql = (
                "SELECT id FROM social_post WHERE to_tsvector('simple', search_text) @@ "
                "plainto_tsquery('simple', %s)"
            )
            params = [" ".join(terms)]
            if max_id is not None:
                sql += " AND id < %s"
                params.append(max_id)
            sql += " ORDER BY id DESC LIMIT %s"
            params.append(limit)
        cur.execute(sql, params)
        return [row[0] for row in cur.fetchall()]


def create_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(body, tokenize='unicode61')"
        )
    elif schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS social_post_fts_gin ON social_post "
            "USING GIN (to_tsvector('simple', search_text))"
        )


def drop_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    elif schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS social_post_fts_gin")
