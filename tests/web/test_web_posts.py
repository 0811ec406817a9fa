"""Timelines, composing, post pages, interactions, profiles, lists, search, media."""

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tastemaker.social import services as social
from tastemaker.social.models import Bookmark, Favourite, Follow, Media, Notification, Post

pytestmark = pytest.mark.django_db


def image(png_bytes, name="p.png", **kwargs):
    return SimpleUploadedFile(name, png_bytes(**kwargs), content_type="image/png")


# --- home and compose -----------------------------------------------------------------------

def test_home_redirects_anonymous_to_public(client):
    response = client.get(reverse("web:home"))
    assert response.status_code == 302 and response["Location"] == reverse("web:public")


def test_home_empty_state_and_compose_box(client, make_user):
    client.force_login(make_user("bob"))
    body = client.get(reverse("web:home")).content.decode()
    assert "No posts yet — follow people to fill your home feed." in body
    assert 'action="/compose"' in body and 'enctype="multipart/form-data"' in body
    assert "<title>Home · Tastemaker</title>" in body


def test_compose_text_post_appears_on_home(client, make_user, run_jobs):
    client.force_login(make_user("bob"))
    with run_jobs():
        response = client.post(reverse("web:compose"), {"text": "Loving this #Serum from @nobody"})
    assert response.status_code == 302 and response["Location"] == reverse("web:home")
    post = Post.objects.get()
    assert post.text == "Loving this #Serum from @nobody"
    body = client.get(reverse("web:home")).content.decode()
    assert 'href="/tags/serum" class="mention hashtag" rel="tag">#<span>Serum</span></a>' in body
    assert 'href="/@nobody" class="u-url mention">@<span>nobody</span></a>' in body
    assert "Posted." in body


def test_compose_with_images_shows_them_and_media_is_served(client, make_user, png_bytes, run_jobs):
    client.force_login(make_user("bob"))
    with run_jobs():
        response = client.post(reverse("web:compose"), {
            "text": "two pics", "images": [image(png_bytes, "a.png"), image(png_bytes, "b.png", color=(0, 90, 0))]})
    assert response.status_code == 302
    post = Post.objects.get()
    media = list(post.media.order_by("position"))
    assert len(media) == 2
    body = client.get(reverse("web:home")).content.decode()
    assert f'src="/media/{media[0].preview}"' in body and f'src="/media/{media[1].preview}"' in body
    served = client.get(f"/media/{media[0].file}")
    assert served.status_code == 200
    assert served["Content-Type"] in {"image/jpeg", "image/png"}
    assert b"".join(served.streaming_content)[:4] in {b"\xff\xd8\xff\xe0", b"\x89PNG", b"\xff\xd8\xff\xdb"}


def test_compose_too_long_is_rejected_and_text_is_kept(client, make_user):
    client.force_login(make_user("bob"))
    text = "x" * (settings.POST_MAX_CHARS + 1)
    response = client.post(reverse("web:compose"), {"text": text})
    assert response.status_code == 422
    body = response.content.decode()
    assert f"A post has at most {settings.POST_MAX_CHARS} characters" in body
    assert text in body  # nothing typed is lost
    assert Post.objects.count() == 0


def test_compose_empty_is_rejected(client, make_user):
    client.force_login(make_user("bob"))
    response = client.post(reverse("web:compose"), {"text": "   "})
    assert response.status_code == 422
    assert "A post needs text or at least one image." in response.content.decode()
    assert Post.objects.count() == 0


def test_compose_ten_images_is_rejected(client, make_user, png_bytes):
    client.force_login(make_user("bob"))
    files = [image(png_bytes, f"{n}.png") for n in range(10)]
    response = client.post(reverse("web:compose"), {"text": "too many", "images": files})
    assert response.status_code == 422
    assert "A post has at most 9 images." in response.content.decode()
    assert Post.objects.count() == 0 and Media.objects.count() == 0


