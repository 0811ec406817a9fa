"""Pagination parameters: parse errors are clear 422s, limits are clamped, keyset filtering."""

from __future__ import annotations

import pytest

from tastemaker.core.errors import ValidationFailed
from tastemaker.core.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Page,
    apply_keyset,
    link_header,
    page_from,
    parse_int,
)


@pytest.mark.parametrize("raw", ["abc", "1.5", "12abc", "0x10", [], object()])
def test_non_integer_ids_are_refused_with_the_field_name(raw):
    with pytest.raises(ValidationFailed) as err:
        parse_int(raw, "max_id")
    assert err.value.field == "max_id"
    assert err.value.status == 422


@pytest.mark.parametrize("raw", ["-1", str(2**63), str(10**30)])
def test_out_of_range_ids_are_refused(raw):
    with pytest.raises(ValidationFailed, match="out of range"):
        parse_int(raw, "since_id")


@pytest.mark.parametrize("raw,expected", [(None, None), ("", None), ("0", 0), ("42", 42), (str(2**63 - 1), 2**63 - 1)])
def test_valid_ids_parse(raw, expected):
    assert parse_int(raw, "min_id") == expected


def test_page_from_defaults():
    page = page_from({})
    assert page == Page(limit=DEFAULT_LIMIT)
    assert not page.ascending


def test_page_from_clamps_limit_and_reads_all_keys():
    page = page_from({"limit": "1000", "max_id": "9", "since_id": "3", "min_id": "4"})
    assert page.limit == MAX_LIMIT
    assert (page.max_id, page.since_id, page.min_id) == (9, 3, 4)
    assert page.ascending


@pytest.mark.parametrize("limit", ["0", "-5"])
def test_limit_below_one_is_refused(limit):
    with pytest.raises(ValidationFailed) as err:
        page_from({"limit": limit})
    assert err.value.field == "limit"


def test_bad_limit_is_refused():
    with pytest.raises(ValidationFailed) as err:
        page_from({"limit": "ten"})
    assert err.value.field == "limit"


def test_bad_max_id_in_page_from():
    with pytest.raises(ValidationFailed) as err:
        page_from({"max_id": "x"})
    assert err.value.field == "max_id"


def test_link_header_next_and_prev_keep_other_params():
    header = link_header("https://x.test/api/v1/timelines/home", {"limit": "5", "max_id": "99", "local": ""}, 50, 10)
    assert header == (
        '<https://x.test/api/v1/timelines/home?limit=5&max_id=10>; rel="next", '
        '<https://x.test/api/v1/timelines/home?limit=5&min_id=50>; rel="prev"'
    )
    assert link_header("https://x.test/", {}, None, None) is None


@pytest.mark.django_db
def test_apply_keyset_on_a_queryset(make_user):
    from tastemaker.accounts.models import User

    users = sorted([make_user() for _ in range(7)], key=lambda u: u.pk)
    ids = [u.pk for u in users]
    qs = User.objects.all()
    assert [u.pk for u in apply_keyset(qs, Page(limit=3))] == ids[::-1][:3]
    assert [u.pk for u in apply_keyset(qs, Page(max_id=ids[4], limit=10))] == ids[:4][::-1]
    assert [u.pk for u in apply_keyset(qs, Page(since_id=ids[4], limit=10))] == ids[5:][::-1]
    # min_id: the page just above min_id, still returned newest first
    assert [u.pk for u in apply_keyset(qs, Page(min_id=ids[1], limit=2))] == [ids[3], ids[2]]
    assert [u.pk for u in apply_keyset(qs, Page(max_id=ids[5], since_id=ids[1], limit=10))] == [ids[4], ids[3], ids[2]]
