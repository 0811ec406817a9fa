"""Template helpers for the Showcase: a post's product card (batch-loaded for the whole page, so a page
of posts costs the same two queries whatever its size), money and rates for display."""

from __future__ import annotations

from django import template
from django.template.loader import get_template

from tastemaker.core.money import format_amount
from tastemaker.showcase.selectors import CardView, cards_for_posts

register = template.Library()

# context variables that hold the posts a page shows (timelines, threads, search, bookmarks)
_POST_KEYS = ("posts", "ancestors", "descendants", "post")


def _page_post_ids(context) -> set[int]:
    ids: set[int] = set()
    for key in _POST_KEYS:
        value = context.get(key)
        items = value if isinstance(value, list | tuple) else [value] if value is not None else []
        for item in items:
            pk = getattr(item, "pk", None)
            if pk is None:
                continue
            ids.add(pk)
            original = getattr(item, "reblog_of_id", None)
            if original:
                ids.add(original)
    return ids


def card_for(context, post_id: int) -> CardView | None:
    """The card of ``post_id``. The first call of a request loads the cards of every post on the page in
    one batch (showcase.selectors.cards_for_posts); later calls are dictionary look-ups."""
    request = context.get("request")
    cache: dict[int, CardView | None] | None = getattr(request, "_showcase_cards", None) if request else None
    if cache is None:
        cache = {}
        if request is not None:
            request._showcase_cards = cache
    if post_id not in cache:
        wanted = (_page_post_ids(context) | {post_id}) - cache.keys()
        found = cards_for_posts(wanted)
        for pk in wanted:
            cache[pk] = found.get(pk)
    return cache[post_id]


@register.simple_tag(takes_context=True)
def post_card(context, post) -> str:
    """The product card of a post (nothing for a post without one)."""
    card = card_for(context, post.pk)
    if card is None:
        return ""
    same_text = (getattr(post, "text", "") or "").strip() == card.reason.strip()
    # no request: the card needs no context processor (they would cost a query per card)
    user = context.get("user")
    viewer_id = user.pk if user is not None and user.is_authenticated else None
    return get_template("web/showcase/_card.html").render({"card": card, "post_id": post.pk, "hide_reason": same_text,
                                                           "viewer_id": viewer_id, "flag": True})


@register.filter
def money(amount, currency: str = "") -> str:
    """Minor units as people read them: 12900, "CNY" -> "¥129.00"."""
    if amount is None or amount == "":
        return ""
    return format_amount(int(amount), currency or "CNY")


@register.filter
def rate_percent(basis_points) -> str:
    """Basis points as a percentage: 1000 -> "10%", 750 -> "7.5%"."""
    if basis_points is None or basis_points == "":
        return ""
    value = int(basis_points)
    whole, rest = divmod(value, 100)
    return f"{whole}%" if not rest else f"{whole}.{rest:02d}".rstrip("0") + "%"


@register.filter
def ratio_percent(value) -> str:
    """A ratio (0.125) as a percentage with one decimal ("12.5%"); "—" when there is none."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}%"
