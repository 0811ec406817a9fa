"""Web forms: shape and size checks only; the domain rules live in the services."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class SignupForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=30,
                               help_text=_("Letters, digits and underscores, up to 30 characters."))
    email = forms.EmailField(label=_("E-mail"))
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput(render_value=False),
                               help_text=_("At least 8 characters; not only digits; not a common password."))
    display_name = forms.CharField(label=_("Display name"), max_length=60, required=False)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES, initial="en")
    agreement = forms.BooleanField(label=_("I agree to the rules of this server"), required=False,
                                   initial=True)


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username or e-mail"), max_length=254)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput)


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=60, required=False)
    bio = forms.CharField(label=_("Bio"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 4}))
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    interests = forms.CharField(label=_("Interests"), required=False, max_length=1000,
                                help_text=_("Comma-separated, for example: beauty, tech, travel"))
    avatar = forms.FileField(label=_("Avatar"), required=False)
    header = forms.FileField(label=_("Header image"), required=False)
    locked = forms.BooleanField(
        label=_("Approve new followers"), required=False,
        help_text=_("People ask to follow you, and see your followers-only posts only after you approve them. "
                    "Turning this off approves everyone waiting."))

    def clean_interests(self) -> list[str]:
        raw = self.cleaned_data.get("interests") or ""
        return [part.strip() for part in raw.replace("，", ",").split(",") if part.strip()]


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
        choices=[("public", _("Public")), ("unlisted", _("Unlisted")), ("private", _("Followers only"))],
    )
    in_reply_to = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
