"""Mastodon's streaming API, as server-sent events, served by the async streaming server (``tastemaker/asgi.py``
under uvicorn; ``tastemaker serve`` starts it on ``--stream-port``).

``GET /api/v1/streaming/<stream path>`` or ``GET /api/v1/streaming?stream=<name>`` opens a stream (token in
``Authorization: Bearer`` or ``?access_token=``); ``GET /api/v1/streaming/health`` answers ``OK``. Streams:
``user`` (home posts and notifications), ``user:notification``, ``direct``, ``public``, ``public:local``,
``public:remote`` (always quiet: one server), ``public:media``, ``public:local:media``, ``hashtag`` and
``hashtag:local`` (``?tag=``). Events: ``update``, ``notification``, ``delete``, ``conversation`` (posts cannot be
edited, so no ``status.update``).

How: one ``Hub`` per process holds the open streams and listens to ``core.streams`` (small events: kinds and ids,
published after commit). For each event it asks the domain who of the connected viewers gets it
(``feeds.streaming``: the home-feed audience and the visibility rule) and renders the payload per viewer with the
REST API's own rendering (``render.statuses_json`` for a status, ``notifications.notification_json``), so a
payload is what ``GET /api/v1/statuses/:id`` or ``GET /api/v1/notifications/:id`` answers that viewer. The reads
run on one database thread (``core.streams.run_db``); the event loop only moves bytes.

The HTTP and WebSocket handling is plain ASGI (``streaming_asgi.py``); the validation (``open_stream``) is shared
with the declarations in ``mastodon/streaming.py``, which the sync web server answers (the schema, the
authorisation matrix, and a redirect to the streaming server).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from tastemaker.accounts.bearer import active_token
from tastemaker.core import streams
from tastemaker.core.errors import DomainError
from tastemaker.feeds import streaming as audience
from tastemaker.social import selectors as social
from tastemaker.social.visibility import Surface

from . import common, render
from . import schemas as S
from . import serializers as ser

log = logging.getLogger(__name__)

PREFIX = "/api/v1/streaming"
# path form -> stream name (Mastodon's)
PATHS = {"": "", "user": "user", "user/notification": "user:notification", "direct": "direct", "public": "public",
         "public/local": "public:local", "public/remote": "public:remote", "hashtag": "hashtag",
         "hashtag/local": "hashtag:local"}
PUBLIC = ("public", "public:local", "public:media", "public:local:media")
QUIET = ("public:remote", "public:remote:media")  # a single server has no remote posts
HASHTAG = ("hashtag", "hashtag:local")
NEEDS_USER = {"user": "read:statuses", "user:notification": "read:notifications", "direct": "read:statuses"}
STREAMS = (*NEEDS_USER, *PUBLIC, *QUIET, *HASHTAG)
READY_WAIT = 10.0  # seconds a new stream waits for the listener to subscribe (Redis, PostgreSQL) before a 503
QUEUE_SIZE = 1_000  # events waiting for a slow client; beyond it the client is dropped (it reconnects)


class StreamError(DomainError):
    """A stream request refused: 400 (unknown stream, no tag), 401 (token), 403 (scope)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Sub:
    stream: str
    tag: str | None = None

    def label(self) -> list[str]:
        return [self.stream, self.tag] if self.tag else [self.stream]


# --- opening a stream (shared with the declarations of mastodon/streaming.py) -----------------------------

def _granted(scopes: set[str], needed: str) -> bool:
    return needed in scopes or needed.split(":")[0] in scopes


def authenticate(token: str | None):
    """The user of an access token (None: no token). A token that is not a valid one is a 401, an app's own
    token (client credentials, no user) is signed out."""
    if not token:
        return None, set()
    row = active_token(token)
    if row is None:
        raise StreamError(401, "The access token is invalid")
    return row.user, set(row.scope.split())


def open_stream(stream: str, params: dict[str, str], token: str | None) -> tuple[Any, Sub]:
    """(viewer or None, subscription) for a stream request, or ``StreamError``. Checks the token first, as the
    REST API does (a bad token is a 401 even on a public stream)."""
    user, scopes = authenticate(token)
    return user, choose(user, scopes, stream, params)


