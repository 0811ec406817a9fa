"""The streaming server for real: the ASGI app (tastemaker/asgi.py) under uvicorn in a thread of the test process
(sharing the test database), next to pytest-django's live web server; events travel through the configured
backend (SQLite: local sockets; PostgreSQL: LISTEN/NOTIFY)."""

from __future__ import annotations

import json
import os
import queue
import secrets
import socket
import threading
import time
from datetime import timedelta

import pytest
import requests

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def stream_server(live_server, settings):
    """The streaming server's base URL; the site (SITE_URL) is the live server, as ``tastemaker serve`` sets it."""
    import uvicorn

    from tastemaker.api import streaming

    port = _free_port()
    settings.SITE_URL = live_server.url
    settings.STREAM_HEARTBEAT = 1
    settings.STREAMING_URL = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(uvicorn.Config("tastemaker.asgi:application", host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on",
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the streaming server did not start"
        time.sleep(0.02)
    yield settings.STREAMING_URL
    server.should_exit = True
    thread.join(10)
    assert streaming.open_streams() == 0
    from tastemaker.core import streams

    streams.close_db()  # the streaming server's database connection, before the test database is dropped


@pytest.fixture
def token_for(oauth_app):
    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model

    def make(user, scope="read write follow push"):
        return get_access_token_model().objects.create(
            user=user, application=oauth_app, token=secrets.token_urlsafe(24), scope=scope,
            expires=timezone.now() + timedelta(days=1),
        ).token

    return make


class Stream:
    """One open SSE stream, read on a thread: ``next()`` is the next (event, data) or None after ``timeout``."""

    def __init__(self, url: str, token: str | None = None, **params):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.response = requests.get(url, headers=headers, params=params, stream=True, timeout=(5, 60))
        self.status = self.response.status_code
        self.events: queue.Queue = queue.Queue()
        self.comments: list[str] = []
        if self.status == 200:
            self.opened = threading.Event()
            threading.Thread(target=self._read, daemon=True).start()
            assert self.opened.wait(5), "the stream did not open"

    def _read(self) -> None:
        buffer, name, data = b"", None, None
        try:
            for chunk in self.response.iter_content(chunk_size=None):
                buffer += chunk
                while b"\n" in buffer:
                    raw, buffer = buffer.split(b"\n", 1)
                    line = raw.decode()
                    if line.startswith(":"):
                        self.comments.append(line)
                        self.opened.set()
                    elif line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: "):
                        data = line[6:]
                    elif line == "" and name is not None:
                        self.events.put((name, data, time.monotonic()))
                        name = data = None
        except Exception:
            pass

    def next(self, timeout: float = 2.0):
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def json(self) -> dict:
        return json.loads(self.response.content)

    def close(self) -> None:
        try:  # the reading thread holds the socket: shut it down so the server sees the client go at once
            self.response.raw._fp.fp.raw._sock.shutdown(socket.SHUT_RDWR)
        except (AttributeError, OSError):
            pass
        self.response.close()


@pytest.fixture
def open_stream(stream_server):
    opened: list[Stream] = []

    def make(path: str, token: str | None = None, **params) -> Stream:
        s = Stream(stream_server + path, token, **params)
        opened.append(s)
        return s

    yield make
    for s in opened:
        s.close()
    from tastemaker.api import streaming

    deadline = time.monotonic() + 5
    while streaming.open_streams() and time.monotonic() < deadline:
        time.sleep(0.02)
