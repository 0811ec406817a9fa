"""``/api/v1/follow_requests``: the accounts asking to follow a locked account, approved or rejected."""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Router

from tastemaker.social import selectors, services

from .. import schemas as S
from ..auth import require_scope
from ..common import account_list, account_or_404, page, relationship
from ..errors import READ, responses
from ._auth import user_auth

router = Router()


@router.get("/v1/follow_requests", auth=user_auth, response=responses({200: list[S.Account]}, (*READ, 403)),
            tags=["accounts"], summary="Accounts asking to follow you (your account is locked)")
def follow_requests(request, response: HttpResponse):
    require_scope(request, "read:follows")
    return account_list(request, response, selectors.follow_requests(request.user, page(request)))


def _follow_request_action(name: str, action):
    @router.post(f"/v1/follow_requests/{{account_id}}/{name}", auth=user_auth,
                 response=responses({200: S.Relationship}), tags=["accounts"],
                 summary=f"{name.capitalize()} a follow request", operation_id=f"follow_request_{name}")
    def handler(request, account_id: str):
        require_scope(request, "write:follows")
        requester = account_or_404(account_id)
        action(request.user, requester)
        return relationship(request, requester)

    return handler


_follow_request_action("authorize", services.do_authorize_follow_request)
_follow_request_action("reject", services.do_reject_follow_request)
