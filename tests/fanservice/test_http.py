"""The fan service's JSON API and web pages: the whole flow (subscribe, segment preview, broadcast, inbox,
read, report, unsubscribe), 4xx with the field for bad input, 404 for other people's things, and pages in
both languages."""

from __future__ import annotations

import json

import pytest

from tastemaker.fanservice.models import Broadcast, InboxItem, Subscription

pytestmark = pytest.mark.django_db
BASE = "/api/v1/tastemaker/fanservice"
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile Safari/604.1"


def _post(client, path, body=None, method="post"):
    return getattr(client, method)(path, json.dumps(body or {}), content_type="application/json")


def test_api_flow(make_user, api_as, run_jobs):
    owner, fan, other = make_user(), make_user(language="zh-hans"), make_user()
    o, f = api_as(owner), api_as(fan)
    with run_jobs():
        assert _post(f, f"{BASE}/subscriptions/{owner.pk}").json() == {"account_id": str(owner.pk),
                                                                        "subscribed": True}
        _post(api_as(other), f"{BASE}/subscriptions/{owner.pk}")
    assert _post(o, f"{BASE}/audience", {"languages": ["zh-hans"]}).json() == {"audience": 1}
    r = _post(o, f"{BASE}/broadcasts", {"text": "新品上架", "segment": {"languages": ["zh-hans"]},
                                        "scheduled_at": "2099-01-01T00:00:00Z"})
    assert r.status_code == 422 and r.json()["field"] == "scheduled_at"
    with run_jobs():
        r = _post(o, f"{BASE}/broadcasts", {"text": "新品上架", "segment": {"languages": ["zh-hans"]}})
    assert r.status_code == 201, r.content
    b = o.get(f"{BASE}/broadcasts/{r.json()['id']}").json()
    assert b["status"] == "sent" and b["report"]["delivered"] == 1  # the job ran after commit
    inbox = f.get(f"{BASE}/inbox").json()
    assert [(i["text"], i["kind"], i["read"]) for i in inbox] == [("新品上架", "broadcast", False)]
    assert api_as(other).get(f"{BASE}/inbox").json() == []
    with run_jobs():
        assert _post(f, f"{BASE}/inbox/{inbox[0]['id']}/read").json()["read"] is True
    assert o.get(f"{BASE}/broadcasts/{b['id']}").json()["report"]["read"] == 1
    # someone else's broadcast or message is a 404
    assert api_as(other).get(f"{BASE}/broadcasts/{b['id']}").status_code == 404
    assert _post(api_as(other), f"{BASE}/inbox/{inbox[0]['id']}/read").status_code == 404
    # one-click unsubscribe with the message's token, no sign-in
    from django.test import Client

    with run_jobs():
        r = _post(Client(), f"{BASE}/unsubscribe", {"token": inbox[0]["unsubscribe_token"]})
    assert r.status_code == 200 and not Subscription.objects.filter(owner=owner, fan=fan).exists()
    assert _post(Client(), f"{BASE}/unsubscribe", {"token": "forged"}).status_code == 404
    assert o.get(f"{BASE}/broadcasts/{b['id']}").json()["report"]["unsubscribes"] == 1
    counts = o.get(f"{BASE}/subscribers").json()
    assert counts["total"] == 1 and counts["languages"] == [{"key": "en", "count": "<5"}]
    growth = o.get(f"{BASE}/growth?days=1").json()
    assert growth[-1]["gained"] == 2 and growth[-1]["lost"] == 1


