"""Image intake: the one door every uploaded image goes through (API media, compose, avatars and headers,
product-card images, fetched card images and demo pictures).

It sits low (above ``trust`` and ``core``, below ``accounts``), so every app that takes an image uses this
door rather than a copy of it.

``process_image`` counts the upload against the uploader's ``RATE_MEDIA`` limit, checks the size and
mode from the header *before* decoding (pixels against ``MEDIA_MAX_PIXELS``, decoded bytes against
``MEDIA_MAX_DECODE_BYTES``, see ``decoded_bytes``), decodes at most ``MEDIA_DECODE_SLOTS`` images at a time on this host,
decodes once (JPEG straight at a reduced scale), downscales to a maximum side, re-encodes (which
drops EXIF and any trailing payload) and makes a preview. Nothing the client sent is stored as-is.

The uploads' own life (rows, attaching, the sweep of unattached ones) is ``social.media``'s.
"""

from __future__ import annotations

import contextlib
import io
import math
import secrets
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError, features

from tastemaker.core.errors import RateLimited, ValidationFailed
from tastemaker.trust.ratelimit import check_and_hit

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux/macOS: slots per process only
    fcntl = None  # type: ignore[assignment]

ALLOWED_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}
PREVIEW_SIDE = 480
_WEBP = features.check("webp")  # Pillow built with libwebp (the wheels are)
ORIENTATION = 0x0112
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# bytes per pixel Pillow keeps in memory for a decoded image of each mode (RGB is stored in 4)
_MODE_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
_REDUCIBLE = {"L", "LA", "PA", "RGB", "RGBA", "I", "F", "CMYK"}  # Image.reduce refuses the others


def decoded_bytes(mode: str, width: int, height: int) -> int:
    """Memory processing an image of this mode and size takes at its peak: the decoded pixels, plus a
    full-size 4-byte copy when the mode must be converted before it can be reduced (palette, 1-bit,
    16-bit) or is reduced through premultiplied alpha (RGBA, LA, PA)."""
    pixels = width * height
    copy = mode not in _REDUCIBLE or mode in ("RGBA", "LA", "PA")
    return _MODE_BYTES.get(mode, 4) * pixels + (4 * pixels if copy else 0)


# --- at most MEDIA_DECODE_SLOTS decodes at a time ------------------------------------------------
# Lock files under DATA_DIR, so the bound holds across gunicorn's worker processes and the job
# consumer's threads alike (an flock belongs to one open file, so two threads exclude each other too).

_thread_slots: threading.BoundedSemaphore | None = None
_thread_slots_lock = threading.Lock()


@contextlib.contextmanager
def decode_slot() -> Iterator[None]:
    """Hold one of the decode slots; refuse with 429 after ``MEDIA_DECODE_WAIT`` seconds of waiting."""
    slots = settings.MEDIA_DECODE_SLOTS
    deadline = time.monotonic() + settings.MEDIA_DECODE_WAIT
    if fcntl is None:  # pragma: no cover
        global _thread_slots
        with _thread_slots_lock:
            if _thread_slots is None:
                _thread_slots = threading.BoundedSemaphore(slots)
        if not _thread_slots.acquire(timeout=settings.MEDIA_DECODE_WAIT):
            raise _busy()
        try:
            yield
        finally:
            _thread_slots.release()
        return
    folder = Path(settings.DATA_DIR) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    while True:
        for n in range(slots):
            handle = open(folder / f"media-decode-{n}.lock", "a+b")  # noqa: SIM115 - held until the end
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                continue
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
                handle.close()
            return
        if time.monotonic() >= deadline:
            raise _busy()
        time.sleep(0.05)


def _busy() -> RateLimited:
    return RateLimited(_("The server is busy processing other images; try again in a few seconds."), retry_after=5)


# --- intake --------------------------------------------------------------------------------------

def _save(img: Image.Image, stem: str, suffix: str, fmt: str) -> str:
    rel = Path("media") / stem[:2] / f"{stem}{suffix}"
    full = Path(settings.MEDIA_ROOT) / rel.relative_to("media")
    full.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "JPEG":
        img.save(full, "JPEG", quality=85, optimize=True, progressive=True)
    elif fmt == "WEBP":
        img.save(full, "WEBP", quality=80, method=4)  # alpha kept; a quarter to a third of the JPEG's bytes
    else:
        img.save(full, "PNG", optimize=True)
    return str(rel.relative_to("media"))


