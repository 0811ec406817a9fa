"""One status rendered for many viewers (the streaming API's ``update`` to every follower) is, for each viewer,
exactly what ``render.statuses_json`` renders for that viewer alone (the REST rendering)."""

from __future__ import annotations

import pytest

from tastemaker.api import render
from tastemaker.api.streaming import _ViewerRequest
from tastemaker.social import services

pytestmark = pytest.mark.django_db


def test_status_for_viewers_matches_each_viewers_own_rendering(make_user):
    author = make_user("author")
    liker, keeper, sharer, plain = (make_user(n) for n in ("liker", "keeper", "sharer", "plain"))
    post = services.do_create_post(author, text="a #tea post for @liker")
    services.do_favourite(liker, post)
    services.do_bookmark(keeper, post)
    repost = services.do_reblog(sharer, post)
    viewers = [plain, liker, keeper, sharer, None]
    for ref in ((post.pk, None), (repost.pk, post.pk)):
        render.clear_caches()
        together = render.status_for_viewers(_ViewerRequest, ref, viewers)
        for viewer in viewers:
            render.clear_caches()
            alone = render.statuses_json(_ViewerRequest(viewer), [ref], viewer)[1:-1].decode()
            assert together[viewer.pk if viewer else None] == alone, viewer
    assert '"favourited":true' in together[liker.pk] and '"bookmarked":true' in together[keeper.pk]
    assert '"reblogged":true' in together[sharer.pk] and '"favourited":null' in together[None]