def test_compose_bad_image_leaves_nothing_behind(client, make_user, png_bytes):
    client.force_login(make_user("bob"))
    bad = SimpleUploadedFile("evil.png", b"<?php system($_GET['x']); ?>", content_type="image/png")
    response = client.post(reverse("web:compose"), {"text": "pics", "images": [image(png_bytes), bad]})
    assert response.status_code == 422
    assert "The file is not a readable image." in response.content.decode()
    assert Post.objects.count() == 0 and Media.objects.count() == 0


def test_compose_needs_login(client):
    response = client.post(reverse("web:compose"), {"text": "hi"})
    assert response.status_code == 302 and response["Location"].startswith("/login")
    assert Post.objects.count() == 0


def test_post_text_is_escaped(client, make_user, post_as):
    bob = make_user("bob")
    post_as(bob, "<script>alert('x')</script> it's & <b>bold</b> #tag")
    body = client.get(reverse("web:public")).content.decode()
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in body
    assert "it's &amp; &lt;b&gt;bold&lt;/b&gt;" in body
    assert "<b>bold" not in body
    assert 'href="/tags/x27"' not in body  # an escaped quote never becomes a hashtag
    assert 'href="/tags/tag" class="mention hashtag" rel="tag">#<span>tag</span></a>' in body


# --- following and feeds ----------------------------------------------------------------------

def test_follow_then_see_posts_in_home_feed(client, make_user, post_as, run_jobs):
    alice, bob = make_user("alice"), make_user("bob")
    client.force_login(bob)
    profile = client.get(reverse("web:profile", args=["alice"])).content.decode()
    assert 'action="/@alice/follow"' in profile
    with run_jobs():
        response = client.post(reverse("web:account_action", args=["alice", "follow"]))
    assert response.status_code == 302
    assert Follow.objects.filter(follower=bob, target=alice).exists()
    with run_jobs():
        post_as(alice, "fresh recommendation")
    body = client.get(reverse("web:home")).content.decode()
    assert "fresh recommendation" in body
    profile = client.get(reverse("web:profile", args=["alice"])).content.decode()
    assert 'action="/@alice/unfollow"' in profile


