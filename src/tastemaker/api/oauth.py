"""OAuth 2 endpoints (django-oauth-toolkit), shaped the way Mastodon clients expect them."""

from __future__ import annotations

import json
import time

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider import views as dot

from tastemaker.core.errors import RateLimited
from tastemaker.core.safeinput import request_json

OOB = "urn:ietf:wg:oauth:2.0:oob"


class AuthorizationView(dot.AuthorizationView):
    """The consent page; for the out-of-band redirect URI it shows the code instead of redirecting."""

    def redirect(self, redirect_to, application):
        if redirect_to.startswith(OOB):
            from urllib.parse import parse_qs, urlparse

            from django.shortcuts import render

            query = parse_qs(urlparse(redirect_to).query)
            if "code" not in query:  # refused (invalid_scope) or cancelled (access_denied): say so, no empty code
                error = {"error": query.get("error", ["invalid_request"])[0],
                         "description": query.get("error_description", [""])[0]}
                return render(self.request, "oauth2_provider/authorize.html",
                              {"error": error, "application": application}, status=400)
            return render(self.request, "oauth2_provider/oob_code.html",
                          {"code": query["code"][0], "application": application})
        return super().redirect(redirect_to, application)


_token_view = dot.TokenView.as_view()
_revoke_view = dot.RevokeTokenView.as_view()


@csrf_exempt
def token(request):
    """POST /oauth/token: authorization_code, password, client_credentials, refresh_token.

    The password grant is rate-limited like every log-in (per IP and per account); a JSON body is accepted too.
    """
    if request.method != "POST":
        return JsonResponse({"error": "Use POST"}, status=405)
    if request.META.get("CONTENT_TYPE", "").startswith("application/json"):
        try:
            body = request_json(request) if request.body else {}  # checked text (core.safeinput)
        except ValueError:
            return JsonResponse({"error": "invalid_request", "error_description": "Malformed JSON"}, status=400)
        if not isinstance(body, dict):
            return JsonResponse({"error": "invalid_request", "error_description": "Expected an object"}, status=400)
        from urllib.parse import urlencode

        request.META["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
        request._body = urlencode({k: v for k, v in body.items() if isinstance(v, (str, int))}).encode()
        request._stream = None
        if hasattr(request, "_post"):
            del request._post
    try:
        # the password grant goes through accounts.backends: the log-in limits (per IP and per account)
        response = _token_view(request)
    except RateLimited as exc:
        resp = JsonResponse({"error": exc.message}, status=429)
        resp["Retry-After"] = str(exc.retry_after)
        return resp
    if response.status_code == 200:
        data = json.loads(response.content)
        data["created_at"] = int(time.time())
        new = JsonResponse(data)
        for header in ("Cache-Control", "Pragma"):
            if header in response:
                new[header] = response[header]
        return new
    return response


@csrf_exempt
def revoke(request):
    if request.method != "POST":
        return JsonResponse({"error": "Use POST"}, status=405)
    response = _revoke_view(request)
    if response.status_code == 200:
        return JsonResponse({})
    return response


def authorization_server_metadata(request):
    base = request.build_absolute_uri("/").rstrip("/")
    return JsonResponse({
        "issuer": base + "/",
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "app_registration_endpoint": f"{base}/api/v1/apps",
        "scopes_supported": ["read", "write", "follow", "push", "profile", "payments", "stores"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": ["authorization_code", "password", "client_credentials", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256", "plain"],
        "service_documentation": f"{base}/api/docs",
    })


urlpatterns = [
    path("oauth/authorize", AuthorizationView.as_view(), name="oauth-authorize"),
    path("oauth/authorize/", AuthorizationView.as_view()),
    path("oauth/token", token, name="oauth-token"),
    path("oauth/revoke", revoke, name="oauth-revoke"),
    path(".well-known/oauth-authorization-server", authorization_server_metadata, name="oauth-metadata"),
]
