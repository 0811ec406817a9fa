"""Image intake: every upload is decoded with limits and re-encoded; metadata never survives."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from PIL import Image

from tastemaker.core.errors import ValidationFailed
from tastemaker.images.intake import process_image
from tastemaker.social.models import Media
from tastemaker.social.services import do_upload_media

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825
MAKE, MODEL, ORIENTATION, ARTIST = 0x010F, 0x0110, 0x0112, 0x013B


def jpeg_with_exif(size=(64, 48), orientation=1) -> bytes:
    exif = Image.Exif()
    exif[MAKE] = "SpyCam"
    exif[MODEL] = "Model X"
    exif[ARTIST] = "Jane Doe, 12 Secret Street"
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (39.0, 54.0, 0.0), 3: "E", 4: (116.0, 23.0, 0.0)})
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buf, "JPEG", exif=exif.tobytes())
    data = buf.getvalue()
    assert b"SpyCam" in data  # the fixture really carries EXIF
    with Image.open(io.BytesIO(data)) as check:
        assert check.getexif()[MAKE] == "SpyCam"
    return data


def stored(rel: str) -> Path:
    return Path(settings.MEDIA_ROOT) / rel


def test_exif_is_stripped_and_orientation_applied(make_user):
    media = do_upload_media(make_user(), jpeg_with_exif(size=(64, 48), orientation=6), description="a photo")
    for rel in (media.file, media.preview):
        raw = stored(rel).read_bytes()
        assert b"SpyCam" not in raw and b"Secret Street" not in raw and b"Exif" not in raw
        with Image.open(stored(rel)) as img:
            assert len(img.getexif()) == 0
            assert "exif" not in img.info
    # orientation 6 = rotate 90°: the stored image is upright, so portrait
    assert (media.width, media.height) == (48, 64)
    assert media.description == "a photo"


def test_trailing_payload_is_dropped(make_user, png_bytes):
    data = png_bytes() + b"<?php system($_GET['c']); ?>"
    media = do_upload_media(make_user(), data)
    assert b"<?php" not in stored(media.file).read_bytes()


def test_png_with_text_chunks_loses_them(make_user):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "tracking-id-123")
    buf = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(buf, "PNG", pnginfo=info)
    media = do_upload_media(make_user(), buf.getvalue())
    assert b"tracking-id-123" not in stored(media.file).read_bytes()


def test_large_image_is_downscaled_with_a_preview(make_user, png_bytes):
    media = do_upload_media(make_user(), png_bytes(size=(4096, 1024), fmt="JPEG"))
    assert (media.width, media.height) == (2048, 512)
    with Image.open(stored(media.file)) as img:
        assert img.size == (2048, 512) and img.format == "JPEG"
    with Image.open(stored(media.preview)) as img:
        assert img.size == (480, 120) and img.format == "WEBP"  # previews are WebP, generated at upload
    assert stored(media.preview).stat().st_size < stored(media.file).stat().st_size


def test_a_transparent_preview_keeps_its_alpha_in_webp():
    buf = io.BytesIO()
    Image.new("RGBA", (900, 900), (255, 0, 0, 0)).save(buf, "PNG")
    info = process_image(buf.getvalue(), user=None)
    with Image.open(stored(info["preview"])) as img:
        assert img.format == "WEBP" and img.mode == "RGBA" and img.getpixel((0, 0))[3] == 0


def test_transparency_is_kept_as_png():
    buf = io.BytesIO()
    Image.new("RGBA", (10, 10), (255, 0, 0, 0)).save(buf, "PNG")
    info = process_image(buf.getvalue(), user=None)
    assert info["file"].endswith(".png")
    with Image.open(stored(info["file"])) as img:
        assert img.mode == "RGBA" and img.getpixel((0, 0))[3] == 0


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_other_accepted_formats(png_bytes, fmt):
    info = process_image(png_bytes(fmt=fmt), user=None)
    assert (info["width"], info["height"]) == (64, 48)


@override_settings(MEDIA_MAX_PIXELS=1000)
@pytest.mark.parametrize("size", [(40, 30), (64, 48), (400, 300)])  # just over, 3x over and far over the limit
def test_pixel_limit_refused(make_user, png_bytes, size):
    with pytest.raises(ValidationFailed) as err:
        do_upload_media(make_user(), png_bytes(size=size))
    assert "pixels" in err.value.message
    assert not Media.objects.exists()


@override_settings(MEDIA_MAX_PIXELS=3072)
def test_pixel_limit_is_inclusive(png_bytes):
    assert process_image(png_bytes(size=(64, 48)), user=None)["width"] == 64


@override_settings(MEDIA_MAX_BYTES=1000)
def test_byte_limit_refused(make_user):
    noisy = Image.effect_noise((200, 200), 80).convert("RGB")
    buf = io.BytesIO()
    noisy.save(buf, "PNG")
    with pytest.raises(ValidationFailed, match="too large"):
        do_upload_media(make_user(), buf.getvalue())
    assert not Media.objects.exists()


@pytest.mark.parametrize(
    "data",
    [b"", b"garbage bytes", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"GIF89a" + b"\xff" * 20, b"\xff\xd8\xff" + b"x" * 100],
)
def test_garbage_refused(make_user, data):
    with pytest.raises(ValidationFailed) as err:
        do_upload_media(make_user(), data)
    assert err.value.field == "file"
    assert not Media.objects.exists()


def test_truncated_image_refused(make_user, png_bytes):
    data = png_bytes(size=(300, 300), fmt="JPEG")
    with pytest.raises(ValidationFailed):
        do_upload_media(make_user(), data[: len(data) // 2])
    assert not Media.objects.exists()


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "ICO"])
def test_unlisted_formats_refused(make_user, png_bytes, fmt):
    with pytest.raises(ValidationFailed, match="JPEG, PNG, GIF"):
        do_upload_media(make_user(), png_bytes(fmt=fmt))
    assert not Media.objects.exists()


def test_description_limit(make_user, png_bytes):
    with pytest.raises(ValidationFailed) as err:
        do_upload_media(make_user(), png_bytes(), description="d" * 1501)
    assert err.value.field == "description"
    assert not Media.objects.exists()


def test_only_the_owner_updates_a_description(make_user, png_bytes):
    from tastemaker.core.errors import NotFound
    from tastemaker.social.services import do_update_media

    owner, other = make_user(), make_user()
    media = do_upload_media(owner, png_bytes(), description="old")
    with pytest.raises(NotFound):
        do_update_media(other, media, "hijacked")
    media.refresh_from_db()
    assert media.description == "old"
    do_update_media(owner, media, "new")
    media.refresh_from_db()
    assert media.description == "new"


def _seed_images() -> list[bytes]:
    out = []
    for fmt in ("PNG", "JPEG", "GIF", "WEBP"):
        buf = io.BytesIO()
        Image.new("RGB", (16, 12), (1, 2, 3)).save(buf, fmt)
        out.append(buf.getvalue())
    return out


SEEDS = _seed_images()


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.sampled_from(SEEDS), edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6),
       cut=st.integers(0, 10_000))
def test_mangled_images_are_refused_cleanly_or_accepted(seed, edits, cut):
    """Any byte-level damage gives ValidationFailed or a clean re-encode, never another exception."""
    data = bytearray(seed)
    for pos, value in edits:
        data[pos % len(data)] = value
    data = bytes(data[: max(1, len(data) - (cut % len(data)))]) if cut % 3 == 0 else bytes(data)
    try:
        info = process_image(data, user=None)
    except ValidationFailed:
        return
    with Image.open(stored(info["file"])) as img:
        assert img.size == (info["width"], info["height"])
