"""Profile updates (limits, images) and password changes: a refused change changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from PIL import Image

from tastemaker.accounts.services import change_password, update_profile
from tastemaker.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db
OLD = "Corr3ct-Horse-Battery"
NEW = "Another-Str0ng-Passphrase"


def fresh(user):
    user.refresh_from_db()
    return user


def test_update_text_fields(make_user):
    user = make_user()
    update_profile(user, display_name=" Zoë 小红 ", bio="Beauty tips 美妆", language="zh", locked=True, bot=True,
                   interests=[" Beauty ", "beauty", "TECH"])
    user = fresh(user)
    assert user.display_name == "Zoë 小红"
    assert user.bio == "Beauty tips 美妆"
    assert user.language == "zh-hans"
    assert user.locked and user.bot
    assert user.interests == ["beauty", "tech"]


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"display_name": "x" * 61}, "display_name"),
        ({"bio": "x" * 501}, "note"),
        ({"language": "fr"}, "language"),
        ({"interests": [""]}, "interests"),
        ({"interests": ["x" * 41]}, "interests"),
        ({"interests": [f"topic{i}" for i in range(21)]}, "interests"),
    ],
)
def test_profile_limits_refused_and_nothing_saved(make_user, kwargs, field):
    user = make_user(display_name="Before")
    with pytest.raises(ValidationFailed) as err:
        update_profile(user, bio="changed too", **kwargs) if "bio" not in kwargs else update_profile(user, **kwargs)
    assert err.value.field == field
    user = fresh(user)
    assert user.display_name == "Before"
    assert user.bio == ""
    assert user.language == "en"
    assert user.interests == []


def test_profile_limits_at_the_edge_accepted(make_user):
    user = make_user()
    update_profile(user, display_name="d" * 60, bio="b" * 500, interests=[f"t{i}" for i in range(20)])
    user = fresh(user)
    assert len(user.display_name) == 60 and len(user.bio) == 500 and len(user.interests) == 20


def _stored(rel: str) -> Path:
    return Path(settings.MEDIA_ROOT) / rel


def test_avatar_and_header_are_processed(make_user, png_bytes):
    user = make_user()
    update_profile(user, avatar=png_bytes(size=(1200, 900)), header=png_bytes(size=(3000, 1000), fmt="JPEG"))
    user = fresh(user)
    assert user.avatar and user.header
    with Image.open(_stored(user.avatar)) as img:
        assert max(img.size) <= 480  # avatars use the small rendition
    with Image.open(_stored(user.header)) as img:
        assert max(img.size) <= settings.MEDIA_MAX_SIDE
        assert img.size == (2048, 683)


def test_bad_avatar_changes_nothing(make_user, png_bytes):
    user = make_user()
    update_profile(user, avatar=png_bytes())
    before = fresh(user).avatar
    with pytest.raises(ValidationFailed) as err:
        update_profile(user, display_name="New name", avatar=b"not an image at all")
    assert err.value.field == "file"
    user = fresh(user)
    assert user.avatar == before
    assert user.display_name == ""


def test_bad_header_after_good_avatar_changes_nothing(make_user, png_bytes):
    user = make_user()
    with pytest.raises(ValidationFailed):
        update_profile(user, avatar=png_bytes(), header=b"\x89PNG\r\n\x1a\n garbage")
    user = fresh(user)
    assert user.avatar == "" and user.header == ""


def test_change_password(make_user):
    user = make_user()
    change_password(user, old_password=OLD, new_password=NEW)
    user = fresh(user)
    assert user.password.startswith("argon2")
    assert authenticate(username=user.username, password=NEW) == user
    assert authenticate(username=user.username, password=OLD) is None


def test_change_password_wrong_old_password_changes_nothing(make_user):
    user = make_user()
    before = fresh(user).password
    with pytest.raises(ValidationFailed) as err:
        change_password(user, old_password="not-my-password", new_password=NEW)
    assert err.value.field == "old_password"
    assert fresh(user).password == before
    assert authenticate(username=user.username, password=OLD) == user


@pytest.mark.parametrize("new", ["short", "password123", "98765432101"])
def test_change_password_weak_new_password_changes_nothing(make_user, new):
    user = make_user()
    before = fresh(user).password
    with pytest.raises(ValidationFailed) as err:
        change_password(user, old_password=OLD, new_password=new)
    assert err.value.field == "password"
    assert fresh(user).password == before


def test_password_similar_to_username_refused(make_user):
    user = make_user("gardenlover")
    with pytest.raises(ValidationFailed):
        change_password(user, old_password=OLD, new_password="gardenlover1")


def test_refused_update_leaves_the_callers_object_unchanged(make_user):
    user = make_user(display_name="Before")
    with pytest.raises(ValidationFailed):
        update_profile(user, display_name="After", bio="new bio", language="fr")
    # the in-memory object (e.g. request.user re-rendered in a form) is not half-changed either
    assert user.display_name == "Before" and user.bio == "" and user.language == "en"
