"""``/api/v1/conversations``: direct messages as Mastodon shows them (issue 14). A conversation is a thread of
``direct`` statuses (written with ``POST /api/v1/statuses``, ``visibility=direct``: the mentions are the
recipients); each participant has their own view of it (unread, removed). Tastemaker keeps messages from
people you do not follow apart as *message requests* (``?folder=requests``), accepted or declined here."""

from __future__ import annotations

from typing import Literal

from django.http import HttpResponse
from ninja import Query, Router

from tastemaker.core.errors import NotFound
from tastemaker.core.ids import parse_id
from tastemaker.social import selectors, services
from tastemaker.social.models import Folder

from .. import render
from .. import schemas as S
from .. import serializers as ser
from ..auth import require_scope
from ..common import page, set_links
from ..errors import READ, responses
from ._auth import user_auth

router = Router()
FOLDERS = {"inbox": Folder.INBOX, "requests": Folder.REQUEST}


def _render(request, refs: list[selectors.ConversationRef]) -> str:
    """A JSON array of Mastodon ``Conversation``s, from rows: the last statuses as the home timeline renders
    them (``render.statuses_parts``), the participants through ``render.accounts_json_by_id``, placed as
    they come (nothing parsed again)."""
    statuses = dict(render.statuses_parts(
        request, [(r.last_status_id, r.last_reblog_of_id) for r in refs if r.last_status_id], request.user))
    accounts = render.accounts_json_by_id([a for r in refs for a in r.account_ids], ser.Ctx(request))
    return "[" + ",".join(
        f'{{"id":"{r.id}","unread":{"true" if r.unread else "false"}'
        f',"accounts":[{",".join(accounts[a] for a in r.account_ids if a in accounts)}]'
        f',"last_status":{statuses.get(r.last_status_id, "null") if r.last_status_id else "null"}'
        f',"tastemaker_folder":"{"requests" if r.folder == Folder.REQUEST else r.folder}"}}'
        for r in refs) + "]"


def _one(request, conversation_id: str) -> HttpResponse:
    """One conversation as JSON (read, accept)."""
    return HttpResponse(_render(request, [_view(request, conversation_id)])[1:-1],
                        content_type="application/json; charset=utf-8")


def _view(request, conversation_id: str) -> selectors.ConversationRef:
    view = selectors.conversation_ref(request.user, parse_id(conversation_id))
    if view is None:
        raise NotFound("Record not found")
    return view


@router.get("/v1/conversations", auth=user_auth, response=responses({200: list[S.Conversation]}, (*READ, 403)),
            tags=["conversations"], summary="Your direct-message conversations",
            description="Newest message first, paged by `max_id` / `min_id` / `since_id` (the last status id) with "
                        "a `Link` header. `folder=requests` (Tastemaker): the message requests, from accounts you "
                        "do not follow, kept apart until you accept or decline them.")
def list_conversations(request, response: HttpResponse,
                       folder: Literal["inbox", "requests"] = Query("inbox")):  # noqa: B008
    require_scope(request, "read:statuses")
    refs, first, last = selectors.conversation_refs(request.user, page(request), FOLDERS[folder])
    # the statuses straight from rows (api/render.py, as the home timeline), and an HttpResponse, which ninja
    # passes through without re-validating 20 conversations through pydantic (the declared shape is checked
    # against the schema in the tests): 64 ms -> see docs/benchmarks.md, figure n
    out = HttpResponse(_render(request, refs), content_type="application/json; charset=utf-8")
    set_links(request, out, first, last)
    return out


@router.post("/v1/conversations/{conversation_id}/read", auth=user_auth, response=responses({200: S.Conversation}),
             tags=["conversations"], summary="Mark a conversation as read")
def read_conversation(request, conversation_id: str):
    require_scope(request, "write:conversations")
    services.do_mark_conversation_read(request.user, _view(request, conversation_id).id)
    return _one(request, conversation_id)


@router.delete("/v1/conversations/{conversation_id}", auth=user_auth, response=responses({200: dict}),
               tags=["conversations"], summary="Remove a conversation from your list",
               description="The messages stay; the next message in it brings it back.")
def remove_conversation(request, conversation_id: str):
    require_scope(request, "write:conversations")
    services.do_remove_conversation(request.user, _view(request, conversation_id).id)
    return {}


@router.post("/v1/conversations/{conversation_id}/accept", auth=user_auth,
             response=responses({200: S.Conversation}), tags=["conversations"],
             summary="Accept a message request (Tastemaker)",
             description="The conversation moves to your inbox; its sender may write to you in it from now on.")
def accept_conversation(request, conversation_id: str):
    require_scope(request, "write:conversations")
    services.do_accept_conversation(request.user, _view(request, conversation_id).id)
    return _one(request, conversation_id)


@router.post("/v1/conversations/{conversation_id}/decline", auth=user_auth, response=responses({200: dict}),
             tags=["conversations"], summary="Decline a message request (Tastemaker)",
             description="Out of sight; later messages in it arrive silently. 422 for a conversation in the inbox.")
def decline_conversation(request, conversation_id: str):
    require_scope(request, "write:conversations")
    services.do_decline_conversation(request.user, _view(request, conversation_id).id)
    return {}
