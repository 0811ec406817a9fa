"""``/api/v1/statuses``: publishing, reading, deleting a post, its thread, and acting on it (repost,
like, bookmark and their undoing)."""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Router

from tastemaker.accounts import services as account_services
from tastemaker.core.errors import NotFound
from tastemaker.core.pagination import parse_int
from tastemaker.social import selectors, services

from .. import schemas as S
from ..auth import require_scope, viewer
from ..common import post_or_404, status, statuses
from ..errors import READ, responses
from ._auth import optional_auth, user_auth

router = Router()
HELD_HEADER = "Tastemaker-Held"  # on a new post the spam filter held for review


@router.post("/v1/statuses", auth=user_auth, response=responses({200: S.Status}), tags=["statuses"],
             summary="Publish a post",
             description="A post or reply. Repeating the same or a near-same text, posting in bursts far above "
                         "the account's usual rate, mass mentions and the same reply to many posts are refused "
                         "(429 with `Retry-After`, or 422 for too many mentions in one post). A post the spam "
                         "filter takes for an SEO/adult/gambling keyword line is saved but **held for review**: "
                         "the answer is still 200 with the status, and the header `Tastemaker-Held: review` says "
                         "it is seen by its author and operators only, and reaches followers only if an operator "
                         "releases it.")
def create_status(request, response: HttpResponse, payload: S.StatusIn):
    require_scope(request, "write:statuses")
    media_ids = []
    for raw in payload.media_ids:
        number = parse_int(raw, "media_ids")
        media_ids.append(number)
    reply_to = parse_int(payload.in_reply_to_id, "in_reply_to_id") if payload.in_reply_to_id else None
    post = services.do_create_post(
        request.user, text=payload.status or "", media_ids=media_ids, in_reply_to_id=reply_to,
        visibility=payload.visibility, sensitive=payload.sensitive, spoiler_text=payload.spoiler_text or "",
        language=(payload.language or None) and account_services.normalise_language(payload.language),
    )
    if post.held:
        response[HELD_HEADER] = "review"
    return status(request, post)


@router.get("/v1/statuses/{status_id}", auth=optional_auth, response=responses({200: S.Status}, READ),
            tags=["statuses"], summary="A post")
def get_status(request, status_id: str):
    return status(request, post_or_404(request, status_id))


@router.delete("/v1/statuses/{status_id}", auth=user_auth, response=responses({200: S.Status}), tags=["statuses"],
               summary="Delete your post")
def delete_status(request, status_id: str):
    require_scope(request, "write:statuses")
    post = post_or_404(request, status_id)
    if post.author_id != request.user.pk:
        raise NotFound("Record not found")
    data = status(request, post)
    data["text"] = post.text
    services.do_delete_post(request.user, post)
    return data


@router.get("/v1/statuses/{status_id}/context", auth=optional_auth, response=responses({200: S.Context}, READ),
            tags=["statuses"], summary="The thread around a post")
def status_context(request, status_id: str):
    post = post_or_404(request, status_id)
    ancestors, descendants = selectors.thread_context(viewer(request), post)
    return {"ancestors": statuses(request, ancestors), "descendants": statuses(request, descendants)}


def _status_action(name: str, action, scope: str, returns_reblog: bool = False):
    @router.post(f"/v1/statuses/{{status_id}}/{name}", auth=user_auth, response=responses({200: S.Status}),
                 tags=["statuses"], summary=f"{name.capitalize()} a post", operation_id=f"status_{name}")
    def handler(request, status_id: str):
        require_scope(request, scope)
        post = post_or_404(request, status_id)
        result = action(request.user, post)
        if returns_reblog and result is not None:
            return status(request, result)
        post = selectors.get_post(request.user, post.pk) or post
        return status(request, post)

    return handler


_status_action("reblog", services.do_reblog, "write:statuses", returns_reblog=True)
_status_action("unreblog", services.do_unreblog, "write:statuses")
_status_action("favourite", services.do_favourite, "write:favourites")
_status_action("unfavourite", services.do_unfavourite, "write:favourites")
_status_action("bookmark", services.do_bookmark, "write:bookmarks")
_status_action("unbookmark", services.do_unbookmark, "write:bookmarks")
