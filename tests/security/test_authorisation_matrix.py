"""The authorisation matrix: every route of the site, checked for who may call it.

The routes are *enumerated*, not listed by hand: every pattern of Django's URL conf (walked recursively,
the ninja API included) and every operation of ``/api/openapi.json`` (plus any operation the API hides from
its schema). Each must be classified in ``MATRIX`` below; a route that is not fails its own test case
("classify it"), so a new endpoint is covered the day it lands, and a stale entry fails too.

Classes:
- ``public``: anonymous callers are served (never 401/403 or a redirect to the login page);
- ``user``: a signed-in session (web) or any valid token (API); anonymous gets 401/403 (API) or a
  redirect to the login page (web);
- ``scope:<name>``: a user token carrying that scope (or its top-level parent); a token without it gets 403;
- ``staff``: operators only; a signed-in non-operator gets 403/404 (or the admin's login page);
- ``signed``: a partner store's API key, a webhook signature, a provider's signed notification or an OAuth
  client's credentials; without them the request is refused.

``owned=`` marks a route that names an object belonging to user A (Alice): user B (Bob), with every scope,
must get 403/404 and never A's data. Each case probes, in order: anonymous; an app token without a user; a
partner store's API key used as a user's token (the "store key" role: never a user); a token without the
scope; non-operators on a staff route (Bob, Alice, and Dave, a brand that runs an approved partner store);
Bob and Dave on A's object; a signed route called with a user's or a brand's credentials instead of the
signature or key; and finally the rightful caller (A, an operator, or the store with its key), who must not be
refused. No refused probe may answer 2xx (each must be a 401/403/404 or the login page), none may answer 500,
and none may show a stranger Alice's private strings.
"""

from __future__ import annotations

import io
import json
import re
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, TestCase
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from PIL import Image

from tastemaker.api.urls import api as ninja_api

pytestmark = pytest.mark.django_db

ALL_SCOPES = "read write follow push payments stores"
PRIVATE_REASON = "Only my followers should read why: the Zanzibar balm saved my winter skin every night."
PRIVATE_TEXT = "Zanzibar musings, for my followers only"  # Alice's followers-only post (she has no followers)
PASSWORD = "Corr3ct-Horse-Battery"
IDEMPOTENCY = {"HTTP_IDEMPOTENCY_KEY": "authz-matrix-0001"}
PROMO_NAME = "Alice's Quokka campaign"  # her campaign's name: only she (and operators) see it
DM_TEXT = "the Okapi sale starts at noon, just between us"  # a direct message to Alice: hers and Carol's only
FS_TEXT = "Alice's Wombat broadcast to her subscribers"  # her scheduled broadcast: only she sees it
FS_RULE = "Alice's Numbat auto-reply"  # her keyword rule's reply


# --- the table ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    kind: str  # public | user | scope | staff | signed
    scope: str = ""  # the scope a token needs (scope rules; staff rules may need one too)
    owned: str = ""  # what of Alice's the path names: Bob must get 403/404
    body: str = ""  # key of BODIES: a valid body, so the check under test is reached (not a 422)
    params: tuple = ()  # (name, world key) overrides for path parameters
    query: tuple = ()  # (name, world key) query parameters
    multipart: bool = False
    positive: bool = True  # also probe the rightful caller (off where that needs a real partner/provider)
    hidden: tuple = ()  # (name, world key): the same route on something of Alice's nobody else may see
    foreign: tuple = ()  # keys of FOREIGN: Bob's request naming Alice's object in its body must change nothing
    app_ok: bool = False  # an app's own token (client credentials, no user) is accepted
    absent: bool = False  # answers 404 by design (still probed: never a 401/403/500)
    json: bool = False  # a web route that takes JSON
    caller: str = ""  # who that is, when not Alice (user/scope) or the operator (staff): a world key
    store_key: str = ""  # a signed route the store calls with its API key: key of BODIES for a valid call

    def label(self) -> str:
        return f"scope:{self.scope}" if self.kind == "scope" else self.kind


def public(**kw) -> Rule:
    return Rule("public", **kw)


def user(**kw) -> Rule:
    return Rule("user", **kw)


def scope(name: str, **kw) -> Rule:
    return Rule("scope", scope=name, **kw)


def staff(scope: str = "", **kw) -> Rule:
    return Rule("staff", scope=scope, **kw)


def signed(**kw) -> Rule:
    return Rule("signed", positive=False, **kw)


_FOLLOW_REQUESTER = (("account_id", "requester_id"),)
_PRIVATE_POST = (("status_id", "private_post_id"),)

