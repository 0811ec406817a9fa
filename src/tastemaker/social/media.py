"""The uploads' life after intake: removing the ones never attached to a post.

Intake itself (rate, header checks, decode slots, re-encoding) is ``images.intake.process_image``, the one
door every uploaded image goes through.

``sweep_unattached_media`` removes uploads never attached to a post (or card) after a while; a file that
something else still shows (another upload, a profile picture, or, through the ``social.files_in_use`` hook,
a product card) is kept.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from tastemaker.accounts.models import User

# (issue 11) lands; the door is images.intake: import it from there
from . import hooks
from .models import Media

# --- uploads never used ----------------------------------------------------------------------------

def _referenced(paths: set[str]) -> set[str]:
    """Of these stored files, the ones something still shows (another upload, a profile, and whatever the
    apps above social report through the ``social.files_in_use`` hook: product cards)."""
    if not paths:
        return set()
    found: set[str] = set()
    for model, fields in ((Media, ("file", "preview")), (User, ("avatar", "header"))):
        for field in fields:
            found.update(model.objects.filter(**{f"{field}__in": paths}).values_list(field, flat=True))
    for more in hooks.files_in_use(paths=paths):
        found.update(more)
    return found


def delete_media(items) -> int:
    """Delete these Media rows if still unattached, and their files (through the storage API) unless
    something else still uses them. Returns the number of rows deleted."""
    deleted = []
    for item in items:
        # conditional: a post that claimed the image meanwhile keeps it
        if Media.objects.filter(pk=item.pk, post__isnull=True).delete()[0]:
            deleted.append(item)
    paths = {p for item in deleted for p in (item.file, item.preview) if p}
    keep = _referenced(paths)
    for path in paths - keep:
        with contextlib.suppress(OSError):
            default_storage.delete(path)
    return len(deleted)


def sweep_unattached_media(*, now=None, batch: int = 500) -> int:
    """Delete uploads never attached to a post (nor taken by a product card, which removes the row)
    ``MEDIA_UNATTACHED_HOURS`` after they were uploaded. Returns the number deleted."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.MEDIA_UNATTACHED_HOURS)
    total = 0
    while True:
        items = list(Media.objects.filter(post__isnull=True, created_at__lt=cutoff)
                     .only("pk", "file", "preview").order_by("created_at")[:batch])
        if not items:
            return total
        done = delete_media(items)
        total += done
        if len(items) < batch or not done:
            return total
