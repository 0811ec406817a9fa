"""Sign-up, log-in, log-out, settings and password pages."""

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from tastemaker.accounts.models import User

PASSWORD = "Corr3ct-Horse-Battery"
pytestmark = pytest.mark.django_db


def signup_data(**changes):
    data = {"username": "alice", "email": "alice@example.org", "password": PASSWORD,
            "display_name": "Alice", "language": "en", "agreement": "on"}
    data.update(changes)
    return data


def test_signup_page_renders(client):
    response = client.get(reverse("web:signup"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<title>Sign up · Tastemaker</title>" in body
    assert 'name="username"' in body and 'name="csrfmiddlewaretoken"' in body


def test_signup_creates_account_logs_in_and_sets_language(client):
    response = client.post(reverse("web:signup"), signup_data(language="zh-hans"))
    assert response.status_code == 302
    assert response["Location"] == reverse("web:onboarding")  # interest onboarding comes first
    user = User.objects.get(username="alice")
    assert user.display_name == "Alice" and user.language == "zh-hans"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    home = client.get(reverse("web:home"))
    assert home.status_code == 200
    assert "<html lang=\"zh-hans\">" in home.content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"username": "bad name!"}, "letters, digits and underscores only"),
        ({"username": "admin"}, "This username is reserved."),
        ({"password": "12345678"}, "This password is entirely numeric."),
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"agreement": ""}, "You must agree to the rules of this server."),
    ],
)
def test_signup_bad_input_shows_field_error_and_creates_nothing(client, changes, message):
    response = client.post(reverse("web:signup"), signup_data(**changes))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not User.objects.filter(email="alice@example.org").exists()
    assert "_auth_user_id" not in client.session


def test_signup_taken_username_is_rejected(client, make_user):
    make_user("alice", email="first@example.org")
    response = client.post(reverse("web:signup"), signup_data(username="ALICE"))
    assert response.status_code == 422
    assert "This username is taken." in response.content.decode()
    assert User.objects.filter(username__iexact="alice").count() == 1


