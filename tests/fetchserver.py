"""A real HTTP server on 127.0.0.1 (a free port, a thread) for tests of code that fetches URLs through
``tastemaker.core.fetch``. It serves files from ``root`` and programmable routes, and records requests.

    with FixtureServer(root=FIXTURES) as server, server.allowed():
        fetch(server.url("/product.html"))

or, in a test directory whose conftest.py re-exports ``fixture_server`` (tests/core/, tests/showcase/):

    def test_x(fixture_server):            # started, and FETCH_TEST_ALLOW holds its 127.0.0.1:<port>
        fixture_server.root = FIXTURES
        fixture_server.redirect("/go", "http://169.254.169.254/")
        fetch(fixture_server.url("/go"))

Another directory gets the fixture with ``from fetchserver import fixture_server`` in its conftest.py.
"""

from __future__ import annotations

import mimetypes
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # header names lower-cased


def free_port() -> int:
    """A loopback port nothing listens on (at the moment of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _send(req: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str | None,
          headers: dict[str, str] | None = None) -> None:
    req.send_response(status)
    if content_type:
        req.send_header("Content-Type", content_type)
    for key, value in (headers or {}).items():
        req.send_header(key, value)
    req.send_header("Content-Length", str(len(body)))
    req.send_header("Connection", "close")
    req.end_headers()
    req.wfile.write(body)


class FixtureServer:
    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else None
        self.routes: dict[str, Handler] = {}
        self.requests: list[Recorded] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---
    def start(self) -> FixtureServer:
        server = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - the http.server API
                path = self.path.split("?", 1)[0]
                server.requests.append(Recorded("GET", self.path, {k.lower(): v for k, v in self.headers.items()}))
                try:
                    handler = server.routes.get(path)
                    if handler is not None:
                        handler(self)
                    else:
                        server._serve_file(self, path)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (as the fetcher does past a limit)

            def log_message(self, format, *args):  # noqa: A002 - quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FixtureServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start the server first"
        return self._server.server_address[1]

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host_port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def allowed(self):
        """override_settings letting core.fetch reach this server (and nothing else on loopback)."""
        from django.test import override_settings

        return override_settings(FETCH_TEST_ALLOW=frozenset({self.host_port}))

    # --- files ---
    def _serve_file(self, req: BaseHTTPRequestHandler, path: str) -> None:
        if self.root is not None and path not in ("", "/"):
            root = self.root.resolve()
            file = (root / path.lstrip("/")).resolve()
            if file.is_relative_to(root) and file.is_file():
                ctype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                if ctype.startswith("text/"):
                    ctype += "; charset=utf-8"
                _send(req, 200, file.read_bytes(), ctype)
                return
        _send(req, 404, b"not found", "text/plain; charset=utf-8")

    # --- programmable routes ---
    def route(self, path: str, handler: Handler) -> str:
        """Any handler taking the BaseHTTPRequestHandler; returns the route's full URL."""
        self.routes[path] = handler
        return self.url(path)

    def respond(self, path: str, body: bytes | str = b"", *, status: int = 200,
                content_type: str | None = "text/html; charset=utf-8", headers: dict[str, str] | None = None) -> str:
        data = body.encode() if isinstance(body, str) else body
        return self.route(path, lambda req: _send(req, status, data, content_type, headers))

    def redirect(self, path: str, location: str, *, status: int = 302) -> str:
        return self.respond(path, b"", status=status, content_type=None, headers={"Location": location})

    def not_found(self, path: str) -> str:
        return self.respond(path, b"<h1>gone</h1>", status=404)

    def huge(self, path: str, size: int, *, declare_length: bool = True,
             content_type: str = "text/html; charset=utf-8") -> str:
        """``size`` bytes of body: with a Content-Length, or chunked without one."""

        def handler(req: BaseHTTPRequestHandler) -> None:
            req.send_response(200)
            req.send_header("Content-Type", content_type)
            req.send_header("Connection", "close")
            block = b"x" * 65536
            if declare_length:
                req.send_header("Content-Length", str(size))
                req.end_headers()
                left = size
                while left > 0:
                    req.wfile.write(block[: min(left, len(block))])
                    left -= len(block)
            else:
                req.send_header("Transfer-Encoding", "chunked")
                req.end_headers()
                left = size
                while left > 0:
                    piece = block[: min(left, len(block))]
                    req.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    left -= len(piece)
                req.wfile.write(b"0\r\n\r\n")

        return self.route(path, handler)

    def slow(self, path: str, *, delay: float = 3.0, trickle: bool = False, body: bytes = b"<html>slow</html>") -> str:
        """Headers at once, then ``delay`` seconds of silence before the body; or with ``trickle`` one byte
        every 0.2 s for ``delay`` seconds (each read is quick, the whole is not)."""

        def handler(req: BaseHTTPRequestHandler) -> None:
            req.send_response(200)
            req.send_header("Content-Type", "text/html; charset=utf-8")
            req.send_header("Connection", "close")
            if trickle:
                req.send_header("Transfer-Encoding", "chunked")
                req.end_headers()
                req.wfile.flush()
                end = time.monotonic() + delay
                while time.monotonic() < end:
                    req.wfile.write(b"1\r\nx\r\n")
                    req.wfile.flush()
                    time.sleep(0.2)
                req.wfile.write(b"0\r\n\r\n")
            else:
                req.send_header("Content-Length", str(len(body)))
                req.end_headers()
                req.wfile.flush()
                time.sleep(delay)
                req.wfile.write(body)

        return self.route(path, handler)


@pytest.fixture
def fixture_server():
    """A started FixtureServer (no root: set ``.root`` to serve files) that core.fetch may reach."""
    with FixtureServer() as server, server.allowed():
        yield server