# API keys: "METHOD <OpenAPI path>". Web keys: "METHOD /<Django route pattern>".
MATRIX: dict[str, Rule] = {
    # --- API: meta, instance, apps, OAuth ---
    "GET /api/": public(absent=True),  # ninja's API root: a 404 page unless the docs live there
    "GET /api/openapi.json": public(),
    "GET /api/docs": public(),
    "GET /api/health": public(),
    "GET /api/v1/instance": public(),
    "GET /api/v2/instance": public(),
    "POST /api/v1/apps": public(body="app"),
    "GET /api/v1/apps/verify_credentials": user(app_ok=True),
    "POST /api/v1/accounts": scope("write:accounts", body="register", app_ok=True),
    "GET /oauth/authorize": user(),
    "GET /oauth/authorize/": user(),
    "POST /oauth/token": signed(),
    "POST /oauth/revoke": signed(),
    "GET /.well-known/oauth-authorization-server": public(),
    # --- API: accounts and the graph ---
    "GET /api/v1/accounts/verify_credentials": scope("read:accounts"),
    "PATCH /api/v1/accounts/update_credentials": scope("write:accounts", body="credentials"),
    "GET /api/v1/accounts/lookup": public(query=(("acct", "alice_name"),)),
    "GET /api/v1/accounts/relationships": scope("read:follows", query=(("id[]", "alice_id"),)),
    "GET /api/v1/accounts/search": public(query=(("q", "alice_name"),)),
    "GET /api/v1/accounts/{account_id}": public(),
    "GET /api/v1/accounts/{account_id}/statuses": public(),
    "GET /api/v1/accounts/{account_id}/followers": public(),
    "GET /api/v1/accounts/{account_id}/following": public(),
    "POST /api/v1/accounts/{account_id}/follow": scope("write:follows"),
    "POST /api/v1/accounts/{account_id}/unfollow": scope("write:follows"),
    "POST /api/v1/accounts/{account_id}/block": scope("write:blocks"),
    "POST /api/v1/accounts/{account_id}/unblock": scope("write:blocks"),
    "POST /api/v1/accounts/{account_id}/mute": scope("write:mutes"),
    "POST /api/v1/accounts/{account_id}/unmute": scope("write:mutes"),
    "GET /api/v1/follow_requests": scope("read:follows"),
    "POST /api/v1/follow_requests/{account_id}/authorize": scope("write:follows", owned="follow request",
                                                                 params=_FOLLOW_REQUESTER),
    "POST /api/v1/follow_requests/{account_id}/reject": scope("write:follows", owned="follow request",
                                                              params=_FOLLOW_REQUESTER),
    "GET /api/v1/blocks": scope("read:blocks"),
    "GET /api/v1/mutes": scope("read:mutes"),
    "GET /api/v1/bookmarks": scope("read:bookmarks"),
    "GET /api/v1/favourites": scope("read:favourites"),
    # --- API: statuses, timelines, media, notifications, search ---
    "POST /api/v1/statuses": scope("write:statuses", body="status", foreign=("alice_media", "reply_private")),
    "GET /api/v1/statuses/{status_id}": public(hidden=_PRIVATE_POST),
    "DELETE /api/v1/statuses/{status_id}": scope("write:statuses", owned="post"),
    "GET /api/v1/statuses/{status_id}/context": public(hidden=_PRIVATE_POST),
    "POST /api/v1/statuses/{status_id}/reblog": scope("write:statuses", hidden=_PRIVATE_POST),
    "POST /api/v1/statuses/{status_id}/unreblog": scope("write:statuses"),
    "POST /api/v1/statuses/{status_id}/favourite": scope("write:favourites", hidden=_PRIVATE_POST),
    "POST /api/v1/statuses/{status_id}/unfavourite": scope("write:favourites"),
    "POST /api/v1/statuses/{status_id}/bookmark": scope("write:bookmarks", hidden=_PRIVATE_POST),
    "POST /api/v1/statuses/{status_id}/unbookmark": scope("write:bookmarks"),
    "GET /api/v1/timelines/home": scope("read:statuses"),
    "GET /api/v1/timelines/public": public(),
    "GET /api/v1/timelines/tag/{hashtag}": public(),
    "POST /api/v2/media": scope("write:media", multipart=True),
    "POST /api/v1/media": scope("write:media", multipart=True),
    "GET /api/v1/media/{media_id}": scope("write:media", owned="media"),
    "PUT /api/v1/media/{media_id}": scope("write:media", owned="media", body="media"),
    "GET /api/v1/notifications": scope("read:notifications"),
    "POST /api/v1/notifications/clear": scope("write:notifications"),
    "GET /api/v1/notifications/{notification_id}": scope("read:notifications", owned="notification"),
    "POST /api/v1/notifications/{notification_id}/dismiss": scope("write:notifications", owned="notification"),
    "GET /api/v2/search": public(query=(("q", "search_word"),)),
    # --- API: direct messages (issue 14): a conversation is its participants' only ---
    "GET /api/v1/conversations": scope("read:statuses"),
    "POST /api/v1/conversations/{conversation_id}/read": scope("write:conversations", owned="conversation"),
    "DELETE /api/v1/conversations/{conversation_id}": scope("write:conversations", owned="conversation"),
    "POST /api/v1/conversations/{conversation_id}/accept": scope("write:conversations", owned="conversation"),
    "POST /api/v1/conversations/{conversation_id}/decline": scope("write:conversations", owned="conversation"),
    # --- API: the streaming API (served by the streaming server; a web worker checks and redirects, 307) ---
    "GET /api/v1/streaming/health": public(),
    "GET /api/v1/streaming": public(query=(("stream", "stream_public"),)),
    "GET /api/v1/streaming/user": scope("read:statuses"),
    "GET /api/v1/streaming/user/notification": scope("read:notifications"),
    "GET /api/v1/streaming/direct": scope("read:statuses"),
    "GET /api/v1/streaming/public": public(),
    "GET /api/v1/streaming/public/local": public(),
    "GET /api/v1/streaming/public/remote": public(),
    "GET /api/v1/streaming/hashtag": public(query=(("tag", "tag"),)),
    "GET /api/v1/streaming/hashtag/local": public(query=(("tag", "tag"),)),
    # --- API: discovery, experts, interests ---
    "GET /api/v2/suggestions": scope("read:accounts"),
    "DELETE /api/v1/suggestions/{account_id}": scope("write:accounts"),
    "GET /api/v1/tastemaker/verticals": public(),
    "GET /api/v1/tastemaker/verticals/{slug}/experts": public(),
    "GET /api/v1/tastemaker/verticals/{slug}/statuses": public(),
    "GET /api/v1/tastemaker/accounts/{account_id}/labels": public(),
    "POST /api/v1/tastemaker/labels/classify": scope("read", body="classify", positive=False),  # trains the labeler
    "POST /api/v1/tastemaker/labels/{slug}/appeal": scope("write:accounts", body="appeal"),
    "POST /api/v1/tastemaker/expert_applications": scope("write:accounts", body="expert"),
    "GET /api/v1/tastemaker/interests": scope("read:accounts"),
    "PUT /api/v1/tastemaker/interests": scope("write:accounts", body="interests"),
    "DELETE /api/v1/tastemaker/interests/{slug}": scope("write:accounts"),
    # --- API: reports (举报), credit and appeals ---
    "POST /api/v1/reports": scope("write:reports", body="flag_account"),
    "POST /api/v1/tastemaker/flags": scope("write:reports", body="flag_post"),
    "GET /api/v1/tastemaker/credit": scope("read:accounts"),
    "GET /api/v1/tastemaker/credit/history": scope("read:accounts"),
    "GET /api/v1/tastemaker/moderation/actions": scope("read:accounts"),
    "POST /api/v1/tastemaker/moderation/actions/{action_id}/appeal": scope(
        "write:accounts", owned="moderation action", body="moderation_appeal",
        params=(("action_id", "moderation_action_id"),)),
    "GET /api/v1/tastemaker/moderation/notices": scope("read:notifications"),
    # --- API: analytics ---
    "POST /api/v1/tastemaker/events": scope("write", body="events"),
    "GET /api/v1/tastemaker/reports/posts/{post_id}": scope("read:statuses", owned="post report"),
    "GET /api/v1/tastemaker/reports/accounts/{account_id}": scope("read:accounts", owned="account report"),
    # --- API: Showcase (partner stores sign; creators and brands use tokens) ---
    "POST /api/v1/showcase/catalog": signed(store_key="catalog"),
    "POST /api/v1/showcase/stores/{store_id}/webhooks": signed(params=(("store_id", "partner_store_id"),)),
    "POST /api/v1/tastemaker/showcase/import": scope("write:statuses", body="import"),
    "POST /api/v1/tastemaker/showcase/posts": scope("write:statuses", body="showcase_post",
                                                     foreign=("card_alice_media",)),
    "GET /api/v1/tastemaker/showcase/posts/{status_id}/card": public(params=(("status_id", "showcase_post_id"),),
                                                                     hidden=(("status_id", "private_showcase_post_id"),)),
    "GET /api/v1/tastemaker/showcase/accounts/{account_id}/storefront": public(),
    "GET /api/v1/tastemaker/showcase/products/{product_id}": public(),
    "GET /api/v1/tastemaker/showcase/earnings": scope("read:accounts"),
    "GET /api/v1/tastemaker/showcase/commissions": scope("read:accounts"),
    "GET /api/v1/tastemaker/showcase/commissions/{commission_id}": scope("read:accounts", owned="commission"),
    "POST /api/v1/tastemaker/showcase/stores": scope("stores", body="store"),
    "GET /api/v1/tastemaker/showcase/stores": scope("read:accounts"),
    "GET /api/v1/tastemaker/showcase/stores/{store_id}": scope("read:accounts", owned="store"),
    "PATCH /api/v1/tastemaker/showcase/stores/{store_id}": scope("write:accounts", owned="store", body="store_patch"),
    "POST /api/v1/tastemaker/showcase/stores/{store_id}/rotate_secrets": scope("stores", owned="store"),
    "POST /api/v1/tastemaker/showcase/stores/{store_id}/approve": staff("write:accounts", body="decision"),
    "POST /api/v1/tastemaker/showcase/stores/{store_id}/reject": staff("write:accounts", body="decision"),
    "POST /api/v1/tastemaker/showcase/stores/{store_id}/deposit": scope("payments", owned="store", body="deposit"),
    "POST /api/v1/tastemaker/showcase/stores/{store_id}/deposit/withdraw": scope("payments", owned="store",
                                                                                 body="deposit"),
    # --- API: payments (its own scope: read and write do not grant it) ---
    "GET /api/v1/tastemaker/wallet": scope("payments", owned="wallet", query=(("account_id", "alice_id"),)),
    "GET /api/v1/tastemaker/wallet/transactions": scope("payments", owned="wallet",
                                                        query=(("account_id", "alice_id"),)),
    "POST /api/v1/tastemaker/wallet/topups": scope("payments", body="topup"),
    "GET /api/v1/tastemaker/wallet/topups/{topup_id}": scope("payments", owned="top-up"),
    "POST /api/v1/tastemaker/wallet/withdrawals": scope("payments", body="withdrawal", foreign=("alice_payout",)),
    "GET /api/v1/tastemaker/wallet/withdrawals/{withdrawal_id}": scope("payments", owned="withdrawal"),
    "POST /api/v1/tastemaker/wallet/payout_accounts": scope("payments", body="payout"),
    "DELETE /api/v1/tastemaker/wallet/payout_accounts/{payout_account_id}": scope("payments", owned="payout account"),
    "POST /api/v1/tastemaker/wallet/transfers": scope("payments", body="transfer"),
    # --- API: paid promotion (issue 13): campaigns hold wallet money, so the payments scope ---
    # (Alice's credit fell below the promotion gate in this world: Dave, a brand in good standing, buys)
    "POST /api/v1/tastemaker/promotion/campaigns": scope("payments", body="campaign", caller="brand"),
    "GET /api/v1/tastemaker/promotion/campaigns": scope("payments"),
    "GET /api/v1/tastemaker/promotion/campaigns/{campaign_id}": scope("payments", owned="campaign"),
    "GET /api/v1/tastemaker/promotion/campaigns/{campaign_id}/report": scope("payments", owned="campaign"),
    "POST /api/v1/tastemaker/promotion/campaigns/{campaign_id}/pause": scope("payments", owned="campaign"),
    "POST /api/v1/tastemaker/promotion/campaigns/{campaign_id}/resume": scope("payments", owned="campaign"),
    "POST /api/v1/tastemaker/promotion/campaigns/{campaign_id}/end": scope("payments", owned="campaign"),
    "POST /api/v1/tastemaker/promotion/campaigns/{campaign_id}/submit": scope("payments", owned="campaign"),
    "POST /api/v1/tastemaker/promotion/estimate": scope("payments", body="estimate"),
    "GET /api/v1/tastemaker/promotion/review": staff("payments"),
    "POST /api/v1/tastemaker/promotion/review/{campaign_id}/approve": staff("payments", body="review"),
    "POST /api/v1/tastemaker/promotion/review/{campaign_id}/reject": staff("payments", body="review"),
    "GET /api/v1/tastemaker/promotion/standing_orders": scope("payments"),
    "POST /api/v1/tastemaker/promotion/standing_orders": scope("payments", body="standing_order", caller="brand"),
    "PATCH /api/v1/tastemaker/promotion/standing_orders/{order_id}": scope("payments", owned="standing order",
                                                                          body="standing_order_patch"),
    "DELETE /api/v1/tastemaker/promotion/standing_orders/{order_id}": scope("payments", owned="standing order"),
    "POST /api/v1/tastemaker/promotion/hidden/{campaign_id}": scope("write:accounts"),
    "POST /api/v1/tastemaker/promotion/muted_advertisers/{account_id}": scope("write:accounts",
                                                                             params=(("account_id", "bob_id"),)),
    "DELETE /api/v1/tastemaker/promotion/muted_advertisers/{account_id}": scope("write:accounts",
                                                                               params=(("account_id", "bob_id"),)),
    "POST /api/v1/tastemaker/promotion/targeting_opt_out": scope("write:accounts", body="opt_out"),
    # --- API: the fan service (issue 14): reads need read, writes write; the one-click unsubscribe its token ---
    "POST /api/v1/tastemaker/fanservice/subscriptions/{account_id}": scope("write", params=(("account_id", "bob_id"),)),
    "DELETE /api/v1/tastemaker/fanservice/subscriptions/{account_id}": scope("write",
                                                                             params=(("account_id", "brand_id"),)),
    "GET /api/v1/tastemaker/fanservice/subscriptions": scope("read"),
    "POST /api/v1/tastemaker/fanservice/unsubscribe": public(body="fs_unsubscribe"),
    "GET /api/v1/tastemaker/fanservice/subscribers": scope("read"),
    "GET /api/v1/tastemaker/fanservice/growth": scope("read"),
    "POST /api/v1/tastemaker/fanservice/audience": scope("read", body="fs_segment"),
    "POST /api/v1/tastemaker/fanservice/broadcasts": scope("write", body="fs_broadcast"),
    "GET /api/v1/tastemaker/fanservice/broadcasts": scope("read"),
    "GET /api/v1/tastemaker/fanservice/broadcasts/{broadcast_id}": scope("read", owned="broadcast"),
    "POST /api/v1/tastemaker/fanservice/broadcasts/{broadcast_id}/cancel": scope("write", owned="broadcast"),
    "GET /api/v1/tastemaker/fanservice/inbox": scope("read"),
    "POST /api/v1/tastemaker/fanservice/inbox/{item_id}/read": scope("write", owned="service message"),
    "POST /api/v1/tastemaker/fanservice/menu/{account_id}/{index}": scope("write", params=(("account_id", "brand_id"),)),
    "GET /api/v1/tastemaker/fanservice/settings": scope("read"),
    "PUT /api/v1/tastemaker/fanservice/settings": scope("write", body="fs_settings"),
    "GET /api/v1/tastemaker/fanservice/rules": scope("read"),
    "POST /api/v1/tastemaker/fanservice/rules": scope("write", body="fs_rule"),
    "DELETE /api/v1/tastemaker/fanservice/rules/{rule_id}": scope("write", owned="rule"),
    "GET /api/v1/tastemaker/fanservice/watches": scope("read"),
    "POST /api/v1/tastemaker/fanservice/watches": scope("write", body="fs_watch"),
    "DELETE /api/v1/tastemaker/fanservice/watches/{product_id}": scope("write"),
    "GET /api/v1/tastemaker/ops/payments/accounts": staff("payments"),
    "POST /api/v1/tastemaker/ops/payments/reconcile": staff("payments", body="reconcile"),
    # --- web pages ---
    "GET /go/<str:token>": public(),
    "GET /": public(),
    "GET /public": public(),
    "GET /tags/<str:tag>": public(),
    "GET /signup": public(),
    "GET /about/rules": public(),
    "GET /discover": public(),
    "GET /me": user(),
    "POST /signup": public(),
    "GET /login": public(),
    "POST /login": public(),
    "POST /logout": public(),
    "GET /settings": user(),
    "POST /settings": user(),
    "GET /settings/password": user(),
    "POST /settings/password": user(),
    "GET /settings/apps": user(),
    "POST /settings/apps/<int:app_id>/revoke": user(),
    "GET /settings/credit": user(),
    "POST /settings/credit/appeals/<int:action_id>": user(owned="moderation action", caller="carol",
                                                           body="credit_appeal"),
    "GET /flag/<str:kind>/<int:target_id>": user(caller="bob", hidden=(("target_id", "private_post_id"),)),
    "POST /flag/<str:kind>/<int:target_id>": user(caller="bob", body="flag", hidden=(("target_id", "private_post_id"),)),
    "GET /moderation": staff(),
    "GET /moderation/cases/<int:case_id>": staff(),
    "POST /moderation/cases/<int:case_id>": staff(body="moderation_act"),
    "POST /moderation/actions/<int:action_id>/restore": staff(body="restore"),
    "GET /moderation/audit": staff(),
    "GET /moderation/appeals": staff(),
    "POST /moderation/appeals/<int:appeal_id>": staff(body="appeal_decision"),
    "GET /notifications": user(),
    "GET /messages": user(),
    "GET /messages/new/@<username:username>": user(caller="bob"),  # Bob writes to Alice (not to himself)
    "POST /messages/new/@<username:username>": user(caller="bob", body="message"),
    "GET /messages/<int:conversation_id>": user(owned="conversation"),
    "POST /messages/<int:conversation_id>": user(owned="conversation", body="message"),
    "GET /messages/<int:conversation_id>/updates": user(owned="conversation"),
    "POST /messages/<int:conversation_id>/<str:action>": user(owned="conversation"),
    "GET /bookmarks": user(),
    "GET /follow-requests": user(),
    "POST /follow-requests/@<username:username>/<str:action>": user(owned="follow request"),
    "GET /search": public(query=(("q", "search_word"),)),
    "GET /compose": user(),
    "POST /compose": user(foreign=("web_reply_private",)),
    "GET /compose/showcase": user(),
    "POST /compose/showcase": user(),
    "GET /products/<int:product_id>": public(),
    "GET /earnings": user(),
    "GET /earnings/commissions/<int:commission_id>": user(owned="commission"),
    "GET /stores": user(),
    "GET /stores/new": user(),
    "POST /stores/new": user(),
    "GET /stores/<int:store_id>": user(owned="store"),
    "POST /stores/<int:store_id>": user(owned="store", body="web_store"),
    "POST /stores/<int:store_id>/rotate": user(owned="store"),
    "POST /stores/<int:store_id>/deposit": user(owned="store"),
    "POST /stores/<int:store_id>/decide": staff(),  # Alice's pending store: she may not approve it herself
    "GET /wallet": user(),
    "POST /wallet/topup": user(),
    "GET /wallet/topups/<str:order_no>": user(owned="top-up"),
    "POST /wallet/withdraw": user(foreign=("web_alice_payout",)),
    "POST /wallet/payout-accounts": user(),
    "POST /wallet/payout-accounts/<str:account_id>/unbind": user(owned="payout account",
                                                                 params=(("account_id", "payout_account_id"),)),
    "GET /ops/payments": staff(),
    "POST /ops/payments": staff(),
    "GET /payments/sandbox/checkout/<str:order_no>": user(owned="top-up"),
    "POST /payments/sandbox/checkout/<str:order_no>": user(owned="top-up", body="sandbox_approve"),
    "POST /payments/notify/<slug:provider>": signed(),
    "GET /posts/<int:post_id>": public(hidden=(("post_id", "private_post_id"),)),
    "GET /posts/<int:post_id>/report": user(owned="post report"),
    "GET /posts/<int:post_id>/report.csv": user(owned="post report"),
    "POST /events": public(body="web_events", json=True),
    "GET /reports": user(),
    "GET /reports.csv": user(),
    "GET /reports/@<username:username>": user(owned="account report"),
    "GET /reports/@<username:username>.csv": user(owned="account report"),
    "POST /posts/<int:post_id>/delete": user(owned="post"),
    "POST /posts/<int:post_id>/<str:action>": user(hidden=(("post_id", "private_post_id"),)),
    "GET /onboarding": user(),
    "POST /onboarding": user(),
    "GET /onboarding/experts": user(),
    "POST /onboarding/experts": user(),
    "GET /suggestions": user(),
    "GET /suggestions/box": user(),
    "POST /suggestions/<int:account_id>/dismiss": user(),
    "GET /experts": public(),
    "GET /experts/<slug:slug>": public(),
    "GET /discover/<slug:slug>": public(),
    "GET /settings/interests": user(),
    "POST /settings/interests": user(),
    "GET /settings/labels": user(),
    "POST /settings/labels/<str:action>": user(body="label_appeal"),
    "GET /@<username:username>": public(),
    "GET /@<username:username>/followers": public(),
    "GET /@<username:username>/following": public(),
    "GET /@<username:username>/showcase": public(),
    "POST /@<username:username>/<str:action>": user(),
    "GET /media/<path:path>": public(),
    # --- promotion pages (issue 13) ---
    "GET /promote": user(),
    "GET /promote/post/<int:post_id>": user(owned="post to promote"),
    "POST /promote/post/<int:post_id>": user(owned="post to promote"),
    "GET /promote/account": user(),
    "POST /promote/account": user(),
    "GET /promote/estimate": user(),
    "GET /promote/auto": user(),
    "POST /promote/auto": user(),
    "POST /promote/auto/<int:order_id>/<str:action>": user(owned="standing order"),
    "GET /promote/<int:campaign_id>": user(owned="campaign"),
    "GET /promote/<int:campaign_id>.csv": user(owned="campaign"),
    "POST /promote/<int:campaign_id>/<str:action>": user(owned="campaign"),
    "POST /promoted/<int:campaign_id>/<str:action>": user(),  # hiding a promotion one was shown is anyone's
    "GET /settings/promotion": user(),
    "POST /settings/promotion": user(body="promotion_settings"),
    "GET /moderation/promotion": staff(),
    "GET /moderation/promotion/revenue": staff(),
    "POST /moderation/promotion/<int:campaign_id>": staff(body="promotion_review"),
    # --- fan service pages (issue 14) ---
    "GET /messages/service": user(),
    "POST /messages/service": user(),
    "GET /messages/service/unsubscribe/<str:token>": public(params=(("token", "fs_unsubscribe_token"),)),
    "POST /messages/service/unsubscribe/<str:token>": public(params=(("token", "fs_unsubscribe_token"),)),
    "POST /messages/service/<int:item_id>/read": user(owned="service message"),
    "GET /messages/service/<int:item_id>/open": user(owned="service message"),
    "GET /messages/service/<int:item_id>/go/<str:token>": user(owned="service message"),
    "GET /subscriptions": user(),
    "POST /subscriptions/@<username:username>": user(),
    "POST /subscriptions/@<username:username>/menu/<int:index>": user(),
    "GET /watch/<int:post_id>": user(params=(("post_id", "showcase_post_id"),)),
    "POST /watch/<int:post_id>": user(params=(("post_id", "showcase_post_id"),)),
    "GET /fanservice": user(),
    "GET /fanservice/compose": user(),
    "POST /fanservice/compose": user(body="fs_compose"),
    "GET /fanservice/audience": user(),
    "GET /fanservice/broadcasts/<int:broadcast_id>": user(owned="broadcast"),
    "POST /fanservice/broadcasts/<int:broadcast_id>/cancel": user(owned="broadcast"),
    "GET /fanservice/replies": user(),
    "POST /fanservice/replies": user(body="fs_replies"),
    "POST /fanservice/replies/<int:rule_id>/delete": user(owned="rule"),
    "POST /i18n/setlang/": public(),
    # --- the admin: its login page and two of its pages; the rest is Django's own (see SKIPPED) ---
    "GET /admin/login/": public(),
    "GET /admin/": staff(),
    "GET /admin/accounts/user/": staff(caller="admin"),  # a model page needs the model's permission
}

