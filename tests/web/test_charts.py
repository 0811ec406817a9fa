"""The report charts (web/charts.py): whole-number scales whose labels are their gridlines' values, dated time
labels, a table alternative, and axis text that stays readable on a phone."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tastemaker.web.charts import bar_chart, ticks


@pytest.mark.parametrize(("largest", "expected"), [
    (0, [0, 1]), (1, [0, 1]), (3, [0, 1, 2, 3]), (5, [0, 2, 4, 6]), (8, [0, 2, 4, 6, 8]),
    (10, [0, 5, 10]), (37, [0, 10, 20, 30, 40]), (1234, [0, 500, 1000, 1500]),
])
def test_ticks(largest, expected):
    assert ticks(largest) == expected


@given(st.integers(min_value=0, max_value=10**12))
def test_ticks_are_whole_equal_steps_covering_the_largest(largest):
    scale = ticks(largest)
    steps = {b - a for a, b in zip(scale, scale[1:], strict=False)}
    assert scale[0] == 0 and scale[-1] >= largest and len(steps) == 1 and 2 <= len(scale) <= 5
    step = steps.pop()
    assert step >= 1 and str(step).strip("0") in {"1", "2", "5"}


def test_every_gridline_has_its_own_value_and_hourly_labels_carry_the_date():
    start = int(datetime(2026, 12, 2, 20, tzinfo=UTC).timestamp())
    buckets = [start + 3600 * i for i in range(12)]  # 20:00 on the 2nd to 07:00 on the 3rd
    svg = bar_chart(buckets, [0, 1, 5, 0, 0, 2, 0, 0, 0, 0, 0, 3], "hour", "Impressions")
    labels = [int(v.replace(",", "")) for v in re.findall(r'text-anchor="end">([\d,]+)</text>', svg)]
    assert labels == [0, 2, 4, 6]
    gridlines = [float(y) for y in re.findall(r'<line class="grid" x1="\d+" x2="\d+" y1="([\d.]+)"', svg)]
    assert len(gridlines) == len(labels) == len(set(gridlines))
    assert "12-02 20:00" in svg and "12-03 07:00" in svg  # the date, not only the time
    assert '<details class="chart-table">' in svg and "<td>12-03 07:00</td><td>3</td>" in svg


def test_chart_text_is_escaped():
    svg = bar_chart([0], [1], "day", "<script>x</script>")
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_ago_reads_naturally_in_chinese_and_english():
    from datetime import timedelta

    from django.utils import timezone, translation

    from tastemaker.web.templatetags.web_tags import ago

    now = timezone.now()
    with translation.override("zh-hans"):
        assert ago(now - timedelta(days=1, hours=2)) == "1天前"
        assert ago(now - timedelta(hours=3)) == "3小时前"
        assert ago(now - timedelta(seconds=5)) == "刚刚"
    with translation.override("en"):
        assert ago(now - timedelta(days=2)).replace("\xa0", " ") == "2 days ago"  # timesince keeps it on one line
        assert ago(now - timedelta(minutes=1, seconds=5)).replace("\xa0", " ") == "1 minute ago"
