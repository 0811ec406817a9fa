"""Expensive uploads are bounded (issue 10, item 6): a per-user upload limit, pixels and memory checked from
the header before any decode, a bounded number of decodes at once, and unused uploads swept."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from PIL import Image, ImageFile

from tastemaker.core.errors import RateLimited, ValidationFailed
from tastemaker.images import intake as media_mod
from tastemaker.images.intake import decode_slot, decoded_bytes, process_image
from tastemaker.social.media import sweep_unattached_media
from tastemaker.social.models import Media
from tastemaker.social.services import do_create_post, do_upload_media

pytestmark = pytest.mark.django_db


def stored(rel: str) -> Path:
    return Path(settings.MEDIA_ROOT) / rel


def never_decoded():
    return mock.patch.object(ImageFile.ImageFile, "load", side_effect=AssertionError("decoded"))


# --- pixels and memory, from the header ---------------------------------------------------------

def test_review_bomb_is_refused_from_the_header_without_decoding(make_user, png_bomb):
    bomb = png_bomb(6300, 6300)
    assert len(bomb) < settings.MEDIA_MAX_BYTES
    start = time.perf_counter()
    with never_decoded(), pytest.raises(ValidationFailed) as err:
        do_upload_media(make_user(), bomb)
    assert time.perf_counter() - start < 1.0
    assert "too many pixels" in err.value.message and "4096" in err.value.message
    assert err.value.field == "file"
    assert not Media.objects.exists()


def test_default_pixel_cap_is_4096_by_4096(png_bomb):
    assert settings.MEDIA_MAX_PIXELS == 4096 * 4096
    with never_decoded(), pytest.raises(ValidationFailed, match="too many pixels"):
        process_image(png_bomb(4097, 4096), user=None)


def test_decoded_memory_counts_the_mode():
    assert decoded_bytes("L", 100, 100) == 10_000
    assert decoded_bytes("RGB", 100, 100) == 40_000  # Pillow keeps RGB in 4 bytes a pixel
    assert decoded_bytes("RGBA", 100, 100) == 80_000  # reduced through a premultiplied copy
    assert decoded_bytes("P", 100, 100) == 50_000  # converted before it can be reduced
    assert decoded_bytes("RGBA", 4096, 4096) <= settings.MEDIA_MAX_DECODE_BYTES  # the largest allowed fits


@override_settings(MEDIA_MAX_DECODE_BYTES=1_000_000)
def test_memory_budget_refuses_before_decoding(png_bytes, png_bomb):
    rgba = png_bomb(400, 400)  # 400 × 400 × 8 = 1.28 MB: over
    with never_decoded(), pytest.raises(ValidationFailed, match="too much memory"):
        process_image(rgba, user=None)
    buf = io.BytesIO()
    Image.new("L", (400, 400), 128).save(buf, "PNG")  # 400 × 400 × 1 = 160 kB: fine
    assert process_image(buf.getvalue(), user=None)["width"] == 400


@override_settings(MEDIA_MAX_SIDE=500, MEDIA_MAX_DECODE_BYTES=2_000_000)
def test_large_jpeg_is_decoded_straight_at_a_reduced_scale(png_bytes):
    """2400 × 1800 would take 17 MB decoded; drafted at 1/4 it takes 1 MB, inside the budget."""
    info = process_image(png_bytes(size=(2400, 1800), fmt="JPEG"), user=None)
    assert (info["width"], info["height"]) == (500, 375)
    with Image.open(stored(info["file"])) as img:
        assert img.size == (500, 375)


@override_settings(MEDIA_MAX_SIDE=100)
@pytest.mark.parametrize("mode", ["P", "RGBA", "LA", "L", "1"])
def test_every_mode_is_reduced_and_stored(mode):
    img = Image.new("RGBA", (450, 300), (200, 10, 10, 128)).convert(mode)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    info = process_image(buf.getvalue(), user=None)
    assert (info["width"], info["height"]) == (100, 67)


# --- at most MEDIA_DECODE_SLOTS decodes at a time ---------------------------------------------------

@override_settings(MEDIA_DECODE_SLOTS=1, MEDIA_DECODE_WAIT=0)
def test_a_busy_slot_refuses_with_429_instead_of_decoding_alongside(png_bytes):
    data = png_bytes()
    with decode_slot():  # another request is decoding
        with pytest.raises(RateLimited, match="busy") as err:
            process_image(data, user=None)
        assert err.value.retry_after >= 1
    assert process_image(data, user=None)["width"] == 64  # free again


# a generous wait: on a loaded machine the last of the five may wait several seconds for a slot (a 429 then
# would fail the test for the machine's speed, not for the slots)
@override_settings(MEDIA_DECODE_SLOTS=2, MEDIA_DECODE_WAIT=60)
def test_parallel_uploads_decode_at_most_slots_at_a_time(png_bytes):
    active, peak, lock = [0], [0], threading.Lock()
    real = media_mod._decode_and_store

    def counting(probe, target):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.2)
        try:
            return real(probe, target)
        finally:
            with lock:
                active[0] -= 1

    data, results = png_bytes(), []
    with mock.patch.object(media_mod, "_decode_and_store", counting):
        threads = [threading.Thread(target=lambda: results.append(process_image(data, user=None)))
                   for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert len(results) == 5  # all done, in turn
    assert peak[0] == 2


@override_settings(MEDIA_DECODE_SLOTS=1, MEDIA_DECODE_WAIT=0)
def test_the_slots_hold_across_processes(png_bytes):
    """gunicorn's workers are processes: a decode in one of them takes the slot for the others."""
    lock = Path(settings.DATA_DIR) / "locks" / "media-decode-0.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'a+b'); "
         "fcntl.flock(f.fileno(), fcntl.LOCK_EX); print('held', flush=True); time.sleep(30)", str(lock)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RateLimited, match="busy"):
            process_image(png_bytes(), user=None)
    finally:
        holder.kill()
        holder.wait(5)
    assert process_image(png_bytes(), user=None)["width"] == 64


