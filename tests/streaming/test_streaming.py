"""Mastodon's streaming API (issue 14, "Real time for apps") against a real uvicorn streaming server: the events
a viewer may have, within a second, each payload what the REST API answers that viewer; nothing else."""

from __future__ import annotations

import time

import pytest
import requests
from mastodon import Mastodon, StreamListener

from sqlite_locks import retry_locked
from tastemaker.social import services

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "Corr3ct-Horse-Battery"


def _rest(live_server, token, path):
    answer = requests.get(live_server.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _json(data):
    import json

    return json.loads(data)


# --- the answers without a stream --------------------------------------------------------------------------

def test_health_and_refusals(stream_server, make_user, token_for, open_stream):
    assert requests.get(stream_server + "/api/v1/streaming/health", timeout=5).text == "OK"
    alice = make_user("alice")
    bad = open_stream("/api/v1/streaming/user", "not-a-token")
    assert bad.status == 401 and "error" in bad.json()
    bad_public = open_stream("/api/v1/streaming/public", "not-a-token")
    assert bad_public.status == 401 and "error" in bad_public.json()
    anonymous = open_stream("/api/v1/streaming/user")
    assert anonymous.status == 401 and "error" in anonymous.json()
    for path, params in (("/api/v1/streaming", {"stream": "nonsense"}), ("/api/v1/streaming/list", {}),
                         ("/api/v1/streaming", {}), ("/api/v1/streaming/hashtag", {})):
        unknown = open_stream(path, token_for(alice), **params)
        assert unknown.status == 400, (path, params, unknown.response.text)
        assert unknown.json()["error"]
    no_scope = open_stream("/api/v1/streaming/user/notification", token_for(alice, scope="write"))
    assert no_scope.status == 403 and no_scope.json()["error"]
    by_query = open_stream("/api/v1/streaming", None, stream="user", access_token=token_for(alice))
    assert by_query.status == 200
    assert by_query.response.headers["Content-Type"].startswith("text/event-stream")


def test_instance_advertises_the_streaming_server(stream_server, live_server):
    v1 = requests.get(live_server.url + "/api/v1/instance", timeout=60).json()
    v2 = requests.get(live_server.url + "/api/v2/instance", timeout=60).json()
    expected = stream_server.replace("http://", "ws://")
    assert v1["urls"]["streaming_api"] == expected
    assert v2["configuration"]["urls"]["streaming"] == expected


# --- Mastodon.py -----------------------------------------------------------------------------------------------

class Listener(StreamListener):
    def __init__(self):
        super().__init__()
        self.updates, self.notifications, self.conversations = [], [], []

    def on_update(self, status):
        self.updates.append((status, time.monotonic()))

    def on_notification(self, notification):
        self.notifications.append((notification, time.monotonic()))

    def on_conversation(self, conversation):
        self.conversations.append((conversation, time.monotonic()))


def _wait(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_mastodon_py_stream_user_gets_a_home_post_and_a_notification_within_a_second(stream_server, live_server):
    from tastemaker.api import streaming

    base = live_server.url
    client_id, client_secret = Mastodon.create_app("stream-tests", scopes=["read", "write", "follow"],
                                                   api_base_url=base, redirect_uris="urn:ietf:wg:oauth:2.0:oob")
    anon = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)
    author_token = anon.create_account("author", PASSWORD, "author@example.org", agreement=True,
                                       scopes=["read", "write", "follow"])
    fan_token = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base).create_account(
        "fan", PASSWORD, "fan@example.org", agreement=True, scopes=["read", "write", "follow"])
    author = Mastodon(api_base_url=base, access_token=author_token)
    fan = Mastodon(api_base_url=base, access_token=fan_token)
    fan.account_follow(author.me().id)

    listener = Listener()
    handle = fan.stream_user(listener, run_async=True)
    try:
        assert _wait(lambda: streaming.open_streams() == 1), "Mastodon.py did not open the stream"
        sent = time.monotonic()
        post = author.status_post("Fresh from the roaster #coffee")
        assert _wait(lambda: listener.updates, 1.0), "no update within 1 s"
        status, arrived = listener.updates[0]
        assert arrived - sent < 1.0
        assert status.id == post.id
        assert status.account.username == "author" and "roaster" in status.content

        sent = time.monotonic()
        author.status_post(f"@fan you will like this one {time.time()}")  # a mention: a notification
        assert _wait(lambda: listener.notifications, 1.0), "no notification within 1 s"
        notification, arrived = listener.notifications[0]
        assert arrived - sent < 1.0
        assert notification.type == "mention" and notification.account.username == "author"
        assert notification.status.content and "like this one" in notification.status.content

        # a direct message: on the user stream as its notification (never as a home update), and on the
        # direct stream as the conversation (Mastodon.py's stream_direct, on_conversation)
        author.account_follow(fan.me().id)  # not a stranger: the message lands in the fan's inbox
        direct = Listener()
        direct_handle = fan.stream_direct(direct, run_async=True)
        try:
            assert _wait(lambda: streaming.open_streams() == 2), "Mastodon.py did not open the direct stream"
            sent = time.monotonic()
            dm = author.status_post("@fan between us", visibility="direct")
            def the_message():
                return [(n, at) for n, at in listener.notifications if n.status and n.status.id == dm.id]

            assert _wait(the_message, 1.0), "no direct message within 1 s"
            notification, arrived = the_message()[0]
            assert arrived - sent < 1.0
            assert notification.status.id == dm.id and notification.status.visibility == "direct"
            assert _wait(lambda: direct.conversations, 1.0), "no conversation within 1 s"
            conversation, arrived = direct.conversations[0]
            assert arrived - sent < 1.0 and conversation.last_status.id == dm.id
            assert all(s.id != dm.id for s, _at in listener.updates)  # never a home update
        finally:
            direct_handle.close()
    finally:
        handle.close()


