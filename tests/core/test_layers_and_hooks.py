"""Issue 11: the layers hold (import-linter's contracts), and a lower app reaches the apps above it only
through its named hook points, whose consumers are listed in settings.HOOKS."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from tastemaker.core import hooks as core_hooks

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept():
    """`.importlinter`: layers (api | web | demo on top, core at the bottom), no domain app imports the top
    floor, core imports no app, and no cycles between apps nor between the modules of a package."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_no_app_imports_an_app_above_it_inside_a_function():
    """The imports that used to dodge the cycles (inside functions) are gone: social names neither feeds nor
    analytics, accounts names no social, core names no domain app."""
    src = ROOT / "src" / "tastemaker"
    checks = {
        "social": ("tastemaker.feeds", "tastemaker.analytics", "tastemaker.showcase"),
        "accounts": ("tastemaker.social",),
        "core": ("tastemaker.accounts", "tastemaker.social", "tastemaker.feeds", "tastemaker.experts",
                 "tastemaker.discovery", "tastemaker.showcase"),
    }
    for app, above in checks.items():
        for path in (src / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            for name in above:
                assert f"from {name}" not in text and f"import {name}" not in text, f"{path} imports {name}"


def test_unknown_hook_point_in_settings_is_a_startup_error():
    with pytest.raises(ImproperlyConfigured, match="unknown hook point 'social.post_creatd'"):
        core_hooks.check_settings({"social.post_creatd": ["tastemaker.feeds.social_hooks.post_created"]})


def test_consumer_that_does_not_import_is_a_startup_error():
    with pytest.raises(ImproperlyConfigured, match="cannot be imported"):
        core_hooks.check_settings({"social.post_created": ["tastemaker.feeds.social_hooks.no_such_thing"]})


def test_configured_hooks_are_valid():
    core_hooks.check_settings()  # the shipped settings.HOOKS: every name declared, every consumer imports
    assert {"social.post_created", "social.followed", "social.unfollowed", "social.blocked", "social.engaged",
            "social.files_in_use", "accounts.unlocked"} <= set(core_hooks.declared())


calls: list[tuple[str, dict]] = []


def record_post(**kw):
    calls.append(("post_created", kw))


def record_engaged(**kw):
    calls.append(("engaged", kw))


@pytest.mark.django_db
def test_social_calls_the_consumers_listed_in_settings(make_user, run_jobs):
    """Social's hooks call exactly the consumers settings.HOOKS lists: swapped out, the home feed gets no
    own entry (feeds is not called behind the hook's back); the arguments are the documented ones."""
    from tastemaker.feeds.models import TimelineEntry
    from tastemaker.social import services as social

    author, fan = make_user(), make_user()
    calls.clear()
    with override_settings(HOOKS={"social.post_created": [f"{__name__}.record_post"],
                                  "social.engaged": [f"{__name__}.record_engaged"]}):
        with run_jobs():
            post = social.do_create_post(author, text="hello")
            social.do_favourite(fan, post)
    assert calls == [("post_created", {"post": post}),
                     ("engaged", {"kind": "like", "post_id": post.pk, "actor_id": fan.pk, "owner_id": author.pk})]
    assert not TimelineEntry.objects.filter(post=post).exists()
    with run_jobs():  # with the shipped wiring, feeds puts the post in its author's home feed at once
        again = social.do_create_post(author, text="hello again")
    assert TimelineEntry.objects.filter(viewer_id=author.pk, post=again).exists()


@pytest.mark.django_db
def test_media_sweep_keeps_a_file_a_product_card_shows_through_the_hook(make_user, showcase_post):
    """social's sweep asks the apps above it (social.files_in_use: showcase's product cards) which files they
    still show; without that consumer it would delete a card's picture."""
    from datetime import timedelta

    from django.core.files.storage import default_storage
    from django.utils import timezone

    from tastemaker.showcase.models import ProductCard
    from tastemaker.social.media import sweep_unattached_media
    from tastemaker.social.models import Media

    author = make_user()
    showcase_post(author)
    card = ProductCard.objects.get(post__author=author)
    old = timezone.now() - timedelta(days=3)

    def old_twin() -> None:  # an old unattached upload of the same picture (as a second upload of it is)
        twin = Media.objects.create(owner=author, file=card.image, preview=card.image_preview, width=1, height=1)
        Media.objects.filter(pk=twin.pk).update(created_at=old)

    old_twin()
    assert sweep_unattached_media() == 1
    assert default_storage.exists(card.image) and default_storage.exists(card.image_preview)
    old_twin()
    with override_settings(HOOKS={}):  # nobody above social answers: the files go
        assert sweep_unattached_media() == 1
    assert not default_storage.exists(card.image)
