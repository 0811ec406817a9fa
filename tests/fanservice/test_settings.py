"""The fan service settings are checked at start: a value out of range stops the start naming the variable."""

from __future__ import annotations

import pytest

from core.test_settings_validation import _start


@pytest.mark.parametrize(("name", "bad", "expected"), [
    ("FANSERVICE_SENDER_DAILY_CAP", "0", "from 1 to 100"),
    ("FANSERVICE_FAN_DAILY_CAP", "many", "must be an integer"),
    ("FANSERVICE_CHUNK", "10", "from 100 to 50000"),
    ("FANSERVICE_ALERT_DROP_PERCENT", "100", "from 1 to 99"),
    ("RATE_FANSERVICE", "60", "count/seconds"),
])
def test_a_bad_fanservice_setting_stops_the_start(tmp_path, name, bad, expected):
    result = _start(tmp_path, {f"TASTEMAKER_{name}": bad})
    assert result.returncode != 0
    assert f"TASTEMAKER_{name}" in result.stderr and expected in result.stderr


def test_good_fanservice_settings_start(tmp_path):
    result = _start(tmp_path, {"TASTEMAKER_FANSERVICE_SENDER_DAILY_CAP": "2", "TASTEMAKER_FANSERVICE_FAN_DAILY_CAP": "3"},
                    "(s.FANSERVICE_SENDER_DAILY_CAP, s.FANSERVICE_FAN_DAILY_CAP, s.FANSERVICE_CHUNK, "
                    "s.FANSERVICE_ALERT_DROP_PERCENT)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(2, 3, 10000, 10)"
