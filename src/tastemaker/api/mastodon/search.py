"""``/api/v2/search``: accounts, hashtags and posts (Chinese and English)."""

from __future__ import annotations

from ninja import Query, Router

from tastemaker.core.errors import ValidationFailed
from tastemaker.core.pagination import parse_int
from tastemaker.social import selectors

from .. import schemas as S
from .. import serializers as ser
from ..auth import viewer
from ..common import statuses
from ..errors import READ, responses
from ._auth import optional_auth

router = Router()


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
        out["statuses"] = statuses(request, posts)
    return out
