"""The streaming transport: small events published after commit, received by the streaming server.

A domain app publishes what happened, as a small JSON object of kinds and ids (``{"k": "post", "id": …}``),
never rendered content: ``publish(event)`` sends it once the current transaction commits (at once outside
one), so a subscriber never hears of a row that was rolled back. The streaming server (``api.streaming``,
run under uvicorn by ``tastemaker serve``) listens with ``listen()`` and renders each event per subscriber
with the visibility rule. Core knows no domain: it carries dictionaries.

Backends (``TASTEMAKER_STREAM_BACKEND``, ``auto`` by default; docs/architecture.md, "Streaming"):

* ``redis``: Redis pub/sub on the channel ``tastemaker:stream`` (``auto`` when ``TASTEMAKER_REDIS_URL`` is set);
  any number of streaming processes on any hosts;
* ``postgres``: ``NOTIFY tastemaker_stream`` on the database connection, ``LISTEN`` on one psycopg async
  connection per streaming process (``auto`` on PostgreSQL without Redis); no extra service;
* ``socket``: Unix datagram sockets under ``DATA_DIR/streams/``, one per listening process; a publisher sends
  each event to every socket there and removes those nobody listens on any more (``auto`` on SQLite, which
  has no notifications; the web server and the streaming server share the data directory anyway);
* ``off``: publishing does nothing (a deployment without the streaming server).

Delivery is at most once, like Mastodon's: a client that was disconnected reads the REST timelines.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.db import OperationalError, close_old_connections, connection, connections, transaction

log = logging.getLogger(__name__)

CHANNEL = "tastemaker_stream"  # the PostgreSQL channel
REDIS_CHANNEL = "tastemaker:stream"
MAX_EVENT_BYTES = 7_900  # PostgreSQL's NOTIFY payload limit is 8,000 bytes: events are ids, far below it
LOCKED_RETRIES = 100
BACKENDS = ("auto", "redis", "postgres", "socket", "off")

Event = dict[str, Any]
T = TypeVar("T")


def backend() -> str:
    """The backend in use: ``STREAM_BACKEND``, or for ``auto`` Redis when configured, else PostgreSQL
    ``LISTEN/NOTIFY`` on PostgreSQL, else local sockets."""
    chosen = str(getattr(settings, "STREAM_BACKEND", "auto"))
    if chosen != "auto":
        return chosen
    if settings.REDIS_URL:
        return "redis"
    if connection.vendor == "postgresql":
        return "postgres"
    return "socket"


def publish(event: Event) -> None:
    """Send ``event`` to every streaming server once the current transaction commits (at once outside one).
    Never raises: the write it reports has happened; a lost event only means a client refreshes by REST."""
    data = json.dumps(event, separators=(",", ":"))
    if len(data.encode()) > MAX_EVENT_BYTES:
        raise ValueError(f"a stream event carries ids, not content ({len(data)} bytes)")
    transaction.on_commit(lambda: send_now(data))


def send_now(data: str) -> None:
    kind = backend()
    try:
        if kind == "redis":
            _redis().publish(REDIS_CHANNEL, data)
        elif kind == "postgres":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_notify(%s, %s)", [CHANNEL, data])
        elif kind == "socket":
            _send_datagrams(data.encode())
    except Exception:  # the write is done; a stream event is best effort (logged, never a 500)
        log.exception("could not publish a stream event")


# --- redis ------------------------------------------------------------------------------------------

_redis_client: Any = None


def _redis() -> Any:
    global _redis_client
    if _redis_client is None:
        import redis

        _redis_client = redis.Redis.from_url(settings.REDIS_URL)
    return _redis_client


async def _listen_redis(ready: Callable[[], None]) -> AsyncIterator[str]:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(REDIS_CHANNEL)
    ready()
    try:
        async for message in pubsub.listen():
            if message.get("type") == "message":
                data = message["data"]
                yield data.decode() if isinstance(data, bytes) else str(data)
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await client.aclose()


# --- postgres ---------------------------------------------------------------------------------------

def _conninfo() -> str:
    from psycopg.conninfo import make_conninfo

    db = settings.DATABASES["default"]
    params = {"dbname": db.get("NAME") or "", "user": db.get("USER") or "", "password": db.get("PASSWORD") or "",
              "host": db.get("HOST") or "", "port": str(db.get("PORT") or "")}
    return make_conninfo(**{k: v for k, v in params.items() if v})


async def _listen_postgres(ready: Callable[[], None]) -> AsyncIterator[str]:
    import psycopg

    conn = await psycopg.AsyncConnection.connect(_conninfo(), autocommit=True)
    try:
        await conn.execute(f"LISTEN {CHANNEL}")
        ready()
        async for notice in conn.notifies():
            yield notice.payload
    finally:
        await conn.close()


# --- local sockets ----------------------------------------------------------------------------------

def socket_dir() -> Path:
    path = Path(settings.DATA_DIR) / "streams"
    path.mkdir(parents=True, exist_ok=True)
    return path


_sender: socket.socket | None = None


def _send_datagrams(data: bytes) -> None:
    global _sender
    if _sender is None:
        _sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        _sender.setblocking(False)
    for path in socket_dir().glob("*.sock"):
        try:
            _sender.sendto(data, str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            path.unlink(missing_ok=True)  # its listener is gone (a crash leaves the file behind)
        except BlockingIOError:
            log.warning("stream listener %s is not keeping up: an event was dropped", path.name)


async def _listen_socket(ready: Callable[[], None]) -> AsyncIterator[str]:
    path = socket_dir() / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.sock"
    if len(str(path)) > 100:
        raise RuntimeError(f"TASTEMAKER_DATA_DIR is too long for a Unix socket path ({path}): use a shorter one "
                           "or TASTEMAKER_STREAM_BACKEND=redis")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    sock.bind(str(path))
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    ready()
    try:
        while True:
            data = await loop.sock_recv(sock, 65_536)
            yield data.decode()
    finally:
        sock.close()
        path.unlink(missing_ok=True)


# --- listening --------------------------------------------------------------------------------------

async def listen(ready: Callable[[], None] | None = None) -> AsyncIterator[Event]:
    """The events published from now on, decoded, for as long as the caller iterates. A lost connection to
    Redis or PostgreSQL is re-opened after a back-off (1 s doubling to 30 s); what was published meanwhile
    is lost (at most once). ``ready`` is called each time the subscription is in place."""
    kind = await run_db(backend)
    sources = {"redis": _listen_redis, "postgres": _listen_postgres, "socket": _listen_socket}
    if kind not in sources:  # "off": nothing will come
        if ready is not None:
            ready()
        await asyncio.Event().wait()
    delay = 1.0
    while True:
        try:
            async for raw in sources[kind](ready or (lambda: None)):
                delay = 1.0
                try:
                    event = json.loads(raw)
                except ValueError:
                    log.warning("ignoring a malformed stream event: %.80r", raw)
                    continue
                if isinstance(event, dict):
                    yield event
        except (OSError, ConnectionError) as exc:
            log.warning("stream listener (%s) lost its connection: %s; retrying in %.0f s", kind, exc, delay)
        except Exception as exc:
            if type(exc).__module__.split(".")[0] not in ("psycopg", "redis"):
                raise
            log.warning("stream listener (%s) failed: %s; retrying in %.0f s", kind, exc, delay)
        await asyncio.sleep(delay)
        delay = min(30.0, delay * 2)


# --- the database from async code -------------------------------------------------------------------

_db_pool: ThreadPoolExecutor | None = None


def _db_call(fn: Callable[..., T], *args: Any) -> T:
    close_old_connections()  # what Django does around each request: drop a broken or too old connection
    try:
        for attempt in range(LOCKED_RETRIES):
            try:
                return fn(*args)
            except OperationalError as exc:
                # SQLite: a table locked by a writer (shared-cache connections, as the test suite's in-memory
                # database, do not wait for busy_timeout); the reads are repeated, nothing was sent yet
                if "locked" not in str(exc) or attempt == LOCKED_RETRIES - 1:
                    raise
                time.sleep(0.01)
        raise AssertionError("unreachable")
    finally:
        close_old_connections()


async def run_db(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` on the one database thread of this process (the streaming server's reads are
    short and serialised there: one connection, no async-unsafe access from the event loop)."""
    global _db_pool
    if _db_pool is None:
        _db_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stream-db")
    return await asyncio.get_running_loop().run_in_executor(_db_pool, _db_call, fn, *args)


def close_db() -> None:
    """Close the database thread's connection (the streaming server's shutdown, and tests before they drop
    their database). Blocks until done."""
    if _db_pool is not None:
        _db_pool.submit(connections.close_all).result(timeout=30)
