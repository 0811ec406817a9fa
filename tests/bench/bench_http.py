"""HTTP throughput: gunicorn (sync workers) on 127.0.0.1, load from ``wrk`` (or a Python fallback)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

LUA = """
local tokens = {}
local n = 0
init = function(args)
  for line in io.lines(args[1]) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  n = math.random(#tokens)
end
request = function()
  n = (n % #tokens) + 1
  return wrk.format("GET", args_path, {["Authorization"] = "Bearer " .. tokens[n]})
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, data_dir: Path, workers: int, env_extra: dict[str, str]):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        root = Path(__file__).resolve().parents[2]
        gunicorn = root / ".venv" / "bin" / "gunicorn"
        cmd = [str(gunicorn) if gunicorn.exists() else "gunicorn", "tastemaker.wsgi", "-w", str(workers),
               "-b", f"127.0.0.1:{self.port}", "--log-level", "warning", "--timeout", "60"]
        env = {**os.environ, "TASTEMAKER_DATA_DIR": str(data_dir),
               "TASTEMAKER_ALLOWED_HOSTS": "127.0.0.1,localhost", "DJANGO_SETTINGS_MODULE": "tastemaker.settings",
               **env_extra}
        self.log = open(data_dir / "gunicorn.log", "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=self.log, cwd=str(root),
                                     start_new_session=True)

    def wait(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("gunicorn exited; see gunicorn.log in the bench data dir")
            try:
                with urllib.request.urlopen(self.base + "/api/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /api/health in time")

    def get(self, path: str, token: str | None = None) -> tuple[int, bytes]:
        req = urllib.request.Request(self.base + path)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # our own process group only (start_new_session)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()


def _parse_wrk(out: str) -> dict:
    def num(pattern: str, default: float = 0.0) -> float:
        m = re.search(pattern, out)
        return float(m.group(1)) if m else default

    def ms(label: str) -> float | None:
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return None
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    return {"rps": num(r"Requests/sec:\s+([\d.]+)"), "requests": int(num(r"(\d+) requests in")),
            "non_2xx": int(num(r"Non-2xx or 3xx responses:\s+(\d+)")),
            "errors": sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out)),
            "p50_ms": ms("50%"), "p99_ms": ms("99%")}


def load(server: Server, path: str, tokens: list[str] | None, seconds: int, connections: int) -> dict:
    """Requests/s on ``path`` for ``seconds`` (wrk when installed, else a multi-process Python client)."""
    wrk = shutil.which("wrk")
    if wrk:
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [wrk, "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--latency", "--timeout", "10s"]
            if tokens:
                tok = Path(tmp) / "tokens.txt"
                tok.write_text("\n".join(tokens) + "\n")
                script = Path(tmp) / "rotate.lua"
                script.write_text(f"args_path = {json.dumps(path)}\n" + LUA)
                cmd += ["-s", str(script), server.base + path, "--", str(tok)]
            else:
                cmd += [server.base + path]
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
        result = _parse_wrk(out)
        result["tool"] = "wrk"
        return result
    return _python_load(server, path, tokens, seconds, connections)


def _python_load(server: Server, path: str, tokens, seconds: int, connections: int) -> dict:
    code = (
        "import sys, time, urllib.request, json\n"
        "base, path, secs, toks = sys.argv[1], sys.argv[2], float(sys.argv[3]), json.loads(sys.argv[4])\n"
        "n = bad = 0; lat = []; i = 0; end = time.monotonic() + secs\n"
        "while time.monotonic() < end:\n"
        "    req = urllib.request.Request(base + path)\n"
        "    if toks: req.add_header('Authorization', 'Bearer ' + toks[i % len(toks)]); i += 1\n"
        "    t = time.monotonic()\n"
        "    try:\n"
        "        with urllib.request.urlopen(req, timeout=10) as r: r.read(); ok = r.status == 200\n"
        "    except Exception: ok = False\n"
        "    lat.append(time.monotonic() - t); n += 1; bad += (not ok)\n"
        "print(json.dumps([n, bad, lat]))\n"
    )
    procs = []
    for c in range(connections):
        mine = tokens[c::connections] if tokens else []
        procs.append(subprocess.Popen([sys.executable, "-c", code, server.base, path, str(seconds),
                                       json.dumps(mine)], stdout=subprocess.PIPE, text=True))
    n = bad = 0
    lat: list[float] = []
    for p in procs:
        a, b, c = json.loads(p.communicate(timeout=seconds + 60)[0])
        n, bad, lat = n + a, bad + b, lat + c
    lat.sort()
    return {"rps": n / seconds, "requests": n, "non_2xx": bad, "errors": 0, "tool": "python",
            "p50_ms": lat[len(lat) // 2] * 1000 if lat else None,
            "p99_ms": lat[int(len(lat) * 0.99)] * 1000 if lat else None}
