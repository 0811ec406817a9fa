"""Model -> Mastodon JSON entity. Pure functions over hydrated objects: no queries here
(``social.selectors.hydrate`` loads everything first), so list endpoints stay at a fixed query count."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.urls import reverse

from tastemaker.core.money import format_amount
from tastemaker.social.formatting import render_html
from tastemaker.social.models import Post
from tastemaker.social.selectors import Relationship, ViewerState, follow_requests_count


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


class Ctx:
    """What serialization needs to know about the request: absolute base URL and the viewer's state."""

    def __init__(self, request, state: ViewerState | None = None):
        self.base = request.build_absolute_uri("/").rstrip("/") if request is not None else settings.SITE_URL
        self.state = state or ViewerState()
        self.viewer = getattr(request, "user", None)
        self.cards: dict = {}  # post id -> showcase.selectors.CardView (load_cards)

    def media_url(self, path: str) -> str:
        return f"{self.base}{settings.MEDIA_URL}{path}" if path else ""

    def static(self, path: str) -> str:
        return f"{self.base}{settings.STATIC_URL}{path}"


def account(user, ctx: Ctx) -> dict:
    avatar = ctx.media_url(user.avatar) if user.avatar else ctx.static("api/avatar.png")
    header = ctx.media_url(user.header) if user.header else ctx.static("api/header.png")
    url = f"{ctx.base}/@{user.username}"
    return {
        "id": str(user.pk),
        "username": user.username,
        "acct": user.username,
        "display_name": user.display_name,
        "locked": user.locked,
        "bot": user.bot,
        "discoverable": True,
        "group": False,
        "indexable": True,
        "created_at": iso(user.date_joined),
        "note": render_html(user.bio, ctx.base),
        "url": url,
        "uri": url,
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": user.followers_count,
        "following_count": user.following_count,
        "statuses_count": user.statuses_count,
        "last_status_at": user.last_status_at.date().isoformat() if user.last_status_at else None,
        "emojis": [],
        "fields": [],
        "tastemaker": {"interests": list(user.interests or []), "language": user.language},
    }


def credential_account(user, ctx: Ctx) -> dict:
    data = account(user, ctx)
    data["source"] = {
        "privacy": "public",
        "sensitive": False,
        "language": user.language,
        "note": user.bio,
        "fields": [],
        "follow_requests_count": follow_requests_count(user),
    }
    data["role"] = {"id": "-99", "name": "Operator" if user.is_staff else "", "permissions": "0",
                    "color": "", "highlighted": False}
    data["tastemaker_messages_from"] = user.messages_from
    return data


def media(item, ctx: Ctx) -> dict:
    def size(w: int, h: int) -> dict:
        return {"width": w, "height": h, "size": f"{w}x{h}", "aspect": round(w / h, 4) if h else 1.0}

    pw, ph = item.width, item.height
    scale = min(1.0, 480 / max(pw, ph)) if max(pw, ph) else 1.0
    return {
        "id": str(item.pk),
        "type": "image",
        "url": ctx.media_url(item.file),
        "preview_url": ctx.media_url(item.preview),
        "remote_url": None,
        "meta": {"original": size(pw, ph), "small": size(max(1, round(pw * scale)), max(1, round(ph * scale)))},
        "description": item.description or None,
        "blurhash": None,
    }


def load_cards(ctx: Ctx, posts) -> Ctx:
    """The product cards of the posts shown (a repost shows its original's), for a whole page at once:
    one query, two when any of them carries a card."""
    from tastemaker.showcase.selectors import cards_for_posts

    ids = {p.reblog_of_id or p.pk for p in posts}
    ctx.cards = cards_for_posts(ids) if ids else {}
    return ctx


def go_url(ctx: Ctx, token: str) -> str:
    """The tracked purchase link: /go/<token> records the click-out and redirects to the stored URL."""
    return f"{ctx.base}{reverse('web:go', args=[token])}"


def preview_card(view, ctx: Ctx, *, author_name: str, author_url: str) -> dict | None:
    """Mastodon's ``PreviewCard`` of a product card (``view``: a showcase.selectors.CardView): the tracked
    link of the primary store, the title, the reason as description, the card image and its size.
    None when no store link is live."""
    primary = view.primary
    if primary is None:
        return None
    return {
        "url": go_url(ctx, primary.token),
        "title": view.title,
        "description": view.reason,
        "type": "link",
        "author_name": author_name,
        "author_url": author_url,
        "provider_name": primary.store_name,
        "provider_url": "",
        "html": "",
        "width": view.image_width or 0,
        "height": view.image_height or 0,
        "image": ctx.media_url(view.image) or None,
        "image_description": "",
        "embed_url": "",
        "blurhash": None,
        "language": None,
        "published_at": None,
        "authors": [],
    }


def promoted_mark(pick) -> dict:
    """The ``tastemaker_promoted`` extension of a promoted status or account (a promotion.selectors.Pick)."""
    from django.utils.translation import gettext as _

    return {"campaign_id": str(pick.campaign_id), "tool": pick.tool, "advertiser_id": str(pick.owner_id),
            "label": _("Promoted"), "why": pick.why}


