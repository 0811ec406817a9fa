"""Shared fixtures. The suite runs on SQLite by default and on PostgreSQL when
TASTEMAKER_DATABASE_URL points at one (``make test`` does both)."""

from __future__ import annotations

import io
import itertools

import pytest
from PIL import Image

# Showcase fixtures (operator, partner store, signer, card_input, showcase_post) for every test directory
pytest_plugins = ["showcase_fixtures"]

_counter = itertools.count(1)
PASSWORD = "Corr3ct-Horse-Battery"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (cached counts and fragments never leak between tests), the
    per-process list of deliverable promotion campaigns included (a rolled-back test's campaigns are gone)."""
    from django.core.cache import cache

    from tastemaker.promotion import pending
    from tastemaker.promotion.selectors import forget_active

    cache.clear()
    forget_active()
    pending.clear()
    yield


@pytest.fixture
def make_user(db):
    from tastemaker.accounts.services import register

    def make(username: str | None = None, **extra):
        n = next(_counter)
        username = username or f"user{n}"
        user = register(username=username, email=extra.pop("email", f"{username}@example.org"),
                        password=extra.pop("password", PASSWORD), display_name=extra.pop("display_name", ""),
                        language=extra.pop("language", "en"))
        for key, value in extra.items():
            setattr(user, key, value)
        if extra:
            user.save()
        return user

    return make


@pytest.fixture
def oauth_app(db):
    """The one registered OAuth application of the suite (every directory: API, analytics, perf, showcase)."""
    from oauth2_provider.models import get_application_model

    return get_application_model().objects.create(
        name="test app", client_type="confidential", authorization_grant_type="authorization-code",
        redirect_uris="urn:ietf:wg:oauth:2.0:oob", scopes="read write follow push",
    )


@pytest.fixture
def png_bytes():
    def make(size=(64, 48), color=(200, 30, 30), fmt="PNG", exif: bytes | None = None) -> bytes:
        buf = io.BytesIO()
        img = Image.new("RGB", size, color)
        kwargs = {"exif": exif} if exif else {}
        img.save(buf, fmt, **kwargs)
        return buf.getvalue()

    return make


def _png_bomb(width: int, height: int) -> bytes:
    """A real, valid PNG of one colour: tiny on the wire, ``width × height × 4`` bytes once decoded
    (the review's case is 6300 × 6300 RGBA: 154 KB uploaded, 159 MB decoded)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    packer = zlib.compressobj(1)
    row = b"\x00" + bytes((10, 20, 30, 40)) * width
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


@pytest.fixture
def png_bomb():
    """Makes a decompression bomb: png_bomb(6300, 6300)."""
    return _png_bomb


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """Run the after-commit jobs (fan-out, backfill) of the code inside the block, as the consumer would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def pytest_collection_modifyitems(config, items):
    """Tests marked ``once`` (what they check does not depend on the database: ``tastemaker serve``'s process
    supervision, the page walk) run in the SQLite pass of scripts/test.sh only; the PostgreSQL pass skips them
    (the suite stays near 15 minutes)."""
    import os

    if not os.environ.get("TASTEMAKER_DATABASE_URL", "").startswith("postgres"):
        return
    skip = pytest.mark.skip(reason="database-independent: runs in the SQLite pass")
    for item in items:
        if item.get_closest_marker("once"):
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _flush_waits_for_the_live_server():
    """A transactional test's teardown empties the database while the live server may still be answering the
    page's last request (an impression beacon sent as the browser closes). On the in-memory SQLite test
    database that flush then fails at once with "database table is locked", and the failed BEGIN left the
    connection outside autocommit, which broke every later test of that worker. The flush is tried again
    (after putting the connection back in autocommit) until the server's request is done."""
    import time

    from django.db import OperationalError, connections
    from django.test import TransactionTestCase

    original = TransactionTestCase._fixture_teardown

    def teardown(self):
        deadline = time.monotonic() + 15
        while True:
            try:
                return original(self)
            except OperationalError as exc:
                if "is locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                for conn in connections.all(initialized_only=True):
                    if not conn.in_atomic_block and not conn.get_autocommit():
                        conn.rollback()
                        conn.set_autocommit(True)
                time.sleep(0.1)

    TransactionTestCase._fixture_teardown = teardown
    yield
    TransactionTestCase._fixture_teardown = original
