"""Settings are checked when the process starts: an unknown mode, a mistyped switch or an unknown provider is
a start-up error naming the variable and its allowed values, never a silent fallback (issue 11)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SETUP = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'tastemaker.settings'; django.setup(); "
         "from django.conf import settings as s; print(repr({expr}))")


def _start(tmp_path, env: dict[str, str], expr: str = "None") -> subprocess.CompletedProcess[str]:
    """``django.setup()`` in a fresh interpreter with only the given TASTEMAKER_ variables set."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TASTEMAKER_") and k != "DJANGO_SETTINGS_MODULE"}
    clean.update({"TASTEMAKER_DATA_DIR": str(tmp_path), "TASTEMAKER_SECRET_KEY": "x" * 50, **env})
    return subprocess.run([sys.executable, "-c", SETUP.format(expr=expr)], env=clean, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize(("name", "bad", "allowed"), [
    ("ANALYTICS_ROLLUP", "threads", "thread, inline, off"),
    ("SHOWCASE_CLICKS", "batch", "thread, inline"),
    ("PAYMENT_SANDBOX_DELIVERY", "post", "call, http"),
    ("LOG_LEVEL", "verbose", "debug, info, warning, error, critical"),
    ("PAYMENT_PROVIDERS", "sandbox,paypal", "sandbox, alipay"),
    ("DEBUG", "ture", "1, true, yes, on, 0, false, no, off"),
    ("HTTPS", "enabled", "1, true, yes, on, 0, false, no, off"),
    ("HUEY_IMMEDIATE", "y", "1, true, yes, on, 0, false, no, off"),
    ("STREAM_BACKEND", "kafka", "auto, redis, postgres, socket, off"),
    ("STREAMING_URL", "streaming.example.com", "https://, http://, wss://, ws://"),
])
def test_an_unknown_value_stops_the_start_naming_the_allowed_ones(tmp_path, name, bad, allowed):
    result = _start(tmp_path, {f"TASTEMAKER_{name}": bad})
    assert result.returncode != 0
    assert f"TASTEMAKER_{name}" in result.stderr
    assert allowed in result.stderr
    assert repr(bad.split(",")[-1]) in result.stderr  # the offending value is named too


@pytest.mark.parametrize(("name", "bad", "expected"), [
    ("RATE_POST", "300 per 3h", "count/seconds"),
    ("RATE_EVENTS", "0/60", "count/seconds"),
    ("RATE_PAYMENT_NOTIFY", "lots", "count/seconds"),
    ("LABEL_MIN_CONFIDENCE", "high", "from 0 to 1"),
    ("LABEL_MIN_CONFIDENCE", "1.5", "from 0 to 1"),
])
def test_a_malformed_rate_or_fraction_stops_the_start(tmp_path, name, bad, expected):
    result = _start(tmp_path, {f"TASTEMAKER_{name}": bad})
    assert result.returncode != 0
    assert f"TASTEMAKER_{name}" in result.stderr and expected in result.stderr


def test_good_values_start(tmp_path):
    env = {"TASTEMAKER_ANALYTICS_ROLLUP": "off", "TASTEMAKER_SHOWCASE_CLICKS": " Inline ",
           "TASTEMAKER_PAYMENT_SANDBOX_DELIVERY": "http", "TASTEMAKER_LOG_LEVEL": "info",
           "TASTEMAKER_PAYMENT_PROVIDERS": "alipay", "TASTEMAKER_DEBUG": "Yes", "TASTEMAKER_HTTPS": "off",
           "TASTEMAKER_RATE_POST": "5/60", "TASTEMAKER_LABEL_MIN_CONFIDENCE": "0.5"}
    expr = ("(s.ANALYTICS_ROLLUP, s.SHOWCASE_CLICKS, s.PAYMENT_SANDBOX_DELIVERY, s.LOGGING['root']['level'], "
            "s.PAYMENT_PROVIDERS, s.DEBUG, s.HTTPS, s.RATE_POST, s.LABEL_MIN_CONFIDENCE)")
    result = _start(tmp_path, env, expr)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr(("off", "inline", "http", "INFO", ["alipay"], True, False, "5/60", 0.5))


def test_defaults_start(tmp_path):
    expr = "(s.ANALYTICS_ROLLUP, s.SHOWCASE_CLICKS, s.PAYMENT_SANDBOX_DELIVERY, s.PAYMENT_PROVIDERS, s.DEBUG)"
    result = _start(tmp_path, {}, expr)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr(("thread", "thread", "call", [], False))
    immediate = _start(tmp_path, {"TASTEMAKER_HUEY_IMMEDIATE": "1"}, "(s.ANALYTICS_ROLLUP, s.SHOWCASE_CLICKS)")
    assert immediate.stdout.strip() == repr(("inline", "inline")), immediate.stderr
