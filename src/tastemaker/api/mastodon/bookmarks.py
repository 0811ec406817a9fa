"""``/api/v1/bookmarks`` and ``/api/v1/favourites``: the posts you saved and the posts you liked."""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Router

from tastemaker.social import selectors

from .. import schemas as S
from ..auth import require_scope
from ..common import page, set_links, statuses
from ..errors import READ, responses
from ._auth import user_auth

router = Router()


@router.get("/v1/bookmarks", auth=user_auth, response=responses({200: list[S.Status]}, READ), tags=["statuses"],
            summary="Your bookmarks")
def bookmarks(request, response: HttpResponse):
    require_scope(request, "read:bookmarks")
    posts, first, last = selectors.bookmarked_posts(request.user, page(request))
    set_links(request, response, first, last)
    return statuses(request, posts)


@router.get("/v1/favourites", auth=user_auth, response=responses({200: list[S.Status]}, READ), tags=["statuses"],
            summary="Posts you liked")
def favourites(request, response: HttpResponse):
    require_scope(request, "read:favourites")
    posts, first, last = selectors.favourited_posts(request.user, page(request))
    set_links(request, response, first, last)
    return statuses(request, posts)
