"""Web: locking an account, asking to follow, the Requests page, and bookmarks that respect visibility."""

import pytest
from django.test import Client
from django.urls import reverse

from tastemaker.social import services as social
from tastemaker.social.models import Follow, FollowRequest

pytestmark = pytest.mark.django_db


def settings_form(user, **changes):
    data = {"display_name": user.display_name, "bio": user.bio, "language": user.language, "interests": ""}
    data.update(changes)
    return data


def test_lock_setting_on_the_profile_settings_page(login, make_user):
    boss = make_user("boss")
    client = login(boss)
    page = client.get(reverse("web:settings")).content.decode()
    assert 'name="locked"' in page and "Approve new followers" in page and 'id="id_locked" checked' not in page
    assert client.post(reverse("web:settings"), settings_form(boss, locked="on")).status_code == 302
    boss.refresh_from_db()
    assert boss.locked is True
    assert 'id="id_locked" checked' in client.get(reverse("web:settings")).content.decode()
    # unchecking it unlocks (and approves whoever is waiting)
    fan = make_user("fan")
    social.do_follow(fan, boss)
    assert client.post(reverse("web:settings"), settings_form(boss)).status_code == 302
    boss.refresh_from_db()
    assert boss.locked is False
    assert Follow.objects.filter(follower=fan, target=boss).exists() and not FollowRequest.objects.exists()


def test_ask_to_follow_requested_state_and_withdraw(login, make_user, post_as):
    boss, fan = make_user("boss", locked=True), make_user("fan")
    post_as(boss, "for my followers", visibility="private")
    client = login(fan)
    page = client.get(reverse("web:profile", args=["boss"])).content.decode()
    assert "Ask to follow" in page and "Locked" in page
    response = client.post(reverse("web:account_action", args=["boss", "follow"]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    fragment = response.content.decode()
    assert "Requested" in fragment and "/@boss/unfollow" in fragment
    page = client.get(reverse("web:profile", args=["boss"])).content.decode()
    assert "Requested" in page and "for my followers" not in page
    # clicking again withdraws the request
    client.post(reverse("web:account_action", args=["boss", "unfollow"]))
    assert not FollowRequest.objects.exists()
    assert "Ask to follow" in client.get(reverse("web:profile", args=["boss"])).content.decode()


def test_requests_page_approve_and_reject(login, make_user, post_as, run_jobs):
    boss, fan, other = make_user("boss", locked=True), make_user("fan"), make_user("other")
    secret = post_as(boss, "members only text", visibility="private")
    social.do_follow(fan, boss)
    social.do_follow(other, boss)
    client = login(boss)
    home = client.get(reverse("web:home")).content.decode()
    assert reverse("web:follow_requests") in home and '<span class="badge">2</span>' in home
    notes = client.get(reverse("web:notifications")).content.decode()
    assert notes.count("asked to follow you") == 2 and "Review follow requests" in notes
    page = client.get(reverse("web:follow_requests")).content.decode()
    assert "@fan" in page and "@other" in page and "csrfmiddlewaretoken" in page
    assert reverse("web:follow_request_action", args=["fan", "authorize"]) in page
    with run_jobs():
        response = client.post(reverse("web:follow_request_action", args=["fan", "authorize"]))
    assert response.status_code == 302 and response["Location"] == reverse("web:follow_requests")
    assert Follow.objects.filter(follower=fan, target=boss).exists()
    response = client.post(reverse("web:follow_request_action", args=["other", "reject"]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "declined" in response.content.decode()
    assert not FollowRequest.objects.exists() and not Follow.objects.filter(follower=other).exists()
    assert "No one is waiting" in client.get(reverse("web:follow_requests")).content.decode()
    # the approved follower reads the followers-only post, the declined one does not
    fan_client = Client()
    fan_client.force_login(fan)
    assert fan_client.get(reverse("web:post", args=[secret.pk])).status_code == 200
    assert "members only text" in fan_client.get(reverse("web:home")).content.decode()
    other_client = Client()
    other_client.force_login(other)
    assert other_client.get(reverse("web:post", args=[secret.pk])).status_code == 404
    # answering again: a 404 page, not a 500; an unknown action is a 404 too
    again = client.post(reverse("web:follow_request_action", args=["fan", "authorize"]))
    assert again.status_code == 404
    assert client.post(reverse("web:follow_request_action", args=["fan", "explode"])).status_code == 404


def test_requests_pages_need_login_post_and_csrf(make_user, client):
    boss, fan = make_user("boss", locked=True), make_user("fan")
    social.do_follow(fan, boss)
    url = reverse("web:follow_request_action", args=["fan", "authorize"])
    assert client.get(reverse("web:follow_requests")).status_code == 302  # to the login page
    assert client.post(url).status_code == 302 and FollowRequest.objects.exists()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(boss)
    assert strict.post(url).status_code == 403 and FollowRequest.objects.exists()
    strict.get(reverse("web:follow_requests"))
    assert strict.get(url).status_code == 405


def test_requests_page_in_chinese(login, make_user):
    boss = make_user("boss", locked=True, language="zh-hans")
    social.do_follow(make_user("fan"), boss)
    client = login(boss)
    response = client.get(reverse("web:follow_requests"), HTTP_ACCEPT_LANGUAGE="zh-CN")
    body = response.content.decode()
    assert response.status_code == 200 and '<html lang="zh-hans">' in body
    assert "@fan" in body and "通知" in body  # the page renders inside the translated chrome


# --- bookmarks ----------------------------------------------------------------------------------

@pytest.fixture
def bookmarked(login, make_user, post_as):
    author, reader = make_user("author"), make_user("reader")
    social.do_follow(reader, author)
    secret = post_as(author, "secret bookmarked words", visibility="private")
    public = post_as(author, "public bookmarked words")
    for post in (secret, public):
        social.do_bookmark(reader, post)
    client = login(reader)
    page = client.get(reverse("web:bookmarks")).content.decode()
    assert "secret bookmarked words" in page and "public bookmarked words" in page
    return author, reader, client


def test_web_bookmarks_after_unfollow(bookmarked):
    author, reader, client = bookmarked
    social.do_unfollow(reader, author)
    page = client.get(reverse("web:bookmarks")).content.decode()
    assert "secret bookmarked words" not in page and "public bookmarked words" in page


def test_web_bookmarks_after_being_blocked(bookmarked):
    author, reader, client = bookmarked
    social.do_block(author, reader)
    page = client.get(reverse("web:bookmarks")).content.decode()
    assert "secret bookmarked words" not in page and "public bookmarked words" not in page


def test_web_bookmarks_after_blocking(bookmarked):
    author, _reader, client = bookmarked
    client.post(reverse("web:account_action", args=["author", "block"]))
    page = client.get(reverse("web:bookmarks")).content.decode()
    # issue 12, one rule: a block either way hides every post of the other account
    assert "secret bookmarked words" not in page and "public bookmarked words" not in page
    client.post(reverse("web:account_action", args=["author", "unblock"]))
    page = client.get(reverse("web:bookmarks")).content.decode()
    assert "secret bookmarked words" not in page and "public bookmarked words" in page  # no longer a follower
