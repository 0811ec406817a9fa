"""The web inbox of direct messages (issue 14), with the Django test client: the list with unread counts and
its requests tab (accept, decline), the nav badge, a conversation with its reply box (text and an image), the
polling fragment, the "Message" button on profiles, the report link on every message, the setting in
/settings, empty states, paging, and 中文."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tastemaker.social import services as social
from tastemaker.social.models import ConversationMember, Folder, Post

pytestmark = pytest.mark.django_db


def dm(author, text, **kw):
    return social.do_create_post(author, text=text, visibility="direct", **kw)


@pytest.fixture
def pair(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    social.do_follow(bob, alice)
    social.do_follow(alice, bob)
    return alice, bob


def test_inbox_lists_conversations_with_unread_and_a_badge(pair, login):
    alice, bob = pair
    dm(alice, "@bob the tea arrived")
    page = login(bob).get("/messages")
    html = page.content.decode()
    assert page.status_code == 200
    assert "the tea arrived" in html and 'class="conversation unread"' in html
    assert 'class="nav-messages"' in html and '<span class="badge" title="Unread conversations">1' in html


def test_empty_states(make_user, login):
    client = login(make_user("lonely"))
    assert "No messages yet" in client.get("/messages").content.decode()
    assert "No message requests" in client.get("/messages?folder=requests").content.decode()


def test_opening_a_conversation_marks_it_read_and_shows_report_links(pair, login):
    alice, bob = pair
    message = dm(alice, "@bob look at this")
    client = login(bob)
    page = client.get(f"/messages/{message.conversation_id}")
    html = page.content.decode()
    assert page.status_code == 200 and "look at this" in html
    assert f"/flag/message/{message.pk}" in html  # every message of someone else can be reported
    assert 'hx-trigger="every 4s"' in html  # live updates by polling
    assert not ConversationMember.objects.get(user=bob, conversation_id=message.conversation_id).unread
    assert "nav-messages" in html and 'title="Unread conversations"' not in html
    flag = client.get(f"/flag/message/{message.pk}")
    assert flag.status_code == 200  # the existing report flow takes a message


def test_reply_with_an_image_continues_the_conversation(pair, login, png_bytes):
    alice, bob = pair
    message = dm(alice, "@bob hi")
    client = login(bob)
    response = client.post(f"/messages/{message.conversation_id}", {
        "text": "here is a photo", "images": SimpleUploadedFile("p.png", png_bytes(), content_type="image/png")})
    assert response.status_code == 302 and response["Location"].startswith(f"/messages/{message.conversation_id}")
    reply = Post.objects.get(author=bob)
    assert reply.visibility == "direct" and reply.conversation_id == message.conversation_id
    assert reply.media.count() == 1 and list(reply.mentions.values_list("user__username", flat=True)) == ["alice"]
    fragment = login(alice).get(f"/messages/{message.conversation_id}/updates")
    assert fragment.status_code == 200 and "here is a photo" in fragment.content.decode()
    assert "<html" not in fragment.content.decode()  # a fragment for htmx, not a page


def test_a_refused_reply_keeps_the_text(pair, login):
    alice, bob = pair
    message = dm(alice, "@bob hi")
    social.do_block(alice, bob)
    response = login(bob).post(f"/messages/{message.conversation_id}", {"text": "my long careful answer"})
    assert response.status_code == 403
    assert "my long careful answer" in response.content.decode() and "blocked" in response.content.decode()


def test_requests_tab_accept_and_decline(make_user, login):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    first = dm(alice, "@bob hello stranger")
    second = dm(carol, "@bob buy now")
    client = login(bob)
    assert "hello stranger" not in client.get("/messages").content.decode()
    requests = client.get("/messages?folder=requests").content.decode()
    assert "hello stranger" in requests and "buy now" in requests and "Accept" in requests
    accepted = client.post(f"/messages/{first.conversation_id}/accept")
    assert accepted.status_code == 302 and accepted["Location"] == f"/messages/{first.conversation_id}"
    assert "hello stranger" in client.get("/messages").content.decode()
    client.post(f"/messages/{second.conversation_id}/decline")
    assert ConversationMember.objects.get(user=bob, conversation_id=second.conversation_id).folder == Folder.DECLINED
    assert "buy now" not in client.get("/messages?folder=requests").content.decode()


def test_remove_takes_it_off_the_list(pair, login):
    alice, bob = pair
    message = dm(alice, "@bob bye")
    client = login(bob)
    client.post(f"/messages/{message.conversation_id}/remove")
    assert "bye" not in client.get("/messages").content.decode()
    assert client.post(f"/messages/{message.conversation_id}/frobnicate").status_code == 404


def test_pagination(pair, login):
    alice, bob = pair
    for i in range(23):
        dm(alice, f"@bob note number {i}")
    client = login(bob)
    first = client.get("/messages").content.decode()
    assert first.count('<li class="conversation') == 20 and "Older conversations" in first
    assert "note number 22" in first and "note number 2<" not in first
    older = client.get(f"/messages?max_id={Post.objects.filter(author=alice).order_by('id')[3].pk}")
    assert older.content.decode().count('<li class="conversation') == 3


def test_message_button_on_profiles_follows_the_setting(make_user, login):
    alice, bob, _shy = make_user("alice"), make_user("bob"), make_user("shy", messages_from="nobody")
    client = login(alice)
    assert "/messages/new/@bob" in client.get("/@bob").content.decode()
    assert "/messages/new/@shy" not in client.get("/@shy").content.decode()
    assert "/messages/new/" not in client.get("/@alice").content.decode()  # not to oneself
    social.do_block(bob, alice)
    assert "/messages/new/@bob" not in client.get("/@bob").content.decode()


def test_new_message_from_a_profile(make_user, login):
    alice, _bob = make_user("alice"), make_user("bob")
    client = login(alice)
    assert client.get("/messages/new/@bob").status_code == 200
    sent = client.post("/messages/new/@bob", {"text": "hello from your profile"})
    post = Post.objects.get(author=alice)
    assert sent.status_code == 302 and sent["Location"].startswith(f"/messages/{post.conversation_id}")
    assert post.visibility == "direct" and list(post.mentions.values_list("user__username", flat=True)) == ["bob"]
    shy = make_user("shy", messages_from="nobody")
    refused = client.post(f"/messages/new/@{shy.username}", {"text": "hi"})
    assert refused.status_code == 403 and "does not accept direct messages" in refused.content.decode()
    assert client.post("/messages/new/@alice", {"text": "me"}).status_code == 422


def test_the_setting_is_saved_from_settings(make_user, login):
    alice = make_user("alice")
    client = login(alice)
    page = client.get("/settings").content.decode()
    assert 'name="messages_from"' in page and "Only people I follow" in page
    response = client.post("/settings", {"display_name": "A", "bio": "", "language": "en",
                                         "messages_from": "following"})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.messages_from == "following"
    bad = client.post("/settings", {"display_name": "A", "bio": "", "language": "en", "messages_from": "martians"})
    assert bad.status_code == 422


def test_compose_can_send_a_direct_message(pair, login):
    alice, bob = pair
    response = login(alice).post("/compose", {"text": "@bob from the composer", "visibility": "direct"})
    post = Post.objects.get(author=alice)
    assert post.visibility == "direct" and response["Location"].startswith(f"/messages/{post.conversation_id}")


def test_inbox_in_chinese_on_a_phone_sized_page(pair, login):
    alice, bob = pair
    dm(alice, "@bob 你好")
    bob.language = "zh-hans"
    bob.save()
    client = login(bob)
    client.cookies["django_language"] = "zh-hans"
    html = client.get("/messages", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'lang="zh-hans"' in html and "你好" in html
    assert 'name="viewport"' in html
