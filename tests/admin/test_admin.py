import pytest
from django.urls import reverse

from tastemaker.social.models import Post

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(make_user):
    return make_user("opsteam", is_staff=True, is_superuser=True)


def test_admin_pages_render_for_operators(client, operator, make_user):
    from tastemaker.social import services

    author = make_user("author")
    services.do_create_post(author, text="hello #admin")
    client.force_login(operator)
    for name in ("admin:accounts_user_changelist", "admin:social_post_changelist", "admin:social_hashtag_changelist",
                 "admin:social_notification_changelist", "admin:accounts_oauthapplication_changelist"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
    assert b"author" in client.get(reverse("admin:accounts_user_changelist")).content


def test_admin_is_closed_to_non_staff(client, make_user):
    client.force_login(make_user("fan"))
    response = client.get(reverse("admin:social_post_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_admin_delete_goes_through_the_service(client, operator, make_user):
    from tastemaker.social import services

    author = make_user("author")
    post = services.do_create_post(author, text="to be removed")
    client.force_login(operator)
    response = client.post(reverse("admin:social_post_delete", args=[post.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Post.objects.filter(pk=post.pk).exists()
    author.refresh_from_db()
    assert author.statuses_count == 0


def test_admin_cannot_suspend_past_the_audit_log(client, operator, make_user):
    """Suspension is a moderation action (audited, effects at once): the admin shows standing, never sets it."""
    target = make_user("spammer")
    client.force_login(operator)
    response = client.post(reverse("admin:accounts_user_changelist"),
                           {"action": "suspend", "_selected_action": [target.pk]})
    assert response.status_code in (200, 302)
    target.refresh_from_db()
    assert not target.is_suspended
    page = client.get(reverse("admin:accounts_user_change", args=[target.pk])).content.decode()
    assert 'name="is_suspended"' not in page and 'name="credit_score"' not in page
