"""``/api/v1/apps``: client applications register here, then check their token."""

from __future__ import annotations

from ninja import Router
from ninja.errors import HttpError

from tastemaker.accounts import services as account_services
from tastemaker.trust.ratelimit import check_and_hit, client_ip

from .. import schemas as S
from ..errors import READ, responses
from ._auth import app_auth

router = Router()


@router.post("/v1/apps", response=responses({200: S.AppCreated}, (400, 422, 429)), tags=["apps"],
             summary="Register a client application")
def create_app(request, payload: S.AppIn):
    check_and_hit("apps", client_ip(request), "RATE_REGISTER_IP")
    app, secret, uris, scopes = account_services.do_register_app(name=payload.client_name, redirect_uris=payload.redirect_uris,
                                                   scopes=payload.scopes, website=payload.website)
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