def _too_many_pixels() -> ValidationFailed:
    side = math.isqrt(settings.MEDIA_MAX_PIXELS)
    return ValidationFailed(
        _("The image has too many pixels (at most %(pixels)s, e.g. %(side)d × %(side)d); make it smaller and try "
          "again.") % {"pixels": f"{settings.MEDIA_MAX_PIXELS:,}", "side": side},
        field="file",
    )


def _target(width: int, height: int) -> tuple[int, int]:
    """The size the stored image gets: at most MEDIA_MAX_SIDE on the longer side, aspect kept."""
    side = settings.MEDIA_MAX_SIDE
    if max(width, height) <= side:
        return width, height
    ratio = side / max(width, height)
    return max(1, round(width * ratio)), max(1, round(height * ratio))


def process_image(data: bytes, *, user) -> dict:
    """Returns {"file", "preview", "width", "height"} or raises ValidationFailed with a reason.

    ``user`` is the uploader, counted against ``RATE_MEDIA`` (every try, refused or not, since the
    work is done either way); ``None`` only for images the server itself makes (demo data).
    """
    if user is not None:
        check_and_hit("media", user.pk, "RATE_MEDIA")
    if not data:
        raise ValidationFailed(_("The file is empty."), field="file")
    if len(data) > settings.MEDIA_MAX_BYTES:
        raise ValidationFailed(
            _("The file is too large (at most %(mb)d MB).") % {"mb": settings.MEDIA_MAX_BYTES // (1024 * 1024)},
            field="file",
        )
    Image.MAX_IMAGE_PIXELS = settings.MEDIA_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            # Pillow warns above MAX_IMAGE_PIXELS and raises above twice that; the checks below refuse both
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))  # lazy: reads the header only
        with probe:
            fmt = probe.format
            width, height = probe.size
            if fmt not in ALLOWED_FORMATS:
                raise ValidationFailed(_("Only JPEG, PNG, GIF and WebP images are accepted."), field="file")
            if width * height > settings.MEDIA_MAX_PIXELS:
                raise _too_many_pixels()
            target = _target(width, height)
            if fmt == "JPEG":  # decode straight at 1/2, 1/4 or 1/8 scale when that still covers the target
                probe.draft(probe.mode, target)
            if decoded_bytes(probe.mode, *probe.size) > settings.MEDIA_MAX_DECODE_BYTES:
                raise ValidationFailed(
                    _("The image needs too much memory to process (at most %(mb)d MB decoded); make it smaller "
                      "and try again.") % {"mb": settings.MEDIA_MAX_DECODE_BYTES // (1024 * 1024)},
                    field="file",
                )
            with decode_slot():
                return _decode_and_store(probe, target)
    except (ValidationFailed, RateLimited):
        raise
    except Image.DecompressionBombError:  # too many pixels for Pillow's own guard: say so, not "unreadable"
        raise _too_many_pixels() from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise ValidationFailed(_("The file is not a readable image."), field="file") from None


def _decode_and_store(probe: Image.Image, target: tuple[int, int]) -> dict:
    probe.load()  # the one full decode
    orientation = probe.getexif().get(ORIENTATION)
    has_alpha = probe.mode in ("RGBA", "LA", "PA") or (probe.mode == "P" and "transparency" in probe.info)
    img: Image.Image = probe
    if img.mode not in _REDUCIBLE:
        img = img.convert("RGBA" if has_alpha else "RGB")
    factor = min(img.width // target[0], img.height // target[1])
    if factor >= 2:  # a cheap box reduction first, so the copies below are small
        img = img.reduce(factor)
        probe.close()  # frees the full-size pixels at once
    if img.mode != ("RGBA" if has_alpha else "RGB"):
        img = img.convert("RGBA" if has_alpha else "RGB")
    if img.size != target:
        img = img.resize(target, Image.Resampling.LANCZOS)
    if orientation in _TRANSPOSE:  # apply the orientation, then the metadata is dropped below
        img = img.transpose(_TRANSPOSE[orientation])
    out_fmt, suffix = ("PNG", ".png") if has_alpha else ("JPEG", ".jpg")
    stem = secrets.token_hex(16)
    clean = Image.new(img.mode, img.size)
    clean.paste(img)  # a fresh image carries no info/exif dictionaries
    del img
    file = _save(clean, stem, suffix, out_fmt)
    preview_img = clean.copy()
    preview_img.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    # the preview (feeds, the discover waterfall, apps' preview_url) is WebP: every current browser and
    # Mastodon app shows it, at a fraction of the bytes; the full image stays JPEG/PNG for everything else
    preview = _save(preview_img, stem + "_small", ".webp", "WEBP") if _WEBP else _save(
        preview_img, stem + "_small", suffix, out_fmt)
    return {"file": file, "preview": preview, "width": clean.width, "height": clean.height}