def test_follow_with_htmx_returns_the_button_fragment(client, make_user):
    make_user("alice")
    client.force_login(make_user("bob"))
    response = client.post(reverse("web:account_action", args=["alice", "follow"]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and 'action="/@alice/unfollow"' in body
    assert "hx-swap-oob" not in body  # not from the profile page: no counts to update there


def test_follow_on_the_profile_updates_its_follower_count(client, make_user):
    alice = make_user("alice")
    client.force_login(make_user("bob"))
    on_profile = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/@alice"}
    body = client.post(reverse("web:account_action", args=["alice", "follow"]), **on_profile).content.decode()
    assert f'id="counts-{alice.pk}" hx-swap-oob="true"' in body and "<b>1</b> follower" in body
    body = client.post(reverse("web:account_action", args=["alice", "unfollow"]), **on_profile).content.decode()
    assert "<b>0</b> followers" in body and 'action="/@alice/follow"' in body


def test_follow_self_is_a_422_message(client, make_user):
    client.force_login(make_user("bob"))
    response = client.post(reverse("web:account_action", args=["bob", "follow"]))
    assert response.status_code == 422
    assert "You cannot follow yourself." in response.content.decode()
    assert Follow.objects.count() == 0


def test_block_and_mute_and_unknown_action(client, make_user, post_as):
    alice, bob = make_user("alice"), make_user("bob")
    post_as(alice, "alice speaks")
    client.force_login(bob)
    assert client.post(reverse("web:account_action", args=["alice", "mute"])).status_code == 302
    assert "alice speaks" not in client.get(reverse("web:public")).content.decode()
    client.post(reverse("web:account_action", args=["alice", "unmute"]))
    assert "alice speaks" in client.get(reverse("web:public")).content.decode()
    client.post(reverse("web:account_action", args=["alice", "block"]))
    profile = client.get(reverse("web:profile", args=["alice"])).content.decode()
    assert 'action="/@alice/unblock"' in profile
    assert client.post(reverse("web:account_action", args=["alice", "explode"])).status_code == 404


def test_unknown_profile_is_404(client):
    response = client.get("/@ghost")
    assert response.status_code == 404
    assert "Account not found." in response.content.decode()


def test_followers_and_following_lists(client, make_user):
    alice, bob = make_user("alice", display_name="Alice A"), make_user("bob", display_name="Bob B")
    social.do_follow(bob, alice)
    followers = client.get(reverse("web:followers", args=["alice"])).content.decode()
    assert "Bob B" in followers
    following = client.get(reverse("web:following", args=["bob"])).content.decode()
    assert "Alice A" in following
    assert "Not following anyone yet." in client.get(reverse("web:following", args=["alice"])).content.decode()


# --- post page, replies, deletion -----------------------------------------------------------------

def test_post_page_with_thread_and_reply(client, make_user, post_as, run_jobs):
    alice, bob = make_user("alice"), make_user("bob")
    root = post_as(alice, "root post")
    post_as(bob, "@alice first reply", in_reply_to_id=root.pk)
    anon = client.get(reverse("web:post", args=[root.pk])).content.decode()
    assert "root post" in anon and "first reply" in anon and "Log in to reply" in anon
    client.force_login(bob)
    page = client.get(reverse("web:post", args=[root.pk])).content.decode()
    assert f'name="in_reply_to" value="{root.pk}"' in page
    with run_jobs():
        response = client.post(reverse("web:compose"), {"text": "second reply", "in_reply_to": root.pk})
    reply = Post.objects.get(text="second reply")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:post", args=[root.pk]) + f"#post-{reply.pk}"
    assert Post.objects.filter(in_reply_to=root).count() == 2
    assert "second reply" in client.get(reverse("web:post", args=[root.pk])).content.decode()


def test_reply_too_long_keeps_thread_and_text(client, make_user, post_as):
    alice = make_user("alice")
    root = post_as(alice, "root post")
    client.force_login(make_user("bob"))
    response = client.post(reverse("web:compose"), {"text": "y" * 2001, "in_reply_to": root.pk})
    assert response.status_code == 422
    assert "root post" in response.content.decode()
    assert Post.objects.count() == 1


def test_missing_post_is_404(client):
    assert client.get(reverse("web:post", args=[123456789])).status_code == 404


def test_private_post_is_hidden_from_strangers(client, make_user, post_as):
    alice = make_user("alice")
    post = post_as(alice, "secret", visibility="private")
    assert client.get(reverse("web:post", args=[post.pk])).status_code == 404
    client.force_login(make_user("bob"))
    assert client.get(reverse("web:post", args=[post.pk])).status_code == 404


def test_cannot_delete_someone_elses_post(client, make_user, post_as):
    alice = make_user("alice")
    post = post_as(alice, "mine")
    client.force_login(make_user("bob"))
    response = client.post(reverse("web:delete_post", args=[post.pk]))
    assert response.status_code == 404
    assert Post.objects.filter(pk=post.pk).exists()
    assert f'action="/posts/{post.pk}/delete"' not in client.get(reverse("web:public")).content.decode()


def test_delete_own_post(client, make_user, post_as):
    alice = make_user("alice")
    post = post_as(alice, "mine")
    client.force_login(alice)
    assert client.get(reverse("web:delete_post", args=[post.pk])).status_code == 405
    response = client.post(reverse("web:delete_post", args=[post.pk]))
    assert response.status_code == 302
    assert not Post.objects.filter(pk=post.pk).exists()


# --- interactions -----------------------------------------------------------------------------

def test_like_repost_bookmark_without_js(client, make_user, post_as, run_jobs):
    alice, bob, carol = make_user("alice"), make_user("bob", display_name="Bob B"), make_user("carol")
    post = post_as(alice, "great lipstick")
    social.do_follow(carol, bob)
    client.force_login(bob)
    for action in ("like", "bookmark"):
        response = client.post(reverse("web:post_action", args=[post.pk, action]), {"next": "/public"})
        assert response.status_code == 302 and response["Location"] == "/public"
    with run_jobs():
        client.post(reverse("web:post_action", args=[post.pk, "repost"]))
    assert Favourite.objects.filter(user=bob, post=post).exists()
    assert Bookmark.objects.filter(user=bob, post=post).exists()
    assert Post.objects.filter(author=bob, reblog_of=post).exists()
    assert Notification.objects.filter(recipient=alice, type="favourite").exists()
    public = client.get(reverse("web:public")).content.decode()
    assert f'action="/posts/{post.pk}/unlike"' in public and f'action="/posts/{post.pk}/unbookmark"' in public
    client.force_login(carol)
    home = client.get(reverse("web:home")).content.decode()
    assert "Bob B reposted" in home and "great lipstick" in home


def test_like_with_htmx_returns_action_fragment(client, make_user, post_as):
    post = post_as(make_user("alice"), "hello")
    client.force_login(make_user("bob"))
    response = client.post(reverse("web:post_action", args=[post.pk, "like"]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and f'/posts/{post.pk}/unlike' in body and "♥" in body
    response = client.post(reverse("web:post_action", args=[post.pk, "unlike"]), HTTP_HX_REQUEST="true")
    assert f'/posts/{post.pk}/like"' in response.content.decode()
    assert not Favourite.objects.exists()


def test_repost_of_private_post_is_refused(client, make_user, post_as):
    alice, bob = make_user("alice"), make_user("bob")
    social.do_follow(bob, alice)
    post = post_as(alice, "followers only", visibility="private")
    client.force_login(bob)
    response = client.post(reverse("web:post_action", args=[post.pk, "repost"]), HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert response["HX-Retarget"] == "#flash"
    assert "Followers-only posts cannot be reposted." in response.content.decode()
    assert not Post.objects.filter(reblog_of=post).exists()


def test_interactions_need_login(client, make_user, post_as):
    post = post_as(make_user("alice"), "hello")
    response = client.post(reverse("web:post_action", args=[post.pk, "like"]))
    assert response.status_code == 302 and response["Location"].startswith("/login")
    assert not Favourite.objects.exists()


# --- other pages ------------------------------------------------------------------------------

def test_bookmarks_page(client, make_user, post_as):
    alice, bob = make_user("alice"), make_user("bob")
    post = post_as(alice, "keep this one")
    client.force_login(bob)
    assert "No bookmarks yet" in client.get(reverse("web:bookmarks")).content.decode()
    social.do_bookmark(bob, post)
    assert "keep this one" in client.get(reverse("web:bookmarks")).content.decode()


def test_notifications_page_marks_read(client, make_user, post_as):
    alice, bob = make_user("alice"), make_user("bob", display_name="Bob B")
    social.do_follow(bob, alice)
    post = post_as(alice, "like me")
    social.do_favourite(bob, post)
    client.force_login(alice)
    home = client.get(reverse("web:home")).content.decode()
    assert '<span class="badge">2</span>' in home
    body = client.get(reverse("web:notifications")).content.decode()
    assert "Bob B</a> followed you" in body and "Bob B</a> liked your post" in body
    assert not Notification.objects.filter(recipient=alice, read=False).exists()
    assert 'class="badge"' not in client.get(reverse("web:home")).content.decode()


def test_search_page(client, make_user, post_as):
    alice = make_user("alice", display_name="Alice Wonder")
    post_as(alice, "The best #skincare routine for winter")
    empty = client.get(reverse("web:search"))
    assert empty.status_code == 200
    body = client.get(reverse("web:search"), {"q": "ali"}).content.decode()
    assert "Alice Wonder" in body
    body = client.get(reverse("web:search"), {"q": "skin"}).content.decode()
    assert 'href="/tags/skincare"' in body
    body = client.get(reverse("web:search"), {"q": "winter routine"}).content.decode()
    assert "The best" in body
    assert "No matching people." in client.get(reverse("web:search"), {"q": "zzzz"}).content.decode()


def test_tag_timeline(client, make_user, post_as):
    alice = make_user("alice")
    post_as(alice, "new #Lipstick day")
    post_as(alice, "untagged words")
    body = client.get(reverse("web:tag", args=["lipstick"])).content.decode()
    assert "new" in body and "untagged words" not in body
    assert "<title>#lipstick · Tastemaker</title>" in body
    assert "No posts with #nothing yet." in client.get(reverse("web:tag", args=["nothing"])).content.decode()


def test_public_timeline_pagination(client, make_user, post_as):
    alice = make_user("alice")
    posts = [post_as(alice, f"number {n:02d}") for n in range(25)]
    first = client.get(reverse("web:public")).content.decode()
    assert "number 24" in first and "number 05" in first and "number 04" not in first
    older = f'href="/public?max_id={posts[5].pk}"'
    assert older in first and "Older posts" in first
    second = client.get(reverse("web:public"), {"max_id": posts[5].pk}).content.decode()
    assert "number 04" in second and "number 00" in second and "number 05" not in second
    assert "Older posts" not in second
    more = client.get(reverse("web:public"), {"max_id": posts[5].pk}, HTTP_HX_REQUEST="true")
    assert "<html" not in more.content.decode() and "number 04" in more.content.decode()
    assert "HX-Request" in more["Vary"]


def test_pagination_keeps_limit_and_rejects_garbage(client, make_user, post_as):
    alice = make_user("alice")
    posts = [post_as(alice, f"p{n}") for n in range(3)]
    body = client.get(reverse("web:profile", args=["alice"]), {"limit": 2}).content.decode()
    assert f"max_id={posts[1].pk}" in body and "limit=2" in body
    bad = client.get(reverse("web:public"), {"max_id": "abc"})
    assert bad.status_code == 422
    assert "max_id must be an integer id" in bad.content.decode()


@pytest.mark.parametrize("path", ["/media/../secret_key", "/media/%2e%2e/secret_key", "/media/x/../../secret_key",
                                  "/media/nothing.jpg", "/media/notes.txt"])
def test_media_view_refuses_traversal_and_other_files(client, path):
    (settings.MEDIA_ROOT).mkdir(parents=True, exist_ok=True)
    (settings.MEDIA_ROOT / "notes.txt").write_text("private")
    assert client.get(path).status_code == 404


def test_forms_on_a_post_result_page_come_back_to_a_get_page(client, make_user, post_as):
    post = post_as(make_user("alice"), "hello")
    client.force_login(make_user("bob"))
    fragment = client.post(reverse("web:post_action", args=[post.pk, "like"]), {"next": "/tags/x?max_id=5"},
                           HTTP_HX_REQUEST="true").content.decode()
    assert 'name="next" value="/tags/x?max_id=5"' in fragment
    failed = client.post(reverse("web:compose"), {"text": ""}).content.decode()
    assert 'name="next" value="/compose"' not in failed and 'name="next" value="/"' in failed


def _stored_files() -> set[str]:
    from pathlib import Path

    root = Path(settings.MEDIA_ROOT)
    return {str(p) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def test_compose_refused_image_still_counts_and_leaves_no_file(client, make_user, png_bytes, png_bomb, settings):
    """Issue 10, item 6: every image tried counts against RATE_MEDIA, even when the post is then refused."""
    settings.RATE_MEDIA = "3/300"
    client.force_login(make_user("bob"))
    before = _stored_files()
    bomb = SimpleUploadedFile("bomb.png", png_bomb(6300, 6300), content_type="image/png")
    response = client.post(reverse("web:compose"), {"text": "pics", "images": [image(png_bytes), bomb]})
    assert response.status_code == 422
    assert "too many pixels" in response.content.decode()
    assert Post.objects.count() == 0 and Media.objects.count() == 0
    assert _stored_files() == before  # the good image made before the refusal is gone too
    response = client.post(reverse("web:compose"), {"text": "again", "images": [image(png_bytes), image(png_bytes)]})
    assert response.status_code == 429  # two counted above, the limit is three
    assert Post.objects.count() == 0 and Media.objects.count() == 0


def test_reloading_compose_after_a_refused_post_goes_home_not_405(client, make_user):
    client.force_login(make_user("bob"))
    refused = client.post(reverse("web:compose"), {"text": ""})
    assert refused.status_code == 422
    again = client.get(reverse("web:compose"))  # the browser's reload / address bar after the refusal
    assert again.status_code == 302 and again["Location"] == reverse("web:home")
    assert not Post.objects.exists()
    client.logout()
    assert client.get(reverse("web:compose")).status_code == 302  # still to the login page, as before
