"""The streaming transport (core.streams) on each backend: an event published inside a transaction arrives only
after the commit, one rolled back never does. Sockets always; PostgreSQL LISTEN/NOTIFY when the suite runs on
PostgreSQL; Redis pub/sub when a redis-server binary is installed (or TASTEMAKER_TEST_REDIS_URL is given)."""

from __future__ import annotations

import asyncio
import os
import queue
import shutil
import socket
import subprocess
import threading
import time

import pytest
from django.db import connection, transaction

from tastemaker.core import streams

pytestmark = pytest.mark.django_db(transaction=True)


class Listening:
    """``streams.listen()`` on an event loop in a thread; events land in ``got``."""

    def __init__(self):
        self.got: queue.Queue = queue.Queue()
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._run(),), daemon=True)
        self.thread.start()
        assert self.ready.wait(10), "the listener did not subscribe"

    async def _run(self):
        self.task = asyncio.current_task()
        try:
            async for event in streams.listen(ready=self.ready.set):
                self.got.put(event)
        except asyncio.CancelledError:
            pass

    def next(self, timeout=3.0):
        try:
            return self.got.get(timeout=timeout)
        except queue.Empty:
            return None

    def stop(self):
        self.loop.call_soon_threadsafe(self.task.cancel)
        self.thread.join(10)


def _check_commit_and_rollback(expected_backend: str) -> None:
    assert streams.backend() == expected_backend
    listening = Listening()
    try:
        with transaction.atomic():
            streams.publish({"k": "test", "n": 1})
            time.sleep(0.2)
            assert listening.got.empty(), "an event went out before its commit"
        assert listening.next() == {"k": "test", "n": 1}
        with pytest.raises(RuntimeError), transaction.atomic():
            streams.publish({"k": "test", "n": 2})
            raise RuntimeError("rolled back")
        streams.publish({"k": "test", "n": 3})  # outside a transaction: at once
        assert listening.next() == {"k": "test", "n": 3}  # never 2
        with pytest.raises(ValueError):
            streams.publish({"k": "test", "text": "x" * 10_000})  # events carry ids, not content
    finally:
        listening.stop()


def test_socket_backend(settings):
    settings.STREAM_BACKEND = "socket"
    _check_commit_and_rollback("socket")
    assert not list(streams.socket_dir().glob("*.sock"))  # the listener removed its socket


def test_socket_backend_survives_a_dead_listener(settings):
    settings.STREAM_BACKEND = "socket"
    stale = streams.socket_dir() / "12345-dead.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(str(stale))
    s.close()  # bound, then gone: a crashed streaming server's file
    streams.publish({"k": "test"})
    assert not stale.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="LISTEN/NOTIFY needs PostgreSQL")
def test_postgres_backend(settings):
    settings.STREAM_BACKEND = "auto"
    settings.REDIS_URL = ""
    _check_commit_and_rollback("postgres")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    given = os.environ.get("TASTEMAKER_TEST_REDIS_URL")
    if given:
        yield given
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no redis-server installed (apt-get install redis-server) and no TASTEMAKER_TEST_REDIS_URL")
    port = _free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


def test_redis_backend(settings, redis_url):
    settings.REDIS_URL = redis_url
    settings.STREAM_BACKEND = "auto"
    streams._redis_client = None
    try:
        _check_commit_and_rollback("redis")
    finally:
        streams._redis_client = None
