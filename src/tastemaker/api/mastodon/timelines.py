"""``/api/v1/timelines``: home (the hot path, rendered straight from rows), public and hashtag."""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Router

from tastemaker.social import selectors

from .. import render
from .. import schemas as S
from ..auth import require_scope, viewer
from ..common import page, set_links, statuses
from ..errors import READ, responses
from ._auth import optional_auth, user_auth

router = Router()


@router.get("/v1/timelines/home", auth=user_auth, response=responses({200: list[S.Status]}, READ),
            tags=["timelines"], summary="Home timeline")
def timeline_home(request, response: HttpResponse):
    # the hot path: page ids first, then rows rendered straight to JSON (api/render.py; the output is the
    # declared list[Status], checked against the reference serializer in tests/perf). An HttpResponse is
    # passed through by ninja without re-validating 20 statuses through pydantic.
    require_scope(request, "read:statuses")
    body, first, last = render.home_json(request, request.user, page(request))
    out = HttpResponse(body, content_type="application/json; charset=utf-8")
    set_links(request, out, first, last)
    return out


@router.get("/v1/timelines/public", auth=optional_auth, response=responses({200: list[S.Status]}, READ),
            tags=["timelines"], summary="Public timeline")
def timeline_public(request, response: HttpResponse, local: bool = False, remote: bool = False,
                    only_media: bool = False):
    if remote:
        return []  # a single server: nothing is remote
    posts = selectors.public_timeline(viewer(request), page(request))
    set_links(request, response, posts[0].pk if posts else None, posts[-1].pk if posts else None)
    return statuses(request, posts)


@router.get("/v1/timelines/tag/{hashtag}", auth=optional_auth, response=responses({200: list[S.Status]}, READ),
            tags=["timelines"], summary="Hashtag timeline")
def timeline_tag(request, response: HttpResponse, hashtag: str):
    posts = selectors.tag_timeline(viewer(request), hashtag, page(request))
    set_links(request, response, posts[0].pk if posts else None, posts[-1].pk if posts else None)
    return statuses(request, posts)
