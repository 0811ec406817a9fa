"""A suspended account's web session reaches only its credit page (to read why and appeal), the language
switch and log-out: every other page sends it there, every other request is refused. Its API tokens were
revoked and no new ones are issued (accounts.oauth, accounts.bearer)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

OPEN_PREFIXES = ("/settings/credit", "/logout", "/login", "/i18n/", "/static/", "/favicon")


class SuspendedAccountMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "is_suspended", False) \
                and not request.path.startswith(OPEN_PREFIXES):
            message = _("This account is suspended. You can read why and appeal on your credit page.")
            if request.path.startswith("/api/"):
                return JsonResponse({"error": message}, status=403)
            if request.method in ("GET", "HEAD"):
                return redirect(reverse("web:credit"))
            return HttpResponseForbidden(message)
        return self.get_response(request)
