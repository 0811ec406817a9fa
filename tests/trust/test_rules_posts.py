"""The rules that run by themselves (social.rules) at post, reply and profile time: anti-flooding (identical,
near-identical, bursts, mass mentions, mass identical replies), spam held for review and released, profile
fields refused, the offence hook once per kind, the switch, and the HTTP answers."""

from __future__ import annotations

import runpy
import time

import pytest
from django.test import Client, override_settings

from tastemaker.accounts.services import update_profile
from tastemaker.core.errors import RateLimited, ValidationFailed
from tastemaker.core.ids import new_id
from tastemaker.core.text import search_text
from tastemaker.feeds.models import TimelineEntry
from tastemaker.social import rules
from tastemaker.social.models import Notification, Post
from tastemaker.social.selectors import get_post
from tastemaker.social.services import do_create_post, do_follow, do_release_post
from tastemaker.trust import flood

pytestmark = pytest.mark.django_db

SPAM = "澳门赌场,百家乐,六合彩,时时彩,北京赛车,真人视讯,日本av,无码,成人视频,加微信"
POST = "今天试了新出的小棕瓶精华，连续用了一周，皮肤明显透亮了很多，推荐给大家！链接在橱窗里"
DISTINCT = [  # ten posts that share nothing but the author
    "周末去了趟西湖，人超级多，但是风景真的美，断桥那边拍了好多照片",
    "这款空气炸锅真的好用，做鸡翅二十分钟搞定，外酥里嫩，清洗也方便",
    "新买的机械键盘到了，青轴声音有点大，室友应该会想打我",
    "Finally finished the marathon training plan, 42 km next Sunday, wish me luck",
    "猫咪今天第一次自己用猫砂盆，感动到想哭，养猫真不容易",
    "The new ramen place downtown has a forty minute queue but the broth is worth it",
    "今年第一次自己包饺子，韭菜鸡蛋馅，形状丑但是味道不错",
    "Repotted all my succulents this morning and found a baby cactus hiding under the big one",
    "看完了一本讲宋朝历史的书，才知道原来那时候的夜市这么热闹",
    "Switched my phone to grayscale for a week to cut screen time, it kind of works",
]
calls: list[tuple[str, dict]] = []


def record_offence(**kwargs):
    calls.append(("offence", kwargs))


def record_held(**kwargs):
    calls.append(("held", kwargs))


def record_created(**kwargs):
    calls.append(("created", kwargs))


HOOKS = {
    "social.post_created": ["tastemaker.feeds.social_hooks.post_created", f"{__name__}.record_created"],
    "social.rule_offence": [f"{__name__}.record_offence"],
    "social.post_held": [f"{__name__}.record_held"],
    "accounts.rule_offence": ["tastemaker.social.account_hooks.rule_offence"],
}


@pytest.fixture(autouse=True)
def rules_on(settings):
    settings.RULES_ENABLED = True
    settings.HOOKS = {**settings.HOOKS, **HOOKS}
    calls.clear()
    yield
    calls.clear()


def offences(kind: str | None = None) -> list[dict]:
    return [kw for name, kw in calls if name == "offence" and (kind is None or kw["kind"] == kind)]


def backdate(author, text: str, seconds_ago: float, **fields) -> Post:
    """A post written ``seconds_ago`` (its id carries the time), as the service would have stored it."""
    at_ms = int((time.time() - seconds_ago) * 1000)
    return Post.objects.create(id=new_id(at_ms=at_ms), author=author, text=text,
                               fingerprint=flood.simhash(text, search_text(text).split()), **fields)


# --- anti-flooding ---------------------------------------------------------------------------------------

def test_the_same_post_twice_is_refused_at_once_and_reported_once(make_user):
    alice = make_user()
    first = do_create_post(alice, text=POST)
    assert first.fingerprint == flood.simhash(POST, search_text(POST).split()) is not None
    with pytest.raises(RateLimited) as exc:
        do_create_post(alice, text=POST)
    assert "刷屏" in exc.value.message and 0 < exc.value.retry_after <= 3601
    with pytest.raises(RateLimited):
        do_create_post(alice, text=POST)  # again: refused, but the offence was counted already
    assert Post.objects.filter(author=alice).count() == 1
    reported = offences()
    assert len(reported) == 1
    assert reported[0]["user"] == alice and reported[0]["kind"] == "flooding" and reported[0]["text"] == POST
    assert reported[0]["detail"]


