"""A real client library, Mastodon.py, drives the running server over HTTP."""

from __future__ import annotations

import io
import os

import pytest
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError
from PIL import Image

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.client, pytest.mark.django_db(transaction=True)]

PASSWORD = "Corr3ct-Horse-Battery"


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (80, 60), (10, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


def _app(base: str) -> tuple[str, str]:
    return Mastodon.create_app("tastemaker-tests", scopes=["read", "write", "follow"], api_base_url=base,
                               redirect_uris="urn:ietf:wg:oauth:2.0:oob")


def test_mastodon_py_end_to_end(live_server, tmp_path):
    base = live_server.url
    client_id, client_secret = _app(base)
    anon = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)

    # register two accounts through the API (client-credentials token, then the new user's token)
    author_token = anon.create_account("author", PASSWORD, "author@example.org", agreement=True,
                                       scopes=["read", "write", "follow"])
    assert author_token
    fan_app = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)
    fan_app.create_account("fan", PASSWORD, "fan@example.org", agreement=True, scopes=["read", "write", "follow"])

    # log in by password as the fan (a fresh client, the usual way)
    fan = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)
    fan.log_in("fan@example.org", PASSWORD, scopes=["read", "write", "follow"], allow_http=True)
    me = fan.account_verify_credentials()
    assert me.username == "fan"

    author = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base,
                      access_token=author_token)
    author_account = author.account_verify_credentials()

    # follow, post with media, read the home timeline page by page
    rel = fan.account_follow(author_account.id)
    assert rel.following is True
    image = tmp_path / "pic.png"
    image.write_bytes(_png())
    media = author.media_post(str(image), mime_type="image/png", description="a blue square")
    assert media.type == "image" and media.url
    first = author.status_post("Look at this #showcase", media_ids=[media.id])
    assert len(first.media_attachments) == 1
    for i in range(24):
        author.status_post(f"post number {i}")

    page = fan.timeline_home(limit=10)
    seen = [s.id for s in page]
    assert len(page) == 10
    while True:
        page = fan.fetch_next(page)
        if not page:
            break
        seen.extend(s.id for s in page)
    assert len(seen) == 25 and len(set(seen)) == 25
    assert seen[-1] == first.id  # oldest last
    assert seen == sorted(seen, key=int, reverse=True)

    # favourite and reblog, then the author reads notifications
    fan.status_favourite(first.id)
    reblog = fan.status_reblog(first.id)
    assert reblog.reblog.id == first.id
    assert fan.status(first.id).favourited is True
    kinds = [n.type for n in author.notifications()]
    assert kinds.count("favourite") == 1 and kinds.count("reblog") == 1 and kinds.count("follow") == 1

    # search and errors come through the library's own error types
    results = fan.search_v2("showcase", result_type="statuses")
    assert [s.id for s in results.statuses] == [first.id]
    with pytest.raises(MastodonNotFoundError):
        fan.status("12345")
    with pytest.raises(MastodonAPIError):
        author.status_post("x" * 2001)


def test_mastodon_py_follow_requests_to_a_locked_account(live_server):
    base = live_server.url
    client_id, client_secret = _app(base)
    scopes = ["read", "write", "follow"]

    def account(name: str) -> Mastodon:
        app = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)
        token = app.create_account(name, PASSWORD, f"{name}@example.org", agreement=True, scopes=scopes)
        return Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base, access_token=token)

    boss, fan = account("boss"), account("fan")
    me = boss.account_update_credentials(locked=True)
    assert me.locked is True
    secret = boss.status_post("for approved followers", visibility="private")
    rel = fan.account_follow(me.id)
    assert rel.following is False and rel.requested is True
    with pytest.raises(MastodonNotFoundError):
        fan.status(secret.id)
    waiting = boss.follow_requests()
    assert [a.username for a in waiting] == ["fan"]
    assert [n.type for n in boss.notifications()] == ["follow_request"]
    rel = boss.follow_request_authorize(waiting[0].id)
    assert rel.followed_by is True and rel.requested_by is False
    assert fan.status(secret.id).content == "<p>for approved followers</p>"
    assert fan.account_relationships(me.id)[0].following is True
    assert boss.follow_requests() == []
