"""Image intake: decode with a pixel limit, re-encode (which drops EXIF and any trailing payload),
downscale to a maximum side, and make a preview. Nothing the client sent is stored as-is."""

from __future__ import annotations

import io
import secrets
import warnings
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from tastemaker.core.errors import ValidationFailed

ALLOWED_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}
PREVIEW_SIDE = 480


def _save(img: Image.Image, stem: str, suffix: str, fmt: str) -> str:
    rel = Path("media") / stem[:2] / f"{stem}{suffix}"
    full = Path(settings.MEDIA_ROOT) / rel.relative_to("media")
    full.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "JPEG":
        img.save(full, "JPEG", quality=85, optimize=True, progressive=True)
    else:
        img.save(full, "PNG", optimize=True)
    return str(rel.relative_to("media"))


def process_image(data: bytes) -> dict:
    """Returns {"file", "preview", "width", "height"} or raises ValidationFailed with a reason."""
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
            # Pillow warns above MAX_IMAGE_PIXELS and raises above twice that; the check below refuses both
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
        with probe:
            fmt = probe.format
            width, height = probe.size
            if fmt not in ALLOWED_FORMATS:
                raise ValidationFailed(_("Only JPEG, PNG, GIF and WebP images are accepted."), field="file")
            if width * height > settings.MEDIA_MAX_PIXELS:
                raise ValidationFailed(_("The image has too many pixels."), field="file")
            probe.load()
            img = ImageOps.exif_transpose(probe)  # apply the orientation, then drop the metadata
    except ValidationFailed:
        raise
    except Image.DecompressionBombError:  # too many pixels for Pillow's own guard: say so, not "unreadable"
        raise ValidationFailed(_("The image has too many pixels."), field="file") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ValidationFailed(_("The file is not a readable image."), field="file") from None
    has_alpha = img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info)
    img = img.convert("RGBA" if has_alpha else "RGB")
    img.thumbnail((settings.MEDIA_MAX_SIDE, settings.MEDIA_MAX_SIDE))
    out_fmt, suffix = ("PNG", ".png") if has_alpha else ("JPEG", ".jpg")
    stem = secrets.token_hex(16)
    clean = Image.new(img.mode, img.size)
    clean.paste(img)  # a fresh image carries no info/exif dictionaries
    file = _save(clean, stem, suffix, out_fmt)
    preview_img = clean.copy()
    preview_img.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    preview = _save(preview_img, stem + "_small", suffix, out_fmt)
    return {"file": file, "preview": preview, "width": clean.width, "height": clean.height}
