"""The Mastodon client API subset for the social core. Handlers are thin: parse, call a service or
selector, serialize. Errors are raised as domain errors and rendered by api/errors.py."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import File, Form, Query, Router, UploadedFile
from ninja.errors import HttpError
from oauth2_provider.models import get_access_token_model, get_application_model

from tastemaker import __version__
from tastemaker.accounts import services as account_services
from tastemaker.accounts.oauth import redirect_uri_problem, token_lifetime
from tastemaker.core.errors import NotFound, ValidationFailed
from tastemaker.core.ids import parse_id
from tastemaker.core.pagination import Page, link_header, page_from, parse_int
from tastemaker.core.safeinput import request_json
from tastemaker.social import selectors, services
from tastemaker.social.models import Media, Notification
from tastemaker.trust.ratelimit import check_and_hit, client_ip

from . import render
from . import schemas as S
from . import serializers as ser
from .auth import AppOrUserAuth, BearerAuth, OptionalAuth, require_scope, viewer
from .errors import READ, WRITE, responses
from .parser import form_to_dict

router = Router()
user_auth = BearerAuth()
optional_auth = OptionalAuth()
app_auth = AppOrUserAuth()
Application = get_application_model()
AccessToken = get_access_token_model()


# --- helpers --------------------------------------------------------------------------------

def _page(request) -> Page:
    return page_from(request.GET)


def _set_links(request, response: HttpResponse, first: int | None, last: int | None) -> None:
    link = link_header(request.build_absolute_uri(request.path), request.GET.dict(), first, last)
    if link:
        response["Link"] = link


def _statuses(request, posts) -> list[dict]:
    state = selectors.hydrate(posts, viewer(request))
    ctx = ser.load_cards(ser.Ctx(request, state), posts)
    return [ser.status(p, ctx) for p in posts]


def _status(request, post) -> dict:
    return _statuses(request, [post])[0]


def _account_or_404(account_id: str, request=None):
    number = parse_id(account_id)
    account = selectors.get_account(number) if number is not None else None
    if account is None:
        raise NotFound("Record not found")
    return account


def _post_or_404(request, status_id: str):
    number = parse_id(status_id)
    post = selectors.get_post(viewer(request), number) if number is not None else None
    if post is None:
        raise NotFound("Record not found")
    return post


def _relationship(request, target) -> dict:
    return ser.relationship(selectors.relationships(request.user, [target.pk])[0])


def _issue_token(app, user, scope: str) -> tuple[str, object]:
    """A new access token; returns (raw token, row). Only its checksum is stored."""
    from oauth2_provider.models import set_token_value

    raw = secrets.token_urlsafe(32)
    row = AccessToken(user=user, application=app, scope=scope,
                      expires=timezone.now() + timedelta(seconds=token_lifetime(scope.split())))
    set_token_value(row, raw)
    row.save()
    return raw, row


# --- instance -------------------------------------------------------------------------------

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
    from tastemaker.accounts.models import User
    from tastemaker.social.models import Post

    base = request.build_absolute_uri("/").rstrip("/")
    data = _instance_common(request)
    data.update({
        "uri": request.get_host(),
        "short_description": "A social commerce network of tastemakers and their fans.",
        "description": "Tastemakers recommend products to their fans; fans buy at partner stores.",
        "email": settings.ADMIN_EMAIL,
        "urls": {"streaming_api": ""},
        "stats": {"user_count": User.objects.filter(is_active=True).count(),
                  "status_count": Post.objects.count(), "domain_count": 1},
        "thumbnail": f"{base}{settings.STATIC_URL}api/header.png",
        "registrations": True,
        "approval_required": False,
        "invites_enabled": False,
        "rules": [],
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
        "rules": [],
    })
    data["configuration"]["urls"] = {"streaming": None}
    return data


# --- apps -----------------------------------------------------------------------------------

@router.post("/v1/apps", response=responses({200: S.AppCreated}, (400, 422, 429)), tags=["apps"],
             summary="Register a client application")
def create_app(request, payload: S.AppIn):
    check_and_hit("apps", client_ip(request), "RATE_REGISTER_IP")
    uris = payload.redirect_uris if isinstance(payload.redirect_uris, list) else payload.redirect_uris.split()
    uris = [u.strip() for u in uris if u.strip()]
    if not uris:
        raise ValidationFailed("redirect_uris: at least one redirect URI is required", field="redirect_uris")
    for uri in uris:
        problem = redirect_uri_problem(uri)
        if problem:
            raise ValidationFailed(f"redirect_uris: {uri!r} {problem}", field="redirect_uris")
        if len(uri) > 2000:
            raise ValidationFailed("redirect_uris: a URI is too long", field="redirect_uris")
    scopes = payload.scopes.split() or ["read"]
    allowed = set(settings.OAUTH2_PROVIDER["SCOPES"])
    for scope in scopes:
        if scope.split(":")[0] not in allowed:
            raise ValidationFailed(f"scopes: unknown scope {scope!r}", field="scopes")
    website = (payload.website or "").strip()
    if website and not website.startswith(("http://", "https://")):
        raise ValidationFailed("website: must be an http(s) URL", field="website")
    secret = secrets.token_urlsafe(32)
    app = Application.objects.create(
        name=payload.client_name.strip()[:200] or "app",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(uris),
        client_secret=secret,
        website=website[:200],
        scopes=" ".join(scopes),
        skip_authorization=False,
    )
    return {
        "id": str(app.pk), "name": app.name, "website": app.website or None, "scopes": scopes,
        "redirect_uri": "\n".join(uris), "redirect_uris": uris, "client_id": app.client_id,
        "client_secret": secret, "client_secret_expires_at": 0, "vapid_key": "",
    }


@router.get("/v1/apps/verify_credentials", auth=app_auth, response=responses({200: S.AppInfo}, READ),
            tags=["apps"], summary="Check the app's token")
def verify_app(request):
    app = request.oauth_token.application
    if app is None:
        raise HttpError(401, "The access token is invalid")
    return {"name": app.name, "website": app.website or None, "scopes": app.scopes.split(),
            "redirect_uris": app.redirect_uris.split()}


# --- accounts -------------------------------------------------------------------------------

@router.post("/v1/accounts", auth=app_auth, response=responses({200: S.Token}, (400, 401, 403, 422, 429)),
             tags=["accounts"], summary="Register an account (app token required)")
def register(request, payload: S.RegisterIn):
    token_row = request.oauth_token
    if token_row.application is None:
        raise HttpError(403, "This action requires an application token")
    require_scope(request, "write:accounts")
    check_and_hit("register", client_ip(request), "RATE_REGISTER_IP")
    with transaction.atomic():
        user = account_services.register(
            username=payload.username, email=payload.email, password=payload.password,
            display_name=payload.display_name or "", language=payload.locale or "en",
            agreement=payload.agreement,
        )
        scope = token_row.scope or "read"
        raw, token = _issue_token(token_row.application, user, scope)
    return {"access_token": raw, "token_type": "Bearer", "scope": scope,
            "created_at": int(token.created.timestamp())}


@router.get("/v1/accounts/verify_credentials", auth=user_auth, response=responses({200: S.CredentialAccount}, READ),
            tags=["accounts"], summary="The logged-in account")
def verify_credentials(request):
    require_scope(request, "read:accounts")
    return ser.credential_account(request.user, ser.Ctx(request))


_UPDATE_BODY = {
    "requestBody": {
        "content": {
            "multipart/form-data": {"schema": {"type": "object", "properties": {
                "display_name": {"type": "string", "maxLength": 60},
                "note": {"type": "string", "maxLength": 500},
                "locked": {"type": "boolean"}, "bot": {"type": "boolean"},
                "source[language]": {"type": "string"},
                "avatar": {"type": "string", "format": "binary"},
                "header": {"type": "string", "format": "binary"},
                "interests[]": {"type": "array", "items": {"type": "string"}},
            }}},
            "application/json": {"schema": {"type": "object", "properties": {
                "display_name": {"type": "string", "maxLength": 60},
                "note": {"type": "string", "maxLength": 500},
                "locked": {"type": "boolean"}, "bot": {"type": "boolean"},
                "interests": {"type": "array", "items": {"type": "string"}},
                "source": {"type": "object", "properties": {"language": {"type": "string"}}},
            }}},
        }
    }
}


def _truthy(value) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


@router.patch("/v1/accounts/update_credentials", auth=user_auth, openapi_extra=_UPDATE_BODY,
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
    user = account_services.update_profile(
        request.user, display_name=data.get("display_name"), bio=data.get("note"), language=language,
        interests=interests, avatar=avatar, header=header,
        locked=_truthy(data.get("locked")), bot=_truthy(data.get("bot")),
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
    return ser.account(_account_or_404(account_id), ser.Ctx(request))


@router.get("/v1/accounts/{account_id}/statuses", auth=optional_auth,
            response=responses({200: list[S.Status]}, READ), tags=["accounts"], summary="An account's posts")
def account_statuses(request, response: HttpResponse, account_id: str, exclude_replies: bool = False,
                     exclude_reblogs: bool = False, only_media: bool = False, pinned: bool = False,
                     tagged: str | None = None):
    account = _account_or_404(account_id)
    if pinned:
        return []
    posts = selectors.account_timeline(viewer(request), account, _page(request), exclude_replies=exclude_replies,
                                       exclude_reblogs=exclude_reblogs, only_media=only_media, tagged=tagged)
    _set_links(request, response, posts[0].pk if posts else None, posts[-1].pk if posts else None)
    return _statuses(request, posts)


def _account_list(request, response, rows):
    accounts, first, last = rows
    _set_links(request, response, first, last)
    ctx = ser.Ctx(request)
    return [ser.account(a, ctx) for a in accounts]


@router.get("/v1/accounts/{account_id}/followers", auth=optional_auth,
            response=responses({200: list[S.Account]}, READ), tags=["accounts"], summary="Followers")
def account_followers(request, response: HttpResponse, account_id: str):
    return _account_list(request, response, selectors.followers(_account_or_404(account_id), _page(request)))


@router.get("/v1/accounts/{account_id}/following", auth=optional_auth,
            response=responses({200: list[S.Account]}, READ), tags=["accounts"], summary="Accounts followed")
def account_following(request, response: HttpResponse, account_id: str):
    return _account_list(request, response, selectors.following(_account_or_404(account_id), _page(request)))


def _graph_action(name: str, action, scope: str = "write:follows"):
    @router.post(f"/v1/accounts/{{account_id}}/{name}", auth=user_auth, response=responses({200: S.Relationship}),
                 tags=["accounts"], summary=f"{name.capitalize()} an account", operation_id=f"account_{name}")
    def handler(request, account_id: str):
        require_scope(request, scope)
        target = _account_or_404(account_id)
        action(request.user, target)
        return _relationship(request, target)

    return handler


_graph_action("follow", services.do_follow)
_graph_action("unfollow", services.do_unfollow)
_graph_action("block", services.do_block, "write:blocks")
_graph_action("unblock", services.do_unblock, "write:blocks")
_graph_action("mute", services.do_mute, "write:mutes")
_graph_action("unmute", services.do_unmute, "write:mutes")


# --- follow requests (to a locked account) -------------------------------------------------

@router.get("/v1/follow_requests", auth=user_auth, response=responses({200: list[S.Account]}, (*READ, 403)),
            tags=["accounts"], summary="Accounts asking to follow you (your account is locked)")
def follow_requests(request, response: HttpResponse):
    require_scope(request, "read:follows")
    return _account_list(request, response, selectors.follow_requests(request.user, _page(request)))


def _follow_request_action(name: str, action):
    @router.post(f"/v1/follow_requests/{{account_id}}/{name}", auth=user_auth,
                 response=responses({200: S.Relationship}), tags=["accounts"],
                 summary=f"{name.capitalize()} a follow request", operation_id=f"follow_request_{name}")
    def handler(request, account_id: str):
        require_scope(request, "write:follows")
        requester = _account_or_404(account_id)
        action(request.user, requester)
        return _relationship(request, requester)

    return handler


_follow_request_action("authorize", services.do_authorize_follow_request)
_follow_request_action("reject", services.do_reject_follow_request)


@router.get("/v1/blocks", auth=user_auth, response=responses({200: list[S.Account]}, READ), tags=["accounts"],
            summary="Accounts you block")
def blocks(request, response: HttpResponse):
    require_scope(request, "read:blocks")
    return _account_list(request, response, selectors.blocked_accounts(request.user, _page(request)))


@router.get("/v1/mutes", auth=user_auth, response=responses({200: list[S.Account]}, READ), tags=["accounts"],
            summary="Accounts you mute")
def mutes(request, response: HttpResponse):
    require_scope(request, "read:mutes")
    return _account_list(request, response, selectors.muted_accounts(request.user, _page(request)))


@router.get("/v1/bookmarks", auth=user_auth, response=responses({200: list[S.Status]}, READ), tags=["statuses"],
            summary="Your bookmarks")
def bookmarks(request, response: HttpResponse):
    require_scope(request, "read:bookmarks")
    posts, first, last = selectors.bookmarked_posts(request.user, _page(request))
    _set_links(request, response, first, last)
    return _statuses(request, posts)


@router.get("/v1/favourites", auth=user_auth, response=responses({200: list[S.Status]}, READ), tags=["statuses"],
            summary="Posts you liked")
def favourites(request, response: HttpResponse):
    require_scope(request, "read:favourites")
    posts, first, last = selectors.favourited_posts(request.user, _page(request))
    _set_links(request, response, first, last)
    return _statuses(request, posts)


# --- statuses -------------------------------------------------------------------------------

@router.post("/v1/statuses", auth=user_auth, response=responses({200: S.Status}), tags=["statuses"],
             summary="Publish a post")
def create_status(request, payload: S.StatusIn):
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
    return _status(request, post)


@router.get("/v1/statuses/{status_id}", auth=optional_auth, response=responses({200: S.Status}, READ),
            tags=["statuses"], summary="A post")
def get_status(request, status_id: str):
    return _status(request, _post_or_404(request, status_id))


@router.delete("/v1/statuses/{status_id}", auth=user_auth, response=responses({200: S.Status}), tags=["statuses"],
               summary="Delete your post")
def delete_status(request, status_id: str):
    require_scope(request, "write:statuses")
    post = _post_or_404(request, status_id)
    if post.author_id != request.user.pk:
        raise NotFound("Record not found")
    data = _status(request, post)
    data["text"] = post.text
    services.do_delete_post(request.user, post)
    return data


@router.get("/v1/statuses/{status_id}/context", auth=optional_auth, response=responses({200: S.Context}, READ),
            tags=["statuses"], summary="The thread around a post")
def status_context(request, status_id: str):
    post = _post_or_404(request, status_id)
    ancestors, descendants = selectors.thread_context(viewer(request), post)
    return {"ancestors": _statuses(request, ancestors), "descendants": _statuses(request, descendants)}


def _status_action(name: str, action, scope: str, returns_reblog: bool = False):
    @router.post(f"/v1/statuses/{{status_id}}/{name}", auth=user_auth, response=responses({200: S.Status}),
                 tags=["statuses"], summary=f"{name.capitalize()} a post", operation_id=f"status_{name}")
    def handler(request, status_id: str):
        require_scope(request, scope)
        post = _post_or_404(request, status_id)
        result = action(request.user, post)
        if returns_reblog and result is not None:
            return _status(request, result)
        post = selectors.get_post(request.user, post.pk) or post
        return _status(request, post)

    return handler


_status_action("reblog", services.do_reblog, "write:statuses", returns_reblog=True)
_status_action("unreblog", services.do_unreblog, "write:statuses")
_status_action("favourite", services.do_favourite, "write:favourites")
_status_action("unfavourite", services.do_unfavourite, "write:favourites")
_status_action("bookmark", services.do_bookmark, "write:bookmarks")
_status_action("unbookmark", services.do_unbookmark, "write:bookmarks")


# --- timelines ------------------------------------------------------------------------------

@router.get("/v1/timelines/home", auth=user_auth, response=responses({200: list[S.Status]}, READ),
            tags=["timelines"], summary="Home timeline")
def timeline_home(request, response: HttpResponse):
    # the hot path: page ids first, then rows rendered straight to JSON (api/render.py; the output is the
    # declared list[Status], checked against the reference serializer in tests/perf). An HttpResponse is
    # passed through by ninja without re-validating 20 statuses through pydantic.
    require_scope(request, "read:statuses")
    body, first, last = render.home_json(request, request.user, _page(request))
    out = HttpResponse(body, content_type="application/json; charset=utf-8")
    _set_links(request, out, first, last)
    return out


@router.get("/v1/timelines/public", auth=optional_auth, response=responses({200: list[S.Status]}, READ),
            tags=["timelines"], summary="Public timeline")
def timeline_public(request, response: HttpResponse, local: bool = False, remote: bool = False,
                    only_media: bool = False):
    if remote:
        return []  # a single server: nothing is remote
    posts = selectors.public_timeline(viewer(request), _page(request))
    _set_links(request, response, posts[0].pk if posts else None, posts[-1].pk if posts else None)
    return _statuses(request, posts)


@router.get("/v1/timelines/tag/{hashtag}", auth=optional_auth, response=responses({200: list[S.Status]}, READ),
            tags=["timelines"], summary="Hashtag timeline")
def timeline_tag(request, response: HttpResponse, hashtag: str):
    posts = selectors.tag_timeline(viewer(request), hashtag, _page(request))
    _set_links(request, response, posts[0].pk if posts else None, posts[-1].pk if posts else None)
    return _statuses(request, posts)


# --- media ----------------------------------------------------------------------------------

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


def _own_media(request, media_id: str) -> Media:
    number = parse_id(media_id)
    item = Media.objects.filter(pk=number, owner=request.user).first() if number is not None else None
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


# --- notifications --------------------------------------------------------------------------

def _notification(n: Notification, ctx: ser.Ctx, statuses: dict) -> dict:
    data = {"id": str(n.pk), "type": n.type, "created_at": ser.iso(n.created_at), "account": ser.account(n.actor, ctx)}
    if n.post_id and n.post_id in statuses:
        data["status"] = statuses[n.post_id]
    return data


@router.get("/v1/notifications", auth=user_auth, response=responses({200: list[S.Notification]}, READ),
            tags=["notifications"], summary="Your notifications")
def notifications(request, response: HttpResponse, types: list[str] = Query(None, alias="types[]"),
                  exclude_types: list[str] = Query(None, alias="exclude_types[]")):
    require_scope(request, "read:notifications")
    items = selectors.notifications(request.user, _page(request), types or None, exclude_types or None)
    posts = [p for p in (selectors.get_post(request.user, n.post_id) for n in items if n.post_id) if p]
    statuses = {int(s["id"]): s for s in _statuses(request, posts)}
    _set_links(request, response, items[0].pk if items else None, items[-1].pk if items else None)
    ctx = ser.Ctx(request)
    return [_notification(n, ctx, statuses) for n in items]


@router.post("/v1/notifications/clear", auth=user_auth, response=responses({200: dict}), tags=["notifications"],
             summary="Delete all your notifications")
def clear_notifications(request):
    require_scope(request, "write:notifications")
    services.do_clear_notifications(request.user)
    return {}


@router.get("/v1/notifications/{notification_id}", auth=user_auth,
            response=responses({200: S.Notification}, READ), tags=["notifications"], summary="A notification")
def get_notification(request, notification_id: str):
    require_scope(request, "read:notifications")
    number = parse_id(notification_id)
    n = (Notification.objects.select_related("actor").filter(pk=number, recipient=request.user).first()
         if number is not None else None)
    if n is None:
        raise NotFound("Record not found")
    post = selectors.get_post(request.user, n.post_id) if n.post_id else None
    statuses = {post.pk: _status(request, post)} if post else {}
    return _notification(n, ser.Ctx(request), statuses)


@router.post("/v1/notifications/{notification_id}/dismiss", auth=user_auth, response=responses({200: dict}),
             tags=["notifications"], summary="Delete one notification")
def dismiss_notification(request, notification_id: str):
    require_scope(request, "write:notifications")
    services.do_dismiss_notification(request.user, parse_id(notification_id) or 0)
    return {}


# --- search ---------------------------------------------------------------------------------

@router.get("/v2/search", auth=optional_auth, response=responses({200: S.SearchResults}, READ), tags=["search"],
            summary="Search accounts, hashtags and posts (Chinese and English)")
def search(request, q: str, type: str | None = None, limit: int = Query(20, ge=1, le=40),  # noqa: A002
           offset: int = Query(0, ge=0, le=10000), resolve_remote: bool = Query(False, alias="resolve"),
           max_id: str | None = None):
    if type not in (None, "", "accounts", "hashtags", "statuses"):
        raise ValidationFailed("type must be accounts, hashtags or statuses", field="type")
    q = q.strip()
    if len(q) > 200:
        raise ValidationFailed("q: at most 200 characters", field="q")
    me = viewer(request)
    ctx = ser.Ctx(request)
    out = {"accounts": [], "statuses": [], "hashtags": []}
    if type in (None, "", "accounts"):
        out["accounts"] = [ser.account(a, ctx) for a in selectors.search_accounts(q, limit, me, offset)]
    if type in (None, "", "hashtags"):
        out["hashtags"] = [ser.tag(t, ctx) for t in selectors.search_hashtags(q, limit, offset)]
    if type in (None, "", "statuses"):
        posts = selectors.search_posts(q, me, limit, parse_int(max_id, "max_id"))
        out["statuses"] = _statuses(request, posts)
    return out
