import pytest

from tastemaker.social import services as social


@pytest.fixture
def login(client):
    def do(user):
        client.force_login(user)
        return client

    return do


@pytest.fixture
def post_as():
    def make(user, text="hello", **kwargs):
        return social.do_create_post(user, text=text, **kwargs)

    return make
