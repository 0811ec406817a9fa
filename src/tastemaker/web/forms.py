"""Web forms: shape and size checks only; the domain rules live in the services. And the one way a page shows
an error next to a field (``show_error``)."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tastemaker.accounts.models import MessagesFrom
from tastemaker.core.errors import DomainError, RateLimited


class SignupForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=30,
                               help_text=_("Letters, digits and underscores, up to 30 characters."))
    email = forms.EmailField(label=_("E-mail"))
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput(render_value=False),
                               help_text=_("At least 8 characters; not only digits; not a common password."))
    display_name = forms.CharField(label=_("Display name"), max_length=60, required=False)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES, initial="en")
    # never ticked for the person: they tick it after the rules' link under it (web/signup.html)
    agreement = forms.BooleanField(label=_("I have read and agree to the rules of this server"), required=False,
                                   initial=False)


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username or e-mail"), max_length=254)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput)


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=60, required=False)
    bio = forms.CharField(label=_("Bio"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 4}))
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    avatar = forms.FileField(label=_("Avatar"), required=False)
    header = forms.FileField(label=_("Header image"), required=False)
    locked = forms.BooleanField(
        label=_("Approve new followers"), required=False,
        help_text=_("People ask to follow you, and see your followers-only posts only after you approve them. "
                    "Turning this off approves everyone waiting."))
    messages_from = forms.ChoiceField(
        label=_("Who can send you direct messages"), choices=MessagesFrom.choices, required=False,
        help_text=_("Messages from people you do not follow arrive as message requests, which you accept or "
                    "decline."))


class MessageForm(forms.Form):
    """A direct message (the inbox's reply box, and a new message from a profile)."""

    text = forms.CharField(label=_("Message"), required=False, strip=False, max_length=settings.POST_MAX_CHARS,
                           widget=forms.Textarea(attrs={"rows": 2}))


class PasswordForm(forms.Form):
    old_password = forms.CharField(label=_("Current password"), widget=forms.PasswordInput)
    new_password = forms.CharField(label=_("New password"), widget=forms.PasswordInput)
    new_password2 = forms.CharField(label=_("New password again"), widget=forms.PasswordInput)

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password2"):
            self.add_error("new_password2", _("The two new passwords do not match."))
        return data


class ComposeForm(forms.Form):
    text = forms.CharField(label=_("What are you recommending?"), required=False, strip=False,
                           widget=forms.Textarea(attrs={"rows": 3}))
    visibility = forms.ChoiceField(
        label=_("Visibility"), required=False,
        choices=[("public", _("Public")), ("unlisted", _("Unlisted")), ("private", _("Followers only")),
                 ("direct", _("Direct message"))],
    )
    in_reply_to = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)


# --- showing errors: the one way ------------------------------------------------------------
#
# Every page shows a refused input the same way: ``show_error(target, error, ...)`` puts the message next to
# the field it concerns. ``target`` is a Django form (its fields; anything else is a form-wide error) or, for
# the pages whose form is written out in the template (composer, stores, wallet), a ``FieldErrors`` dict that
# the template reads as ``errors.<field>``. ``error`` is a ``DomainError`` (its ``field``, mapped through
# ``fields``, says where it goes) or a message.

FieldErrors = dict[str, list[str]]


def error_text(exc: DomainError) -> str:
    """A domain error in words: a rate limit also says when to try again."""
    if isinstance(exc, RateLimited):
        return gettext("Slow down: %(msg)s Try again in %(s)d seconds.") % {"msg": exc.message, "s": exc.retry_after}
    return exc.message


def show_error(target: forms.BaseForm | FieldErrors, error: DomainError | str, *, at: str | None = None,
               fields: Mapping[str, str] | None = None) -> None:
    """Show ``error`` next to a field of ``target``.

    Where: with ``fields``, the field the service named mapped through it (a name it does not map goes to
    ``at``, or stays as named when there is no ``at``); without, ``at`` or else the field the service named.
    On a Django form a field it does not have means the form as a whole."""
    if isinstance(error, DomainError):
        message = error_text(error)
        named = error.field or ""
        field = fields.get(named, at or named) if fields is not None else (at or named)
    else:
        message, field = str(error), at or ""
    if isinstance(target, forms.BaseForm):
        target.add_error(field if field in target.fields else None, message)
    else:
        target.setdefault(field or "general", []).append(message)
