"""``tastemaker serve``: the web server (gunicorn), the streaming server (uvicorn) and the background-job consumer
(huey), together.

Ctrl-C (or SIGTERM) stops them all. Two sync workers per core is the measured sweet spot here. The streaming
server (Mastodon's ``/api/v1/streaming``, ``tastemaker/asgi.py``) listens on ``--stream-port`` (default: the web
port + 1) and holds the long-lived connections on one event loop, so they tie up no sync worker; the instance
endpoints advertise it (``TASTEMAKER_STREAMING_URL``, set here unless given).

The job consumer and the streaming server are supervised: when one dies (a crash, ``kill -9``, out of memory)
it is started again after a back-off (1 s, doubling up to ``MAX_RESTART_DELAY``; back to 1 s once it has
stayed up ``STABLE_AFTER`` seconds), each restart logged, while the web server keeps serving. Jobs
lost with it are safe: every job is idempotent and the periodic sweeps finish what was cut short; streaming
clients reconnect (Mastodon's clients do) and read what they missed from the REST timelines.
If the web server itself stops, the consumer is stopped too and ``serve`` exits with status 1, so
whatever runs it (systemd, Docker, a shell loop) restarts the whole; gunicorn already restarts its
own workers, so its master stopping means something a blind restart would not fix (a bad bind, say).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

MAX_RESTART_DELAY = 30.0  # seconds
STABLE_AFTER = 60.0  # a consumer up this long resets the back-off
POLL = 0.2


def _describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


class Supervised:
    """A child process restarted with a back-off when it dies (the job consumer, the streaming server)."""

    def __init__(self, name: str, cmd: list[str]) -> None:
        self.name = name
        self.cmd = cmd
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0
        self.delay = 1.0
        self.restart_at: float | None = None
        self.restarts = 0

    def start(self, env: dict[str, str], log: Callable[..., None]) -> None:
        self.proc = subprocess.Popen(self.cmd, env=env)
        self.started = time.monotonic()
        log(f"{self.name} started (pid {self.proc.pid})")

    def check(self, env: dict[str, str], log: Callable[..., None]) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            up = time.monotonic() - self.started
            if up >= STABLE_AFTER:
                self.delay = 1.0
            self.restarts += 1
            log(f"the {self.name} (pid {self.proc.pid}) stopped ({_describe_exit(self.proc.returncode)}) "
                f"after {up:.0f} s; restarting it in {self.delay:.0f} s (restart {self.restarts}); "
                "the web server keeps serving", error=True)
            self.restart_at = time.monotonic() + self.delay
            self.delay = min(MAX_RESTART_DELAY, self.delay * 2)
            self.proc = None
        if self.proc is None and self.restart_at is not None and time.monotonic() >= self.restart_at:
            self.restart_at = None
            self.start(env, log)


class Command(BaseCommand):
    help = "Start the web server, the streaming server and the background-job consumer (Ctrl-C stops them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("TASTEMAKER_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("TASTEMAKER_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("TASTEMAKER_WEB_WORKERS", "0")),
                            help="web workers (default: 2 per core, at most 4)")
        parser.add_argument("--stream-port", type=int, default=int(os.environ.get("TASTEMAKER_STREAM_PORT", "0")),
                            help="the streaming server's port (default: the web port + 1)")
        parser.add_argument("--no-jobs", action="store_true", help="do not start the job consumer")
        parser.add_argument("--no-stream", action="store_true", help="do not start the streaming server")
        parser.add_argument("--skip-migrate", action="store_true")

    def _log(self, message: str, *, error: bool = False) -> None:
        stream = self.stderr if error else self.stdout
        stream.write(f"[serve {time.strftime('%Y-%m-%d %H:%M:%S')}] {message}")
        stream.flush()

    def handle(self, *args: Any, **opts: Any) -> None:
        if not opts["skip_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        workers = opts["workers"] or min(4, 2 * (os.cpu_count() or 1))
        env = dict(os.environ)
        env.setdefault("DJANGO_SETTINGS_MODULE", "tastemaker.settings")
        bind = f"{opts['host']}:{opts['port']}"
        # Absolute links the server hands out (payment notify/return URLs) follow the address it serves on,
        # unless the operator set the public address (as production must: README, "Configuration").
        shown_host = "127.0.0.1" if opts["host"] in ("0.0.0.0", "", "::") else opts["host"]
        env.setdefault("TASTEMAKER_SITE_URL", f"http://{shown_host}:{opts['port']}")
        web_cmd = [sys.executable, "-m", "gunicorn", "tastemaker.wsgi:application", "--bind", bind,
                   "--workers", str(workers), "--worker-class", "sync", "--timeout", "60",
                   "--access-logfile", "-", "--graceful-timeout", "10"]
        children: list[Supervised] = []
        if not opts["no_stream"]:
            stream_port = opts["stream_port"] or opts["port"] + 1
            env.setdefault("TASTEMAKER_STREAMING_URL", f"http://{shown_host}:{stream_port}")
            children.append(Supervised("streaming server", [
                sys.executable, "-m", "uvicorn", "tastemaker.asgi:application", "--host", opts["host"],
                "--port", str(stream_port), "--lifespan", "on", "--no-access-log",
                "--timeout-graceful-shutdown", "5", "--log-level", "warning"]))
        if not opts["no_jobs"]:
            children.append(Supervised("job consumer", [
                sys.executable, "-m", "tastemaker", "run_huey", "--workers", "2", "--worker-type", "thread"]))

        stopping = False

        def request_stop(signum: int, _frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)

        web = subprocess.Popen(web_cmd, env=env)
        self._log(f"web server started (pid {web.pid})")
        for child in children:
            child.start(env, self._log)
        streaming = [c for c in children if c.name == "streaming server"]
        self.stdout.write(self.style.SUCCESS(
            f"Tastemaker is running at http://{bind}/"
            + (f" (streaming: {env['TASTEMAKER_STREAMING_URL']})" if streaming else "")
            + f" (data: {settings.DATA_DIR}) — Ctrl-C stops it."))
        self.stdout.flush()

        status = 0
        try:
            while not stopping:
                if web.poll() is not None:
                    self._log(f"the web server stopped ({_describe_exit(web.returncode)}); stopping", error=True)
                    status = 1
                    break
                for child in children:
                    child.check(env, self._log)
                time.sleep(POLL)
        finally:
            if stopping:
                self._log("stopping…")
            self._stop([p for p in (*(c.proc for c in children), web) if p is not None])
        if status:
            sys.exit(status)

    @staticmethod
    def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
