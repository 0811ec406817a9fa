"""Reports through the API (Mastodon's shape and Tastemaker's), the credit score and its gates, appeals."""

from __future__ import annotations

import pytest

from tastemaker.moderation import services
from tastemaker.moderation.models import Case, Report
from tastemaker.social.services import do_create_post


@pytest.fixture
def people(make_user):
    return make_user("author"), make_user("fan"), make_user("op_a", is_staff=True), make_user("op_b", is_staff=True)


def test_mastodon_report_of_one_status_opens_a_post_case(api, people):
    author, fan, _a, _b = people
    post = do_create_post(author, text="buy followers here")
    r = api(fan).post("/api/v1/reports", {"account_id": str(author.pk), "status_ids": [str(post.pk)],
                                          "comment": "spam", "category": "spam"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["category"] == "spam" and body["status_ids"] == [str(post.pk)]
    assert body["target_account"]["id"] == str(author.pk) and body["action_taken"] is False
    case = Case.objects.get()
    assert case.target_kind == "post" and case.target_id == post.pk


def test_mastodon_report_as_form_with_several_statuses(api, people):
    author, fan, _a, _b = people
    p1, p2 = do_create_post(author, text="one"), do_create_post(author, text="two")
    r = api(fan).post("/api/v1/reports", {"account_id": str(author.pk), "status_ids[]": [str(p1.pk), str(p2.pk)],
                                          "category": "legal"}, json=False)
    assert r.status_code == 200, r.content
    case = Case.objects.get()
    assert case.target_kind == "account" and case.reason == "illegal"
    assert [p["text"] for p in case.evidence[0]["posts"]] == ["one", "two"]


@pytest.mark.parametrize("payload, status", [
    ({"account_id": "1"}, 404),
    ({"account_id": "abc"}, 404),
    ({"account_id": "99999999999999999999999"}, 404),
    ({}, 422),
    ({"account_id": "{author}", "category": "nonsense"}, 422),
    ({"account_id": "{author}", "comment": "x" * 1001}, 422),
    ({"account_id": "{author}", "status_ids": ["{fan_post}"]}, 422),
])
def test_bad_reports_are_clear_4xx(api, people, payload, status):
    author, fan, _a, _b = people
    fan_post = do_create_post(fan, text="mine")
    payload = {k: (v.replace("{author}", str(author.pk)) if isinstance(v, str) else
                   [x.replace("{fan_post}", str(fan_post.pk)) for x in v] if isinstance(v, list) else v)
               for k, v in payload.items()}
    if "status_ids" in payload:
        payload["status_ids"].append(str(fan_post.pk))  # two: an account report naming a post not its own
    r = api(fan).post("/api/v1/reports", payload)
    assert r.status_code == status, r.content
    assert "error" in r.json()
    assert Report.objects.count() == 0


def test_reports_need_a_token_with_write(api, people):
    author, fan, _a, _b = people
    assert api().post("/api/v1/reports", {"account_id": str(author.pk)}).status_code == 401
    assert api(fan, scope="read").post("/api/v1/reports", {"account_id": str(author.pk)}).status_code == 403


def test_card_report_through_tastemaker_endpoint(api, people, showcase_post):
    author, fan, _a, _b = people
    post = showcase_post(author)
    r = api(fan).post("/api/v1/tastemaker/flags", {"kind": "card", "id": str(post.pk), "reason": "scam"})
    assert r.status_code == 200, r.content
    case = Case.objects.get()
    assert case.target_kind == "card" and case.evidence[0]["card"]["title"]
    plain = do_create_post(fan, text="no card")
    r = api(people[0]).post("/api/v1/tastemaker/flags", {"kind": "card", "id": str(plain.pk), "reason": "scam"})
    assert r.status_code == 404


def test_credit_gates_history_and_appeal(api, people):
    author, fan, op_a, op_b = people
    post = do_create_post(author, text="counterfeit bags")
    case = Case.objects.get(pk=services.do_report(fan, "post", post.pk, "scam").case_id)
    action = services.do_act(op_a, case, "remove", "Counterfeit")
    me = api(author)
    credit = me.get("/api/v1/tastemaker/credit").json()
    assert credit["score"] == 60 and credit["band"] == "fair" and credit["state"] == "active"
    gates = {g["feature"]: g for g in credit["gates"]}
    assert gates["showcase"]["allowed"] and not gates["promotion"]["allowed"]
    assert "75" in gates["promotion"]["reason"] and gates["promotion"]["restore"]
    history = me.get("/api/v1/tastemaker/credit/history").json()
    assert [(h["delta"], h["score_after"], h["reason"]) for h in history] == [(-20, 60, "scam")]
    actions = me.get("/api/v1/tastemaker/moderation/actions").json()
    assert actions[0]["appealable"] and actions[0]["id"] == str(action.pk)
    assert api(fan).post(f"/api/v1/tastemaker/moderation/actions/{action.pk}/appeal",
                         {"text": "not mine"}).status_code == 404
    r = me.post(f"/api/v1/tastemaker/moderation/actions/{action.pk}/appeal", {"text": "They are genuine"})
    assert r.status_code == 200 and r.json()["status"] == "pending"
    assert me.post(f"/api/v1/tastemaker/moderation/actions/{action.pk}/appeal", {"text": "again"}).status_code == 409
    appeal = action.appeal
    services.do_decide_appeal(op_b, appeal, overturn=True, decision="Receipts check out")
    assert me.get("/api/v1/tastemaker/credit").json()["score"] == 80
    kinds = [n["kind"] for n in me.get("/api/v1/tastemaker/moderation/notices").json()]
    assert kinds == ["appeal_outcome", "action"]
    assert [n["kind"] for n in api(fan).get("/api/v1/tastemaker/moderation/notices").json()] == ["report_outcome"]
