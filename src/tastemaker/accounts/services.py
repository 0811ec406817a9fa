"""Account write paths: registration, profile, password, authorised apps."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tastemaker.core.errors import ValidationFailed
from tastemaker.core.languages import normalise_language
from tastemaker.images.intake import process_image
from tastemaker.trust import spam

from . import hooks
from .models import CreditChange, MessagesFrom, User
from .tokens import revoke_tokens

if TYPE_CHECKING:
    from .models import OAuthApplication

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
                   locked: bool | None = None, bot: bool | None = None, messages_from: str | None = None) -> User:
    changed: list[str] = []
    was_locked = user.locked
    try:
        _apply_profile(user, changed, display_name, bio, language, interests, avatar, header, locked, bot)
        if messages_from is not None:  # who may send direct messages (social enforces it)
            if messages_from not in MessagesFrom.values:
                raise ValidationFailed(_("Who can message you must be everyone, following or nobody."),
                                       field="messages_from")
            user.messages_from = messages_from
            changed.append("messages_from")
    except ValidationFailed:
        if changed:  # a refused update leaves the caller's object as it was, not half-changed
            user.refresh_from_db(fields=changed)
        raise
    if changed:
        user.save(update_fields=changed)
    if was_locked and not user.locked:  # social accepts the pending follow requests (as Mastodon does)
        hooks.unlocked(user=user)
    return user


def _refuse_spam(user: User, field: str, label: str, text: str) -> None:
    """The spam filter (``trust.spam``) on a profile field: a keyword line is refused with a 422 naming the
    field, and reported (``accounts.rule_offence``, passed on by social as ``social.rule_offence``)."""
    if not settings.RULES_ENABLED or not text:
        return
    verdict = spam.check_text(text)
    if not verdict.spam:
        return
    hooks.rule_offence(user=user, kind=verdict.kind, detail=f"{field}: {verdict.summary()}", text=text)
    raise ValidationFailed(_("Your %(field)s looks like a spam keyword list (%(why)s) and was not saved.")
                           % {"field": label, "why": "; ".join(verdict.reasons[:2])}, field=field)


def _apply_profile(user: User, changed: list[str], display_name: str | None, bio: str | None, language: str | None,
                   interests: list[str] | None, avatar: bytes | None, header: bytes | None, locked: bool | None,
                   bot: bool | None) -> None:
    if display_name is not None:
        if len(display_name) > 60:
            raise ValidationFailed(_("A display name has at most 60 characters."), field="display_name")
        _refuse_spam(user, "display_name", _("display name"), display_name)
        user.display_name = display_name.strip()
        changed.append("display_name")
    if bio is not None:
        if len(bio) > 500:
            raise ValidationFailed(_("A bio has at most 500 characters."), field="note")
        _refuse_spam(user, "note", _("bio"), bio)
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


# --- client applications and their tokens (POST /api/v1/apps, POST /api/v1/accounts) ----------

def check_app_registration(redirect_uris: list[str] | str, scopes: str, website: str | None) -> tuple[list[str], list[str], str]:
    """An app's redirect URIs (a list, or one string of them separated by white space), its scopes (read
    when none) and its website, checked: (uris, scopes, website), or a 422 naming the field."""
    from .oauth import redirect_uri_problem

    uris = redirect_uris if isinstance(redirect_uris, list) else redirect_uris.split()
    uris = [u.strip() for u in uris if u.strip()]
    if not uris:
        raise ValidationFailed("redirect_uris: at least one redirect URI is required", field="redirect_uris")
    for uri in uris:
        problem = redirect_uri_problem(uri)
        if problem:
            raise ValidationFailed(f"redirect_uris: {uri!r} {problem}", field="redirect_uris")
        if len(uri) > 2000:
            raise ValidationFailed("redirect_uris: a URI is too long", field="redirect_uris")
    wanted = scopes.split() or ["read"]
    allowed = set(cast("dict[str, str]", settings.OAUTH2_PROVIDER["SCOPES"]))
    for scope in wanted:
        if scope.split(":")[0] not in allowed:
            raise ValidationFailed(f"scopes: unknown scope {scope!r}", field="scopes")
    website = (website or "").strip()
    if website and not website.startswith(("http://", "https://")):
        raise ValidationFailed("website: must be an http(s) URL", field="website")
    return uris, wanted, website


def do_register_app(*, name: str, redirect_uris: list[str] | str, scopes: str, website: str | None
                    ) -> tuple[OAuthApplication, str, list[str], list[str]]:
    """Register a confidential client application (authorization code grant). Returns (app, its secret,
    its redirect URIs, its scopes): the secret is shown to the client this once."""
    import secrets

    from oauth2_provider.models import get_application_model

    uris, wanted, website = check_app_registration(redirect_uris, scopes, website)
    application = get_application_model()
    secret = secrets.token_urlsafe(32)
    app = application.objects.create(
        name=name.strip()[:200] or "app",
        client_type=application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(uris),
        client_secret=secret,
        website=website[:200],
        scopes=" ".join(wanted),
        skip_authorization=False,
    )
    return app, secret, uris, wanted


def do_issue_token(app: OAuthApplication, user: User, scope: str) -> tuple[str, object]:
    """A new access token of ``app`` for ``user``, living as long as its scopes allow; returns (raw token,
    row). Only its checksum is stored."""
    import secrets
    from datetime import timedelta

    from oauth2_provider.models import get_access_token_model, set_token_value

    from .oauth import token_lifetime

    raw = secrets.token_urlsafe(32)
    row = get_access_token_model()(user=user, application=app, scope=scope,
                                   expires=timezone.now() + timedelta(seconds=token_lifetime(scope.split())))
    set_token_value(row, raw)
    row.save()
    return raw, row


def do_register_with_token(app: OAuthApplication, scope: str, **fields: Any) -> tuple[User, str, object]:
    """Register an account (``register``'s fields) through a client app and give the app a token for it,
    both or neither: (user, raw token, token row)."""
    with transaction.atomic():
        user = register(**fields)
        raw, row = do_issue_token(app, user, scope)
    return user, raw, row


__all__ = ["change_password", "check_app_registration", "do_issue_token", "do_register_app", "do_register_with_token",
           "normalise_language", "register", "revoke_tokens", "update_profile",
           "validate_username"]


# --- credit score (issue 12) ------------------------------------------------------------------

def do_change_credit(user: User, delta: int, reason: str, *, note: str = "", case_id: int | None = None,
                     cap: int | None = None) -> CreditChange | None:
    """Move ``user``'s credit score by ``delta`` (clamped to 0..100, and when raising, to ``cap`` if given)
    and record the move, in one transaction with the row locked: the history always sums to the score.
    Returns the recorded change, or None when the clamp left nothing to move. Reaching 0 calls
    ``accounts.credit_exhausted`` (the moderation app suspends the account, audited)."""
    from .models import CreditReason
    from .standing import CREDIT_MAX

    reason = CreditReason(reason)
    with transaction.atomic():
        current = User.objects.select_for_update().values_list("credit_score", flat=True).get(pk=user.pk)
        upper = CREDIT_MAX if cap is None else min(CREDIT_MAX, max(cap, current))
        after = max(0, min(upper, current + int(delta)))
        moved = after - current
        if moved == 0:
            user.credit_score = current
            return None
        User.objects.filter(pk=user.pk).update(credit_score=after)
        user.credit_score = after
        change = CreditChange.objects.create(account_id=user.pk, delta=moved, score_after=after, reason=reason,
                                             note=note[:500], case_id=case_id)
        if after == 0 and current > 0:
            hooks.credit_exhausted(user=user, case_id=case_id)
    return change
