"""Mastodon.py sends a direct message, the recipient lists its conversations and reads it (issue 14), over HTTP
against the running server: the stock client library's calls, the Mastodon shapes, the Link-header paging."""

from __future__ import annotations

import os

import pytest
import requests
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.client, pytest.mark.django_db(transaction=True)]

PASSWORD = "Corr3ct-Horse-Battery"
SCOPES = ["read", "write", "follow"]


def _client(base: str, client_id: str, client_secret: str, name: str) -> Mastodon:
    anon = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)
    token = anon.create_account(name, PASSWORD, f"{name}@example.org", agreement=True, scopes=SCOPES)
    return Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base, access_token=token)


def test_mastodon_py_direct_messages(live_server):
    base = live_server.url
    client_id, client_secret = Mastodon.create_app("tastemaker-dm-tests", scopes=SCOPES, api_base_url=base,
                                                   redirect_uris="urn:ietf:wg:oauth:2.0:oob")
    shop, fan, other = (_client(base, client_id, client_secret, n) for n in ("shop", "fan", "other"))
    fan.account_follow(shop.account_verify_credentials().id)  # the fan follows the shop: its messages are inbox

    sent = shop.status_post("@fan your order shipped: tracking SF123456", visibility="direct")
    assert sent.visibility == "direct" and [m.acct for m in sent.mentions] == ["fan"]

    conversations = fan.conversations()
    assert len(conversations) == 1
    conversation = conversations[0]
    assert conversation.unread is True
    assert [a.acct for a in conversation.accounts] == ["shop"]
    assert conversation.last_status.id == sent.id and "SF123456" in conversation.last_status.content
    # read it: the status itself, and mark the conversation read
    assert fan.status(sent.id).content == conversation.last_status.content
    marked = fan.conversations_read(conversation.id)
    assert marked.unread is False and fan.conversations()[0].unread is False

    # a reply continues the conversation (mentions decide the recipients; the parent's author is one)
    reply = fan.status_post("@shop thanks!", visibility="direct", in_reply_to_id=sent.id)
    shop_side = shop.conversations()
    assert [c.id for c in shop_side] == [conversation.id] and shop_side[0].last_status.id == reply.id
    assert shop_side[0].unread is True

    # nobody else sees it: not the third account, not the public or home timelines, not by id
    assert other.conversations() == []
    with pytest.raises(MastodonNotFoundError):
        other.status(sent.id)
    assert sent.id not in {s.id for s in other.timeline_public()}
    assert sent.id not in {s.id for s in fan.timeline_home()}

    # paging with the Link header: several conversations, newest message first
    for i in range(4):
        shop.status_post(f"@fan note {i}", visibility="direct")
    page = fan.conversations(limit=2)
    ids = [c.id for c in page]
    while True:
        page = fan.fetch_next(page)
        if not page:
            break
        ids.extend(c.id for c in page)
    assert len(ids) == 5 and len(set(ids)) == 5

    # removing it from the list (Mastodon.py has no call for DELETE /api/v1/conversations/:id)
    removed = requests.delete(f"{base}/api/v1/conversations/{conversation.id}",
                              headers={"Authorization": f"Bearer {fan.access_token}"}, timeout=10)
    assert removed.status_code == 200 and removed.json() == {}
    assert conversation.id not in {c.id for c in fan.conversations()}
    # a stranger's conversation is not found
    with pytest.raises(MastodonNotFoundError):
        other.conversations_read(conversation.id)
    # a direct message with no recipient is a clear 422
    with pytest.raises(MastodonAPIError) as err:
        other.status_post("to nobody", visibility="direct")
    assert "recipient" in str(err.value)
