"""``/api/v{1,2}/media``: uploading an image (processed at once) and describing it."""

from __future__ import annotations

from django.conf import settings
from ninja import File, Form, Router, UploadedFile

from tastemaker.core.errors import NotFound, ValidationFailed
from tastemaker.core.ids import parse_id
from tastemaker.social import selectors, services

from .. import schemas as S
from .. import serializers as ser
from ..auth import require_scope
from ..errors import WRITE, responses
from ._auth import user_auth

router = Router()


def _upload(request, file: UploadedFile, description: str | None):
    require_scope(request, "write:media")
    if file.size and file.size > settings.MEDIA_MAX_BYTES:
        raise ValidationFailed("file: the file is too large", field="file")
    item = services.do_upload_media(request.user, file.read(settings.MEDIA_MAX_BYTES + 1), description or "")
    return ser.media(item, ser.Ctx(request))


@router.post("/v2/media", auth=user_auth, response=responses({200: S.MediaAttachment}), tags=["media"],
             summary="Upload an image (processed at once)")
def upload_media_v2(request, file: UploadedFile = File(...), description: str | None = Form(None)):
    return _upload(request, file, description)


@router.post("/v1/media", auth=user_auth, response=responses({200: S.MediaAttachment}), tags=["media"],
             summary="Upload an image (v1)")
def upload_media_v1(request, file: UploadedFile = File(...), description: str | None = Form(None)):
    return _upload(request, file, description)


def _own_media(request, media_id: str):
    item = selectors.own_media(request.user, parse_id(media_id))
    if item is None:
        raise NotFound("Record not found")
    return item


@router.get("/v1/media/{media_id}", auth=user_auth, response=responses({200: S.MediaAttachment}, WRITE),
            tags=["media"], summary="An uploaded image")
def get_media(request, media_id: str):
    require_scope(request, "write:media")  # as Mastodon: media endpoints are for the uploading app
    return ser.media(_own_media(request, media_id), ser.Ctx(request))


@router.put("/v1/media/{media_id}", auth=user_auth, response=responses({200: S.MediaAttachment}), tags=["media"],
            summary="Change an image's description")
def update_media(request, media_id: str, payload: S.MediaUpdateIn):
    require_scope(request, "write:media")
    item = services.do_update_media(request.user, _own_media(request, media_id), payload.description or "")
    return ser.media(item, ser.Ctx(request))
