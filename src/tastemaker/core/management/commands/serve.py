"""``tastemaker serve``: the web server (gunicorn) and the background-job consumer (huey), together.

Ctrl-C (or SIGTERM) stops both. Two sync workers per core is the measured sweet spot here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Start the web server and the background-job consumer (Ctrl-C stops both)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("TASTEMAKER_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("TASTEMAKER_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("TASTEMAKER_WEB_WORKERS", "0")),
                            help="web workers (default: 2 per core, at most 4)")
        parser.add_argument("--no-jobs", action="store_true", help="do not start the job consumer")
        parser.add_argument("--skip-migrate", action="store_true")

    def handle(self, *args, **opts):
        if not opts["skip_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        workers = opts["workers"] or min(4, 2 * (os.cpu_count() or 1))
        env = dict(os.environ)
        env.setdefault("DJANGO_SETTINGS_MODULE", "tastemaker.settings")
        bind = f"{opts['host']}:{opts['port']}"
        procs: list[subprocess.Popen] = []
        web = [sys.executable, "-m", "gunicorn", "tastemaker.wsgi:application", "--bind", bind,
               "--workers", str(workers), "--worker-class", "sync", "--timeout", "60",
               "--access-logfile", "-", "--graceful-timeout", "10"]
        procs.append(subprocess.Popen(web, env=env))
        if not opts["no_jobs"]:
            jobs = [sys.executable, "-m", "tastemaker", "run_huey", "--workers", "2", "--worker-type", "thread"]
            procs.append(subprocess.Popen(jobs, env=env))
        self.stdout.write(self.style.SUCCESS(
            f"Tastemaker is running at http://{bind}/ (data: {settings.DATA_DIR}) — Ctrl-C stops it."))

        def stop(*_args):
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            deadline = time.time() + 15
            for proc in procs:
                try:
                    proc.wait(timeout=max(0.1, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    proc.kill()

        signal.signal(signal.SIGTERM, lambda *a: (stop(), sys.exit(0)))
        try:
            while all(proc.poll() is None for proc in procs):
                time.sleep(0.5)
            failed = [p.args[2] if len(p.args) > 2 else p.args for p in procs if p.poll() not in (None, 0)]
            if failed:
                self.stderr.write(f"a process stopped unexpectedly: {failed}")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            stop()
