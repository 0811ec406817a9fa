"""Account write paths: registration, profile, password, authorised apps."""

from __future__ import annotations

import re

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tastemaker.core.errors import ValidationFailed
from tastemaker.core.languages import normalise_language
from tastemaker.social.media import process_image

from .models import User

USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{1,30}$")
RESERVED = {
    "admin", "administrator", "api", "oauth", "static", "media", "settings", "login", "logout", "signup",
    "search", "notifications", "home", "public", "tags", "explore", "about", "go", "root", "support",
    "tastemaker", "operator", "system", "i18n", "well-known", "staff", "help",
}
# normalise_language: the one reading of a language code is core.languages' (re-exported for the callers here)


def validate_username(username: str) -> str:
    username = (username or "").strip()
    if not username:
        raise ValidationFailed(_("Choose a username."), field="username")
    if not USERNAME_RE.match(username):
        raise ValidationFailed(
            _("A username has 1 to 30 characters: letters, digits and underscores only."), field="username"
        )
    if username.lower() in RESERVED:
        raise ValidationFailed(_("This username is reserved."), field="username")
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationFailed(_("This username is taken."), field="username")
    return username


def _validate_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), field="password") from None


def register(*, username: str, email: str, password: str, display_name: str = "", language: str = "en",
             agreement: bool = True) -> User:
    if not agreement:
        raise ValidationFailed(_("You must agree to the rules of this server."), field="agreement")
    username = validate_username(username)
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationFailed(_("Enter a valid e-mail address."), field="email") from None
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationFailed(_("This e-mail address is already registered."), field="email")
    if len(display_name or "") > 60:
        raise ValidationFailed(_("A display name has at most 60 characters."), field="display_name")
    user = User(username=username, email=email, display_name=(display_name or "").strip(),
                language=normalise_language(language))
    _validate_password(password or "", user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # a concurrent registration took the name or the address (both unique)
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationFailed(_("This e-mail address is already registered."), field="email") from None
        raise ValidationFailed(_("This username is taken."), field="username") from None
    return user


def update_profile(user: User, *, display_name: str | None = None, bio: str | None = None,
                   language: str | None = None, interests: list[str] | None = None,
                   avatar: bytes | None = None, header: bytes | None = None,
                   locked: bool | None = None, bot: bool | None = None) -> User:
    changed: list[str] = []
    was_locked = user.locked
    try:
        _apply_profile(user, changed, display_name, bio, language, interests, avatar, header, locked, bot)
    except ValidationFailed:
        if changed:  # a refused update leaves the caller's object as it was, not half-changed
            user.refresh_from_db(fields=changed)
        raise
    if changed:
        user.save(update_fields=changed)
    if was_locked and not user.locked:  # unlocking accepts the pending follow requests (as Mastodon)
        from tastemaker.social.services import do_authorize_all_follow_requests

        do_authorize_all_follow_requests(user)
    return user


def _apply_profile(user, changed, display_name, bio, language, interests, avatar, header, locked, bot) -> None:
    if display_name is not None:
        if len(display_name) > 60:
            raise ValidationFailed(_("A display name has at most 60 characters."), field="display_name")
        user.display_name = display_name.strip()
        changed.append("display_name")
    if bio is not None:
        if len(bio) > 500:
            raise ValidationFailed(_("A bio has at most 500 characters."), field="note")
        user.bio = bio
        changed.append("bio")
    if language is not None:
        user.language = normalise_language(language)
        changed.append("language")
    if interests is not None:
        cleaned = []
        for item in interests:
            item = str(item).strip().lower()
            if not item or len(item) > 40:
                raise ValidationFailed(_("Each interest has 1 to 40 characters."), field="interests")
            if item not in cleaned:
                cleaned.append(item)
        if len(cleaned) > 20:
            raise ValidationFailed(_("At most 20 interests."), field="interests")
        user.interests = cleaned
        changed.append("interests")
    if locked is not None:
        user.locked = bool(locked)
        changed.append("locked")
    if bot is not None:
        user.bot = bool(bot)
        changed.append("bot")
    # images are validated before anything is saved, so a bad one changes nothing
    if avatar is not None:
        user.avatar = process_image(avatar, user=user)["preview"]
        changed.append("avatar")
    if header is not None:
        user.header = process_image(header, user=user)["file"]
        changed.append("header")


def change_password(user: User, *, old_password: str, new_password: str) -> None:
    """Set a new password. Saving it revokes every OAuth token of the account (``User.save``) and
    ends its other sessions (their session hash no longer matches); the web keeps its own session."""
    if not user.check_password(old_password or ""):
        raise ValidationFailed(_("Your current password is not correct."), field="old_password")
    _validate_password(new_password or "", user)
    user.set_password(new_password)
    user.save(update_fields=["password"])


def revoke_tokens(user: User, *, application=None) -> int:
    """Revoke every OAuth access and refresh token and pending authorization code of ``user`` (of one
    ``application`` only, when given). Returns how many access tokens were revoked."""
    from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model

    only = {"user": user}
    if application is not None:
        only["application"] = application
    access = get_access_token_model().objects.filter(**only)
    now = timezone.now()
    with transaction.atomic():
        get_refresh_token_model().objects.filter(revoked__isnull=True, **only).update(revoked=now, updated=now)
        count = access.count()
        access.delete()
        get_grant_model().objects.filter(**only).delete()
    return count
