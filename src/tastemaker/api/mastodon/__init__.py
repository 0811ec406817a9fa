"""The Mastodon client API subset for the social core, one module per resource (as Takahē's ``api/views``).
Handlers are thin: parse, call a service or selector, serialize. Errors are raised as domain errors and
rendered by api/errors.py; request and response shapes are in api/schemas.

The resource routers are mounted in this order, which is the URL resolution order: a literal path
(``/v1/accounts/lookup``) comes before the pattern it would also match (``/v1/accounts/{account_id}``)
inside each module."""

from ninja import Router

from . import (
    accounts,
    apps,
    bookmarks,
    conversations,
    follow_requests,
    instance,
    media,
    notifications,
    search,
    statuses,
    streaming,
    timelines,
)

router = Router()
for _resource in (instance, apps, accounts, follow_requests, bookmarks, statuses, timelines, media, notifications,
                  search, conversations, streaming):
    router.add_router("", _resource.router)
