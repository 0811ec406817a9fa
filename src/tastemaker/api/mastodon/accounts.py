"""``/api/v1/accounts``: registration, your own profile, looking accounts up, their posts and followers,
and following, blocking and muting them; ``/api/v1/blocks`` and ``/api/v1/mutes``."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router
from ninja.errors import HttpError

from tastemaker.accounts import services as account_services
from tastemaker.core.errors import NotFound, ValidationFailed
from tastemaker.core.ids import parse_id
from tastemaker.core.safeinput import request_json
from tastemaker.social import selectors, services
from tastemaker.trust.ratelimit import check_and_hit, client_ip

from .. import schemas as S
from .. import serializers as ser
from ..auth import require_scope, viewer
from ..common import account_list, account_or_404, page, relationship, set_links, statuses
from ..errors import READ, responses
from ..parser import form_to_dict
from ._auth import app_auth, optional_auth, user_auth

router = Router()


@router.post("/v1/accounts", auth=app_auth, response=responses({200: S.Token}, (400, 401, 403, 422, 429)),
             tags=["accounts"], summary="Register an account (app token required)")
def register(request, payload: S.RegisterIn):
    token_row = request.oauth_token
    if token_row.application is None:
        raise HttpError(403, "This action requires an application token")
    require_scope(request, "write:accounts")
    check_and_hit("register", client_ip(request), "RATE_REGISTER_IP")
    scope = token_row.scope or "read"
    _user, raw, token = account_services.do_register_with_token(
        token_row.application, scope, username=payload.username, email=payload.email, password=payload.password,
        display_name=payload.display_name or "", language=payload.locale or "en", agreement=payload.agreement)
    return {"access_token": raw, "token_type": "Bearer", "scope": scope,
            "created_at": int(token.created.timestamp())}


@router.get("/v1/accounts/verify_credentials", auth=user_auth, response=responses({200: S.CredentialAccount}, READ),
            tags=["accounts"], summary="The logged-in account")
def verify_credentials(request):
    require_scope(request, "read:accounts")
    return ser.credential_account(request.user, ser.Ctx(request))


def _truthy(value) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


@router.patch("/v1/accounts/update_credentials", auth=user_auth, openapi_extra=S.UPDATE_CREDENTIALS_BODY,
              response=responses({200: S.CredentialAccount}), tags=["accounts"], summary="Update your profile")
def update_credentials(request: HttpRequest):
    require_scope(request, "write:accounts")
    files = {}
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.startswith("multipart/form-data") or content_type.startswith("application/x-www-form"):
        # Django parses form bodies only for POST: parse PATCH bodies the same way
        method, request.method = request.method, "POST"
        try:
            request._load_post_and_files()
        finally:
            request.method = method
        data = form_to_dict(request.POST)
        files = request.FILES
    elif request.body:
        try:
            data = request_json(request)  # checked text, bounded depth (core.safeinput)
        except ValueError:
            raise HttpError(400, "The body is not valid JSON") from None
        if not isinstance(data, dict):
            raise HttpError(400, "The body must be a JSON object")
    else:
        data = {}
    source = data.get("source") if isinstance(data.get("source"), dict) else {}
    language = data.get("source[language]") or source.get("language")
    interests = data.get("interests")
    if interests is not None and not isinstance(interests, list):
        raise ValidationFailed("interests: must be a list of strings", field="interests")
    for key in ("display_name", "note"):
        if data.get(key) is not None and not isinstance(data.get(key), str):
            raise ValidationFailed(f"{key}: must be a string", field=key)
    if language is not None and not isinstance(language, str):
        raise ValidationFailed("source[language]: must be a string", field="language")
    avatar = files.get("avatar").read(settings.MEDIA_MAX_BYTES + 1) if files.get("avatar") else None
    header = files.get("header").read(settings.MEDIA_MAX_BYTES + 1) if files.get("header") else None
    messages_from = data.get("tastemaker_messages_from")
    if messages_from is not None and not isinstance(messages_from, str):
        raise ValidationFailed("tastemaker_messages_from: must be a string", field="tastemaker_messages_from")
    user = account_services.update_profile(
        request.user, display_name=data.get("display_name"), bio=data.get("note"), language=language,
        interests=interests, avatar=avatar, header=header,
        locked=_truthy(data.get("locked")), bot=_truthy(data.get("bot")), messages_from=messages_from,
    )
    return ser.credential_account(user, ser.Ctx(request))


@router.get("/v1/accounts/lookup", auth=optional_auth, response=responses({200: S.Account}, READ),
            tags=["accounts"], summary="Find an account by username")
def lookup(request, acct: str):
    account = selectors.get_account(acct.split("@")[0] if not acct.startswith("@") else acct.lstrip("@").split("@")[0])
    if account is None or not acct.strip():
        raise NotFound("Record not found")
    return ser.account(account, ser.Ctx(request))


@router.get("/v1/accounts/relationships", auth=user_auth, response=responses({200: list[S.Relationship]}, READ),
            tags=["accounts"], summary="Your relationships with the given accounts")
def relationships(request, ids: list[str] = Query(None, alias="id[]"), id: list[str] = Query(None)):  # noqa: A002
    require_scope(request, "read:follows")
    wanted = [n for n in (parse_id(i) for i in (ids or []) + (id or [])) if n is not None][:80]
    return [ser.relationship(r) for r in selectors.relationships(request.user, wanted)]


@router.get("/v1/accounts/search", auth=optional_auth, response=responses({200: list[S.Account]}, READ),
            tags=["accounts"], summary="Search accounts")
def account_search(request, q: str, limit: int = Query(40, ge=1, le=80), offset: int = Query(0, ge=0, le=10000)):
    ctx = ser.Ctx(request)
    return [ser.account(a, ctx) for a in selectors.search_accounts(q, limit, viewer(request), offset)]


@router.get("/v1/accounts/{account_id}", auth=optional_auth, response=responses({200: S.Account}, READ),
            tags=["accounts"], summary="An account")
def get_account(request, account_id: str):
    return ser.account(account_or_404(account_id), ser.Ctx(request))


@router.get("/v1/accounts/{account_id}/statuses", auth=optional_auth,
            response=responses({200: list[S.Status]}, READ), tags=["accounts"], summary="An account's posts")
def account_statuses(request, response: HttpResponse, account_id: str, exclude_replies: bool = False,
                     exclude_reblogs: bool = False, only_media: bool = False, pinned: bool = False,
                     tagged: str | None = None):
    account = account_or_404(account_id)
    if pinned:
        return []
    posts = selectors.account_timeline(viewer(request), account, page(request), exclude_replies=exclude_replies,
                                       exclude_reblogs=exclude_reblogs, only_media=only_media, tagged=tagged)
    set_links(request, response, posts[0].pk if posts else None, posts[-1].pk if posts else None)
    return statuses(request, posts)


@router.get("/v1/accounts/{account_id}/followers", auth=optional_auth,
            response=responses({200: list[S.Account]}, READ), tags=["accounts"], summary="Followers")
def account_followers(request, response: HttpResponse, account_id: str):
    return account_list(request, response, selectors.followers(account_or_404(account_id), page(request)))


@router.get("/v1/accounts/{account_id}/following", auth=optional_auth,
            response=responses({200: list[S.Account]}, READ), tags=["accounts"], summary="Accounts followed")
def account_following(request, response: HttpResponse, account_id: str):
    return account_list(request, response, selectors.following(account_or_404(account_id), page(request)))


def _graph_action(name: str, action, scope: str = "write:follows"):
    @router.post(f"/v1/accounts/{{account_id}}/{name}", auth=user_auth, response=responses({200: S.Relationship}),
                 tags=["accounts"], summary=f"{name.capitalize()} an account", operation_id=f"account_{name}")
    def handler(request, account_id: str):
        require_scope(request, scope)
        target = account_or_404(account_id)
        action(request.user, target)
        return relationship(request, target)

    return handler


_graph_action("follow", services.do_follow)
_graph_action("unfollow", services.do_unfollow)
_graph_action("block", services.do_block, "write:blocks")
_graph_action("unblock", services.do_unblock, "write:blocks")
_graph_action("mute", services.do_mute, "write:mutes")
_graph_action("unmute", services.do_unmute, "write:mutes")


@router.get("/v1/blocks", auth=user_auth, response=responses({200: list[S.Account]}, READ), tags=["accounts"],
            summary="Accounts you block")
def blocks(request, response: HttpResponse):
    require_scope(request, "read:blocks")
    return account_list(request, response, selectors.blocked_accounts(request.user, page(request)))


@router.get("/v1/mutes", auth=user_auth, response=responses({200: list[S.Account]}, READ), tags=["accounts"],
            summary="Accounts you mute")
def mutes(request, response: HttpResponse):
    require_scope(request, "read:mutes")
    return account_list(request, response, selectors.muted_accounts(request.user, page(request)))