def test_a_near_identical_post_is_refused(make_user):
    alice = make_user()
    do_create_post(alice, text=POST)
    for copy in (POST.replace("一周", "两周"), POST + "！！", POST.replace("推荐给大家", "安利给大家")):
        with pytest.raises(RateLimited):
            do_create_post(alice, text=copy)
    english = "Just tried the new serum for a week and my skin looks brighter. Highly recommend, link in bio!"
    do_create_post(alice, text=english)
    with pytest.raises(RateLimited):
        do_create_post(alice, text=english.replace("a week", "1 week"))


def test_different_posts_and_other_authors_pass(make_user):
    alice, bob = make_user(), make_user()
    do_create_post(alice, text=POST)
    do_create_post(bob, text=POST)  # someone else's identical post is not alice's flood
    do_create_post(alice, text="周末去了趟西湖，人超级多，但是风景真的美，断桥那边拍了好多照片")
    do_create_post(alice, text="这款空气炸锅真的好用，做鸡翅二十分钟搞定，外酥里嫩，清洗也方便")
    assert Post.objects.filter(author=alice).count() == 3
    assert offences() == []


def test_short_texts_are_never_duplicates(make_user):
    alice = make_user()
    for _ in range(3):
        do_create_post(alice, text="早安！")
    assert Post.objects.filter(author=alice).count() == 3


def test_the_window_expires(make_user, settings):
    alice, bob = make_user(), make_user()
    backdate(alice, POST, seconds_ago=settings.RULES_DUPLICATE_WINDOW + 60)
    do_create_post(alice, text=POST)  # the earlier copy is outside the window
    backdate(bob, POST, seconds_ago=settings.RULES_DUPLICATE_WINDOW - 60)
    with pytest.raises(RateLimited) as exc:
        do_create_post(bob, text=POST + "！")
    assert 0 < exc.value.retry_after <= 61  # when the earlier copy leaves the window


def test_a_burst_far_above_the_usual_rate_is_refused(make_user, settings):
    settings.RULES_BURST = "5/60"
    newcomer = make_user()
    for text in DISTINCT[:5]:
        do_create_post(newcomer, text=text)
    with pytest.raises(RateLimited) as exc:
        do_create_post(newcomer, text=DISTINCT[5])
    assert "faster than usual" in exc.value.message and exc.value.retry_after <= 61
    assert [o["kind"] for o in offences()] == ["flooding"]


def test_an_account_that_usually_posts_a_lot_may_post_quickly(make_user, settings):
    settings.RULES_BURST = "5/60"
    brand = make_user()
    for hour in range(2, 8):  # 20 posts an hour on each of six earlier hours (a live-selling brand)
        for i in range(20):
            backdate(brand, f"历史第{hour}-{i}条", seconds_ago=hour * 3600 + i * 60)
    for text in DISTINCT[:8]:  # 8 in a minute is below 3 × its median of 20 an hour
        do_create_post(brand, text=text)
    assert offences() == []


def test_mass_mentions_in_one_post_are_a_422(make_user, settings):
    settings.RULES_MENTIONS_MAX = 3
    alice = make_user()
    for name in ("m1", "m2", "m3", "m4"):
        make_user(name)
    do_create_post(alice, text="@m1 @m2 @m3 thanks for coming")
    with pytest.raises(ValidationFailed) as exc:
        do_create_post(alice, text="@m1 @m2 @m3 @m4 look at this")
    assert exc.value.field == "status" and "mention" in exc.value.message
    assert [o["kind"] for o in offences()] == ["mass_mention"]


def test_many_mentions_across_recent_posts_are_refused(make_user, settings):
    settings.RULES_MENTIONS_WINDOW = "5/3600"
    alice = make_user()
    for i in range(8):
        make_user(f"fan{i}")
    do_create_post(alice, text="@fan0 @fan1 @fan2 hello there friends")
    do_create_post(alice, text="@fan3 @fan4 another hello to you")
    do_create_post(alice, text="@fan0 @fan4 the same two again is fine")
    with pytest.raises(RateLimited) as exc:
        do_create_post(alice, text="@fan5 @fan6 and now two new ones")
    assert "mention" in exc.value.message
    assert [o["kind"] for o in offences()] == ["mass_mention"]


def test_replying_to_many_commenters_is_not_mass_mentioning(make_user, settings):
    settings.RULES_MENTIONS_WINDOW = "3/3600"
    creator = make_user()
    parents = [do_create_post(make_user(), text=text) for text in DISTINCT[:6]]
    for parent, text in zip(parents, DISTINCT[4:10], strict=True):  # six different answers to six people
        do_create_post(creator, text="谢谢！" + text, in_reply_to_id=parent.pk)
    assert offences() == []


