"""Evidence: what a reported thing looked like when it was reported, kept in the case even if the content
is edited or deleted later."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from tastemaker.accounts.models import User
from tastemaker.social.models import Post

from .models import TargetKind


def _post(post: Post) -> dict[str, Any]:
    return {
        "post_id": post.pk, "text": post.text, "spoiler_text": post.spoiler_text, "visibility": post.visibility,
        "sensitive": post.sensitive, "created_at": post.created_at.isoformat(),
        "in_reply_to_id": post.in_reply_to_id, "held": post.held,
        "media": [{"file": m.file, "description": m.description} for m in post.media.all()],
    }


def snapshot(kind: str, target_id: int, account: User, post_ids: list[int] | None = None) -> dict[str, Any]:
    """A JSON snapshot of the thing (and of its account's profile, and of the posts an account report
    names), with when it was taken."""
    shot: dict[str, Any] = {
        "taken_at": timezone.now().isoformat(), "kind": kind,
        "account": {"id": account.pk, "username": account.username, "display_name": account.display_name,
                    "bio": account.bio, "avatar": account.avatar, "credit_score": account.credit_score,
                    "statuses_count": account.statuses_count, "followers_count": account.followers_count,
                    "joined": account.date_joined.isoformat()},
    }
    if kind == TargetKind.ACCOUNT:
        if post_ids:
            shot["posts"] = [_post(p) for p in Post.objects.filter(pk__in=post_ids).order_by("id")]
        return shot
    post = Post.objects.filter(pk=target_id).first()
    if post is not None:
        shot["post"] = _post(post)
    if kind == TargetKind.CARD:
        from tastemaker.showcase.models import ProductCard

        card = ProductCard.objects.filter(post_id=target_id).select_related("product").first()
        if card is not None:
            shot["card"] = {"title": card.title, "reason": card.reason, "disclosure": card.disclosure,
                            "price": card.price, "currency": card.currency, "image": card.image,
                            "product": card.product.title if card.product else ""}
    return shot
