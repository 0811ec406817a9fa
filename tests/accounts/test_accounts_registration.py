"""Registration rules, the password hasher, and logging in by username or e-mail."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import check_password

from tastemaker.accounts.models import User
from tastemaker.accounts.services import RESERVED, normalise_language, register
from tastemaker.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db
GOOD = "Corr3ct-Horse-Battery"


def reg(**kw):
    data = {"username": "alice", "email": "alice@example.org", "password": GOOD}
    data.update(kw)
    return register(**data)


def refused(field: str, **kw) -> ValidationFailed:
    before = User.objects.count()
    with pytest.raises(ValidationFailed) as err:
        reg(**kw)
    assert err.value.field == field, err.value.message
    assert User.objects.count() == before  # nothing created
    return err.value


def test_register_creates_an_account_with_argon2():
    user = reg(display_name="  Alice W ", language="en")
    user.refresh_from_db()
    assert user.username == "alice"
    assert user.display_name == "Alice W"
    assert user.password.startswith("argon2")
    assert check_password(GOOD, user.password)
    assert user.is_active and not user.is_staff and not user.is_suspended
    assert (user.followers_count, user.following_count, user.statuses_count) == (0, 0, 0)


def test_production_settings_list_argon2_first():
    from tastemaker import settings as prod

    assert prod.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


@pytest.mark.parametrize("name", ["a", "A_1", "x" * 30, "Under_Score_99"])
def test_valid_usernames(name):
    assert reg(username=name, email=f"{name}@example.org").username == name


@pytest.mark.parametrize("name", ["", "   ", "x" * 31, "al ice", "al-ice", "al.ice", "ålice", "用户", "a@b", "alice\nbob"])
def test_invalid_username_charset_or_length(name):
    refused("username", username=name)


@pytest.mark.parametrize("name", sorted(n for n in RESERVED if n.replace("_", "").isalnum()))
def test_reserved_usernames_any_case(name):
    refused("username", username=name.upper())


def test_username_taken_case_insensitively():
    reg(username="Alice")
    err = refused("username", username="aLiCe", email="other@example.org")
    assert "taken" in err.message


def test_username_is_stripped():
    assert reg(username="  bob  ", email="bob@example.org").username == "bob"


@pytest.mark.parametrize("email", ["", "not-an-email", "a@", "@example.org", "a b@example.org"])
def test_invalid_email(email):
    refused("email", email=email)


def test_email_unique_case_insensitively():
    reg()
    refused("email", username="alice2", email="ALICE@Example.ORG")


@pytest.mark.parametrize("password", ["short1!", "password123", "12345678901", "alice-example"])
def test_password_validators(password):
    refused("password", password=password, email="alice-example@example.org")


def test_display_name_limit():
    refused("display_name", display_name="x" * 61)
    assert reg(display_name="x" * 60).display_name == "x" * 60


@pytest.mark.parametrize("given,stored", [("en", "en"), ("EN", "en"), ("zh", "zh-hans"), ("zh-CN", "zh-hans"),
                                          ("zh_cn", "zh-hans"), ("zh-Hans", "zh-hans"), (None, "en"), ("", "en")])
def test_language_normalised(given, stored):
    assert normalise_language(given) == stored


@pytest.mark.parametrize("language", ["fr", "klingon", "zh-tw"])
def test_unsupported_language_refused(language):
    refused("language", language=language)


def test_registration_stores_language():
    assert reg(language="zh").language == "zh-hans"


def test_agreement_required():
    refused("agreement", agreement=False)


# --- login ---------------------------------------------------------------------------------

def test_login_by_username_any_case_and_by_email_any_case():
    user = reg(username="Carol", email="Carol@Example.org")
    assert authenticate(username="Carol", password=GOOD) == user
    assert authenticate(username="carol", password=GOOD) == user
    assert authenticate(username="carol@example.org", password=GOOD) == user
    assert authenticate(username="CAROL@EXAMPLE.ORG", password=GOOD) == user


def test_login_refused_wrong_password_unknown_user_inactive():
    user = reg()
    assert authenticate(username="alice", password="wrong-password") is None
    assert authenticate(username="nobody", password=GOOD) is None
    assert authenticate(username="nobody@example.org", password=GOOD) is None
    assert authenticate(username="", password=GOOD) is None
    assert authenticate(username="alice", password="") is None
    # a suspended account signs in on the web to appeal (web.middleware keeps it to its credit page;
    # tests/web/test_suspended_session.py); an inactive one does not sign in at all
    user.is_active = False
    user.save()
    assert authenticate(username="alice", password=GOOD) is None


def test_natural_key_lookup_is_case_insensitive():
    user = reg(username="Dave", email="dave@example.org")
    assert User.objects.get_by_natural_key("DAVE") == user


def test_concurrent_registration_of_the_same_name_is_a_clear_error(monkeypatch):
    """Two sign-ups can both pass the "taken?" check; the database constraint decides, and the loser
    gets the same 422 as usual rather than a 500."""
    from tastemaker.accounts import services

    reg(username="Eve", email="eve@example.org")
    monkeypatch.setattr(services, "validate_username", lambda name: name)  # as if the check ran first
    err = refused("username", username="eve", email="eve2@example.org")
    assert "taken" in err.message
