"""``/api/v1/streaming``: the streaming API's routes as the sync web server sees them.

Streams are served by the async streaming server (``tastemaker/asgi.py``, api/streaming.py); these declarations
put the routes in the schema and answer a stream request that reaches a web worker: checked exactly as the
streaming server checks it (``open_stream``: token, scope, stream name), then redirected there (307) — never held
open, so no sync worker is tied up."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from ninja import Router

from .. import streaming
from ..errors import READ, responses

router = Router()
STREAM_DOC = ("Server-sent events (`event: update|notification|delete|conversation`, `data:` the JSON the REST API "
              "answers for that viewer), served by the streaming server (`urls.streaming_api` in /api/v1/instance). "
              "Token by `Authorization: Bearer` or `?access_token=`. A web worker checks the request and redirects "
              "it (307) there.")


def _open(request, stream: str) -> HttpResponse:
    params = request.GET.dict()
    auth = request.headers.get("Authorization", "")
    token = auth[7:].strip() if auth[:7].lower() == "bearer " else params.get("access_token") or None
    try:
        streaming.open_stream(stream or params.get("stream", ""), params, token)
    except streaming.StreamError as exc:
        return HttpResponse(streaming.error_body(exc.status, exc.message), status=exc.status,
                            content_type="application/json; charset=utf-8")
    base = streaming_base()
    here = request.build_absolute_uri("/").rstrip("/")
    if base == here:  # the proxy sends streaming here: a misconfiguration (README, "Streaming")
        return HttpResponse(streaming.error_body(421, "The streaming API is served by the streaming server"),
                            status=421, content_type="application/json; charset=utf-8")
    return HttpResponseRedirect(base + request.get_full_path(), status=307)


def streaming_base() -> str:
    """The streaming server's http(s) address (``STREAMING_URL``, else the site's)."""
    url = settings.STREAMING_URL or settings.SITE_URL
    return url.replace("wss://", "https://", 1).replace("ws://", "http://", 1)


def streaming_ws_base() -> str:
    """The same as Mastodon advertises it: ``wss://`` (``ws://`` without TLS)."""
    return streaming_base().replace("https://", "wss://", 1).replace("http://", "ws://", 1)


@router.get("/v1/streaming/health", response={200: str}, tags=["streaming"], summary="Streaming server health",
            description="`OK` (plain text), answered by the streaming server and by the web server.",
            openapi_extra={"responses": {200: {"description": "OK", "content": {
                "text/plain": {"schema": {"type": "string"}}}}}})
def streaming_health(request):
    return HttpResponse(b"OK", content_type="text/plain; charset=utf-8")


_STREAM_RESPONSES = responses({200: str, 307: None}, (*READ, 403))


def _declare(path: str, stream: str, summary: str) -> None:
    def handler(request):
        return _open(request, stream)

    handler.__name__ = "stream_" + (stream.replace(":", "_") or "by_name")
    router.get(path, response=_STREAM_RESPONSES, tags=["streaming"], summary=summary, description=STREAM_DOC,
               openapi_extra={"responses": {200: {"description": "Server-sent events", "content": {
                   "text/event-stream": {"schema": {"type": "string"}}}}}})(handler)


for _path, _stream, _summary in (
    ("/v1/streaming", "", "Any stream, named by ?stream= (with ?tag= for hashtag streams)"),
    ("/v1/streaming/user", "user", "Your home timeline's new posts and your notifications"),
    ("/v1/streaming/user/notification", "user:notification", "Your notifications"),
    ("/v1/streaming/direct", "direct", "Your direct messages"),
    ("/v1/streaming/public", "public", "Public posts (?only_media=true: with images only)"),
    ("/v1/streaming/public/local", "public:local", "Public posts of this server"),
    ("/v1/streaming/public/remote", "public:remote", "Public posts of other servers (none: one server)"),
    ("/v1/streaming/hashtag", "hashtag", "Public posts with a hashtag (?tag=)"),
    ("/v1/streaming/hashtag/local", "hashtag:local", "Public posts of this server with a hashtag (?tag=)"),
):
    _declare(_path, _stream, _summary)
