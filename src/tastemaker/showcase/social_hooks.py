"""Showcase's reactions to social's hook points (listed in ``settings.HOOKS``): showcase sits above social."""

from .models import ProductCard


def files_in_use(*, paths: set[str]) -> set[str]:
    """Of these stored image files, the ones a product card shows (the media sweep keeps them)."""
    found: set[str] = set()
    for field in ("image", "image_preview"):
        found.update(ProductCard.objects.filter(**{f"{field}__in": paths}).values_list(field, flat=True))
    return found
