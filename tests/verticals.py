"""Helpers and fixtures shared by the experts and discovery tests (their conftest files import them):
creators who post about a vertical, default verticals present, rankings cache empty."""

from __future__ import annotations

import random

import pytest

from tastemaker.experts.corpus import VOCAB

EN = ["Tried the {i} for a month: {d} and great {c}.", "My honest review of the {i} — {d}, bought {c}.",
      "Restocked the {i}. {d} as always."]
ZH = ["用了一个月的{i}，{d}，{c}很合适。", "{i}真实测评：{d}，推荐{c}。", "又回购了{i}，依然{d}。"]


def vertical_text(vertical: str, lang: str = "en", rng: random.Random | None = None) -> str:
    rng = rng or random.Random()
    items, descs, ctxs = VOCAB[vertical][lang]
    template = rng.choice(EN if lang == "en" else ZH)
    return template.format(i=rng.choice(items), d=rng.choice(descs), c=rng.choice(ctxs))


@pytest.fixture(autouse=True)
def default_verticals(request):
    """The default verticals come from a data migration; a transactional test elsewhere on this worker
    may have flushed them."""
    if "db" in request.fixturenames or request.node.get_closest_marker("django_db"):
        from tastemaker.experts.services import ensure_default_verticals

        request.getfixturevalue("db")
        ensure_default_verticals()


@pytest.fixture(autouse=True)
def fresh_rankings():
    """Per-vertical rankings are cached for a minute per process: each test starts without them."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(name="vertical_text")
def vertical_text_fixture():
    return vertical_text


@pytest.fixture
def make_creator(make_user, django_capture_on_commit_callbacks):
    """A user with ``n`` public posts about ``vertical`` (and labels computed if ``label``)."""
    from tastemaker.experts.services import do_recompute_labels
    from tastemaker.social.services import do_create_post

    def make(username: str, vertical: str, n: int = 6, lang: str = "en", label: bool = True, **extra):
        user = make_user(username, **extra)
        rng = random.Random(username)
        with django_capture_on_commit_callbacks(execute=True):
            for _ in range(n):
                do_create_post(user, text=vertical_text(vertical, lang, rng))
        if label:
            do_recompute_labels(user)
        user.refresh_from_db()
        return user

    return make


@pytest.fixture
def fresh_process(settings, tmp_path):
    """A process that has not loaded the labeler, on an empty data dir, in production's load mode."""
    settings.DATA_DIR = tmp_path / "fresh"
    settings.DATA_DIR.mkdir()
    settings.LABELER_LOAD = "background"
    from tastemaker.experts import labeler

    labeler.forget()
    yield settings.DATA_DIR
    labeler.wait_until_ready(60)
