"""The streaming server's ASGI application (``tastemaker/asgi.py``): Mastodon's streaming API as server-sent events
(``GET /api/v1/streaming…``) and WebSocket (``/api/v1/streaming`` with subscribe messages); any other path goes to
Django. What is streamed to whom: ``streaming`` (the hub and the routing)."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings

from tastemaker.core import streams

from .streaming import (
    PATHS,
    PREFIX,
    Client,
    StreamError,
    Sub,
    _dumps,
    _token,
    authenticate,
    choose,
    error_body,
    hub,
    open_stream,
)

_error = error_body


def _params(scope: dict[str, Any]) -> dict[str, str]:
    raw = scope.get("query_string", b"").decode("utf-8", "strict")
    return dict(parse_qsl(raw, keep_blank_values=True))


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}


def stream_name(path: str, params: dict[str, str]) -> str | None:
    """The stream a path asks for (None: not a stream path)."""
    if path != PREFIX and not path.startswith(PREFIX + "/"):
        return None
    rest = path[len(PREFIX):].strip("/")
    if rest not in PATHS:
        return rest.replace("/", ":")  # refused by open_stream as an unknown stream (400)
    return PATHS[rest] or params.get("stream", "")


async def _answer(send, status: int, body: bytes, content_type: str = "application/json; charset=utf-8") -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})


def _sse(sub: Sub, name: str, payload: str) -> bytes:
    return f"event: {name}\ndata: {payload}\n\n".encode()


class StreamingApp:
    """The ASGI application: the streaming paths here, everything else to ``fallback`` (Django's ASGI app)."""

    def __init__(self, fallback) -> None:
        self.fallback = fallback

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http" and scope["path"].rstrip("/").startswith(PREFIX):
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket" and scope["path"].rstrip("/") == PREFIX:
            await self._websocket(scope, receive, send)
        else:
            await self.fallback(scope, receive, send)

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await hub().stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope, receive, send) -> None:
        if scope["path"].rstrip("/") == PREFIX + "/health":
            await _answer(send, 200, b"OK", "text/plain; charset=utf-8")
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _answer(send, 405, _error(405, "Method not allowed"))
            return
        try:
            params = _params(scope)
        except UnicodeDecodeError:
            await _answer(send, 400, _error(400, "The query string is not valid UTF-8"))
            return
        name = stream_name(scope["path"], params)
        if name is None:
            await _answer(send, 404, _error(404, "Record not found"))
            return
        the_hub = hub()
        if len(the_hub.clients) >= settings.STREAM_MAX_CONNECTIONS:
            await _answer(send, 503, _error(503, "Too many open streams on this server: retry later"))
            return
        try:
            user, sub = await streams.run_db(open_stream, name, params, _token(_headers(scope), params))
        except StreamError as exc:
            await _answer(send, exc.status, _error(exc.status, exc.message))
            return
        try:
            await the_hub.start()
        except StreamError as exc:
            await _answer(send, exc.status, _error(exc.status, exc.message))
            return
        client = Client(user, {sub})
        the_hub.clients.add(client)
        try:
            await self._serve_sse(client, receive, send)
        finally:
            the_hub.clients.discard(client)

    async def _serve_sse(self, client: Client, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-store"),
            (b"x-accel-buffering", b"no")]})
        await send({"type": "http.response.body", "body": b":)\n", "more_body": True})

        async def watch_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            client.push(None)

        watcher = asyncio.create_task(watch_disconnect())
        try:
            while not client.dropped:
                try:
                    item = await asyncio.wait_for(client.queue.get(), settings.STREAM_HEARTBEAT)
                except TimeoutError:
                    await send({"type": "http.response.body", "body": b":thump\n", "more_body": True})
                    continue
                if item is None:
                    break
                await send({"type": "http.response.body", "body": _sse(*item), "more_body": True})
        except OSError:
            pass
        finally:
            watcher.cancel()
        try:
            await send({"type": "http.response.body", "body": b""})
        except Exception:  # the client has gone
            pass

    async def _websocket(self, scope, receive, send) -> None:
        """Mastodon's WebSocket form: ``/api/v1/streaming`` (token as for SSE, or in ``Sec-WebSocket-Protocol``),
        then ``{"type": "subscribe" | "unsubscribe", "stream": …, "tag": …}`` messages (and ``?stream=`` at once);
        each event is ``{"stream": [name, tag], "event": …, "payload": "<the SSE data>"}``, a refused message
        ``{"error": …, "status": 4xx}``."""
        if (await receive())["type"] != "websocket.connect":
            return
        headers = _headers(scope)
        try:
            params = _params(scope)
            user, scopes = await streams.run_db(authenticate, _token(headers, params))
            first = await streams.run_db(choose, user, scopes, params["stream"], params) if params.get(
                "stream") else None
        except (StreamError, UnicodeDecodeError):
            await send({"type": "websocket.close", "code": 4001})  # before the handshake: a 403
            return
        the_hub = hub()
        if len(the_hub.clients) >= settings.STREAM_MAX_CONNECTIONS:
            await send({"type": "websocket.close", "code": 1013})
            return
        accept: dict[str, Any] = {"type": "websocket.accept"}
        if headers.get("sec-websocket-protocol") and not params.get("access_token") and "authorization" not in headers:
            accept["subprotocol"] = headers["sec-websocket-protocol"]
        try:
            await the_hub.start()
        except StreamError:
            await send({"type": "websocket.close", "code": 1013})  # try again later
            return
        client = Client(user, {first} if first else set())
        the_hub.clients.add(client)
        await send(accept)

        async def read() -> None:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    break
                reply = await self._ws_message(client, scopes, message.get("text") or "")
                if reply is not None:
                    client.push(reply)
            client.push(None)

        reader = asyncio.create_task(read())
        try:
            while not client.dropped:
                item = await client.queue.get()
                if item is None:
                    break
                if isinstance(item, dict):  # an answer to a message
                    await send({"type": "websocket.send", "text": _dumps(item)})
                    continue
                sub, name, payload = item
                if sub in client.subs:
                    await send({"type": "websocket.send", "text": _dumps(
                        {"stream": sub.label(), "event": name, "payload": payload})})
        except OSError:
            pass
        finally:
            reader.cancel()
            the_hub.clients.discard(client)
        try:
            await send({"type": "websocket.close", "code": 1000})
        except Exception:  # already closed by the client
            pass

    async def _ws_message(self, client: Client, scopes: set[str], text: str) -> dict | None:
        try:
            message = json.loads(text)
            kind, stream = message.get("type"), str(message.get("stream") or "")
            params = {"tag": str(message.get("tag") or ""), "only_media": str(message.get("only_media") or "")}
        except (ValueError, AttributeError):
            return {"error": "A message is a JSON object: {\"type\": \"subscribe\", \"stream\": …}", "status": 400}
        if kind not in ("subscribe", "unsubscribe"):
            return {"error": "Unknown message type: use subscribe or unsubscribe", "status": 400}
        try:
            sub = await streams.run_db(choose, client.user, scopes, stream, params)
        except StreamError as exc:
            return {"error": exc.message, "status": exc.status}
        if kind == "subscribe":
            client.subs.add(sub)
        else:
            client.subs.discard(sub)
        return None
