"""``/api/health`` and ``/api/v{1,2}/instance``: what this server is and offers."""

from __future__ import annotations

from django.conf import settings
from ninja import Router

from tastemaker import __version__
from tastemaker.moderation.selectors import server_rules
from tastemaker.social import selectors

from .. import schemas as S
from .streaming import streaming_ws_base

router = Router()


@router.get("/health", response={200: S.Health}, tags=["meta"], summary="Liveness probe (trivial JSON)")
def health(request):
    return {"status": "ok"}


def _instance_common(request) -> dict:
    return {
        "title": settings.SITE_NAME,
        "version": f"4.3.0 (compatible; Tastemaker {__version__})",
        "languages": ["en", "zh"],
        "configuration": {
            "statuses": {"max_characters": settings.POST_MAX_CHARS, "max_media_attachments": settings.POST_MAX_MEDIA,
                         "characters_reserved_per_url": 23},
            "media_attachments": {"supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"],
                                  "image_size_limit": settings.MEDIA_MAX_BYTES,
                                  "image_matrix_limit": settings.MEDIA_MAX_PIXELS},
            "accounts": {"max_featured_tags": 0, "max_pinned_statuses": 0},
            "polls": {"max_options": 0, "max_characters_per_option": 0, "min_expiration": 0, "max_expiration": 0},
        },
    }


@router.get("/v1/instance", tags=["instance"], summary="Server information (v1)")
def instance_v1(request) -> dict:
    base = request.build_absolute_uri("/").rstrip("/")
    data = _instance_common(request)
    data.update({
        "uri": request.get_host(),
        "short_description": "A social commerce network of tastemakers and their fans.",
        "description": "Tastemakers recommend products to their fans; fans buy at partner stores.",
        "email": settings.ADMIN_EMAIL,
        "urls": {"streaming_api": streaming_ws_base()},
        "stats": {**selectors.instance_stats(), "domain_count": 1},
        "thumbnail": f"{base}{settings.STATIC_URL}api/header.png",
        "registrations": True,
        "approval_required": False,
        "invites_enabled": False,
        "rules": _rules(),
    })
    return data


@router.get("/v2/instance", tags=["instance"], summary="Server information (v2)")
def instance_v2(request) -> dict:
    base = request.build_absolute_uri("/").rstrip("/")
    data = _instance_common(request)
    data.update({
        "domain": request.get_host(),
        "source_url": "https://example.invalid/tastemaker",
        "description": "A social commerce network of tastemakers and their fans.",
        "usage": {"users": {"active_month": 0}},
        "thumbnail": {"url": f"{base}{settings.STATIC_URL}api/header.png"},
        "registrations": {"enabled": True, "approval_required": False, "message": None},
        "api_versions": {"mastodon": 2},
        "contact": {"email": settings.ADMIN_EMAIL, "account": None},
        "rules": _rules(),
    })
    data["configuration"]["urls"] = {"streaming": streaming_ws_base()}
    return data


def _rules() -> list[dict]:
    """Mastodon's ``Rule`` entities, from the one list the sign-up form links to."""
    return [{"id": r.id, "text": str(r.text), "hint": str(r.hint)} for r in server_rules()]
