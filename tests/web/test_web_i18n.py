"""Language: Accept-Language, the picker (set_language), the profile language, translated errors."""

import pytest
from django.conf import settings
from django.urls import reverse

from tastemaker.social.models import Post

pytestmark = pytest.mark.django_db


def test_english_by_default(client):
    body = client.get(reverse("web:public")).content.decode()
    assert '<html lang="en">' in body
    assert "Public timeline" in body and "Log in" in body


def test_accept_language_zh_cn_gives_chinese(client):
    body = client.get(reverse("web:public"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.5").content.decode()
    assert '<html lang="zh-hans">' in body
    assert "广场" in body and "登录" in body and "注册" in body
    assert "Public timeline" not in body


def test_language_picker_switches_to_chinese_and_back(client):
    page = client.get(reverse("web:public")).content.decode()
    assert 'action="/i18n/setlang/"' in page and 'value="zh-hans"' in page and "简体中文" in page
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/public"})
    assert response.status_code == 302 and response["Location"] == "/public"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    body = client.get(reverse("web:public")).content.decode()
    assert '<html lang="zh-hans">' in body and "广场" in body and "<title>广场 · Tastemaker</title>" in body
    client.post(reverse("set_language"), {"language": "en", "next": "/public"})
    assert "Public timeline" in client.get(reverse("web:public")).content.decode()


def test_profile_language_applies_after_login(client, make_user):
    make_user("mei", language="zh-hans")
    client.post(reverse("web:login"), {"username": "mei", "password": "Corr3ct-Horse-Battery"})
    body = client.get(reverse("web:home")).content.decode()
    assert "还没有帖子 —— 关注一些人，首页就会热闹起来。" in body
    assert "首页" in body and "退出登录" in body


def test_domain_errors_are_translated(client, make_user):
    client.force_login(make_user("mei"))
    client.post(reverse("set_language"), {"language": "zh-hans"})
    response = client.post(reverse("web:compose"), {"text": "字" * 2001})
    assert response.status_code == 422
    assert "一条帖子最多 2000 个字符（当前 2001 个）。" in response.content.decode()
    assert Post.objects.count() == 0


def test_signup_form_in_chinese(client):
    response = client.post(reverse("web:signup"), {"username": "坏 名字", "email": "a@example.org",
                                                   "password": "Corr3ct-Horse-Battery", "language": "zh-hans",
                                                   "agreement": "on"}, HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.status_code == 422
    body = response.content.decode()
    assert "用户名为 1 到 30 个字符，只能包含字母、数字和下划线。" in body
    assert "创建账号" in body


def test_language_picked_before_login_is_kept_and_saved(client, make_user):
    from tastemaker.accounts.models import User

    make_user("li")  # profile language: English
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/public"})  # a visitor picks 中文
    response = client.post(reverse("web:login"), {"username": "li", "password": "Corr3ct-Horse-Battery"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert '<html lang="zh-hans">' in client.get(reverse("web:home")).content.decode()
    assert User.objects.get(username="li").language == "zh-hans"


def test_language_switch_when_logged_in_saves_the_profile(client, make_user):
    from tastemaker.accounts.models import User

    client.force_login(make_user("wen", language="zh-hans"))
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert User.objects.get(username="wen").language == "en"
    client.post(reverse("set_language"), {"language": "xx-bogus", "next": "/"})  # not offered: ignored
    assert User.objects.get(username="wen").language == "en"