def test_login_with_username_or_email(client, make_user):
    make_user("bob", language="zh-hans")
    response = client.post(reverse("web:login"), {"username": "BOB", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("web:home")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    client.post(reverse("web:logout"))
    response = client.post(reverse("web:login"), {"username": "bob@example.org", "password": PASSWORD})
    assert response.status_code == 302


def test_login_wrong_password_is_a_clear_400(client, make_user):
    make_user("bob")
    response = client.post(reverse("web:login"), {"username": "bob", "password": "wrong-password"})
    assert response.status_code == 400
    assert "The username or password is not correct." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_next_is_followed_only_when_local(client, make_user):
    make_user("bob")
    ok = client.post(reverse("web:login") + "?next=/bookmarks", {"username": "bob", "password": PASSWORD})
    assert ok["Location"] == "/bookmarks"
    client.post(reverse("web:logout"))
    evil = client.post(reverse("web:login"), {"username": "bob", "password": PASSWORD,
                                              "next": "https://evil.example/"})
    assert evil["Location"] == reverse("web:home")


@override_settings(RATE_LOGIN_IP="3/300")
def test_login_is_rate_limited_per_ip(client, make_user):
    make_user("bob")
    for _ in range(3):
        assert client.post(reverse("web:login"), {"username": "bob", "password": "nope"}).status_code == 400
    response = client.post(reverse("web:login"), {"username": "bob", "password": PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Try again in" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_needs_post(client, make_user):
    client.force_login(make_user("bob"))
    assert client.get(reverse("web:logout")).status_code == 405
    response = client.post(reverse("web:logout"))
    assert response.status_code == 302 and response["Location"] == reverse("web:public")
    assert "_auth_user_id" not in client.session


def test_csrf_is_enforced_on_forms(make_user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user("bob"))
    response = strict.post(reverse("web:compose"), {"text": "no token"})
    assert response.status_code == 403


@pytest.mark.parametrize("name", ["web:settings", "web:password", "web:notifications", "web:bookmarks"])
def test_private_pages_need_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login") + "?next=")


def test_settings_saves_profile_and_language(client, make_user, png_bytes):
    user = make_user("bob")
    client.force_login(user)
    assert client.get(reverse("web:settings")).status_code == 200
    response = client.post(reverse("web:settings"), {
        "display_name": "Bobby", "bio": "I review <b>phones</b>", "language": "zh-hans",
        "interests": "Tech, beauty，travel",
        "avatar": SimpleUploadedFile("a.png", png_bytes(), content_type="image/png"),
    })
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    user.refresh_from_db()
    assert user.display_name == "Bobby" and user.language == "zh-hans"
    assert user.interests == []  # not edited here: /settings/interests is the one editor
    assert user.avatar.endswith(".webp")  # the processed preview (WebP), never the bytes sent
    profile = client.get(reverse("web:profile", args=["bob"])).content.decode()
    assert "I review &lt;b&gt;phones&lt;/b&gt;" in profile
    assert f'src="/media/{user.avatar}"' in profile


def test_settings_bad_avatar_changes_nothing(client, make_user):
    user = make_user("bob", display_name="Bob")
    client.force_login(user)
    response = client.post(reverse("web:settings"), {
        "display_name": "Changed", "bio": "", "language": "en", "interests": "",
        "avatar": SimpleUploadedFile("a.png", b"this is not an image", content_type="image/png"),
    })
    assert response.status_code == 422
    assert "The file is not a readable image." in response.content.decode()
    user.refresh_from_db()
    assert user.display_name == "Bob" and user.avatar == ""


def test_settings_has_one_interest_editor(client, make_user):
    user = make_user("bob")
    client.force_login(user)
    page = client.get(reverse("web:settings")).content.decode()
    assert 'name="interests"' not in page and 'href="/settings/interests"' in page
    response = client.post(reverse("web:settings"), {
        "display_name": "", "bio": "", "language": "en", "interests": ",".join(f"i{n}" for n in range(25))})
    assert response.status_code == 302  # a stray field is ignored, not a second way to set interests
    user.refresh_from_db()
    assert user.interests == []


def test_password_change(client, make_user):
    user = make_user("bob")
    client.force_login(user)
    wrong = client.post(reverse("web:password"), {"old_password": "nope", "new_password": "N3w-Secret-Phrase",
                                                  "new_password2": "N3w-Secret-Phrase"})
    assert wrong.status_code == 422
    assert "Your current password is not correct." in wrong.content.decode()
    mismatch = client.post(reverse("web:password"), {"old_password": PASSWORD, "new_password": "N3w-Secret-Phrase",
                                                     "new_password2": "other"})
    assert mismatch.status_code == 422
    assert "The two new passwords do not match." in mismatch.content.decode()
    ok = client.post(reverse("web:password"), {"old_password": PASSWORD, "new_password": "N3w-Secret-Phrase",
                                               "new_password2": "N3w-Secret-Phrase"})
    assert ok.status_code == 302
    user.refresh_from_db()
    assert user.check_password("N3w-Secret-Phrase")
    assert client.get(reverse("web:settings")).status_code == 200  # still logged in


@override_settings(RATE_MEDIA="1/300")
def test_settings_avatar_uploads_count_refused_ones_included(client, make_user, png_bytes):
    user = make_user("bob", display_name="Bob")
    client.force_login(user)
    form = {"display_name": "Bob", "bio": "", "language": "en", "interests": ""}
    bad = client.post(reverse("web:settings"), {
        **form, "avatar": SimpleUploadedFile("a.png", b"this is not an image", content_type="image/png")})
    assert bad.status_code == 422
    good = client.post(reverse("web:settings"), {
        **form, "avatar": SimpleUploadedFile("a.png", png_bytes(), content_type="image/png")})
    assert good.status_code == 429
    user.refresh_from_db()
    assert user.avatar == ""


def test_signup_agreement_is_not_pre_ticked_and_links_the_rules(client):
    body = client.get(reverse("web:signup")).content.decode()
    box = body.split('name="agreement"')[0].rsplit("<input", 1)[1] + body.split('name="agreement"')[1].split(">")[0]
    assert "checked" not in box
    assert 'href="/about/rules"' in body
    rules = client.get("/about/rules").content.decode()
    assert "No flooding" in rules and "Disclose advertising" in rules and '<ol class="rules">' in rules
    zh = client.get("/about/rules", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert zh.status_code == 200
    response = client.post(reverse("web:signup"), signup_data(agreement=""))  # not ticked: refused, nothing made
    assert response.status_code == 422 and not User.objects.exists()


def test_instance_rules_are_the_same_list(client):
    rules = client.get("/api/v1/instance").json()["rules"]
    assert [r["id"] for r in rules] == ["1", "2", "3", "4", "5", "6", "7"] and rules[1]["text"] == "Disclose advertising"
    assert client.get("/api/v2/instance").json()["rules"] == rules
