from django.http import HttpResponse
from django.utils.translation import gettext as _

from .errors import RateLimited


class RateLimitedMiddleware:
    """Any RateLimited raised by a web view becomes 429 with Retry-After (the API has its own handler)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
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

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith("/api/") and path.endswith("/") and len(path) > 5:
            request.path_info = path.rstrip("/")
        return self.get_response(request)


class NulByteGuardMiddleware:
    """Refuse (400) text containing NUL characters: no database stores them in text columns
    (PostgreSQL raises), and no legitimate form field or query parameter carries one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from urllib.parse import unquote_to_bytes

        bad = "\x00" in request.path or b"\x00" in unquote_to_bytes(request.META.get("QUERY_STRING", ""))
        content_type = request.META.get("CONTENT_TYPE", "")
        if not bad and request.method in ("POST", "PUT", "PATCH"):
            if content_type.startswith("application/json"):
                body = request.body
                bad = b"\x00" in body or b"\\u0000" in body.lower()
            elif content_type.startswith("application/x-www-form-urlencoded"):
                bad = b"\x00" in unquote_to_bytes(request.body.replace(b"+", b" "))
            elif content_type.startswith("multipart/form-data") and request.method == "POST":
                _ = request.body  # keep the raw body readable for handlers that need it (size-capped by Django)
                bad = any("\x00" in value for values in request.POST.lists() for value in values[1])
        if bad:
            from django.http import HttpResponse, JsonResponse

            message = "The request contains a NUL character, which is not allowed in text."
            if request.path.startswith("/api/") or request.path.startswith("/oauth/"):
                return JsonResponse({"error": message}, status=400)
            return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class ProxyHeadersMiddleware:
    """Forget ``X-Forwarded-For`` and ``X-Forwarded-Proto`` unless the peer is one of
    ``TRUSTED_PROXIES``: anyone can send them, and only a proxy we run may speak for the client
    (its address for the rate limits, ``https`` for ``request.is_secure()``). Goes first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
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

    def __init__(self, get_response):
        from django.conf import settings

        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response
