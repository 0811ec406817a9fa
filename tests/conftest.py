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
def png_bytes():
    def make(size=(64, 48), color=(200, 30, 30), fmt="PNG", exif: bytes | None = None) -> bytes:
        buf = io.BytesIO()
        img = Image.new("RGB", size, color)
        kwargs = {"exif": exif} if exif else {}
        img.save(buf, fmt, **kwargs)
        return buf.getvalue()

    return make


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """Run the after-commit jobs (fan-out, backfill) of the code inside the block, as the consumer would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