def test_api_cancel_rules_settings_and_errors(make_user, api_as):
    owner, fan = make_user(), make_user()
    o = api_as(owner)
    b = _post(o, f"{BASE}/broadcasts", {"text": "later", "scheduled_at": "2099-01-01T00:00:00Z"})
    assert b.status_code == 422
    from datetime import timedelta

    from django.utils import timezone

    when = (timezone.now() + timedelta(days=1)).isoformat()
    b = _post(o, f"{BASE}/broadcasts", {"text": "later", "scheduled_at": when}).json()
    assert b["status"] == "scheduled"
    assert _post(api_as(fan), f"{BASE}/broadcasts/{b['id']}/cancel").status_code == 404
    assert _post(o, f"{BASE}/broadcasts/{b['id']}/cancel").json()["status"] == "cancelled"
    assert _post(o, f"{BASE}/broadcasts/{b['id']}/cancel").status_code == 409
    for body, field in [({}, "text"), ({"text": "x", "segment": {"verticals": ["nope"]}}, "verticals"),
                        ({"text": "x", "card_post_id": "12"}, "card_post_id"), ({"text": "x", "post_id": "x"}, "post_id")]:
        r = _post(o, f"{BASE}/broadcasts", body)
        assert r.status_code == 422 and r.json()["field"] == field, (body, r.content)
    r = _post(o, f"{BASE}/settings", {"welcome_text": "Hi", "menu": [{"label": "Shop", "url": "ftp://x"}]}, "put")
    assert r.status_code == 422 and r.json()["field"] == "menu"
    r = _post(o, f"{BASE}/settings", {"welcome_text": "Hi", "menu": [{"label": "Shop", "url": "https://x.example/"}]},
              "put")
    assert r.json() == {"welcome_text": "Hi", "welcome_on_follow": False,
                        "menu": [{"label": "Shop", "url": "https://x.example/"}]}
    rule = _post(o, f"{BASE}/rules", {"keyword": "价格", "reply": "prices"})
    assert rule.status_code == 201
    assert _post(o, f"{BASE}/rules", {"keyword": "价格", "reply": "prices"}).status_code == 409
    assert o.delete(f"{BASE}/rules/{rule.json()['id']}").status_code == 200
    assert o.delete(f"{BASE}/rules/{rule.json()['id']}").status_code == 404
    assert _post(api_as(fan), f"{BASE}/subscriptions/{fan.pk}").status_code == 422
    assert api_as(fan, "read").post(f"{BASE}/subscriptions/{owner.pk}").status_code == 403  # no write scope
    assert _post(api_as(fan), f"{BASE}/menu/{owner.pk}/0").json() == {"item": None, "url": "https://x.example/"}


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_pages_for_fans_and_creators(make_user, client, card_post, run_jobs, png_bytes, lang):
    from django.utils import timezone

    owner, fan = make_user(), make_user(language=lang)
    post = card_post(owner)
    client.force_login(fan)
    client.cookies["django_language"] = lang
    r = client.post(f"/subscriptions/@{owner.username}", {"action": "subscribe"})
    assert r.status_code == 303 and Subscription.objects.filter(owner=owner, fan=fan).exists()
    profile = client.get(f"/@{owner.username}").content.decode()
    assert f"/subscriptions/@{owner.username}" in profile
    creator = make_user()
    creator_client = type(client)()
    creator_client.force_login(owner)
    assert creator_client.get("/fanservice").status_code == 200
    assert "1" in creator_client.get("/fanservice/audience?languages=" + lang).content.decode()
    assert creator_client.get("/fanservice/audience?active_days=abc").status_code == 200  # a message, not a 500
    r = creator_client.post("/fanservice/compose", {"text": "", "active_days": "abc"})
    assert r.status_code == 422
    from django.core.files.uploadedfile import SimpleUploadedFile

    with run_jobs():
        r = creator_client.post("/fanservice/compose", {
            "text": "Weekend sale", "card_post_id": str(post.pk),
            "image": SimpleUploadedFile("sale.png", png_bytes(), content_type="image/png")})
    assert r.status_code == 303, r.content.decode()[:2000]
    b = Broadcast.objects.get(owner=owner)
    assert b.message.image
    assert creator_client.get(f"/fanservice/broadcasts/{b.pk}").status_code == 200
    assert client.get(f"/fanservice/broadcasts/{b.pk}").status_code == 404  # not the fan's
    page = client.get("/messages/service").content.decode()
    item = InboxItem.objects.get(recipient=fan, broadcast_id=b.pk)
    assert "Weekend sale" in page and f"/messages/service/{item.pk}/go/" in page and "/flag/account/" in page
    assert b.message.image in page
    token = post.card.links.get(primary=True).token
    with run_jobs():
        r = client.get(f"/messages/service/{item.pk}/go/{token}", HTTP_USER_AGENT=BROWSER)
    assert r.status_code == 302 and r["Location"].startswith("https://shop.example.com/")
    assert creator_client.get(f"/messages/service/{item.pk}/go/{token}").status_code == 404  # not the owner's inbox
    from tastemaker.fanservice.selectors import broadcast_report

    b.refresh_from_db()
    assert broadcast_report(b)["click_outs"] == 1 and broadcast_report(b)["read"] == 1
    assert creator_client.get("/fanservice/replies").status_code == 200
    r = creator_client.post("/fanservice/replies", {"action": "rule", "keyword": "", "reply": "text"})
    assert r.status_code == 422
    assert client.get(f"/watch/{post.pk}").status_code == 200
    with run_jobs():
        assert client.post(f"/watch/{post.pk}", {"action": "watch"}).status_code == 303
    assert post.card.product.title in client.get("/subscriptions").content.decode()
    # the signed link works signed out: GET asks, POST unsubscribes
    from tastemaker.fanservice.services import unsubscribe_token

    anonymous = type(client)()
    link = f"/messages/service/unsubscribe/{unsubscribe_token(fan.pk, owner.pk, b.pk)}"
    assert anonymous.get(link).status_code == 200 and Subscription.objects.filter(fan=fan).exists()
    assert anonymous.post(link).status_code == 200 and not Subscription.objects.filter(fan=fan).exists()
    assert anonymous.get("/messages/service/unsubscribe/forged").status_code == 404
    assert timezone.now()
    del creator