# Django's own admin internals: every ModelAdmin page is guarded by AdminSite.admin_view, the same
# wrapper as the two admin pages probed above; probing each of them would test Django, not this project.
SKIPPED_PREFIXES = {"/admin/": "Django admin internals (guarded by AdminSite.admin_view; /admin/ and "
                               "/admin/accounts/user/ are probed as staff, /admin/login/ as public)"}

# Path parameters: which world value fills each (a rule's ``params`` overrides by name).
PARAMS = {
    "account_id": "alice_id", "status_id": "post_id", "post_id": "post_id", "media_id": "media_id",
    "notification_id": "notification_id", "slug": "vertical", "hashtag": "tag", "tag": "tag",
    "product_id": "product_id", "commission_id": "commission_id", "store_id": "alice_store_id",
    "topup_id": "topup_id", "withdrawal_id": "withdrawal_id", "payout_account_id": "payout_account_id",
    "token": "go_token", "username": "alice_name", "app_id": "app_id", "order_no": "order_no",
    "provider": "provider", "path": "media_path",
    "kind": "flag_kind", "target_id": "post_id", "case_id": "case_id", "appeal_id": "appeal_id",
    "action_id": "carol_action_id", "campaign_id": "campaign_id", "order_id": "order_id",
    "conversation_id": "conversation_id",
    "broadcast_id": "fs_broadcast_id", "item_id": "fs_item_id", "rule_id": "fs_rule_id", "index": "fs_menu_index",
}
# ``<str:action>`` is a word each view knows; per route.
ACTIONS = {
    "/follow-requests/@<username:username>/<str:action>": "authorize",
    "/posts/<int:post_id>/<str:action>": "like",
    "/settings/labels/<str:action>": "appeal",  # "refresh" would train the labeler in the request
    "/@<username:username>/<str:action>": "follow",
    "/promote/<int:campaign_id>/<str:action>": "pause",
    "/promote/auto/<int:order_id>/<str:action>": "pause",
    "/promoted/<int:campaign_id>/<str:action>": "hide",
    "/messages/<int:conversation_id>/<str:action>": "accept",
}
# The follow-request action names the requester (Carol), not Alice.
WEB_PARAM_OVERRIDES = {"/follow-requests/@<username:username>/<str:action>": {"username": "carol_name"},
                       # Alice subscribes to (and presses the menu of) Dave, the brand
                       "/subscriptions/@<username:username>": {"username": "brand_name"},
                       "/subscriptions/@<username:username>/menu/<int:index>": {"username": "brand_name"}}