# --- SSE streams, one by one -----------------------------------------------------------------------------------

def test_home_update_matches_rest_and_delete_follows(stream_server, live_server, make_user, token_for, open_stream):
    author, fan, stranger = make_user("author"), make_user("fan"), make_user("stranger")
    services.do_follow(fan, author)
    fan_token = token_for(fan)
    home = open_stream("/api/v1/streaming/user", fan_token)
    other = open_stream("/api/v1/streaming/user", token_for(stranger))
    own = open_stream("/api/v1/streaming/user", token_for(author))
    post = retry_locked(services.do_create_post, author, text="for my followers", visibility="private")
    name, data, _at = home.next()
    assert name == "update"
    assert _json(data) == _rest(live_server, fan_token, f"/api/v1/statuses/{post.pk}")
    assert own.next()[0] == "update"  # the author's own post reaches the author's home
    post_id = post.pk
    services.do_delete_post(author, post)
    assert home.next()[:2] == ("delete", str(post_id))
    assert other.next(0.5) is None  # a stranger follows nobody: nothing at all


def test_public_local_and_hashtag_streams(stream_server, make_user, token_for, open_stream):
    author = make_user("author")
    public = open_stream("/api/v1/streaming/public")  # anonymous
    local = open_stream("/api/v1/streaming", None, stream="public:local")
    tea = open_stream("/api/v1/streaming/hashtag", None, tag="Tea")
    tea_local = open_stream("/api/v1/streaming", None, stream="hashtag:local", tag="tea")
    media = open_stream("/api/v1/streaming/public", None, only_media="true")
    retry_locked(services.do_create_post, author, text="unlisted #tea", visibility="unlisted")  # on no public stream
    retry_locked(services.do_create_post, author, text="followers #tea", visibility="private")  # nor this
    plain = retry_locked(services.do_create_post, author, text="hello world")
    tagged = retry_locked(services.do_create_post, author, text="green #tea today")
    assert _json(public.next()[1])["id"] == str(plain.pk)
    assert _json(public.next()[1])["id"] == str(tagged.pk)
    assert _json(local.next()[1])["id"] == str(plain.pk)
    name, data, _at = tea.next()
    assert name == "update" and _json(data)["id"] == str(tagged.pk)
    assert _json(tea_local.next()[1])["id"] == str(tagged.pk)
    assert tea.next(0.3) is None
    assert media.next(0.3) is None  # no images: not on the media stream


def test_blocked_muted_and_outsiders_never_receive(stream_server, make_user, token_for, open_stream):
    author, blocked, muter, outsider, follower = (make_user(n) for n in (
        "author", "blocked", "muter", "outsider", "follower"))
    services.do_follow(muter, author)
    services.do_follow(follower, author)
    services.do_follow(blocked, author)
    services.do_block(author, blocked)  # the author blocks: the follow goes, and every post is hidden
    services.do_mute(muter, author)
    sentinel_author = make_user("sentinel")
    for viewer in (blocked, muter, outsider, follower):
        services.do_follow(viewer, sentinel_author)
    streams = {}
    for viewer in (blocked, muter, outsider, follower):
        token = token_for(viewer)
        streams[viewer.username] = (open_stream("/api/v1/streaming/user", token),
                                    open_stream("/api/v1/streaming/public", token),
                                    open_stream("/api/v1/streaming/hashtag", token, tag="secret"))
    retry_locked(services.do_create_post, author, text="public #secret for everyone but the blocked and the muter")
    followers_only = retry_locked(services.do_create_post, author, text="followers only #secret", visibility="private")
    retry_locked(services.do_create_post, sentinel_author, text="the sentinel #secret")  # everyone gets this one
    for name, (home, public, tag) in streams.items():
        firsts = [_json(s.next()[1])["content"] for s in (home, public, tag)]
        if name in ("blocked", "muter"):
            assert all("sentinel" in c for c in firsts), (name, firsts)
        elif name == "outsider":  # follows only the sentinel: the public post on public streams only
            assert "sentinel" in firsts[0]
            assert "everyone" in firsts[1] and "everyone" in firsts[2]
        else:
            assert "everyone" in firsts[0] and "everyone" in firsts[1]
            second = _json(home.next()[1])
            assert second["id"] == str(followers_only.pk)  # the follower's home has the followers-only post
    for name, (_home, public, tag) in streams.items():
        rest = [_json(s.next()[1])["content"] for s in (public, tag) if name in ("outsider", "follower")]
        assert all("sentinel" in c for c in rest), (name, rest)  # never the followers-only post on public streams


