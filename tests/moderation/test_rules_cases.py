"""The rules feed the moderation queue: a held post is a case; repeated offences make one about the account."""

from __future__ import annotations

import pytest

from tastemaker.core.errors import RateLimited
from tastemaker.moderation import selectors, services
from tastemaker.moderation.models import Action, ActionKind, Case, Notice
from tastemaker.social.selectors import can_view
from tastemaker.social.services import do_create_post, do_follow

pytestmark = pytest.mark.django_db

SPAM = "澳门赌场,百家乐,六合彩,时时彩,北京赛车,真人视讯,日本av,无码,成人视频,加微信"


@pytest.fixture(autouse=True)
def rules_on(settings):
    settings.RULES_ENABLED = True


def test_a_held_post_is_queued_and_released_by_an_operator(make_user, run_jobs):
    spammer, fan, op = make_user("spammer"), make_user("fan"), make_user("op", is_staff=True)
    do_follow(fan, spammer)
    with run_jobs():
        post = do_create_post(spammer, text=SPAM)
    assert post.held and not can_view(fan, post) and can_view(spammer, post)
    case = Case.objects.get()
    assert (case.target_kind, case.target_id, case.source, case.reason) == ("post", post.pk, "rules", "spam")
    assert "score" in case.summary and case.evidence[0]["post"]["text"] == SPAM
    assert Action.objects.get().kind == ActionKind.HOLD and Action.objects.get().operator_id is None
    assert Notice.objects.filter(recipient=spammer, kind="held").exists()
    assert [c.pk for c in selectors.queue()] == [case.pk]
    # a false positive: the operator releases it, and it is published then
    with run_jobs():
        services.do_act(op, case, "release", "Not spam: a list of games the author played")
    post.refresh_from_db()
    assert not post.held and can_view(fan, post)
    spammer.refresh_from_db()
    assert spammer.credit_score == 80  # releasing confirms no violation


def test_three_offences_make_a_case_about_the_account(make_user, settings):
    settings.RULES_OFFENCE_ONCE_SECONDS = 1  # count each offence (the rules count a kind once per window)
    flooder = make_user("flooder")
    text = "Flash sale on my moisturiser today only, link in bio"
    do_create_post(flooder, text=text)
    refused = 0
    import time

    for _ in range(3):
        with pytest.raises(RateLimited):
            do_create_post(flooder, text=text)
        refused += 1
        time.sleep(1.05)
    case = Case.objects.get(account=flooder)
    assert case.target_kind == "account" and case.source == "rules" and case.reason == "flooding"
    assert "flooding" in case.summary
