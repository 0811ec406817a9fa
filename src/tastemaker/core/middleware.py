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
