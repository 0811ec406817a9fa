"""Every error leaves the API in Mastodon's shape: ``{"error": "…"}`` with the right status."""

from __future__ import annotations

from django.http import Http404
from ninja.errors import AuthenticationError, HttpError, ValidationError

from tastemaker.core.errors import DomainError, RateLimited

# the error statuses each kind of operation can answer, declared in the OpenAPI schema
READ = (400, 401, 404, 422, 429)
WRITE = (400, 401, 403, 404, 422, 429)


def responses(ok: dict | None = None, codes=WRITE):
    from .schemas import Error

    out = dict(ok or {})
    for code in codes:
        out.setdefault(code, Error)
    return out


def _describe(errors: list[dict]) -> tuple[str, str | None]:
    if not errors:
        return "Invalid request", None
    first = errors[0]
    loc = [str(p) for p in first.get("loc", []) if p not in ("body", "query", "path", "form", "payload")]
    field = ".".join(loc) or None
    msg = first.get("msg", "is invalid")
    return (f"{field}: {msg}" if field else msg), field


def install(api) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request, exc: DomainError):
        resp = api.create_response(request, {"error": exc.message, "field": exc.field}, status=exc.status)
        if isinstance(exc, RateLimited):
            resp["Retry-After"] = str(exc.retry_after)
        return resp

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        message, field = _describe(exc.errors)
        return api.create_response(request, {"error": message, "field": field}, status=422)

    @api.exception_handler(AuthenticationError)
    def auth_error(request, exc):
        return api.create_response(request, {"error": "The access token is invalid"}, status=401)

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        return api.create_response(request, {"error": str(exc.message)}, status=exc.status_code)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return api.create_response(request, {"error": "Record not found"}, status=404)
