"""Wallet history notes for people (payments.selectors.memo_text): system memos are shown in the reader's
language; what a person typed is shown as typed."""

from django.utils import translation

from tastemaker.payments.selectors import memo_text


def test_system_memos_translated_and_typed_memos_kept():
    with translation.override("zh-hans"):
        assert memo_text("commission") == "佣金"
        assert memo_text("sandbox SBX20261203ABC") == "通过沙箱充值，交易号 SBX20261203ABC"
        assert memo_text("alipay settlement 2026-12-01") == "支付宝 2026-12-01 结算"
        assert memo_text("deposit for Mei's Shop") == "Mei's Shop 的保证金"
        assert memo_text("thanks for the dinner 🍜") == "thanks for the dinner 🍜"
        assert memo_text("") == ""
        assert memo_text("promotion campaign 12345") == "推广活动 12345"
        assert memo_text("promotion campaign 12345 ended") == "推广活动 12345 已结束"
    with translation.override("en"):
        assert memo_text("sandbox SBX1") == "Top-up through Sandbox, trade SBX1"
