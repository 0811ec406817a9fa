"""A suspended account signs in to read why and appeal, and reaches nothing else."""

from __future__ import annotations

import pytest

from tastemaker.moderation import services
from tastemaker.moderation.models import Appeal, Case

pytestmark = pytest.mark.django_db
PASSWORD = "Corr3ct-Horse-Battery"


@pytest.fixture
def suspended(make_user):
    author, fan, op = make_user("author"), make_user("fan"), make_user("op", is_staff=True)
    case = Case.objects.get(pk=services.do_report(fan, "account", author.pk, "harassment").case_id)
    action = services.do_act(op, case, "suspend", "Threats in replies")
    return author, action


def test_suspended_account_signs_in_to_its_credit_page_and_appeals(client, suspended):
    author, action = suspended
    response = client.post("/login", {"username": "author", "password": PASSWORD})
    assert response.status_code == 302
    page = client.get("/settings/credit")
    assert page.status_code == 200 and "Threats in replies" in page.content.decode()
    assert client.get("/home")["Location"] == "/settings/credit"
    assert client.get("/settings")["Location"] == "/settings/credit"
    assert client.post("/compose", {"text": "I'm back"}).status_code == 403
    assert client.get("/api/v1/accounts/verify_credentials").status_code in (401, 403)
    assert client.get("/moderation").status_code in (302, 403, 404)
    response = client.post(f"/settings/credit/appeals/{action.pk}", {"text": "I was quoting someone"})
    assert response.status_code in (200, 302, 303)
    assert Appeal.objects.get().text == "I was quoting someone"
    assert client.post("/logout").status_code == 302


def test_suspended_account_gets_no_api_token(client, suspended, oauth_app):
    response = client.post("/oauth/token", {"grant_type": "password", "username": "author", "password": PASSWORD,
                                            "client_id": oauth_app.client_id, "scope": "read"})
    assert response.status_code in (400, 401)
