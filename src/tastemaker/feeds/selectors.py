"""Home timeline read: stored entries (push) merged with big accounts' posts (pull)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import F, Q

from tastemaker.core.pagination import Page, apply_keyset
from tastemaker.social.models import Follow, Post
from tastemaker.social.selectors import hidden_author_ids


def pulled_author_ids(viewer_id: int) -> list[int]:
    """Followed accounts above the fan-out threshold: their posts are merged in at read time."""
    return list(
        Follow.objects.filter(follower_id=viewer_id, target__followers_count__gt=settings.FANOUT_THRESHOLD)
        .values_list("target_id", flat=True)
    )


def home_timeline(viewer, page: Page) -> list[Post]:
    hidden = hidden_author_ids(viewer)
    pushed = Post.objects.filter(timeline_entries__viewer_id=viewer.pk, author__is_suspended=False)
    if hidden:
        pushed = pushed.exclude(author_id__in=hidden).exclude(reblog_of__author_id__in=hidden)
    posts = apply_keyset(pushed.select_related("author"), page)
    big = [a for a in pulled_author_ids(viewer.pk) if a not in hidden]
    if big:
        # replies from pulled accounts only when the viewer follows the account replied to (as for push).
        # The filters are in the query, before the LIMIT: filtering after it would drop valid older
        # posts from the page while the cursor moves past them, so they would never be shown.
        pulled_qs = Post.objects.filter(author_id__in=big, author__is_suspended=False).filter(
            Q(in_reply_to_account_id__isnull=True)
            | Q(in_reply_to_account_id=F("author_id"))
            | Q(in_reply_to_account_id=viewer.pk)
            | Q(in_reply_to_account_id__in=Follow.objects.filter(follower_id=viewer.pk).values("target_id"))
        )
        if hidden:
            pulled_qs = pulled_qs.exclude(reblog_of__author_id__in=hidden)
        pulled = apply_keyset(pulled_qs.select_related("author", "reblog_of"), page)
        merged = {p.pk: p for p in posts}
        for p in pulled:
            merged.setdefault(p.pk, p)
        ordered = sorted(merged.values(), key=lambda p: p.pk, reverse=True)
        if page.min_id is not None:
            # min_id pages are the oldest ``limit`` above min_id
            ordered = sorted(ordered, key=lambda p: p.pk)[: page.limit]
            ordered.reverse()
            return ordered
        return ordered[: page.limit]
    return posts
