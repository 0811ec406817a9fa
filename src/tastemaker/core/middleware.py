from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.translation import gettext as _

from .errors import RateLimited

GetResponse = Callable[[HttpRequest], HttpResponseBase]


class RateLimitedMiddleware:
    """Any RateLimited raised by a web view becomes 429 with Retry-After (the API has its own handler)."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RateLimited):
            response = HttpResponse(
                _("Too many requests: %(msg)s Try again in %(s)d seconds.")
                % {"msg": exception.message, "s": exception.retry_after},
                status=429,
                content_type="text/plain; charset=utf-8",
            )
            response["Retry-After"] = str(exception.retry_after)
            return response
        return None


class ApiTrailingSlashMiddleware:
    """Mastodon clients ask for both ``/api/v1/instance`` and ``/api/v1/instance/``: serve both."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        path = request.path_info
        if path.startswith("/api/") and path.endswith("/") and len(path) > 5:
            request.path_info = path.rstrip("/")
        return self.get_response(request)


class InputGuardMiddleware:
    """Refuse (400) any request whose path, query string or body carries text that cannot be stored or
    rendered: bad UTF-8, NUL, lone surrogates, JSON nested too deeply (``core.safeinput``). One place for
    every path: the API, OAuth (not a ninja view), partner webhooks and the web pages. JSON clients get
    ``{"error": ...}``, browsers a plain-text page. It runs after the locale middleware, so the message is
    in the user's language."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        from .safeinput import BadInput, check_request

        try:
            check_request(request)
        except BadInput as exc:
            return bad_input_response(request, exc.message)
        return self.get_response(request)


def wants_json(request: HttpRequest) -> bool:
    """API, OAuth and JSON callers get errors as JSON; browsers get text."""
    path = request.path_info
    return (path.startswith(("/api/", "/oauth/", "/.well-known/"))
            or "json" in (request.content_type or "") or "application/json" in request.META.get("HTTP_ACCEPT", ""))


def bad_input_response(request: HttpRequest, message: str) -> HttpResponse:
    if wants_json(request):
        from django.http import JsonResponse

        return JsonResponse({"error": message}, status=400)
    return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


class ProxyHeadersMiddleware:
    """Forget ``X-Forwarded-For`` and ``X-Forwarded-Proto`` unless the peer is one of
    ``TRUSTED_PROXIES``: anyone can send them, and only a proxy we run may speak for the client
    (its address for the rate limits, ``https`` for ``request.is_secure()``). Goes first."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        from django.conf import settings

        from .proxies import peer_is_trusted_proxy

        if not settings.TRUSTED_PROXIES or not peer_is_trusted_proxy(request):
            request.META.pop("HTTP_X_FORWARDED_FOR", None)
            request.META.pop("HTTP_X_FORWARDED_PROTO", None)
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """The ``Content-Security-Policy`` header (``CONTENT_SECURITY_POLICY``) on every response that
    lacks one. The pages carry no inline script or style, so the policy can forbid both; Django's
    own ``SecurityMiddleware`` sends HSTS, nosniff and the referrer policy."""

    def __init__(self, get_response: GetResponse) -> None:
        from django.conf import settings

        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response
