"""Access tokens by their raw value, for the bearer authentication of the JSON API (tokens issued by
django-oauth-toolkit; only their SHA-256 checksum is stored, RFC 9700). A read: one statement for the token
and its user, built once per database vendor, as this runs on every authenticated request."""

from __future__ import annotations

import hashlib

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

AccessToken = get_access_token_model()
User = get_user_model()


class _Joined:
    """Instances of a model from its columns in a raw row, with the ORM's value converters applied."""

    def __init__(self, model, alias: str):
        from django.db.models.expressions import Col

        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self.columns = [f"{alias}.{connection.ops.quote_name(f.column)}" for f in self.fields]
        self.converters = []
        for i, f in enumerate(self.fields):
            col = Col(alias, f)
            funcs = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if funcs:
                self.converters.append((i, funcs, col))

    def build(self, values: list):
        for i, funcs, col in self.converters:
            for func in funcs:
                values[i] = func(values[i], col, connection)
        return self.model.from_db(connection.alias, self.attnames, values)


_loaders: dict = {}


def _token_loader():
    """One statement for token + user, built once per database vendor."""
    key = connection.vendor
    loader = _loaders.get(key)
    if loader is None:
        parts = (_Joined(AccessToken, "t"), _Joined(User, "u"))
        qn = connection.ops.quote_name
        sql = (
            f"SELECT {', '.join(c for p in parts for c in p.columns)} FROM {qn(AccessToken._meta.db_table)} t"
            f" LEFT JOIN {qn(User._meta.db_table)} u ON u.{qn(User._meta.pk.column)} = t.{qn('user_id')}"
            f" WHERE t.{qn('token_checksum')} = %s LIMIT 1"
        )
        loader = _loaders[key] = (sql, parts)
    return loader


def _fetch(checksum: str):
    """``AccessToken.objects.select_related("user").filter(token_checksum=…).first()`` without the ORM's
    per-request query building (about 0.6 ms of every authenticated request). The application is
    loaded on access (only the app and token endpoints look at it)."""
    sql, (tok, usr) = _token_loader()
    with connection.cursor() as cur:
        cur.execute(sql, [checksum])
        values = cur.fetchone()
    if values is None:
        return None
    values = list(values)
    split = len(tok.fields)
    row = tok.build(values[:split])
    row._state.fields_cache["user"] = usr.build(values[split:]) if row.user_id is not None else None
    return row


def active_token(token: str):
    """The unexpired access token whose raw value this is, with its user (None for an app token); None
    when unknown, expired, or its user is inactive or suspended."""
    if not token or len(token) > 255:
        return None
    # look up by the indexed SHA-256 checksum; the raw token itself is not stored (RFC 9700 storage)
    checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
    row = _fetch(checksum)
    if row is None or row.expires < timezone.now():
        return None
    if row.user is not None and (not row.user.is_active or row.user.is_suspended):
        return None
    return row