def tastemaker_card(view, ctx: Ctx) -> dict:
    """The ``tastemaker_card`` extension: the full product card (schemas.ShowcaseCard)."""
    return {
        "status_id": str(view.post_id),
        "title": view.title,
        "reason": view.reason,
        "image": ctx.media_url(view.image),
        "image_preview": ctx.media_url(view.image_preview),
        "disclosure": view.disclosure,
        "disclosure_label": view.disclosure_label,
        "vertical": view.vertical or None,
        "product_id": str(view.product_id) if view.product_id is not None else None,
        "offers": [{
            "store_id": str(o.store_id),
            "store_name": o.store_name,
            "url": go_url(ctx, o.token),
            "primary": o.primary,
            "price": o.price,
            "currency": o.currency,
            "price_display": format_amount(o.price, o.currency) if o.price is not None else None,
            "stock": o.stock,
            "stale": o.stale,
            "sold_out": o.sold_out,
            "refreshed_at": iso(o.refreshed_at),
        } for o in view.offers],
    }


def status(post: Post, ctx: Ctx) -> dict:
    state = ctx.state
    if post.reblog_of_id:
        inner = status(post.reblog_of, ctx)
        shell = _status_shell(post, ctx)
        shell.update({
            "reblog": inner,
            "favourited": inner["favourited"],
            "reblogged": inner["reblogged"],
            "bookmarked": inner["bookmarked"],
        })
        return shell
    data = _status_shell(post, ctx)
    mentions = sorted(post.mentions.all(), key=lambda m: m.pk)  # in the order they were made
    known = {m.user.username.lower() for m in mentions}
    data.update({
        "content": render_html(post.text, ctx.base, known),
        "text": post.text,
        "sensitive": post.sensitive,
        "spoiler_text": post.spoiler_text,
        "media_attachments": [media(m, ctx) for m in sorted(post.media.all(), key=lambda m: (m.position, m.pk))],
        "mentions": [
            {"id": str(m.user.pk), "username": m.user.username, "acct": m.user.username,
             "url": f"{ctx.base}/@{m.user.username}"}
            for m in mentions
        ],
        "tags": [{"name": t.hashtag.name, "url": f"{ctx.base}/tags/{t.hashtag.name}"} for t in sorted(post.post_tags.all(), key=lambda t: t.pk)],
        "replies_count": post.replies_count,
        "reblogs_count": post.reblogs_count,
        "favourites_count": post.favourites_count,
        "in_reply_to_id": str(post.in_reply_to_id) if post.in_reply_to_id else None,
        "in_reply_to_account_id": str(post.in_reply_to_account_id) if post.in_reply_to_account_id else None,
        "language": post.language or None,
    })
    if ctx.viewer is not None and ctx.viewer.is_authenticated:
        data.update({
            "favourited": post.pk in state.favourited,
            "reblogged": post.pk in state.reblogged,
            "bookmarked": post.pk in state.bookmarked,
            "muted": False,
            "pinned": False,
        })
    view = ctx.cards.get(post.pk)
    if view is not None:
        author = post.author
        data["card"] = preview_card(view, ctx, author_name=author.display_name or author.username,
                                    author_url=f"{ctx.base}/@{author.username}")
        data["tastemaker_card"] = tastemaker_card(view, ctx)
    return data


def _status_shell(post: Post, ctx: Ctx) -> dict:
    url = f"{ctx.base}/@{post.author.username}/{post.pk}"
    return {
        "id": str(post.pk),
        "uri": url,
        "url": url,
        "created_at": iso(post.created_at),
        "edited_at": None,
        "account": account(post.author, ctx),
        "content": "",
        "text": None,
        "visibility": post.visibility,
        "sensitive": False,
        "spoiler_text": "",
        "media_attachments": [],
        "application": None,
        "mentions": [],
        "tags": [],
        "emojis": [],
        "reblogs_count": 0,
        "favourites_count": 0,
        "replies_count": 0,
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "reblog": None,
        "poll": None,
        "card": None,
        "tastemaker_card": None,
        "language": None,
        "favourited": None,
        "reblogged": None,
        "muted": None,
        "bookmarked": None,
        "pinned": None,
        "filtered": [],
    }


def relationship(rel: Relationship) -> dict:
    return {
        "id": str(rel.id),
        "following": rel.following,
        "showing_reblogs": rel.following,
        "notifying": False,
        "languages": None,
        "followed_by": rel.followed_by,
        "blocking": rel.blocking,
        "blocked_by": rel.blocked_by,
        "muting": rel.muting,
        "muting_notifications": rel.muting,
        "requested": rel.requested,
        "requested_by": rel.requested_by,
        "domain_blocking": False,
        "endorsed": False,
        "note": "",
    }


def tag(hashtag, ctx: Ctx) -> dict:
    return {"name": hashtag.name, "url": f"{ctx.base}/tags/{hashtag.name}", "history": []}


def notification(n, ctx: Ctx, statuses: dict) -> dict:
    """Mastodon's ``Notification`` (``statuses``: the rendered status by post id, when the viewer may see it);
    also the streaming API's ``notification`` payload (api/streaming.py)."""
    data = {"id": str(n.pk), "type": n.type, "created_at": iso(n.created_at), "account": account(n.actor, ctx)}
    if n.post_id and n.post_id in statuses:
        data["status"] = statuses[n.post_id]
    return data