def test_user_notification_stream_has_notifications_only(stream_server, live_server, make_user, token_for,
                                                          open_stream):
    author, fan = make_user("author"), make_user("fan")
    services.do_follow(fan, author)
    fan_token = token_for(fan)
    notes = open_stream("/api/v1/streaming/user/notification", fan_token)
    retry_locked(services.do_create_post, author, text="no mention here")
    services.do_follow(author, fan)
    name, data, _at = notes.next()
    assert name == "notification" and _json(data)["type"] == "follow"
    assert _json(data) == _rest(live_server, fan_token, f"/api/v1/notifications/{_json(data)['id']}")
    retry_locked(services.do_create_post, author, text="@fan with a status")
    name, data, _at = notes.next()
    assert name == "notification" and _json(data)["type"] == "mention"
    assert _json(data) == _rest(live_server, fan_token, f"/api/v1/notifications/{_json(data)['id']}")
    assert notes.next(0.3) is None


def test_direct_stream_delivers_a_direct_message(stream_server, make_user, token_for, open_stream, live_server):
    """A direct message (visibility direct, through the hook point social.direct_message) reaches its
    recipient's direct stream as the conversation /api/v1/conversations lists, and nobody else's; it never
    reaches anyone's home stream."""
    sender, bob, carol = make_user("sender"), make_user("bob"), make_user("carol")
    services.do_follow(bob, sender)  # a follower: still not on his home stream
    services.do_follow(sender, bob)  # bob follows... the sender follows bob: not a message request
    bob_token = token_for(bob)
    bob_direct = open_stream("/api/v1/streaming/direct", bob_token)
    bob_home = open_stream("/api/v1/streaming/user", bob_token)
    carol_direct = open_stream("/api/v1/streaming/direct", token_for(carol))
    message = retry_locked(services.do_create_post, sender, text="@bob a word in private", visibility="direct")
    name, data, _at = bob_direct.next()
    assert name == "conversation"
    conversation = _json(data)
    assert conversation["last_status"]["id"] == str(message.pk)
    assert conversation["last_status"]["visibility"] == "direct"
    assert [a["username"] for a in conversation["accounts"]] == ["sender"]
    listed = _rest(live_server, bob_token, "/api/v1/conversations")
    assert conversation["id"] == listed[0]["id"]
    assert carol_direct.next(0.3) is None
    for _ in range(3):  # the home stream may carry the mention notification, never the message as an update
        got = bob_home.next(0.3)
        if got is None:
            break
        assert got[0] != "update"


# --- WebSocket ---------------------------------------------------------------------------------------------------

def test_websocket_subscribe_unsubscribe_and_refusals(stream_server, make_user, token_for):
    import json

    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    ws_base = stream_server.replace("http://", "ws://") + "/api/v1/streaming"
    author, fan = make_user("author"), make_user("fan")
    services.do_follow(fan, author)
    with pytest.raises(InvalidStatus):
        connect(ws_base + "?access_token=not-a-token", open_timeout=10)
    with connect(f"{ws_base}?access_token={token_for(fan)}&stream=user", open_timeout=10) as ws:
        ws.send(json.dumps({"type": "subscribe", "stream": "hashtag", "tag": "tea"}))
        ws.send(json.dumps({"type": "subscribe", "stream": "nonsense"}))
        refused = json.loads(ws.recv(timeout=5))
        assert refused["status"] == 400 and refused["error"]
        post = retry_locked(services.do_create_post, author, text="green #tea")
        got = [json.loads(ws.recv(timeout=5)) for _ in range(2)]
        assert sorted(tuple(m["stream"]) for m in got) == [("hashtag", "tea"), ("user",)]
        assert all(m["event"] == "update" and json.loads(m["payload"])["id"] == str(post.pk) for m in got)
        ws.send(json.dumps({"type": "unsubscribe", "stream": "hashtag", "tag": "tea"}))
        time.sleep(0.3)
        second = retry_locked(services.do_create_post, author, text="more #tea")
        message = json.loads(ws.recv(timeout=5))
        assert message["stream"] == ["user"] and json.loads(message["payload"])["id"] == str(second.pk)
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.5)


def test_an_unreachable_event_source_is_a_503_not_a_hang(stream_server, settings, monkeypatch, open_stream):
    from tastemaker.api import streaming

    settings.STREAM_BACKEND = "redis"
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    monkeypatch.setattr(streaming, "READY_WAIT", 1.0)
    refused = open_stream("/api/v1/streaming/public")
    assert refused.status == 503 and refused.json()["error"]
