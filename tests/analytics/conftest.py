import pytest

BROWSER_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/131.0.0.0 Safari/537.36")
PHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.5 Mobile/15E148 Safari/604.1")


@pytest.fixture
def author_post(make_user):
    from tastemaker.social import services as social

    author = make_user("author")
    post = social.do_create_post(author, text="Best #notebook of the year")
    return author, post


@pytest.fixture
def impression():
    from tastemaker.analytics.services import EventIn

    def make(post, viewer=None, visitor="", **kw):
        kw.setdefault("surface", "home")
        kw.setdefault("device", "desktop")
        return EventIn(metric=kw.pop("metric", "impression"), subject_type="post", subject_id=post.pk,
                       viewer_id=viewer.pk if viewer else None, visitor=visitor, **kw)

    return make


# the API client (as in tests/api/conftest.py, which is not visible from this directory; oauth_app is the
# root conftest's)
@pytest.fixture
def api(oauth_app):
    import secrets
    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model

    class ApiClient:
        def __init__(self, token):
            self.client = Client()
            self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

        def get(self, path, data=None, **kw):
            return self.client.get(path, data, **self.headers, **kw)

        def post(self, path, data=None, **kw):
            return self.client.post(path, data or {}, content_type="application/json", **self.headers, **kw)

    def make(user=None, scope="read write follow push"):
        if user is None:
            return ApiClient(None)
        token = get_access_token_model().objects.create(
            user=user, application=oauth_app, token=secrets.token_urlsafe(24), scope=scope,
            expires=timezone.now() + timedelta(days=1)).token
        return ApiClient(token)

    return make
