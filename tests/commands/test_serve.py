"""``tastemaker serve`` as a real process (issue 10, item 7): a job consumer killed with SIGKILL is started
again while the web server keeps answering; SIGTERM stops everything cleanly; a dead web server ends it. The
streaming server (issue 14) runs beside them on the next port, advertised by the instance, supervised the same way."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import tastemaker

# what is tested is process supervision (gunicorn, huey, uvicorn): the same on either database
pytestmark = pytest.mark.once

SRC = str(Path(tastemaker.__file__).resolve().parent.parent)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


class Served:
    """``tastemaker serve`` in a subprocess, on its own SQLite data dir, its output collected."""

    def __init__(self, tmp_path: Path, *extra: str):
        self.port = _free_port()
        env = {k: v for k, v in os.environ.items()
               if k not in ("TASTEMAKER_DATABASE_URL", "TASTEMAKER_REDIS_URL", "DJANGO_SETTINGS_MODULE",
                            # the suite's own: a real consumer refuses huey's immediate mode (it exited at
                            # start; the test only passed while it was still starting when first checked)
                            "TASTEMAKER_HUEY_IMMEDIATE", "TASTEMAKER_LABELER_LOAD")}
        env.update({"PYTHONPATH": SRC + os.pathsep + env.get("PYTHONPATH", ""), "TASTEMAKER_DATA_DIR": str(tmp_path),
                    "TASTEMAKER_SECRET_KEY": "serve-test-key-0123456789-0123456789-0123456789",
                    "PYTHONUNBUFFERED": "1"})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tastemaker", "serve", "--port", str(self.port), "--workers", "1", *extra],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=str(tmp_path))
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def pids(self, what: str) -> list[int]:
        return [int(m) for m in re.findall(rf"{what} started \(pid (\d+)\)", self.output())]

    def wait_for(self, check, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; output so far:\n{self.output()[-3000:]}")

    def health(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/health", timeout=10) as r:  # a loaded machine answers slowly
                return r.status == 200 and b'"ok"' in r.read()
        except OSError:
            return False

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for pid in self.pids("job consumer") + self.pids("web server") + self.pids("streaming server"):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def serve(tmp_path):
    started: list[Served] = []

    def start(*extra: str) -> Served:
        started.append(Served(tmp_path, *extra))
        return started[-1]

    yield start
    for s in started:
        s.close()


# How long each step may take. These are condition polls, so a quick machine costs nothing, but a loaded 2-core
# machine can spend minutes migrating a fresh database before the first line (a full run failed at 90 s with no
# output; with both cores busy the migration alone took over four minutes) and a minute booting gunicorn's worker.
MIGRATE = 600
START = 300
RESPAWN = 60
STOP = 120


def _started(s: Served) -> None:
    s.wait_for(lambda: s.pids("web server"), MIGRATE, "the web server to start (after the migrations)")
    s.wait_for(s.health, START, "/api/health")


def test_a_killed_job_consumer_is_restarted_and_the_web_keeps_serving(serve):
    s = serve()
    _started(s)
    first = s.wait_for(lambda: s.pids("job consumer"), RESPAWN, "the consumer's pid")[0]
    web = s.pids("web server")[0]
    assert _alive(first), s.output()[-4000:]

    os.kill(first, signal.SIGKILL)
    second = s.wait_for(lambda: [p for p in s.pids("job consumer") if p != first], RESPAWN, "a new consumer")[0]
    assert s.health()  # served all along
    assert "stopped (killed by SIGKILL)" in s.output() and "restarting it in 1 s" in s.output()
    assert not _alive(first) and _alive(second) and _alive(web) and s.proc.poll() is None

    os.kill(second, signal.SIGKILL)  # again: the back-off doubles
    third = s.wait_for(lambda: [p for p in s.pids("job consumer") if p not in (first, second)], RESPAWN, "a third")[0]
    assert "restarting it in 2 s" in s.output() and s.health()

    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(STOP) == 0, s.output()[-3000:]
    s.wait_for(lambda: not _alive(third) and not _alive(web), STOP, "the children to stop")


def test_if_the_web_server_dies_serve_stops_the_consumer_and_exits_non_zero(serve):
    s = serve("--skip-migrate")
    _started(s)
    consumer = s.wait_for(lambda: s.pids("job consumer"), RESPAWN, "the consumer's pid")[0]
    web = s.pids("web server")[0]
    os.kill(web, signal.SIGKILL)
    assert s.proc.wait(STOP) == 1, s.output()[-3000:]
    assert "the web server stopped (killed by SIGKILL)" in s.output()
    s.wait_for(lambda: not _alive(consumer), STOP, "the consumer to stop")


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except OSError:
        return 0, b""


def test_the_streaming_server_runs_on_the_next_port_and_is_restarted(serve):
    import json

    s = serve("--no-jobs")
    _started(s)
    stream_base = f"http://127.0.0.1:{s.port + 1}"
    health = f"{stream_base}/api/v1/streaming/health"
    s.wait_for(lambda: _get(health) == (200, b"OK"), START, "the streaming server's health")
    first = s.pids("streaming server")[0]
    instance = json.loads(_get(f"http://127.0.0.1:{s.port}/api/v1/instance")[1])
    assert instance["urls"]["streaming_api"] == stream_base.replace("http://", "ws://")
    status, body = _get(f"{stream_base}/api/v1/streaming?stream=nonsense")
    assert status == 0  # urllib raises on the 400; the same request, read as an error:
    try:
        urllib.request.urlopen(f"{stream_base}/api/v1/streaming?stream=nonsense", timeout=10)
    except urllib.error.HTTPError as exc:
        assert exc.code == 400 and "error" in json.loads(exc.read())

    os.kill(first, signal.SIGKILL)
    second = s.wait_for(lambda: [p for p in s.pids("streaming server") if p != first], RESPAWN, "a new one")[0]
    assert "the streaming server (pid" in s.output() and "restarting it in 1 s" in s.output()
    s.wait_for(lambda: _get(health) == (200, b"OK"), START, "the restarted streaming server")
    assert s.health() and _alive(second)
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(STOP) == 0, s.output()[-3000:]
    s.wait_for(lambda: not _alive(second), STOP, "the streaming server to stop")