def choose(user, scopes: set[str], stream: str, params: dict[str, str]) -> Sub:
    """The subscription a viewer asks for (a stream name and its parameters), or ``StreamError``."""
    if not stream:
        raise StreamError(400, "No stream given: use ?stream=user, public, hashtag, ...")
    if stream in ("public", "public:local", "public:remote") and params.get("only_media", "").lower() in (
            "1", "true"):
        stream += ":media"
    if stream not in STREAMS:
        raise StreamError(400, f"Unknown stream type: {stream[:40]}")
    needed = NEEDS_USER.get(stream)
    if needed and user is None:
        raise StreamError(401, "This stream needs a user's access token")
    if user is not None and not _granted(scopes, needed or "read:statuses"):
        raise StreamError(403, "This action is outside the authorized scopes")
    tag = None
    if stream in HASHTAG:
        tag = params.get("tag", "").strip().lstrip("#").lower()
        if not tag:
            raise StreamError(400, "No tag for stream provided: add ?tag=")
    return Sub(stream, tag)


def _token(headers: dict[str, str], params: dict[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return params.get("access_token") or headers.get("sec-websocket-protocol") or None


# --- rendering (on the database thread) ------------------------------------------------------------------

class _ViewerRequest:
    """What the REST rendering reads of a request: the viewer and the site's address (``SITE_URL``, the public
    address the web server answers on, so links are the REST API's)."""

    def __init__(self, user):
        self.user = user if user is not None else AnonymousUser()

    def build_absolute_uri(self, location: str = "/") -> str:
        return settings.SITE_URL + location


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def error_body(status: int, message: str) -> bytes:
    return _dumps({"error": message}).encode()


class _Renderer:
    """Payloads for one event, each rendered once per viewer."""

    def __init__(self, event: dict[str, Any]):
        self.event = event
        self.done: dict[Any, str | None] = {}

    def statuses(self, users: list) -> None:
        """Render the event's status for these viewers at once (``render.status_for_viewers``)."""
        wanted = [u for u in {(u.pk if u is not None else None): u for u in users}.values()
                  if ("status", u.pk if u is not None else None) not in self.done]
        if not wanted:
            return
        ref = (int(self.event["id"]), self.event.get("rb"))
        rendered = render.status_for_viewers(_ViewerRequest, ref, wanted)
        for u in wanted:
            pk = u.pk if u is not None else None
            self.done[("status", pk)] = rendered.get(pk)

    def status(self, user) -> str | None:
        key = ("status", user.pk if user is not None else None)
        if key not in self.done:
            self.statuses([user])
        return self.done[key]

    def notification(self, user) -> str | None:
        found = social.notification_for(user, int(self.event["id"]))
        if found is None:
            return None
        request = _ViewerRequest(user)
        post = social.get_post(user, found.post_id) if found.post_id else None
        rendered = {post.pk: common.status(request, post)} if post else {}
        # through the declared response schema, as ninja answers GET /api/v1/notifications/:id
        data = S.Notification.model_validate(ser.notification(found, ser.Ctx(request), rendered)).model_dump()
        return _dumps(data)

    def conversation(self, user) -> str | None:
        """Mastodon's ``Conversation``: the participants but the viewer, the message as its last status."""
        last = self.status(user)
        if last is None:
            return None
        others = [pk for pk in self.event.get("to", []) if pk != user.pk]
        ctx = ser.Ctx(_ViewerRequest(user))
        accounts = [ser.account(a, ctx) for a in social.listed_accounts(others)]
        conversation_id = str(self.event.get("c") or self.event["id"])
        return (f'{{"id":{_dumps(conversation_id)},"unread":true,"accounts":{_dumps(accounts)},'
                f'"last_status":{last}}}')


def route(event: dict[str, Any], clients: list[Client]) -> list[tuple[Client, Sub, str, str]]:
    """(client, subscription, event name, payload) for each delivery of ``event`` to the connected clients."""
    kind = event.get("k")
    out: list[tuple[Client, Sub, str, str]] = []
    r = _Renderer(event)

    def deliver(pairs, name: str, payload_of) -> None:
        if payload_of in (r.status, r.conversation):
            r.statuses([client.user for client, _sub in pairs])
        for client, sub in pairs:
            payload = payload_of(client.user)
            if payload is not None:
                out.append((client, sub, name, payload))

    def subscribed(*streams_: str) -> list[tuple[Client, Sub]]:
        return [(c, s) for c in clients for s in c.subs if s.stream in streams_]

    if kind == "post":
        home = subscribed("user")
        if home:
            reached = audience.home_audience(event, {c.user.pk for c, _s in home})
            deliver([(c, s) for c, s in home if c.user.pk in reached], "update", r.status)
        if audience.is_public(event):
            wanted = [(c, s) for c, s in subscribed(*PUBLIC, *HASHTAG)
                      if (s.stream in PUBLIC and (event.get("media") or not s.stream.endswith(":media")))
                      or (s.stream in HASHTAG and s.tag in event.get("tags", ()))]
            if wanted:
                seen = audience.who_sees(int(event["id"]), {c.viewer_id for c, _s in wanted}, Surface.PUBLIC)
                deliver([(c, s) for c, s in wanted if c.viewer_id in seen], "update", r.status)
    elif kind == "delete":
        post_id = str(int(event["id"]))
        if event.get("v") == "direct":  # its participants only (the author and the accounts it was sent to)
            participants = {int(pk) for pk in event.get("to", ())} | {int(event["a"])}
            out += [(c, s, "delete", post_id) for c, s in subscribed("user", "direct") if c.user.pk in participants]
            return out
        home = subscribed("user")
        if home:
            followers = audience.followers_among(int(event["a"]), {c.user.pk for c, _s in home})
            out += [(c, s, "delete", post_id) for c, s in home if c.user.pk in followers]
        if audience.is_public(event):
            out += [(c, s, "delete", post_id) for c, s in subscribed(*PUBLIC, *HASHTAG)
                    if s.stream in PUBLIC or s.tag in event.get("tags", ())]
    elif kind == "notification":
        to = int(event["to"])
        deliver([(c, s) for c, s in subscribed("user", "user:notification") if c.user.pk == to],
                "notification", r.notification)
    elif kind == "direct":
        recipients = {int(pk) for pk in event.get("to", ())}
        # the direct stream only: a message is never in a home timeline (REST's home leaves it out too); the
        # user stream gets its mention notification. Surface DIRECT: a message is seen opened, never listed
        mine = [(c, s) for c, s in subscribed("direct") if c.user.pk in recipients]
        seen = audience.who_sees(int(event["id"]), {c.user.pk for c, _s in mine}, Surface.DIRECT)
        deliver([(c, s) for c, s in mine if c.user.pk in seen], "conversation", r.conversation)
    return out


# --- the hub ----------------------------------------------------------------------------------------------

@dataclass(eq=False)
class Client:
    user: Any
    subs: set[Sub] = field(default_factory=set)
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    dropped: bool = False

    @property
    def viewer_id(self) -> int | None:
        return self.user.pk if self.user is not None else None

    def push(self, item: tuple[Sub, str, str] | dict | None) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped = True


class Hub:
    """The open streams of this process and the one listener feeding them."""

    def __init__(self) -> None:
        self.clients: set[Client] = set()
        self.task: asyncio.Task | None = None
        self.ready = asyncio.Event()
        self.delivered = 0

    async def start(self) -> None:
        """Listen (once per process); ``StreamError`` 503 when the backend cannot be reached in ``READY_WAIT``."""
        if self.task is None or self.task.done():
            self.ready = asyncio.Event()
            self.task = asyncio.create_task(self._run())
        try:
            await asyncio.wait_for(self.ready.wait(), READY_WAIT)
        except TimeoutError:
            raise StreamError(503, "The streaming server cannot reach its event source: retry later") from None

    async def _run(self) -> None:
        async for event in streams.listen(ready=self.ready.set):
            if not self.clients:
                continue
            try:
                deliveries = await streams.run_db(route, event, list(self.clients))
            except Exception:
                log.exception("could not route stream event %.200r", event)
                continue
            for client, sub, name, payload in deliveries:
                client.push((sub, name, payload))
            self.delivered += len(deliveries)

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except (asyncio.CancelledError, Exception):
                pass
            self.task = None
        for key, value in list(_hubs.items()):
            if value is self:
                del _hubs[key]
        await asyncio.get_running_loop().run_in_executor(None, streams.close_db)
        for client in list(self.clients):
            client.push(None)


_hubs: dict[int, Hub] = {}


def open_streams() -> int:
    """How many streams this process holds open (tests, the benchmark)."""
    return sum(len(h.clients) for h in list(_hubs.values()))


def hub() -> Hub:
    """This event loop's hub (one per process under uvicorn; tests may run several servers)."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(id(loop))
    if found is None:
        found = _hubs[id(loop)] = Hub()
    return found
