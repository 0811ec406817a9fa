"""Web pages: sign-up leads to onboarding, picking verticals shows experts with reasons, following them
fills the home feed; who-to-follow, directory, discovery, interests and labels pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tastemaker.experts.models import ExpertApplication, LabelAppeal

pytestmark = pytest.mark.django_db


def test_signup_onboarding_follow_and_home_feed(client, make_creator, django_capture_on_commit_callbacks):
    b = make_creator("beautyqueen", "beauty")
    t = make_creator("techguy", "tech", lang="zh")
    make_creator("chef", "food")
    response = client.post(reverse("web:signup"), {"username": "newbie", "email": "n@example.org",
                                                   "password": "Corr3ct-Horse-Battery", "language": "en",
                                                   "agreement": "on"})
    assert response["Location"] == reverse("web:onboarding")
    page = client.get(reverse("web:onboarding")).content.decode()
    assert "Beauty" in page and "Gaming" in page
    response = client.post(reverse("web:onboarding"), {"verticals": ["beauty", "tech"]})
    assert response["Location"] == reverse("web:onboarding_experts")
    page = client.get(reverse("web:onboarding_experts")).content.decode()
    assert "@beautyqueen" in page and "@techguy" in page and "@chef" not in page
    assert "of recent posts are about" in page  # the reason
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("web:onboarding_experts"), {"follow": [str(b.pk), str(t.pk)]})
    assert response["Location"] == reverse("web:home")
    home = client.get(reverse("web:home")).content.decode()
    assert "No posts yet" not in home and "@beautyqueen" in home


def test_onboarding_needs_a_pick(client, make_user):
    client.force_login(make_user("u1"))
    assert client.post(reverse("web:onboarding"), {}).status_code == 422
    assert client.get(reverse("web:onboarding_experts"))["Location"] == reverse("web:onboarding")


def test_profile_shows_labels_with_reason_and_badge(client, make_creator, make_user):
    from tastemaker.experts.models import ExpertBadge, Vertical

    creator = make_creator("petpro", "pets")
    ExpertBadge.objects.create(user=creator, vertical=Vertical.objects.get(slug="pets"))
    page = client.get(reverse("web:profile", args=["petpro"])).content.decode()
    assert "Pets expert" in page and "ability-label" in page and "of recent posts are about Pets" in page


def test_profile_labels_in_chinese(client, make_creator):
    make_creator("chinese", "food", lang="zh")
    client.cookies["django_language"] = "zh-hans"
    page = client.get(reverse("web:profile", args=["chinese"])).content.decode()
    assert "美食" in page


def test_who_to_follow_box_and_page_and_dismiss(client, make_user, make_creator):
    from tastemaker.discovery.services import do_set_interests
    from tastemaker.experts.models import Vertical

    expert = make_creator("fitpro", "fitness")
    fan = make_user("fan")
    do_set_interests(fan, [Vertical.objects.get(slug="fitness")])
    client.force_login(fan)
    assert reverse("web:who_to_follow_box") in client.get(reverse("web:home")).content.decode()
    assert "@fitpro" in client.get(reverse("web:who_to_follow_box")).content.decode()
    assert "Expert in Fitness" in client.get(reverse("web:suggestions")).content.decode()
    response = client.post(reverse("web:dismiss_suggestion", args=[expert.pk]))
    assert response.status_code == 302
    assert "@fitpro" not in client.get(reverse("web:suggestions")).content.decode()


def test_directory_and_discover_pages(client, make_creator):
    make_creator("reader", "books")
    assert "@reader" in client.get(reverse("web:expert_directory", args=["books"])).content.decode()
    assert "reader" in client.get(reverse("web:discover", args=["books"])).content.decode()
    assert client.get(reverse("web:experts")).status_code == 200
    assert client.get(reverse("web:expert_directory", args=["nope"])).status_code == 404


def test_directory_has_follow_buttons_and_the_index_is_tiles(client, make_user, make_creator):
    from tastemaker.social.models import Follow

    reader = make_creator("reader", "books")
    anonymous = client.get(reverse("web:expert_directory", args=["books"])).content.decode()
    assert 'class="button primary follow-cta" href="/login?next=/experts/books"' in anonymous
    fan = make_user("fan")
    client.force_login(fan)
    page = client.get(reverse("web:expert_directory", args=["books"])).content.decode()
    assert 'action="/@reader/follow"' in page
    client.post("/@reader/follow", {"next": "/experts/books"})
    assert Follow.objects.filter(follower=fan, target=reader).exists()
    assert 'action="/@reader/unfollow"' in client.get(reverse("web:expert_directory", args=["books"])).content.decode()
    index = client.get(reverse("web:experts")).content.decode()
    assert index.count('class="card vertical-tile"') >= 12 and 'href="/discover/books"' in index
    assert 'href="/experts/books"' in index


def test_interests_page_shows_learned_and_edits(client, make_user, make_creator):
    from tastemaker.social.services import do_favourite

    user = make_user("liker")
    creator = make_creator("traveller", "travel")
    for post in creator.posts.all():
        do_favourite(user, post)
    client.force_login(user)
    page = client.get(reverse("web:interests")).content.decode()
    assert "Travel" in page and "learned" in page
    client.post(reverse("web:interests"), {"action": "remove", "vertical": "travel"})
    client.post(reverse("web:interests"), {"action": "save", "verticals": ["home"]})
    user.refresh_from_db()
    assert user.interests == ["home"]


def test_labels_page_appeal_and_apply(client, make_creator):
    creator = make_creator("carguy", "auto")
    client.force_login(creator)
    page = client.get(reverse("web:labels")).content.decode()
    assert "Auto" in page and "Apply for expert status" in page
    client.post(reverse("web:label_action", args=["appeal"]), {"vertical": "auto", "message": "wrong"})
    assert LabelAppeal.objects.filter(user=creator, status="pending").count() == 1
    response = client.post(reverse("web:label_action", args=["apply"]), {"vertical": "auto"})
    assert response.status_code == 422  # not enough followers yet: a clear message, not a 500
    assert not ExpertApplication.objects.exists()
    assert client.post(reverse("web:label_action", args=["refresh"])).status_code == 302
    assert client.post(reverse("web:label_action", args=["bogus"])).status_code == 404


def test_labels_show_the_posts_that_earned_them_as_text_and_terms_in_the_page_language(client, make_user,
                                                                                       django_capture_on_commit_callbacks):
    from html import unescape

    from tastemaker.experts.services import do_recompute_labels
    from tastemaker.social.services import do_create_post

    creator = make_user("skinfan")
    posts = ["这支防晒霜真的绝了，油皮夏天也不闷痘 #护肤", "换季脸颊泛红，只用温和洁面和修护面霜",
             "My sunscreen routine for oily skin: gel texture, no white cast", "新买的唇釉yyds，黄皮显白💄",
             "Retinol night, barrier cream in the morning. My skin has never been calmer."]
    with django_capture_on_commit_callbacks(execute=True):
        for text in posts:
            do_create_post(creator, text=text)
    do_recompute_labels(creator)
    client.force_login(creator)
    for url in (reverse("web:profile", args=["skinfan"]), reverse("web:labels")):
        page = unescape(client.get(url).content.decode())
        assert ">#1<" not in page and ">#2<" not in page
        assert sum(text[:30] in page for text in posts) >= 3, page  # the posts, as text
    import re

    def terms_shown(language: str, lead: str) -> str:
        client.cookies["django_language"] = language
        page = unescape(client.get(reverse("web:profile", args=["skinfan"])).content.decode())
        reason = page[page.index('class="reason"'):]
        return reason[reason.index(lead) + len(lead):].split(";")[0]

    chinese = terms_shown("zh-hans", "常提到")  # "often mentions", in the Chinese catalogue
    assert {"防晒霜", "唇釉", "面霜", "洁面", "黄皮"} & set(chinese.strip().split("、")), chinese
    assert not re.search("[a-z]", chinese, re.I), chinese  # no English term where Chinese ones exist
    english = terms_shown("en", "often mentions")
    assert {"sunscreen", "retinol", "oily skin"} & set(english.strip().split(", ")), english
    assert not re.search("[\u4e00-\u9fff]", english), english


def test_recompute_now_never_loads_the_labeler_in_the_request(client, make_creator, fresh_process, monkeypatch,
                                                              django_capture_on_commit_callbacks):
    from tastemaker.experts import labeler, tasks
    from tastemaker.experts.models import AbilityLabel

    creator = make_creator("waiting", "books", label=False)
    queued = []
    monkeypatch.setattr(tasks, "recompute_labels_task", queued.append)  # the job, as the consumer gets it
    client.force_login(creator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("web:label_action", args=["refresh"]), follow=True)
    assert response.status_code == 200 and "being recomputed" in response.content.decode()
    assert queued == [creator.pk]
    assert labeler._labeler is None  # the request neither loaded nor ran the model
    assert tasks.recompute_user(queued[0]) >= 1  # what the consumer then runs
    assert AbilityLabel.objects.filter(user=creator, vertical__slug="books").exists()


def _image_post(user, text, png_bytes, run):
    from tastemaker.experts.models import PostLabel, Vertical
    from tastemaker.social.services import do_create_post, do_upload_media

    media = do_upload_media(user, png_bytes(size=(120, 160)))
    with run(execute=True):
        post = do_create_post(user, text=text, media_ids=[media.pk])
    vertical = Vertical.objects.get(slug="food" if "recipe" in text else "pets")
    PostLabel.objects.update_or_create(post_id=post.pk, defaults={"vertical": vertical, "confidence": 0.9,
                                                                  "author": user})
    return post


def test_discover_waterfall_for_you_per_vertical_and_more(client, make_user, make_creator, png_bytes,
                                                         django_capture_on_commit_callbacks, settings):
    from tastemaker.discovery.services import do_set_interests
    from tastemaker.experts.models import Vertical
    from tastemaker.web import views_discovery

    chef = make_creator("chef", "food")
    vet = make_creator("vet", "pets")
    food = [_image_post(chef, f"My braised pork recipe, take {i}", png_bytes, django_capture_on_commit_callbacks)
            for i in range(3)]
    pet = _image_post(vet, "Our shelter dog's first walk", png_bytes, django_capture_on_commit_callbacks)
    page = client.get("/discover").content.decode()  # a visitor: every vertical, images only
    assert page.count('<li class="tile') == 4 and 'loading="lazy"' in page and 'srcset="' in page
    assert all(f'href="/posts/{p.pk}"' in page for p in [*food, pet])
    assert "braised pork" in page and "<html" in page

    fan = make_user("fan")
    do_set_interests(fan, [Vertical.objects.get(slug="pets")])
    client.force_login(fan)
    mine = client.get("/discover").content.decode()  # for you: pets only
    assert mine.count('<li class="tile') == 1 and f'href="/posts/{pet.pk}"' in mine
    food_page = client.get("/discover?v=food").content.decode()
    assert food_page.count('<li class="tile') == 3 and 'aria-current="page">' in food_page

    views_discovery.WATERFALL_PAGE = 2  # infinite scroll: the next tiles come as a fragment
    try:
        first = client.get("/discover?v=food").content.decode()
        assert first.count('<li class="tile"') == 2 and 'hx-trigger="revealed"' in first
        more = client.get("/discover?v=food&page=1", HTTP_HX_REQUEST="true").content.decode()
        assert "<html" not in more and more.count('<li class="tile"') == 1 and "revealed" not in more
    finally:
        views_discovery.WATERFALL_PAGE = 20
    assert client.get("/discover?v=nope").status_code == 404
    assert client.get("/discover?page=abc").status_code == 200  # a bad page number is the first page
    empty = client.get("/discover?v=books").content.decode()
    assert "No pictures in this vertical yet." in empty
