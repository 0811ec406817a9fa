"""Response and request schemas for the OpenAPI spec: here the Mastodon entities (with Tastemaker
extensions) that every area uses (``from tastemaker.api import schemas as S``); the Showcase's and the
Payments API's own in ``showcase.py`` and ``payments.py``."""

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
    tastemaker_messages_from: Literal["everyone", "following", "nobody"] = Field(
        "everyone", description="Tastemaker extension: who may send you direct messages (people you do not "
                                "follow arrive as message requests)")


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


class PreviewCardAuthor(Schema):
    name: str
    url: str
    account: Account | None = None


class PreviewCard(Schema):
    """Mastodon's ``PreviewCard``. On a showcase post: the product card, with ``url`` the tracked purchase
    link (``/go/<token>``) of the primary store and ``description`` the creator's recommendation reason."""

    url: str
    title: str
    description: str
    type: Literal["link", "photo", "video", "rich"]
    author_name: str
    author_url: str
    provider_name: str
    provider_url: str
    html: str
    width: int | None
    height: int | None
    image: str | None
    image_description: str
    embed_url: str
    blurhash: str | None
    language: str | None
    published_at: str | None
    authors: list[PreviewCardAuthor]


class ShowcaseOffer(Schema):
    """One store's offer on a product card. Price and stock not confirmed within ``SHOWCASE_STALE_HOURS``
    are ``null`` with ``stale`` true: show "check the price at the store", never an old price as current."""

    store_id: str
    store_name: str
    url: str = Field(description="The tracked purchase link (/go/<token>): records the click-out and redirects "
                                 "to the store's page")
    primary: bool = Field(description="The store the creator linked")
    price: int | None = Field(description="Minor units (fen, cents) of `currency`; null when unknown or stale")
    currency: str
    price_display: str | None = Field(description="The price formatted for people, e.g. ¥129.00; null with price")
    stock: int | None = Field(description="null when the store does not say, or stale")
    stale: bool
    sold_out: bool
    refreshed_at: str = Field(description="When the store (or creator) last confirmed price and stock")


class ShowcaseCard(Schema):
    """Tastemaker's full product card of a showcase post (the ``tastemaker_card`` extension of a Status)."""

    status_id: str
    title: str
    reason: str = Field(description="Why the creator recommends it")
    image: str
    image_preview: str
    disclosure: Literal["own", "affiliate", "gifted", "paid"]
    disclosure_label: str = Field(description='The label a reader must see: "Ad" (广告) for a paid '
                                              'partnership, "Affiliate", "Gifted", "Own product"')
    vertical: str | None = Field(description="The vertical's slug")
    product_id: str | None = Field(description="The catalog product, when the card is linked to one")
    offers: list[ShowcaseOffer] = Field(description="The primary store first, then the other stores offering "
                                                    "the same product")


class PromotedMark(Schema):
    """Why a status or account is shown: it is paid promotion (``tastemaker_promoted``)."""

    campaign_id: str
    tool: Literal["fan_headline", "passerby", "account_rec"]
    advertiser_id: str = Field(description="the account that pays for the promotion")
    label: str = Field(description="'Promoted' in the request's language")
    why: str = Field(description="'Why am I seeing this?': the targeting that matched")


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
    card: PreviewCard | None = Field(description="Mastodon's preview card; on a showcase post, its product "
                                                 "card (url: the tracked purchase link)")
    tastemaker_card: ShowcaseCard | None = Field(
        None, description="Tastemaker extension: the full product card of a showcase post (every store's "
                          "price and stock, the disclosure label, tracked links); null on other posts")
    language: str | None
    favourited: bool | None = None
    reblogged: bool | None = None
    muted: bool | None = None
    bookmarked: bool | None = None
    pinned: bool | None = None
    filtered: list[dict[str, Any]] = []
    tastemaker_promoted: PromotedMark | None = Field(
        None, description="Tastemaker extension, set only on a promoted item of the home timeline, null otherwise (paid "
                          "promotion; its content also starts with the paragraph '推广 · Promoted' that stock "
                          "clients display)")


Status.model_rebuild()


class Conversation(Schema):
    id: str
    unread: bool
    accounts: list[Account] = Field(description="The other participants")
    last_status: Status | None
    tastemaker_folder: Literal["inbox", "requests", "declined"] = Field(
        "inbox", description="Tastemaker extension: inbox, or a message request from an account you do not follow")


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


# the body of PATCH /api/v1/accounts/update_credentials (a form or JSON, parsed by hand for PATCH)
UPDATE_CREDENTIALS_BODY = {
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
                "tastemaker_messages_from": {"type": "string", "enum": ["everyone", "following", "nobody"]},
            }}},
            "application/json": {"schema": {"type": "object", "properties": {
                "display_name": {"type": "string", "maxLength": 60},
                "note": {"type": "string", "maxLength": 500},
                "locked": {"type": "boolean"}, "bot": {"type": "boolean"},
                "interests": {"type": "array", "items": {"type": "string"}},
                "source": {"type": "object", "properties": {"language": {"type": "string"}}},
                "tastemaker_messages_from": {"type": "string", "enum": ["everyone", "following", "nobody"],
                                             "description": "Who may send you direct messages (Tastemaker)"},
            }}},
        }
    }
}