def test_the_same_reply_to_many_posts_is_refused(make_user, settings):
    settings.RULES_REPLY_REPEAT = "3/3600"
    spammer, victim = make_user(), make_user()
    targets = [do_create_post(victim, text=text) for text in DISTINCT[:5]]
    reply = "关注我的主页，每天都有免费福利领取，名额有限先到先得"
    for target in targets[:3]:
        do_create_post(spammer, text=reply, in_reply_to_id=target.pk)
    with pytest.raises(RateLimited) as exc:
        do_create_post(spammer, text=reply.replace("每天", "天天"), in_reply_to_id=targets[3].pk)
    assert "same reply" in exc.value.message
    assert [o["kind"] for o in offences()] == ["mass_reply"]
    with pytest.raises(RateLimited):  # the same reply to a post it already answered is a plain repeat
        do_create_post(spammer, text=reply, in_reply_to_id=targets[0].pk)
    # a different reply still goes through
    do_create_post(spammer, text="这件我也买了，质量确实不错，尺码偏大半码", in_reply_to_id=targets[4].pk)


def test_offences_of_different_kinds_are_each_reported(make_user, settings):
    settings.RULES_MENTIONS_MAX = 1
    alice = make_user()
    make_user("x1")
    make_user("x2")
    do_create_post(alice, text=POST)
    with pytest.raises(RateLimited):
        do_create_post(alice, text=POST)
    with pytest.raises(ValidationFailed):
        do_create_post(alice, text="@x1 @x2 hi")
    assert sorted(o["kind"] for o in offences()) == ["flooding", "mass_mention"]
    assert rules.offence(alice, "flooding", "again", "x") is False  # within RULES_OFFENCE_ONCE_SECONDS


def test_the_switch_turns_every_rule_off(make_user, settings):
    settings.RULES_ENABLED = False
    alice = make_user()
    first = do_create_post(alice, text=POST)
    do_create_post(alice, text=POST)
    held = do_create_post(alice, text=SPAM)
    assert first.fingerprint is None and not held.held
    assert offences() == []


# --- spam held for review ----------------------------------------------------------------------------------

def test_spam_is_held_not_fanned_out_and_reported(make_user, run_jobs):
    author, follower, named = make_user(), make_user(), make_user("named")
    do_follow(follower, author)
    with run_jobs():
        post = do_create_post(author, text=SPAM + " @named\n转载一篇好文章。")
    post.refresh_from_db()
    assert post.held is True
    assert not TimelineEntry.objects.filter(post=post).exists()  # nobody's home feed, not even the author's
    assert [name for name, _kw in calls if name in ("created", "held")] == ["held"]
    held = next(kw for name, kw in calls if name == "held")
    assert held["post"] == post and held["score"] >= 0.5 and any("百家乐" in r for r in held["reasons"])
    assert [o["kind"] for o in offences()] == ["spam"]
    assert not Notification.objects.filter(recipient=named).exists()  # a held post notifies nobody
    assert get_post(author, post.pk) == post  # its author still sees it


def test_a_spam_reply_is_held_too(make_user, run_jobs):
    author, other = make_user(), make_user()
    parent = do_create_post(other, text="大家周末都去哪里玩了？推荐一下")
    with run_jobs():
        reply = do_create_post(author, text=SPAM, in_reply_to_id=parent.pk)
    assert reply.held and [name for name, _kw in calls if name in ("created", "held")] == ["created", "held"]


def test_release_publishes_the_post(make_user, run_jobs):
    author, follower, named = make_user(), make_user(), make_user("named2")
    do_follow(follower, author)
    post = do_create_post(author, text=SPAM + " @named2")
    calls.clear()
    with run_jobs():
        released = do_release_post(post)
    assert released.held is False and Post.objects.get(pk=post.pk).held is False
    assert TimelineEntry.objects.filter(post=post, viewer_id=follower.pk).exists()
    assert Notification.objects.filter(recipient=named, post=post).exists()
    assert [name for name, _kw in calls] == ["created"]
    do_release_post(released)  # idempotent: no second fan-out
    assert [name for name, _kw in calls] == ["created"]


