"""Keyset pagination over time-ordered ids, the Mastodon way (max_id / since_id / min_id)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from .errors import ValidationFailed

M = TypeVar("M", bound=Model)

DEFAULT_LIMIT = 20
MAX_LIMIT = 40


@dataclass(frozen=True)
class Page:
    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = DEFAULT_LIMIT

    @property
    def ascending(self) -> bool:
        """min_id asks for the page just after min_id (oldest first), returned newest first."""
        return self.min_id is not None


def parse_int(value: str | int | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(_("%(name)s must be an integer id") % {"name": name}, field=name) from None
    if number < 0 or number > 2**63 - 1:
        raise ValidationFailed(_("%(name)s is out of range") % {"name": name}, field=name)
    return number


def page_from(params: Mapping[str, Any], max_limit: int = MAX_LIMIT, default_limit: int = DEFAULT_LIMIT) -> Page:
    limit = parse_int(params.get("limit"), "limit")
    if limit is None:
        limit = default_limit
    if limit < 1:
        raise ValidationFailed(_("limit must be at least 1"), field="limit")
    return Page(
        max_id=parse_int(params.get("max_id"), "max_id"),
        since_id=parse_int(params.get("since_id"), "since_id"),
        min_id=parse_int(params.get("min_id"), "min_id"),
        limit=min(limit, max_limit),
    )


def apply_keyset(qs: QuerySet[M], page: Page, field: str = "id") -> list[M]:
    """Filter and order a queryset by a time-ordered key; returns a list newest first."""
    if page.max_id is not None:
        qs = qs.filter(**{f"{field}__lt": page.max_id})
    if page.since_id is not None:
        qs = qs.filter(**{f"{field}__gt": page.since_id})
    if page.min_id is not None:
        qs = qs.filter(**{f"{field}__gt": page.min_id})
        rows = list(qs.order_by(field)[: page.limit])
        rows.reverse()
        return rows
    return list(qs.order_by(f"-{field}")[: page.limit])


def keyset_sql(column: str, page: Page) -> tuple[str, list[int], str]:
    """``apply_keyset`` for raw SQL: the conditions to append to a ``WHERE`` (each starting with ``AND``),
    their parameters and the order (``ASC`` for a ``min_id`` page, whose rows the caller reverses)."""
    where, params = "", []
    if page.max_id is not None:
        where += f" AND {column} < %s"
        params.append(page.max_id)
    if page.since_id is not None:
        where += f" AND {column} > %s"
        params.append(page.since_id)
    if page.min_id is not None:
        where += f" AND {column} > %s"
        params.append(page.min_id)
    order = "ASC" if page.min_id is not None else "DESC"
    return where, params, order


def link_header(base_url: str, params: Mapping[str, Any], first_key: int | None, last_key: int | None) -> str | None:
    """Link header with rel=next (older) and rel=prev (newer), or None for an empty page."""
    if first_key is None or last_key is None:
        return None
    keep = {k: v for k, v in params.items() if k not in {"max_id", "since_id", "min_id"} and v != ""}
    nxt = urlencode({**keep, "max_id": last_key})
    prev = urlencode({**keep, "min_id": first_key})
    return f'<{base_url}?{nxt}>; rel="next", <{base_url}?{prev}>; rel="prev"'
