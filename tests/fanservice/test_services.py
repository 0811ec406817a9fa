"""Segments, auto-replies, alerts, the inbox and the report: the fan service's services and selectors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tastemaker.fanservice import delivery, selectors, services
from tastemaker.fanservice.models import InboxItem, MessageKind, Watch

pytestmark = pytest.mark.django_db


def _inbox(fan):
    return list(InboxItem.objects.filter(recipient=fan).select_related("message").order_by("id"))


def test_segments_from_existing_data(make_user, subscribed, later, card_post, store, signer, run_jobs):
    from tastemaker.discovery.models import UserInterest
    from tastemaker.experts.models import Vertical
    from tastemaker.showcase.services import do_click_out, do_receive_webhook, link_target
    from tastemaker.social.services import do_create_post, do_favourite

    owner = make_user()
    en, zh, liker, clicker, buyer = subscribed(owner, 5)
    zh.language = "zh-hans"
    zh.save()
    beauty = Vertical.objects.get(slug="beauty")
    UserInterest.objects.create(user=en, vertical=beauty, picked=True)
    do_favourite(liker, do_create_post(owner, text="A post about tea"))
    post = card_post(owner)
    target = link_target(post.card.links.get(primary=True).token)
    do_click_out(target, viewer_id=clicker.pk, visitor="", reason="", device="mobile", language="en", inline=True)
    click = do_click_out(target, viewer_id=buyer.pk, visitor="", reason="", device="mobile", language="en",
                         inline=True)
    with run_jobs():
        do_receive_webhook(store, *signer.deliver("order.paid", {"order_id": "SEG-1", "click_id": str(click.pk),
                                                                 "amount": 20000, "currency": "CNY"}))

    def audience(**segment):
        return selectors.audience_size(owner, services.clean_segment(segment))

    assert audience() == 5
    assert audience(languages=["zh-hans"]) == 1
    assert audience(verticals=["beauty"]) == 1
    assert audience(engaged_days=30) == 1
    assert audience(clicked=True) == 2
    assert audience(bought=True) == 1
    assert audience(clicked=True, languages=["en"]) == 2
    b = later(owner, segment={"bought": True})
    assert b.audience == 1
    delivery.deliver(b.pk)
    assert [i.recipient_id for i in InboxItem.objects.filter(broadcast_id=b.pk)] == [buyer.pk]


@pytest.mark.parametrize("segment, field", [
    ({"planet": "mars"}, "planet"), ({"active_days": 0.5}, "active_days"), ({"active_days": 9999}, "active_days"),
    ({"verticals": ["nope"]}, "verticals"), ({"languages": ["xx"]}, "languages"), ({"regions": ["a b!"]}, "regions"),
    ({"clicked": "maybe"}, "clicked"), ("all", "segment"),
])
def test_bad_segments_are_refused_naming_the_field(segment, field):
    from tastemaker.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        services.clean_segment(segment)
    assert exc.value.field == field


def test_subscriber_counts_by_segment_never_name_anyone(make_user, subscribed):
    owner = make_user()
    subscribed(owner, 6)
    subscribed(owner, 2, language="zh-hans")
    counts = selectors.segment_counts(owner)
    assert counts.total == 8 and counts.reachable == 8
    assert dict(counts.languages) == {"en": 6, "zh-hans": "<5"}


def test_welcome_on_subscribe_and_on_follow(make_user, run_jobs):
    from tastemaker.social.services import do_follow

    owner, fan, follower = make_user(), make_user(), make_user()
    services.do_save_settings(owner, welcome_text="Welcome! Reply 价格 for prices.", welcome_on_follow=True,
                              menu=[{"label": "Prices", "reply": "See my showcase"},
                                    {"label": "Shop", "url": "https://shop.example.com/"}])
    services.do_subscribe(fan, owner)
    services.do_subscribe(fan, owner)  # idempotent: one welcome
    (item,) = _inbox(fan)
    assert item.message.kind == MessageKind.WELCOME and item.message.text.startswith("Welcome!")
    assert [b["label"] for b in item.message.links] == ["Prices", "Shop"]
    with run_jobs():
        do_follow(follower, owner)
    assert [i.message.kind for i in _inbox(follower)] == [MessageKind.WELCOME]
    reply, link = services.do_press_menu(fan, owner, 0)
    assert reply.message.text == "See my showcase" and link == ""
    assert services.do_press_menu(fan, owner, 1) == (None, "https://shop.example.com/")


@pytest.mark.parametrize("menu", [
    [{"label": "a", "reply": "x"}] * 4, [{"label": "", "reply": "x"}], [{"label": "a", "reply": "x", "url": "/y"}],
    [{"label": "a", "url": "javascript:alert(1)"}], "menu",
])
def test_bad_menus_are_refused(make_user, menu):
    from tastemaker.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        services.do_save_settings(make_user(), menu=menu)


def test_keyword_rule_prices_reply_lists_current_prices(make_user, card_post):
    owner, fan = make_user(), make_user()
    card_post(owner, price=12900)
    services.do_add_rule(owner, "价格", reply="prices", text="今日价格：")
    services.do_add_rule(owner, "hours", text="We answer 9-18.")
    item = services.do_auto_reply(owner, fan, "请问价格是多少？")
    assert item is not None and item.recipient_id == fan.pk and item.sender_id == owner.pk
    assert item.message.kind == MessageKind.AUTO_REPLY
    assert item.message.text == "今日价格：\nHydrating face cream: ¥129.00"
    assert services.do_auto_reply(owner, fan, "Opening HOURS?").message.text == "We answer 9-18."
    assert services.do_auto_reply(owner, fan, "hello") is None
    # the hook consumer (social.direct_message, wired at merge) answers the same way
    from types import SimpleNamespace

    from tastemaker.fanservice.hooks import direct_message

    direct_message(post=SimpleNamespace(author=fan, text="hours please"), recipients=[owner])
    assert _inbox(fan)[-1].message.text == "We answer 9-18."


def test_auto_reply_respects_blocks(make_user):
    from tastemaker.social.services import do_block

    owner, fan = make_user(), make_user()
    services.do_add_rule(owner, "hi", text="Hello!")
    do_block(owner, fan)
    assert services.do_auto_reply(owner, fan, "hi") is None


def test_price_drop_and_restock_alerts_once_a_day(make_user, card_post, store, run_jobs, settings):
    from tastemaker.showcase.services import do_upsert_catalog
    from tastemaker.social.models import Notification

    settings.FANSERVICE_ALERT_DROP_PERCENT = 10
    owner, fan, other = make_user(), make_user(), make_user()
    post = card_post(owner, price=10000)
    services.do_watch(fan, post.pk)

    def update(**fields):
        with run_jobs():
            do_upsert_catalog(store, [{"external_id": "c1", **fields}])

    update(price=9500)  # -5 %: not enough
    assert not _inbox(fan)
    update(price=8000)  # -15.8 %: an alert
    (item,) = _inbox(fan)
    assert item.message.kind == MessageKind.ALERT and item.message.card_post_id == post.pk
    assert "¥80.00" in item.message.text and "¥95.00" in item.message.text
    assert Notification.objects.filter(recipient=fan, type="price_alert", post=post).count() == 1
    update(price=5000)  # another drop the same day: nothing more
    assert len(_inbox(fan)) == 1
    update(stock=0)
    Watch.objects.filter(fan=fan).update(last_alert_day=delivery.utc_today() - timedelta(days=1))
    update(stock=3)  # back in stock, a new day
    assert len(_inbox(fan)) == 2 and "Back in stock" in _inbox(fan)[-1].message.text
    assert not _inbox(other)


def test_mastodon_notifications_skip_price_alerts_unless_asked(make_user, card_post, store, run_jobs, oauth_app):
    from django.test import Client
    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model

    from tastemaker.social.models import Notification

    owner, fan = make_user(), make_user()
    post = card_post(owner)
    Notification.objects.create(recipient=fan, actor=owner, type="price_alert", post=post)
    Notification.objects.create(recipient=fan, actor=owner, type="follow")
    token = get_access_token_model().objects.create(user=fan, application=oauth_app, token="fan-token-1",
                                                    scope="read", expires=timezone.now() + timedelta(days=1))
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token.token}")
    assert [n["type"] for n in client.get("/api/v1/notifications").json()] == ["follow"]
    assert [n["type"] for n in client.get("/api/v1/notifications?types[]=price_alert").json()] == ["price_alert"]


def test_broadcast_report_from_events(make_user, subscribed, later, card_post, run_jobs, store, signer):
    owner = make_user()
    post = card_post(owner)
    a, b_, c = subscribed(owner, 3)
    b = later(owner, card_post_id=post.pk, post_id=post.pk)
    delivery.deliver(b.pk)
    item = InboxItem.objects.get(broadcast_id=b.pk, recipient=a)
    token = post.card.links.get(primary=True).token
    with run_jobs():
        services.do_mark_read(a, item.pk)
        services.do_mark_read(a, item.pk)  # once
        assert services.do_open_link(a, item.pk) == f"/posts/{post.pk}"
        location = services.do_click_out(a, item.pk, token, device="mobile", language="en")
        services.do_unsubscribe_by_token(services.unsubscribe_token(c.pk, owner.pk, b.pk))
    assert location.startswith("https://shop.example.com/p/c1")
    from tastemaker.fanservice.models import MessageClick
    from tastemaker.showcase.services import do_receive_webhook

    (click,) = MessageClick.objects.filter(broadcast_id=b.pk)
    with run_jobs():  # the store reports the order bought after that click-out
        do_receive_webhook(store, *signer.deliver("order.paid", {"order_id": "FS-1", "click_id": str(click.click_id),
                                                                 "amount": 12900, "currency": "CNY"}))
    b.refresh_from_db()
    report = selectors.broadcast_report(b)
    assert report == {"audience": 3, "delivered": 3, "deferred": 0, "read": 1, "clicked": 1, "click_outs": 1,
                      "orders": 1, "unsubscribes": 1}
    growth = selectors.growth(owner, 2)
    assert growth[-1]["gained"] == 3 and growth[-1]["lost"] == 1


def test_a_broadcast_image_is_kept_by_the_media_sweep(make_user, png_bytes):
    from tastemaker.social import hooks as social_hooks
    from tastemaker.social.services import do_upload_media

    owner = make_user()
    media = do_upload_media(owner, png_bytes())
    b = services.do_create_broadcast(owner, image_media_id=media.pk)
    assert b.message.image == media.file
    kept = set().union(*social_hooks.files_in_use(paths={media.file, "other.png"}))
    assert kept == {media.file}
    from tastemaker.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        services.do_create_broadcast(make_user(), image_media_id=media.pk)  # someone else's upload