# --- enumeration ----------------------------------------------------------------------------

def _walk(patterns, prefix: str = ""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield "/" + prefix + str(p.pattern), p


def _is_ninja(pattern: URLPattern) -> bool:
    return getattr(pattern.callback, "__module__", "").startswith("ninja.operation")


def _openapi_path(route: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def ninja_operations() -> set[str]:
    """Every operation the ninja API serves, those hidden from the schema included."""
    ops = set()
    for prefix, router in ninja_api._routers:
        for path, path_view in router.path_operations.items():
            for op in path_view.operations:
                full = "/".join(part.strip("/") for part in ("api", prefix, path) if part.strip("/"))
                ops.update(f"{method} {_openapi_path('/' + full)}" for method in op.methods)
    return ops


def schema_operations(schema: dict) -> set[str]:
    return {f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method in ops}


def enumerate_routes() -> list[str]:
    """``METHOD path`` for every route: API operations by their OpenAPI path, web patterns by their
    Django route with the methods the table gives (``ANY`` when the table does not know the route)."""
    cases = set(ninja_operations()) | schema_operations(ninja_api.get_openapi_schema(path_prefix="/api/"))
    ninja_paths = {c.split(" ", 1)[1] for c in cases}
    for route, pattern in _walk(get_resolver().url_patterns):
        if _is_ninja(pattern):
            if _openapi_path(route) not in ninja_paths:
                cases.add(f"ANY {_openapi_path(route)}")
            continue
        if any(route.startswith(p) for p in SKIPPED_PREFIXES) and not any(
                k.split(" ", 1)[1] == route for k in MATRIX):
            continue
        known = [k for k in MATRIX if k.split(" ", 1)[1] == route]
        cases.update(known or [f"ANY {route}"])
    return sorted(cases)


ROUTES = enumerate_routes()


# --- the world: Alice owns things, Bob tries to reach them, an operator runs the place -------------

def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def _build_world() -> dict:
    from oauth2_provider.models import get_access_token_model, get_application_model

    from showcase_signer import StoreSigner
    from tastemaker.accounts.services import register
    from tastemaker.experts.models import AbilityLabel, Vertical
    from tastemaker.moderation import services as moderation
    from tastemaker.payments import services as payments
    from tastemaker.payments.ledger import post_transaction, provider_clearing, wallet_for
    from tastemaker.payments.models import PayoutAccount
    from tastemaker.showcase.models import Commission
    from tastemaker.showcase.services import (
        CardInput,
        do_click_out,
        do_create_showcase_post,
        do_create_store,
        do_fund_store_deposit,
        do_receive_webhook,
        do_upsert_catalog,
        link_target,
    )
    from tastemaker.social import services as social
    from tastemaker.social.models import Notification

    def make_user(name, **extra):
        made = register(username=name, email=f"{name}@example.org", password=PASSWORD)
        if extra:
            for key, value in extra.items():
                setattr(made, key, value)
            made.save()
        return made

    def fund(who, amount, ref):
        post_transaction("topup", [(provider_clearing("sandbox", "CNY"), -amount), (wallet_for(who, "CNY"), amount)],
                         reference=f"authz-matrix:{ref}")

    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    operator = make_user("ops_lead", is_staff=True)
    dave = make_user("dave")  # a brand: runs a partner store an operator approved
    admin = make_user("superop", is_staff=True, is_superuser=True)
    # the operator's partner store (approved at once), funded for commissions
    store, store_secrets = do_create_store(operator, name="Good Shop", domains=["shop.example.com"],
                                           commission_bp=1000, attribution_days=7, return_days=15)
    fund(operator, 1_000_000, "operator")
    from tastemaker.showcase.stores import do_decide_store

    dave_store, _dave_secrets = do_create_store(dave, name="Dave Brand Goods", domains=["dave.example.com"])
    do_decide_store(operator, dave_store, approve=True, note="checked")
    do_fund_store_deposit(operator, store, 1_000_000, "CNY")
    post = social.do_create_post(alice, text="Alice's post #tea")
    private_post = social.do_create_post(alice, text=PRIVATE_TEXT + " #tea", visibility="private")
    media = social.do_upload_media(alice, _png())
    social.do_favourite(bob, post)
    notification = Notification.objects.filter(recipient=alice).order_by("-pk").first()
    # a commission earned by Alice: her showcase post, Bob's click, the store's paid order
    card = CardInput(title="Hydrating face cream", disclosure="affiliate", vertical="beauty",
                     reason="I have used it every night for a month and my dry skin finally stopped flaking.",
                     url="https://shop.example.com/p/cream-1", price=12900, stock=8,
                     image_media_id=social.do_upload_media(alice, _png()).pk)
    do_upsert_catalog(store, [{"external_id": "c1", "title": "Hydrating face cream", "gtin": "6901234567892",
                               "url": "https://shop.example.com/p/cream-1", "price": 12900, "stock": 5}])
    with TestCase.captureOnCommitCallbacks(execute=True):
        sc_post = do_create_showcase_post(alice, text="My pick of the month", card=card)
        # the same product in a followers-only showcase post: its reason is Alice's followers' business
        private_card = CardInput(title="Hydrating face cream", disclosure="affiliate", vertical="beauty",
                                 reason=PRIVATE_REASON, url="https://shop.example.com/p/cream-1", price=12900,
                                 stock=8, image_media_id=social.do_upload_media(alice, _png()).pk)
        private_sc_post = do_create_showcase_post(alice, text="For my followers", card=private_card,
                                                  visibility="private")
    link = sc_post.card.links.get(primary=True)
    click = do_click_out(link_target(link.token), viewer_id=bob.pk, visitor="", reason="", device="mobile",
                         language="en")
    signer = StoreSigner(store_secrets.webhook_secret)
    do_receive_webhook(store, *signer.deliver("order.paid", {"order_id": "AUTHZ-1", "click_id": str(click.pk),
                                                              "amount": 20000, "currency": "CNY"}))
    commission = Commission.objects.get(creator=alice)
    assert sc_post.card.product_id, "the card must name a catalog product (the product routes probe it)"
    # Alice's own (brand) store, her money and payout account
    alice_store, _ = do_create_store(alice, name="Alice Brand Store", domains=["alice-brand.example.com"])
    fund(alice, 100_000, "alice")
    from tastemaker.promotion import services as promotion

    fund(dave, 100_000, "dave")
    campaign = promotion.do_create_campaign(alice, tool="passerby", post_id=post.pk, budget=2_000, bid=1_000,
                                          name=PROMO_NAME)
    standing_order = promotion.do_create_standing_order(alice, tool="account_rec", weekly_budget=2_000,
                                                        per_campaign_budget=1_000, bid=200)
    fund(bob, 100_000, "bob")
    bob_payout = payments.do_bind_payout_account(bob, "sandbox", "bob@example.org", "Bob B")
    PayoutAccount.objects.filter(pk=bob_payout.pk).update(bound_at=timezone.now() - timedelta(days=30))
    topup, _url = payments.do_start_topup(alice, 5_000, "CNY", "sandbox")
    payout = payments.do_bind_payout_account(alice, "sandbox", "alice@example.org", "Alice A")
    payout.bound_at = timezone.now() - timedelta(days=30)  # past the cool-down
    PayoutAccount.objects.filter(pk=payout.pk).update(bound_at=payout.bound_at)
    withdrawal = payments.do_request_withdrawal(alice, 2_000, "CNY", payout)
    # Carol asks to follow Alice, who is locked
    alice.locked = True
    alice.save(update_fields=["locked"])
    social.do_follow(carol, alice)
    # an app Alice authorised
    app = get_application_model().objects.create(
        name="matrix app", client_type="confidential", authorization_grant_type="authorization-code",
        redirect_uris="urn:ietf:wg:oauth:2.0:oob", scopes=ALL_SCOPES)

    def token(who, scopes=ALL_SCOPES):
        return get_access_token_model().objects.create(
            user=who, application=app, token=secrets.token_urlsafe(24), scope=scopes,
            expires=timezone.now() + timedelta(days=1)).token

    token(alice)
    # moderation: an open case (Bob reported Carol's post), an action against Carol she appealed, and one she
    # has not (the superuser acted, so the operator may decide the appeal)
    open_case = moderation.do_report(bob, "post", social.do_create_post(carol, text="Carol's reported post").pk,
                                     "spam").case
    removed = moderation.do_act(admin, moderation.do_report(
        bob, "post", social.do_create_post(carol, text="Carol's removed post").pk, "spam").case, "remove", "Spam")
    appeal = moderation.do_appeal(carol, removed, "It was not spam")
    carol_action = moderation.do_act(admin, moderation.do_report(
        bob, "post", social.do_create_post(carol, text="Carol's other post").pk, "spam").case, "remove", "Spam")
    # the fan service: Alice subscribes to Dave (a brand with a menu), whose broadcast (a post link and
    # Alice's card) reaches her inbox; Alice has a scheduled broadcast of her own and a keyword rule
    from tastemaker.fanservice import delivery as fs_delivery
    from tastemaker.fanservice import services as fanservice
    from tastemaker.fanservice.models import Broadcast, InboxItem, Message

    fanservice.do_subscribe(alice, dave)
    fanservice.do_subscribe(bob, alice)
    fanservice.do_save_settings(dave, menu=[{"label": "Hours", "reply": "9 to 6"}])
    dave_broadcast = fanservice.do_create_broadcast(dave, text="Dave's news", post_id=social.do_create_post(
        dave, text="Dave's public post").pk, scheduled_at=timezone.now() + timedelta(hours=1))
    Message.objects.filter(pk=dave_broadcast.message_id).update(card_post=sc_post)
    Broadcast.objects.filter(pk=dave_broadcast.pk).update(scheduled_at=timezone.now() - timedelta(seconds=1))
    fs_delivery.deliver(dave_broadcast.pk)
    fs_item = InboxItem.objects.get(recipient=alice, broadcast_id=dave_broadcast.pk)
    fs_broadcast = fanservice.do_create_broadcast(alice, text=FS_TEXT, scheduled_at=timezone.now() + timedelta(days=1))
    fs_rule = fanservice.do_add_rule(alice, "numbat", text=FS_RULE)
    vertical = Vertical.objects.filter(active=True).order_by("position").first()
    AbilityLabel.objects.create(user=alice, vertical=vertical, score=42.0, post_count=5)  # one she may appeal
    # a moderation action on one of Alice's posts (removed: she may appeal it; Bob may not)
    alice_removed = social.do_create_post(alice, text="Alice's post the moderators removed")
    case = moderation.do_report(bob, "post", alice_removed.pk, "spam")
    moderation_action = moderation.do_act(operator, case.case, "remove", "spam")
    # a direct message to Alice from Carol (who does not follow her: a message request in Alice's view)
    message = social.do_create_post(carol, text=f"@alice {DM_TEXT}", visibility="direct")
    return {
        "alice": alice, "bob": bob, "carol": carol, "operator": operator, "admin": admin, "token": token,
        "brand": dave, "store_key": store_secrets.api_key,
        "alice_id": str(alice.pk), "alice_name": alice.username, "carol_name": carol.username,
        "requester_id": str(carol.pk), "post_id": str(post.pk), "media_id": str(media.pk),
        "media_path": media.file, "notification_id": str(notification.pk), "vertical": vertical.slug,
        "private_post_id": str(private_post.pk), "private_showcase_post_id": str(private_sc_post.pk), "search_word": "Zanzibar",
        "tag": "tea", "stream_public": "public", "product_id": str(sc_post.card.product_id), "showcase_post_id": str(sc_post.pk),
        "commission_id": str(commission.pk), "alice_store_id": str(alice_store.pk), "store_id": str(store.pk),
        "partner_store_id": str(store.pk), "topup_id": str(topup.pk), "order_no": topup.order_no,
        "withdrawal_id": str(withdrawal.pk), "payout_account_id": str(payout.pk), "go_token": link.token,
        "app_id": str(app.pk), "provider": "sandbox", "bob_id": str(bob.pk),
        "moderation_action_id": str(moderation_action.pk),
        "flag_kind": "post", "case_id": str(open_case.pk), "appeal_id": str(appeal.pk),
        "carol_action_id": str(carol_action.pk),
        "campaign_id": str(campaign.pk), "order_id": str(standing_order.pk),
        "conversation_id": str(message.conversation_id),
        "brand_id": str(dave.pk), "brand_name": dave.username, "fs_broadcast_id": str(fs_broadcast.pk),
        "fs_item_id": str(fs_item.pk), "fs_rule_id": str(fs_rule.pk), "fs_menu_index": "0",
        "fs_unsubscribe_token": fanservice.unsubscribe_token(alice.pk, dave.pk, dave_broadcast.pk),
        # what must never reach Bob: strings only Alice's objects carry
        "secrets": [topup.order_no, "Alice Brand Store", "alice@example.org", "AUTHZ-1", PRIVATE_TEXT, PRIVATE_REASON,
                    PROMO_NAME, DM_TEXT, FS_TEXT, FS_RULE],
    }


@pytest.fixture(scope="module")
def _module_world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back at its end; each test runs in
    its own savepoint on top (the ``db`` fixture), so what one probe changes never reaches the next."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(_module_world, db):
    return _module_world


BODIES = {
    "app": lambda w: {"client_name": "matrix", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read"},
    "register": lambda w: {"username": "newcomer", "email": "newcomer@example.org", "password": PASSWORD,
                           "agreement": True, "locale": "en"},
    "credentials": lambda w: {"display_name": "Renamed"},
    "status": lambda w: {"status": "hello from the matrix"},
    "media": lambda w: {"description": "a red square"},
    "classify": lambda w: {"text": "a face cream for dry skin"},
    "appeal": lambda w: {"message": "This label is wrong."},
    "expert": lambda w: {"vertical": w["vertical"]},
    "interests": lambda w: {"verticals": [w["vertical"]]},
    "events": lambda w: {"events": [{"type": "impression", "subject_id": w["post_id"]}]},
    "web_events": lambda w: {"events": [{"type": "impression", "subject_type": "post", "subject_id": w["post_id"]}]},
    "import": lambda w: {"url": "http://127.0.0.1/p/1"},  # refused by the fetch guard, without a fetch
    "showcase_post": lambda w: {"card": {"title": "Cream", "reason": "I have used it every night for a month.",
                                         "url": "https://shop.example.com/p/cream-2", "disclosure": "own",
                                         "vertical": "beauty"}},
    "store": lambda w: {"name": "Matrix Store", "domains": ["matrix.example.com"]},
    "store_patch": lambda w: {"name": "Renamed Store"},
    "decision": lambda w: {"note": "checked"},
    "deposit": lambda w: {"amount": 100, "currency": "CNY"},
    "topup": lambda w: {"amount": 5_000, "currency": "CNY", "provider": "sandbox"},
    "withdrawal": lambda w: {"amount": 1_000, "currency": "CNY"},
    "payout": lambda w: {"provider": "sandbox", "identifier": "someone@example.org", "holder_name": "Some One"},
    "transfer": lambda w: {"to": w["alice_id"], "amount": 100, "currency": "CNY"},
    "web_store": lambda w: {"name": "Taken Over", "domains": "alice-brand.example.com"},
    "sandbox_approve": lambda w: {"decision": "approve"},
    "label_appeal": lambda w: {"vertical": w["vertical"], "message": "This label is wrong."},
    "reconcile": lambda w: {"provider": "sandbox", "date_from": "2026-01-01", "date_to": "2026-01-01"},
    "flag_account": lambda w: {"account_id": w["bob_id"], "category": "spam"},
    "flag_post": lambda w: {"kind": "account", "id": w["bob_id"], "reason": "harassment"},
    "moderation_appeal": lambda w: {"text": "That was a quote, not my words."},
    "flag": lambda w: {"reason": "spam", "note": "an ad"},
    "moderation_act": lambda w: {"action": "dismiss", "reason": "No violation"},
    "appeal_decision": lambda w: {"decision": "overturn", "reason": "It was a review"},
    "credit_appeal": lambda w: {"text": "It was not spam"},
    "restore": lambda w: {"reason": "A second look: it was fine"},
    "promotion_settings": lambda w: {"action": "targeting", "opt_out": "on"},
    "promotion_review": lambda w: {"decision": "reject", "note": "Not this time."},
    "campaign": lambda w: {"tool": "account_rec", "budget": 1_000, "bid": 200},
    "estimate": lambda w: {"tool": "passerby"},
    "review": lambda w: {"note": "checked"},
    "standing_order": lambda w: {"tool": "account_rec", "weekly_budget": 2_000, "per_campaign_budget": 1_000,
                                 "bid": 200},
    "standing_order_patch": lambda w: {"active": False},
    "opt_out": lambda w: {"opted_out": True},
    "message": lambda w: {"text": "a message from the matrix"},
    "fs_unsubscribe": lambda w: {"token": w["fs_unsubscribe_token"]},
    "fs_segment": lambda w: {"languages": ["en"]},
    "fs_broadcast": lambda w: {"text": "News for my subscribers"},
    "fs_settings": lambda w: {"welcome_text": "Welcome!"},
    "fs_rule": lambda w: {"keyword": "hours", "text": "9 to 6"},
    "fs_watch": lambda w: {"card_post_id": w["showcase_post_id"]},
    "fs_compose": lambda w: {"text": "News for my subscribers"},
    "fs_replies": lambda w: {"action": "settings", "welcome_text": "Welcome!"},
    "catalog": lambda w: {"items": [{"external_id": "c1", "title": "Hydrating face cream", "price": 12900,
                                     "url": "https://shop.example.com/p/cream-1", "stock": 4}]},
}




def _foreign_checks():
    from tastemaker.payments.models import Withdrawal
    from tastemaker.social.models import Media, Post

    def media_unused(w):
        return Media.objects.filter(pk=w["media_id"], post__isnull=True).exists()

    def no_reply(w):
        return not Post.objects.filter(in_reply_to_id=w["private_post_id"]).exists()

    def no_withdrawal(w):
        return not Withdrawal.objects.filter(user=w["bob"]).exists()

    card = {"title": "Cream", "reason": "I have used it every night for a month.", "disclosure": "own",
            "url": "https://shop.example.com/p/cream-3", "vertical": "beauty"}
    return {
        "alice_media": (lambda w: {"status": "mine now", "media_ids": [w["media_id"]]}, media_unused),
        "reply_private": (lambda w: {"status": "a reply", "in_reply_to_id": w["private_post_id"]}, no_reply),
        "card_alice_media": (lambda w: {"card": {**card, "media_id": w["media_id"]}}, media_unused),
        "alice_payout": (lambda w: {"amount": 1_000, "currency": "CNY", "payout_account_id": w["payout_account_id"]},
                         no_withdrawal),
        "web_reply_private": (lambda w: {"text": "a reply", "in_reply_to": w["private_post_id"]}, no_reply),
        "web_alice_payout": (lambda w: {"withdraw_amount": "10", "withdraw_currency": "CNY",
                                        "withdraw_payout_account": w["payout_account_id"]}, no_withdrawal),
    }


# --- probing ----------------------------------------------------------------------------------

def _is_api(path: str) -> bool:
    return path.startswith("/api/")


def _fill(route: str, rule: Rule, w: dict) -> str:
    names = {**PARAMS, **dict(rule.params)}
    overrides = WEB_PARAM_OVERRIDES.get(route, {})

    def value(match):
        name = match.group(1)
        if name == "action":
            return ACTIONS[route]
        return w[overrides.get(name, names[name])]

    return re.sub(r"{(\w+)}", value, re.sub(r"<(?:\w+:)?(\w+)>", value, route))


def _request(w: dict, method: str, route: str, rule: Rule, who: str | None = None, *, scopes: str = ALL_SCOPES,
             body: dict | None = None):
    """``who`` (a world key, or None: anonymous) calls the route: with a token for the API (``scopes``;
    ``who="app"``: an app's own token, no user behind it), with a session for web pages."""
    client, headers = Client(), dict(IDEMPOTENCY)
    path = _fill(route, rule, w)
    if rule.query:
        path += "?" + urlencode([(name, w[value]) for name, value in rule.query])
    if who == "store_key":  # a partner store's API key, where a user's token would go
        if _is_api(path):
            headers["HTTP_AUTHORIZATION"] = f"Bearer {w['store_key']}"
    elif who is not None and _is_api(path) or who == "app":
        headers["HTTP_AUTHORIZATION"] = f"Bearer {w['token'](w.get(who), scopes)}"
    elif who is not None:
        client.force_login(w[who])
    if body is None:
        body = BODIES[rule.body](w) if rule.body else {}
    if method == "GET":
        return client.get(path, **headers)
    if rule.multipart:
        return client.post(path, {"file": SimpleUploadedFile("red.png", _png(), content_type="image/png")}, **headers)
    if _is_api(path) or rule.json:
        return client.generic(method, path, json.dumps(body), content_type="application/json", **headers)
    return client.post(path, body, **headers)  # a web form


def _login_redirect(response) -> bool:
    if response.status_code not in (301, 302, 303):
        return False
    location = response["Location"]
    return location.startswith(reverse(settings.LOGIN_URL)) or location.startswith("/admin/login/")


def _say(who: str, key: str, response) -> str:
    body = response.content[:300].decode("utf-8", "replace") if hasattr(response, "content") else "(streamed)"
    return f"{key} as {who}: HTTP {response.status_code} {body!r}"


def _unsigned_refused(response) -> bool:
    """How a signed route says no: 400/401/403, or a provider notification's "failure" body."""
    return response.status_code in (400, 401, 403) or (
        response.status_code == 200 and response.content.strip() == b"failure")


def _refused(response) -> bool:
    return response.status_code in (401, 403) or _login_redirect(response)


def _wrong_scopes(needed: str) -> str:
    """A token's scopes that do not grant ``needed``: a read-only app for a write, a read+write app for
    payments or stores."""
    top = needed.split(":")[0]
    if top == "read":
        return "write follow push"
    if top in ("write", "follow"):
        return "read"
    return "read write follow push"


def _checked(w: dict, key: str, who: str, response):
    """No probe answers 500, and none shows a stranger Alice's private strings."""
    assert response.status_code < 500, _say(who, key, response)
    if who not in ("alice", "operator", "admin"):  # strangers only
        body = response.content.decode("utf-8", "replace") if hasattr(response, "content") else ""
        for secret in w["secrets"]:
            if secret in response.wsgi_request.get_full_path():
                continue  # the caller's own request echoed back (the page's links), not Alice's data
            assert secret not in body, f"{_say(who, key, response)}: shows Alice's {secret!r}"
    return response


def _probe(w: dict, key: str, method: str, route: str, rule: Rule, who: str | None = None, **kw):
    return _checked(w, key, who or "anonymous", _request(w, method, route, rule, who, **kw))


def _hidden_probes(w: dict, key: str, method: str, route: str, rule: Rule) -> None:
    """On Alice's followers-only post (she has no followers), anonymous and Bob get 403/404, never its text."""
    if not rule.hidden:
        return
    hidden = replace(rule, params=(*rule.params, *rule.hidden))
    for who in ("bob", "brand", None) if rule.kind == "public" else ("bob", "brand"):
        response = _probe(w, key, method, route, hidden, who)
        assert response.status_code in (403, 404), _say(f"{who} on Alice's followers-only post", key, response)


def _foreign_probes(w: dict, key: str, method: str, route: str, rule: Rule) -> None:
    """Bob names Alice's object (her image, her followers-only post, her payout account) in a body: refused
    (API: 4xx; web: any answer but a 500) and nothing of Alice's is used."""
    checks = _foreign_checks()
    for name in rule.foreign:
        make_body, untouched = checks[name]
        response = _probe(w, key, method, route, rule, "bob", body=make_body(w))
        if _is_api(route):
            assert 400 <= response.status_code < 500, _say(f"Bob with Alice's object ({name})", key, response)
        assert untouched(w), f"{_say(f'Bob with Alice object ({name})', key, response)}: it was used"


@pytest.mark.parametrize("key", ROUTES)
def test_route(key, world):
    method, route = key.split(" ", 1)
    rule = MATRIX.get(key)
    assert rule is not None, (
        f"{key} is not in the authorisation matrix: add it to MATRIX in {__file__} as public(), user(), "
        f"scope('<name>'), staff() or signed() (with owned= if it names an object of one user), so the route is "
        f"covered by the access checks.")
    w, api = world, _is_api(route)
    # 1. anonymous
    anon = _probe(w, key, method, route, rule)
    if rule.kind == "public":
        assert not _refused(anon), _say("anonymous", key, anon)
        if method == "GET":  # the path names things that exist (the probe reached the view); Bob sees no secret
            assert anon.status_code < 400 or rule.absent, _say("anonymous (is the path filled right?)", key, anon)
            _probe(w, key, method, route, rule, "bob")
        _hidden_probes(w, key, method, route, rule)
        return
    if rule.kind == "signed":
        # unsigned: anonymous, a user's or a brand's own credentials, a store key where a signature is due
        for who in (None, "alice", "brand", *(("store_key",) if not rule.store_key else ())):
            got = anon if who is None else _probe(w, key, method, route, rule, who)
            assert _unsigned_refused(got), _say(f"{who or 'anonymous'} (unsigned)", key, got)
        if rule.store_key:  # the store, with its key, is served
            ok = _probe(w, key, method, route, replace(rule, body=rule.store_key), "store_key")
            assert 200 <= ok.status_code < 300, _say("the store with its key", key, ok)
        return
    assert _refused(anon) and (anon.status_code == 401 or not api), _say("anonymous", key, anon)
    if api and not rule.app_ok:  # an app's own token, every scope but no user behind it
        app = _probe(w, key, method, route, rule, "app")
        assert app.status_code in (401, 403), _say("an app token (no user)", key, app)
    if api:  # a partner store's API key is no user's token
        store = _probe(w, key, method, route, rule, "store_key")
        assert store.status_code in (401, 403), _say("a store API key", key, store)
    # 2. a token without the scope
    if rule.scope and api:
        wrong = _probe(w, key, method, route, rule, "alice", scopes=_wrong_scopes(rule.scope))
        assert wrong.status_code == 403, _say(f"a token without {rule.scope}", key, wrong)
    # 3. signed-in users who are not operators: Bob, and Alice on her own things (her store's approval)
    if rule.kind == "staff":
        for who in ("bob", "alice", "brand"):
            other = _probe(w, key, method, route, rule, who)
            assert other.status_code in (403, 404) or _login_redirect(other), _say(f"{who} (no operator)", key, other)
    # 4. Bob, with every scope, on Alice's object; on his own pages he sees nothing of hers either
    if rule.owned:
        for who in ("bob", "brand"):
            other = _probe(w, key, method, route, rule, who)
            assert other.status_code in (403, 404), _say(f"{who} on Alice's {rule.owned}", key, other)
    elif method == "GET" and rule.kind != "staff":
        _probe(w, key, method, route, rule, "bob")
    _hidden_probes(w, key, method, route, rule)
    _foreign_probes(w, key, method, route, rule)
    # 5. the rightful caller is served
    if rule.positive:
        who = rule.caller or ("operator" if rule.kind == "staff" else "alice")
        ok = _probe(w, key, method, route, rule, who)
        assert not _refused(ok), _say(who, key, ok)
        assert ok.status_code != 404, _say(f"{who} (is the path filled right?)", key, ok)


def test_the_served_schema_is_the_one_enumerated(client):
    """The operations of /api/openapi.json as served are all in the matrix (and none is stale)."""
    served = schema_operations(client.get("/api/openapi.json").json())
    assert served - set(ROUTES) == set(), "operations of /api/openapi.json missing from the matrix"
    assert served <= set(MATRIX), f"classify in MATRIX: {sorted(served - set(MATRIX))}"


def test_no_stale_entries():
    """Every MATRIX entry is a route that exists (a removed or renamed route must leave the table)."""
    stale = sorted(set(MATRIX) - set(ROUTES))
    assert not stale, f"MATRIX names routes that do not exist any more: {stale}"


def test_classes_are_known():
    assert {r.kind for r in MATRIX.values()} <= {"public", "user", "scope", "staff", "signed"}
    assert all(r.scope for r in MATRIX.values() if r.kind == "scope")
    assert all(r.body in BODIES for r in MATRIX.values() if r.body)

