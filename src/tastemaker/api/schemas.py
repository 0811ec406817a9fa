"""Response and request schemas (Mastodon entities, with Tastemaker extensions) for the OpenAPI spec."""

from __future__ import annotations

from typing import Any, Literal

from ninja import Schema
from pydantic import Field


class Error(Schema):
    error: str = Field(description="What went wrong, for a person to read")
    error_description: str | None = None
    field: str | None = None


class Health(Schema):
    status: str


class Emoji(Schema):
    shortcode: str
    url: str
    static_url: str
    visible_in_picker: bool


class AccountField(Schema):
    name: str
    value: str
    verified_at: str | None = None


class AccountSource(Schema):
    privacy: str
    sensitive: bool
    language: str
    note: str
    fields: list[AccountField]
    follow_requests_count: int


class TastemakerAccountExt(Schema):
    interests: list[str]
    language: str


class Account(Schema):
    id: str
    username: str
    acct: str
    display_name: str
    locked: bool
    bot: bool
    discoverable: bool
    group: bool
    indexable: bool
    created_at: str
    note: str
    url: str
    uri: str
    avatar: str
    avatar_static: str
    header: str
    header_static: str
    followers_count: int
    following_count: int
    statuses_count: int
    last_status_at: str | None
    emojis: list[Emoji]
    fields: list[AccountField]
    tastemaker: TastemakerAccountExt


class CredentialAccount(Account):
    source: AccountSource
    role: dict[str, Any] | None = None


class MediaMetaSize(Schema):
    width: int
    height: int
    size: str
    aspect: float


class MediaMeta(Schema):
    original: MediaMetaSize
    small: MediaMetaSize


class MediaAttachment(Schema):
    id: str
    type: Literal["image", "unknown", "gifv", "video", "audio"]
    url: str
    preview_url: str
    remote_url: str | None
    meta: MediaMeta
    description: str | None
    blurhash: str | None


class StatusMention(Schema):
    id: str
    username: str
    url: str
    acct: str


class StatusTag(Schema):
    name: str
    url: str


class Tag(Schema):
    name: str
    url: str
    history: list[dict[str, str]]
    following: bool | None = None


class Application(Schema):
    name: str
    website: str | None


class Status(Schema):
    id: str
    uri: str
    url: str
    created_at: str
    edited_at: str | None
    account: Account
    content: str
    text: str | None = None
    visibility: Literal["public", "unlisted", "private", "direct"]
    sensitive: bool
    spoiler_text: str
    media_attachments: list[MediaAttachment]
    application: Application | None
    mentions: list[StatusMention]
    tags: list[StatusTag]
    emojis: list[Emoji]
    reblogs_count: int
    favourites_count: int
    replies_count: int
    in_reply_to_id: str | None
    in_reply_to_account_id: str | None
    reblog: Status | None
    poll: dict[str, Any] | None
    card: dict[str, Any] | None
    language: str | None
    favourited: bool | None = None
    reblogged: bool | None = None
    muted: bool | None = None
    bookmarked: bool | None = None
    pinned: bool | None = None
    filtered: list[dict[str, Any]] = []


Status.model_rebuild()


class Context(Schema):
    ancestors: list[Status]
    descendants: list[Status]


class Relationship(Schema):
    id: str
    following: bool
    showing_reblogs: bool
    notifying: bool
    languages: list[str] | None
    followed_by: bool
    blocking: bool
    blocked_by: bool
    muting: bool
    muting_notifications: bool
    requested: bool
    requested_by: bool
    domain_blocking: bool
    endorsed: bool
    note: str


class Notification(Schema):
    id: str
    type: str
    created_at: str
    account: Account
    status: Status | None = None


class SearchResults(Schema):
    accounts: list[Account]
    statuses: list[Status]
    hashtags: list[Tag]


class AppCreated(Schema):
    id: str
    name: str
    website: str | None
    scopes: list[str]
    redirect_uri: str
    redirect_uris: list[str]
    client_id: str
    client_secret: str
    client_secret_expires_at: int
    vapid_key: str


class AppInfo(Schema):
    name: str
    website: str | None
    scopes: list[str]
    redirect_uris: list[str]


class Token(Schema):
    access_token: str
    token_type: str
    scope: str
    created_at: int


# --- request bodies (JSON or form-encoded; see api/parser.py) ------------------------------

class AppIn(Schema):
    client_name: str = Field(min_length=1, max_length=200)
    redirect_uris: str | list[str] = Field(description="one URI, several separated by newlines, or a list")
    scopes: str = "read"
    website: str | None = None


class RegisterIn(Schema):
    username: str
    email: str
    password: str
    agreement: bool = False
    locale: str = "en"
    reason: str | None = None
    display_name: str | None = None


class StatusIn(Schema):
    status: str | None = Field(None, description="The text, at most 2,000 characters")
    media_ids: list[str] = Field(default_factory=list, max_length=50)
    in_reply_to_id: str | None = None
    sensitive: bool = False
    spoiler_text: str | None = None
    visibility: str = "public"
    language: str | None = None


class FollowIn(Schema):
    reblogs: bool = True
    notify: bool = False


class MediaUpdateIn(Schema):
    description: str | None = None
