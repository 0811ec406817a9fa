"""The discovery and expert API: Mastodon's suggestions entity, dismissal, verticals, directory, labels,
interests, classify, appeals and applications."""

from __future__ import annotations

import time

import pytest

from tastemaker.discovery import services
from tastemaker.experts import labeler
from tastemaker.experts.models import LabelAppeal, Vertical

pytestmark = pytest.mark.django_db

pytest_plugins = []


@pytest.fixture
def api(oauth_app):
    import secrets
    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model

    app = oauth_app

    class Api:
        def __init__(self, user, scope):
            self.client = Client()
            self.headers = {}
            if user is not None:
                token = get_access_token_model().objects.create(
                    user=user, application=app, token=secrets.token_urlsafe(24), scope=scope,
                    expires=timezone.now() + timedelta(days=1)).token
                self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

        def get(self, path, data=None):
            return self.client.get(path, data, **self.headers)

        def post(self, path, data=None):
            return self.client.post(path, data or {}, content_type="application/json", **self.headers)

        def put(self, path, data):
            return self.client.put(path, data, content_type="application/json", **self.headers)

        def delete(self, path):
            return self.client.delete(path, **self.headers)

    return lambda user=None, scope="read write follow push": Api(user, scope)


def test_suggestions_entity_and_dismissal(api, make_user, make_creator):
    fan = make_user("fan")
    b1, b2 = make_creator("b1", "beauty"), make_creator("b2", "beauty")
    services.do_set_interests(fan, [Vertical.objects.get(slug="beauty")])
    client = api(fan)
    response = client.get("/api/v2/suggestions", {"limit": 5})
    assert response.status_code == 200
    body = response.json()
    assert {s["account"]["id"] for s in body} == {str(b1.pk), str(b2.pk)}
    first = body[0]
    assert first["source"] == "global" and first["sources"] == ["featured"]
    assert first["account"]["username"] in {"b1", "b2"} and "followers_count" in first["account"]
    assert first["tastemaker"]["vertical"] == "beauty" and first["tastemaker"]["reason"]
    assert client.delete(f"/api/v1/suggestions/{b1.pk}").json() == {}
    assert [s["account"]["id"] for s in client.get("/api/v2/suggestions").json()] == [str(b2.pk)]
    assert client.delete("/api/v1/suggestions/123456789012").status_code == 404
    assert client.delete("/api/v1/suggestions/abc").status_code == 404


def test_suggestions_need_a_user_token_and_valid_limit(api, make_user):
    assert api().get("/api/v2/suggestions").status_code == 401
    assert api(make_user("u")).get("/api/v2/suggestions", {"limit": 0}).status_code == 422


def test_verticals_directory_labels_and_statuses(api, make_user, make_creator):
    creator = make_creator("chef", "food", n=8)
    anon = api()
    verticals = anon.get("/api/v1/tastemaker/verticals").json()
    assert len(verticals) == 12 and verticals[4] == {"slug": "food", "name": "Food", "name_en": "Food",
                                                     "name_zh": "美食"}
    directory = anon.get("/api/v1/tastemaker/verticals/food/experts").json()
    assert directory[0]["account"]["username"] == "chef"
    label = directory[0]["label"]
    assert label["vertical"]["slug"] == "food" and 0 < label["score"] <= 100 and label["reason"]
    assert len(label["sample_status_ids"]) == 3 and label["expert"] is False
    labels = anon.get(f"/api/v1/tastemaker/accounts/{creator.pk}/labels").json()
    assert labels[0]["vertical"]["slug"] == "food"
    statuses = anon.get("/api/v1/tastemaker/verticals/food/statuses").json()
    assert statuses and all(s["account"]["username"] == "chef" for s in statuses)
    assert anon.get("/api/v1/tastemaker/verticals/nope/experts").status_code == 404
    assert anon.get("/api/v1/tastemaker/accounts/999/labels").status_code == 404


def test_interests_get_put_delete(api, make_user):
    user = make_user("me")
    client = api(user)
    assert client.get("/api/v1/tastemaker/interests").json() == []
    body = client.put("/api/v1/tastemaker/interests", {"verticals": ["tech", "books"]}).json()
    assert [(i["vertical"]["slug"], i["picked"]) for i in body] == [("tech", True), ("books", True)]
    bad = client.put("/api/v1/tastemaker/interests", {"verticals": ["tech", "unknown"]})
    assert bad.status_code == 422 and "unknown" in bad.json()["error"]
    body = client.delete("/api/v1/tastemaker/interests/tech").json()
    assert [i["vertical"]["slug"] for i in body if not i["hidden"]] == ["books"]
    me = client.get("/api/v1/accounts/verify_credentials").json()
    assert me["tastemaker"]["interests"] == ["books"]
    assert api(user, scope="read").put("/api/v1/tastemaker/interests", {"verticals": []}).status_code == 403


def test_classify_appeal_and_application(api, make_user, make_creator):
    creator = make_creator("gamer", "gaming")
    client = api(creator)
    result = client.post("/api/v1/tastemaker/labels/classify", {"text": "新买的游戏鼠标和电竞椅"}).json()
    assert result["vertical"] == "gaming" and len(result["scores"]) == 12
    assert client.post("/api/v1/tastemaker/labels/classify", {"text": ""}).status_code == 422
    appeal = client.post("/api/v1/tastemaker/labels/gaming/appeal", {"message": "I mostly post about books"})
    assert appeal.status_code == 200 and appeal.json()["status"] == "pending"
    assert LabelAppeal.objects.filter(user=creator).count() == 1
    assert client.post("/api/v1/tastemaker/labels/gaming/appeal", {"message": "again"}).status_code == 409
    apply = client.post("/api/v1/tastemaker/expert_applications", {"vertical": "gaming"})
    assert apply.status_code == 422 and "Not yet eligible" in apply.json()["error"]
    assert client.post("/api/v1/tastemaker/expert_applications", {"vertical": "zzz"}).status_code == 404


@pytest.mark.django_db
def test_first_classify_on_a_fresh_data_dir_answers_at_once_then_labels(fresh_process, api, make_user):
    client = api(make_user("first"))
    started = time.perf_counter()
    first = client.post("/api/v1/tastemaker/labels/classify", {"text": "这款防晒霜很清爽，油皮夏天必备"})
    assert time.perf_counter() - started <= 3.0
    assert first.status_code == 200
    assert first.json()["ready"] is False and first.json()["vertical"] is None  # still loading: unlabelled
    loading = time.perf_counter()
    assert labeler.wait_until_ready(60)
    print(f"labeler loaded in the background in {time.perf_counter() - loading:.1f} s")
    after = client.post("/api/v1/tastemaker/labels/classify", {"text": "这款防晒霜很清爽，油皮夏天必备"}).json()
    assert after["ready"] is True and after["vertical"] == "beauty" and "防晒霜" in after["terms"]
    off = client.post("/api/v1/tastemaker/labels/classify", {"text": "Good morning everyone!"}).json()
    assert off["ready"] is True and off["vertical"] is None and len(off["scores"]) == 12
    assert not list(fresh_process.iterdir())  # nothing trained, cached or written
