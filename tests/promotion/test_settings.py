"""The promotion settings are checked at start: a value out of range stops the start naming the variable."""

from __future__ import annotations

import pytest

from core.test_settings_validation import _start


@pytest.mark.parametrize(("name", "bad", "expected"), [
    ("PROMOTION_SLOT_EVERY", "1", "from 2 to 100"),
    ("PROMOTION_DAILY_CAP", "lots", "must be an integer"),
    ("PROMOTION_FOLLOW_WINDOW", "-1", "at least 0"),
    ("PROMOTION_PER_PAGE", "11", "from 0 to 10"),
    ("PROMOTION_STUFFING_SHARE", "2", "from 0 to 1"),
    ("PROMOTION_SETTLE_SECONDS", "0", "from 1 to 60"),
])
def test_a_bad_promotion_setting_stops_the_start(tmp_path, name, bad, expected):
    result = _start(tmp_path, {f"TASTEMAKER_{name}": bad})
    assert result.returncode != 0
    assert f"TASTEMAKER_{name}" in result.stderr and expected in result.stderr


def test_good_promotion_settings_start(tmp_path):
    result = _start(tmp_path, {"TASTEMAKER_PROMOTION_SLOT_EVERY": "5", "TASTEMAKER_PROMOTION_DAILY_CAP": "3"},
                    "(s.PROMOTION_SLOT_EVERY, s.PROMOTION_DAILY_CAP, s.PROMOTION_FOLLOW_WINDOW)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(5, 3, 86400)"
