"""``tastemaker serve``: the web server (gunicorn) and the background-job consumer (huey), together.

Ctrl-C (or SIGTERM) stops both. Two sync workers per core is the measured sweet spot here.

The job consumer is supervised: when it dies (a crash, ``kill -9``, out of memory) it is started
again after a back-off (1 s, doubling up to ``MAX_RESTART_DELAY``; back to 1 s once a consumer has
stayed up ``STABLE_AFTER`` seconds), each restart logged, while the web server keeps serving. Jobs
lost with it are safe: every job is idempotent and the periodic sweeps finish what was cut short.
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


class Command(BaseCommand):
    help = "Start the web server and the background-job consumer (Ctrl-C stops both)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("TASTEMAKER_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("TASTEMAKER_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("TASTEMAKER_WEB_WORKERS", "0")),
                            help="web workers (default: 2 per core, at most 4)")
        parser.add_argument("--no-jobs", action="store_true", help="do not start the job consumer")
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
        jobs_cmd = None if opts["no_jobs"] else [
            sys.executable, "-m", "tastemaker", "run_huey", "--workers", "2", "--worker-type", "thread"]

        stopping = False

        def request_stop(signum: int, _frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)

        web = subprocess.Popen(web_cmd, env=env)
        self._log(f"web server started (pid {web.pid})")
        jobs: subprocess.Popen[bytes] | None = None
        jobs_started = 0.0
        delay = 1.0
        restart_at: float | None = None
        restarts = 0

        def start_jobs() -> subprocess.Popen[bytes]:
            nonlocal jobs_started
            assert jobs_cmd is not None  # only called with the consumer on
            proc = subprocess.Popen(jobs_cmd, env=env)
            jobs_started = time.monotonic()
            self._log(f"job consumer started (pid {proc.pid})")
            return proc

        if jobs_cmd:
            jobs = start_jobs()
        self.stdout.write(self.style.SUCCESS(
            f"Tastemaker is running at http://{bind}/ (data: {settings.DATA_DIR}) — Ctrl-C stops it."))
        self.stdout.flush()

        status = 0
        try:
            while not stopping:
                if web.poll() is not None:
                    self._log(f"the web server stopped ({_describe_exit(web.returncode)}); stopping", error=True)
                    status = 1
                    break
                if jobs is not None and jobs.poll() is not None:
                    up = time.monotonic() - jobs_started
                    if up >= STABLE_AFTER:
                        delay = 1.0
                    restarts += 1
                    self._log(f"the job consumer (pid {jobs.pid}) stopped ({_describe_exit(jobs.returncode)}) "
                              f"after {up:.0f} s; restarting it in {delay:.0f} s (restart {restarts}); "
                              "the web server keeps serving", error=True)
                    restart_at = time.monotonic() + delay
                    delay = min(MAX_RESTART_DELAY, delay * 2)
                    jobs = None
                if jobs is None and restart_at is not None and time.monotonic() >= restart_at:
                    restart_at = None
                    jobs = start_jobs()
                time.sleep(POLL)
        finally:
            if stopping:
                self._log("stopping…")
            self._stop([p for p in (jobs, web) if p is not None])
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
