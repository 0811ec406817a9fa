"""One reading of a language code (core.languages) for accounts and analytics (issue 11)."""

from __future__ import annotations

import pytest

from tastemaker.core.errors import ValidationFailed
from tastemaker.core.languages import language_tag, normalise_language


@pytest.mark.parametrize("given,ui,tag", [("en", "en", "en"), (" EN ", "en", "en"), ("zh_CN", "zh-hans", "zh-cn"),
                                          ("zh-Hans", "zh-hans", "zh-hans"), ("zh", "zh-hans", "zh")])
def test_both_readings_agree_on_the_code(given, ui, tag):
    assert normalise_language(given) == ui
    assert language_tag(given) == tag


@pytest.mark.parametrize("given", ["fr", "pt_BR", "zh-tw", "x" * 40])
def test_a_ui_language_the_server_does_not_offer_is_refused(given):
    with pytest.raises(ValidationFailed) as caught:
        normalise_language(given)
    assert caught.value.field == "language"


@pytest.mark.parametrize("given,tag", [("pt_BR", "pt-br"), ("", "unknown"), (None, "unknown"), ("🙂", "unknown"),
                                       ("english please", "unknown")])
def test_a_reported_tag_is_never_refused(given, tag):
    assert language_tag(given) == tag


def test_accounts_and_analytics_use_the_core_reading():
    from tastemaker.accounts import services as accounts
    from tastemaker.analytics import services as analytics

    assert accounts.normalise_language is normalise_language
    assert not hasattr(analytics, "normalise_language")