# --- the upload limit ---------------------------------------------------------------------------

@override_settings(RATE_MEDIA="3/300")
def test_uploads_are_rate_limited_per_user_refused_ones_included(make_user, png_bytes, png_bomb):
    user, other = make_user(), make_user()
    do_upload_media(user, png_bytes())
    with pytest.raises(ValidationFailed):
        do_upload_media(user, png_bomb(6300, 6300))  # refused, but it counts: the work was asked for
    do_upload_media(user, png_bytes())
    with never_decoded(), pytest.raises(RateLimited) as err:
        do_upload_media(user, png_bytes())
    assert err.value.retry_after >= 1
    assert Media.objects.filter(owner=user).count() == 2
    do_upload_media(other, png_bytes())  # per user


def test_rate_media_setting_is_validated(monkeypatch):
    from tastemaker import settings as conf

    monkeypatch.setenv("TASTEMAKER_RATE_MEDIA", "lots")
    with pytest.raises(RuntimeError, match="TASTEMAKER_RATE_MEDIA must be a rate limit as count/seconds"):
        conf.env_rate("RATE_MEDIA", "30/300")
    monkeypatch.setenv("TASTEMAKER_RATE_MEDIA", "0/60")
    with pytest.raises(RuntimeError, match="count/seconds"):
        conf.env_rate("RATE_MEDIA", "30/300")
    monkeypatch.setenv("TASTEMAKER_MEDIA_DECODE_SLOTS", "0")
    with pytest.raises(RuntimeError, match="TASTEMAKER_MEDIA_DECODE_SLOTS must be an integer of at least 1"):
        conf.env_int_at_least("MEDIA_DECODE_SLOTS", 2, 1)


# --- uploads never used are swept -----------------------------------------------------------------

def _age(item: Media, hours: float) -> None:
    Media.objects.filter(pk=item.pk).update(created_at=timezone.now() - timedelta(hours=hours))


def test_sweep_deletes_old_unattached_uploads_and_their_files(make_user, png_bytes):
    user = make_user()
    old, fresh, used = (do_upload_media(user, png_bytes()) for _ in range(3))
    do_create_post(user, text="with a picture", media_ids=[used.pk])
    for item in (old, used):
        _age(item, 25)
    _age(fresh, 23)
    assert sweep_unattached_media() == 1
    assert set(Media.objects.values_list("pk", flat=True)) == {fresh.pk, used.pk}
    assert not stored(old.file).exists() and not stored(old.preview).exists()
    for item in (fresh, used):
        assert stored(item.file).exists() and stored(item.preview).exists()
    assert sweep_unattached_media() == 0


def test_sweep_keeps_files_something_else_still_shows(make_user, png_bytes):
    user = make_user()
    old = do_upload_media(user, png_bytes())
    twin = Media.objects.create(owner=user, file=old.file, preview=old.preview, width=1, height=1)
    do_create_post(user, text="same picture", media_ids=[twin.pk])
    user.avatar = old.preview
    user.save(update_fields=["avatar"])
    _age(old, 48)
    assert sweep_unattached_media() == 1
    assert stored(old.file).exists() and stored(old.preview).exists()


@override_settings(MEDIA_UNATTACHED_HOURS=1)
def test_sweep_age_is_a_setting_and_the_job_is_periodic(make_user, png_bytes):
    from datetime import datetime

    from huey.contrib.djhuey import HUEY

    from tastemaker.social.tasks import sweep_unattached_media_task

    due = {t.name for t in HUEY.read_periodic(datetime(2030, 1, 1, 12, 23))}
    assert sweep_unattached_media_task.task_class.__name__ in due
    item = do_upload_media(make_user(), png_bytes())
    _age(item, 2)
    assert sweep_unattached_media_task.call_local() == 1
    assert not Media.objects.exists() and not stored(item.file).exists()