@pytest.mark.parametrize("text", [
    "这支口红太好看了！口红颜色是豆沙色，口红质地很滋润，口红包装也高级，再买一支口红",
    "口红,粉底液,眼影盘,腮红,高光,定妆喷雾,卸妆油,睫毛膏,眉笔,散粉",
    "#ootd #fashion #streetstyle #outfit #minimal #vintage #thrifted",
    "Banana bread: 3 ripe bananas, 2 cups flour, 1 tsp baking soda, 1/2 cup butter, 3/4 cup sugar, 1 egg",
])
def test_product_heavy_posts_are_published(make_user, text):
    post = do_create_post(make_user(), text=text)
    assert not post.held and offences() == []


def test_hostile_text_is_handled(make_user):
    alice = make_user()
    punctuation = do_create_post(alice, text="！？。，…" * 10)
    assert punctuation.fingerprint is None and not punctuation.held
    long = do_create_post(alice, text="长" * 2000)
    assert long.fingerprint is not None


# --- profile fields ------------------------------------------------------------------------------------

def test_spam_in_a_profile_field_is_refused_naming_the_field(make_user):
    user = make_user()
    with pytest.raises(ValidationFailed) as exc:
        update_profile(user, bio=SPAM)
    assert exc.value.field == "note" and "bio" in exc.value.message
    with pytest.raises(ValidationFailed) as exc:
        update_profile(user, display_name="百家乐,六合彩,时时彩,真人视讯")
    assert exc.value.field == "display_name"
    user.refresh_from_db()
    assert user.bio == "" and user.display_name == ""
    assert [o["kind"] for o in offences()] == ["spam"]  # through accounts.rule_offence, once
    update_profile(user, bio="美妆博主｜口红、粉底、眼影测评｜合作请私信", display_name="小美")
    assert user.bio.startswith("美妆博主")


# --- HTTP ------------------------------------------------------------------------------------------------

def test_api_answers_200_with_the_held_header_and_429_for_a_flood(make_user, oauth_app):
    import secrets
    from datetime import timedelta

    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model

    user = make_user()
    token = get_access_token_model().objects.create(
        user=user, application=oauth_app, token=secrets.token_urlsafe(24), scope="read write",
        expires=timezone.now() + timedelta(days=1)).token
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    held = client.post("/api/v1/statuses", {"status": SPAM}, content_type="application/json")
    assert held.status_code == 200 and held["Tastemaker-Held"] == "review"
    ok = client.post("/api/v1/statuses", {"status": POST}, content_type="application/json")
    assert ok.status_code == 200 and "Tastemaker-Held" not in ok
    again = client.post("/api/v1/statuses", {"status": POST}, content_type="application/json")
    assert again.status_code == 429 and int(again["Retry-After"]) > 0 and "刷屏" in again.json()["error"]


def test_web_compose_shows_the_held_notice_and_keeps_a_refused_text(make_user):
    user = make_user()
    client = Client()
    client.force_login(user)
    page = client.post("/compose", {"text": SPAM, "visibility": "public"}, follow=True)
    assert "held for review" in page.content.decode()
    client.post("/compose", {"text": POST, "visibility": "public"})
    refused = client.post("/compose", {"text": POST, "visibility": "public"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    body = refused.content.decode()
    assert "刷屏" in body and "小棕瓶精华" in body  # the message, and the text kept in the form


# --- settings ------------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # runpy: a second copy of the settings module, on purpose
@pytest.mark.parametrize(("name", "value", "message"), [
    ("RULES_DUPLICATE_DISTANCE", "40", "from 0 to 32"),
    ("RULES_BURST", "fast", "count/seconds"),
    ("RULES_SPAM_THRESHOLD", "2", "from 0 to 1"),
    ("RULES_ENABLED", "maybe", "must be one of"),
    ("RULES_MENTIONS_MAX", "0", "at least 1"),
])
def test_a_bad_rules_setting_stops_the_start(monkeypatch, name, value, message):
    monkeypatch.setenv(f"TASTEMAKER_{name}", value)
    with pytest.raises(RuntimeError, match=message) as exc:
        runpy.run_module("tastemaker.settings")
    assert f"TASTEMAKER_{name}" in str(exc.value)


@override_settings(RULES_ENABLED=True)
def test_offence_kinds_are_checked(make_user):
    with pytest.raises(ValueError):
        rules.offence(make_user(), "rudeness", "", "")


def test_web_settings_show_the_refusal_next_to_the_bio(make_user):
    user = make_user()
    client = Client()
    client.force_login(user)
    page = client.post("/settings", {"display_name": "小美", "bio": SPAM, "language": "en", "interests": ""})
    assert page.status_code == 422
    body = page.content.decode()
    assert "spam keyword list" in body and "百家乐" in body  # the message, and the text kept in the form
    user.refresh_from_db()
    assert user.bio == ""
