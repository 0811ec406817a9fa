"""OAuth 2 rules of this server (django-oauth-toolkit is the engine; these are the decisions).

- **Scopes**: a token gets only scopes its app registered (``POST /api/v1/apps`` ``scopes``); a
  registered top-level scope covers its granular children (``read`` covers ``read:statuses``).
  Asking for more is refused with ``invalid_scope``, as Mastodon does.
- **Lifetimes**: access tokens live ``TOKEN_LIFETIME`` (30 days) and come with a refresh token;
  one carrying ``payments`` or ``stores`` (money and store secrets) lives ``MONEY_TOKEN_LIFETIME``
  (1 hour). Refresh tokens die ``REFRESH_TOKEN_LIFETIME`` after their access token expired. Every
  token of an account is revoked when its password changes (``revoke_tokens``).
- **Redirects**: besides https/http and the out-of-band ``urn:ietf:wg:oauth:2.0:oob``, an app may
  register a private-use scheme (``myapp://cb``, RFC 8252 section 7.1) for native apps, as on
  Mastodon; schemes that run code or read local data in a browser are refused.
"""

from __future__ import annotations

import re

from django.conf import settings
from oauth2_provider.oauth2_validators import OAuth2Validator

OOB = "urn:ietf:wg:oauth:2.0:oob"
WEB_SCHEMES = ("https", "http")
# never a redirect target: they run script, read local files or embed content in the browser
FORBIDDEN_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "blob", "about", "filesystem", "view-source",
                               "ws", "wss", "ftp", "mailto", "urn"})
SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.\-]*$")
ELEVATED_SCOPES = frozenset({"payments", "stores"})  # not part of read or write: short-lived tokens


def redirect_uri_problem(uri: str) -> str | None:
    """Why ``uri`` cannot be registered as a redirect URI, or None when it can."""
    if uri == OOB:
        return None
    scheme, sep, rest = uri.partition(":")
    scheme = scheme.lower()
    if not sep or not SCHEME_RE.match(scheme) or not rest:
        return "is not a valid URI"
    if scheme in WEB_SCHEMES:
        return None if rest.startswith("//") and len(rest) > 2 else "is not a valid URI"
    if scheme in FORBIDDEN_SCHEMES:
        return f"uses the scheme {scheme!r}, which cannot receive an authorization code"
    if "#" in uri:
        return "must not contain a fragment"
    return None


def native_schemes(redirect_uris: str) -> list[str]:
    """The private-use schemes among an app's registered redirect URIs."""
    found = []
    for uri in redirect_uris.split():
        scheme = uri.partition(":")[0].lower()
        if uri != OOB and scheme not in WEB_SCHEMES and redirect_uri_problem(uri) is None and scheme not in found:
            found.append(scheme)
    return found


def granted_by(registered: set[str], scope: str) -> bool:
    """Whether an app registered for ``registered`` may be given ``scope``."""
    return scope in registered or scope.split(":")[0] in registered


def token_lifetime(scopes) -> int:
    """Seconds an access token with ``scopes`` lives."""
    if ELEVATED_SCOPES & set(scopes):
        return settings.MONEY_TOKEN_LIFETIME
    return settings.TOKEN_LIFETIME


class Validator(OAuth2Validator):
    """Lets the password grant take an e-mail address or a username (Mastodon clients send e-mail)."""

    def validate_user(self, username, password, client, request, *args, **kwargs):
        from django.contrib.auth import authenticate

        # the Django request (with the client's address) goes to the backend: the log-in limits apply
        user = authenticate(self.build_http_request(request), username=username, password=password)
        if user is not None and user.is_active and not user.is_suspended:
            request.user = user
            return True
        return False

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        known = set(settings.OAUTH2_PROVIDER["SCOPES"])
        registered = set(client.scopes.split())
        return all(s.split(":")[0] in known and granted_by(registered, s) for s in scopes)

    def save_bearer_token(self, token, request, *args, **kwargs):
        # the lifetime follows the scopes; the response's expires_in is this same dict
        token["expires_in"] = token_lifetime(token.get("scope", "").split())
        return super().save_bearer_token(token, request, *args, **kwargs)
