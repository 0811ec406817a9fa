"""Who gets an event (api.streaming.route), without a server: deletes of a direct message reach its participants
only; a delete of a followers-only post reaches its author's followers, never the public streams."""

from __future__ import annotations

import pytest

from tastemaker.api.streaming import Client, Sub, route
from tastemaker.social import services

pytestmark = pytest.mark.django_db


def _who(deliveries):
    return sorted((c.user.username if c.user else "", s.stream, name) for c, s, name, _payload in deliveries)


def test_deletes_reach_only_who_could_have_had_the_post(make_user):
    sender, bob, carol = make_user("sender"), make_user("bob"), make_user("carol")
    services.do_follow(carol, sender)
    clients = [Client(u, {Sub("direct"), Sub("user")}) for u in (sender, bob, carol)] + [Client(None, {Sub("public")})]
    direct = {"k": "delete", "id": 7, "a": sender.pk, "v": "direct", "rb": None, "tags": [], "to": [bob.pk]}
    assert _who(route(direct, clients)) == [("bob", "direct", "delete"), ("bob", "user", "delete"),
                                            ("sender", "direct", "delete"), ("sender", "user", "delete")]
    private = {"k": "delete", "id": 8, "a": sender.pk, "v": "private", "rb": None, "tags": []}
    assert _who(route(private, clients)) == [("carol", "user", "delete"), ("sender", "user", "delete")]
    public = {**private, "v": "public"}
    assert ("", "public", "delete") in _who(route(public, clients))
