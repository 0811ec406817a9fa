"""Direct messages (issue 14): who may message whom, conversations and each participant's view, the hook,
and "a direct message never leaks" over every list the site has (timelines, profile, search, tags, threads,
home-feed rows, counters, discovery, storefronts, analytics reports and exports, promotion)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import TestCase, override_settings
from django.utils import translation

from tastemaker.core.errors import Forbidden, RateLimited, ValidationFailed
from tastemaker.core.pagination import page_from
from tastemaker.social import hooks, selectors
from tastemaker.social import services as social
from tastemaker.social.models import ConversationMember, Folder, Notification, NotificationType, Post

pytestmark = pytest.mark.django_db
SECRET = "Quetzalcoatl discount code"


@pytest.fixture(autouse=True)
def _english():
    """The messages are checked in English (a page another test rendered in Chinese leaves its language)."""
    with translation.override("en"):
        yield


def dm(author, text, **kw):
    return social.do_create_post(author, text=text, visibility="direct", **kw)


def view(user, post):
    return ConversationMember.objects.get(user=user, conversation_id=post.conversation_id)


@pytest.fixture
def pair(make_user):
    """Alice and Bob follow each other."""
    alice, bob = make_user("alice"), make_user("bob")
    social.do_follow(alice, bob)
    social.do_follow(bob, alice)
    return alice, bob


# --- conversations -------------------------------------------------------------------------------

def test_a_message_starts_a_conversation_and_a_reply_continues_it(pair):
    alice, bob = pair
    first = dm(alice, "@bob hi there")
    assert first.conversation_id is not None
    assert view(alice, first).folder == Folder.INBOX and not view(alice, first).unread
    assert view(bob, first).folder == Folder.INBOX and view(bob, first).unread
    assert Notification.objects.filter(recipient=bob, type=NotificationType.MENTION, post=first).exists()
    reply = dm(bob, "hello back", in_reply_to_id=first.pk)  # the parent's author is a recipient
    assert reply.conversation_id == first.conversation_id
    assert view(alice, first).last_status_id == reply.pk and view(alice, first).unread
    assert not view(bob, first).unread  # one's own message leaves one's view read
    listed, _first, _last = selectors.conversations(alice, page_from({}))
    assert [(v.id, [a.username for a in v.accounts], v.last_status.pk) for v in listed] == [
        (first.conversation_id, ["bob"], reply.pk)]
    assert [p.pk for p in selectors.conversation_messages(bob, first.conversation_id, page_from({}))] == [
        reply.pk, first.pk]


def test_a_new_thread_is_a_new_conversation(pair):
    alice, bob = pair
    assert dm(alice, "@bob one").conversation_id != dm(alice, "@bob two").conversation_id


def test_read_remove_and_a_new_message_brings_it_back(pair):
    alice, bob = pair
    first = dm(alice, "@bob hi")
    social.do_mark_conversation_read(bob, first.conversation_id)
    assert selectors.unread_conversations_count(bob) == 0
    social.do_remove_conversation(bob, first.conversation_id)
    assert selectors.conversations(bob, page_from({}))[0] == []
    dm(alice, "@bob again", in_reply_to_id=first.pk)
    assert [v.id for v in selectors.conversations(bob, page_from({}))[0]] == [first.conversation_id]
    assert selectors.unread_conversations_count(bob) == 1


def test_a_stranger_cannot_touch_someone_elses_conversation(pair, make_user):
    alice, bob = pair
    carol = make_user("carol")
    first = dm(alice, "@bob hi")
    for action in (social.do_mark_conversation_read, social.do_remove_conversation,
                   social.do_accept_conversation, social.do_decline_conversation):
        with pytest.raises(Exception) as err:
            action(carol, first.conversation_id)
        assert err.value.status == 404
    assert selectors.conversation(carol, first.conversation_id) is None
    assert selectors.conversation_messages(carol, first.conversation_id, page_from({})) == []


def test_the_hook_is_called_inside_the_transaction_with_the_recipients(pair, make_user, monkeypatch):
    alice, bob = pair
    make_user("carol")
    calls = []

    def consumer(*, post, recipients):
        calls.append((post.pk, sorted(u.username for u in recipients), connection.in_atomic_block))

    monkeypatch.setattr(hooks.direct_message, "consumers", lambda: [consumer])
    post = dm(alice, "@bob @carol group hello")
    assert calls == [(post.pk, ["bob", "carol"], True)]


# --- who may message whom ------------------------------------------------------------------------

def test_a_message_from_someone_you_do_not_follow_is_a_request(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    social.do_follow(alice, bob)  # Alice follows Bob; Bob does not follow Alice
    first = dm(alice, "@bob hi, can I ask about your cream?")
    assert view(bob, first).folder == Folder.REQUEST
    assert not Notification.objects.filter(recipient=bob, post=first).exists()  # a request notifies nobody
    assert selectors.conversations(bob, page_from({}))[0] == []
    assert [v.id for v in selectors.conversations(bob, page_from({}), Folder.REQUEST)[0]] == [first.conversation_id]
    assert selectors.message_requests_count(bob) == 1
    social.do_accept_conversation(bob, first.conversation_id)
    assert [v.id for v in selectors.conversations(bob, page_from({}))[0]] == [first.conversation_id]
    second = dm(alice, "thanks!", in_reply_to_id=first.pk)  # accepted: no request any more (Bob: the recipient)
    assert view(bob, second).folder == Folder.INBOX
    assert Notification.objects.filter(recipient=bob, post=second).exists()


def test_declined_requests_stay_silent(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    first = dm(alice, "@bob buy my stuff")
    social.do_decline_conversation(bob, first.conversation_id)
    later = dm(alice, "@bob please", in_reply_to_id=first.pk)
    assert view(bob, later).folder == Folder.DECLINED and not view(bob, later).unread
    assert selectors.conversations(bob, page_from({}), Folder.REQUEST)[0] == []
    assert not Notification.objects.filter(recipient=bob).exists()
    with pytest.raises(ValidationFailed):  # an inbox conversation is removed, not declined
        social.do_decline_conversation(alice, first.conversation_id)


def test_replying_to_a_request_accepts_it(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    first = dm(alice, "@bob hi")
    assert view(bob, first).folder == Folder.REQUEST
    dm(bob, "@alice hi yourself", in_reply_to_id=first.pk)
    assert view(bob, first).folder == Folder.INBOX


@pytest.mark.parametrize("setting,follows,allowed", [
    ("everyone", False, True), ("following", False, False), ("following", True, True),
    ("nobody", False, False), ("nobody", True, False)])
def test_the_recipients_setting(make_user, setting, follows, allowed):
    alice, bob = make_user("alice"), make_user("bob", messages_from=setting)
    if follows:
        social.do_follow(bob, alice)
    if allowed:
        assert dm(alice, "@bob hi").conversation_id
        assert selectors.may_message(alice, bob)
    else:
        with pytest.raises(Forbidden) as err:
            dm(alice, "@bob hi")
        assert "@bob" in err.value.message
        assert not selectors.may_message(alice, bob)
        assert not Post.objects.filter(author=alice).exists()


def test_nobody_still_lets_an_accepted_conversation_go_on(pair):
    alice, bob = pair
    first = dm(bob, "@alice hi")
    type(alice).objects.filter(pk=alice.pk).update(messages_from="nobody")
    alice.refresh_from_db()
    assert dm(alice, "reply", in_reply_to_id=first.pk).conversation_id == first.conversation_id
    bob.messages_from = "nobody"
    bob.save()
    assert dm(alice, "@bob and again", in_reply_to_id=first.pk).conversation_id == first.conversation_id


@pytest.mark.parametrize("who_blocks", ["sender", "recipient"])
def test_blocks_either_way_refuse_with_a_clear_403(pair, who_blocks):
    alice, bob = pair
    blocker, target = (alice, bob) if who_blocks == "sender" else (bob, alice)
    social.do_block(blocker, target)
    with pytest.raises(Forbidden) as err:
        dm(alice, "@bob hi")
    assert err.value.status == 403 and "blocked" in err.value.message
    assert not Post.objects.filter(author=alice, visibility="direct").exists()


def test_a_muted_sender_lands_in_requests_without_a_notification(pair):
    alice, bob = pair
    social.do_mute(bob, alice)
    first = dm(alice, "@bob hi")
    assert view(bob, first).folder == Folder.REQUEST and not view(bob, first).unread
    assert not Notification.objects.filter(recipient=bob).exclude(type="follow").exists()


def test_suspended_accounts_cannot_send(pair):
    alice, bob = pair
    type(alice).objects.filter(pk=alice.pk).update(is_suspended=True)
    alice.refresh_from_db()
    with pytest.raises(Forbidden):
        dm(alice, "@bob hi")


def test_a_suspended_recipient_is_no_recipient(pair, make_user):
    alice, bob = pair
    type(bob).objects.filter(pk=bob.pk).update(is_suspended=True)
    with pytest.raises(ValidationFailed) as err:
        dm(alice, "@bob hi")
    assert "recipient" in err.value.message


def test_low_credit_cannot_message_strangers_but_can_message_followers(make_user):
    alice, bob, _carol = make_user("alice", credit_score=30), make_user("bob"), make_user("carol")
    social.do_follow(bob, alice)
    assert dm(alice, "@bob hi").conversation_id  # Bob follows Alice
    with pytest.raises(Forbidden) as err:
        dm(alice, "@carol hi")  # Carol does not
    assert "messages to people who do not follow you" in err.value.message.lower()


@override_settings(RATE_MESSAGE_REQUEST="2/3600")
def test_message_requests_are_rate_limited(make_user):
    alice = make_user("alice")
    for name in ("b1", "b2", "b3"):
        make_user(name)
    dm(alice, "@b1 hi")
    dm(alice, "@b2 hi")
    with pytest.raises(RateLimited):
        dm(alice, "@b3 hi")


@override_settings(RATE_MESSAGE="2/3600")
def test_messages_are_rate_limited(pair):
    alice, bob = pair
    dm(alice, "@bob one")
    dm(alice, "@bob two")
    with pytest.raises(RateLimited):
        dm(alice, "@bob three")


@override_settings(RULES_ENABLED=True)
def test_the_flood_rules_apply_to_messages(pair):
    alice, bob = pair
    dm(alice, "@bob check out my amazing store for the best deals today")
    with pytest.raises(RateLimited):
        dm(alice, "@bob check out my amazing store for the best deals today")


def test_direct_messages_cannot_be_reposted(pair):
    alice, bob = pair
    with pytest.raises(Forbidden):
        social.do_reblog(bob, dm(alice, "@bob hi"))


def test_a_reply_to_ones_own_message_goes_to_its_recipients(pair, make_user):
    alice, bob = pair
    carol = make_user("carol")
    social.do_follow(carol, alice)
    first = dm(alice, "@bob @carol group")
    again = dm(alice, "and one more thing", in_reply_to_id=first.pk)
    assert sorted(again.mentions.values_list("user__username", flat=True)) == ["bob", "carol"]
    assert dm(carol, "ok!", in_reply_to_id=again.pk).mentions.count() == 2  # Alice and Bob


def test_deleting_the_last_message_moves_the_views_back(pair):
    alice, bob = pair
    first = dm(alice, "@bob one")
    second = dm(alice, "two", in_reply_to_id=first.pk)
    social.do_delete_post(alice, second)
    assert view(bob, first).last_status_id == first.pk


# --- never leaks --------------------------------------------------------------------------------

@pytest.fixture
def leak_world(make_user):
    """Alice (followed by Bob, Carol and Dave) sends Bob a direct message with a hashtag and a reply to her
    own public post; Carol follows Alice but is not a recipient; an operator looks too."""
    alice, bob, carol, dave = (make_user(n) for n in ("alice", "bob", "carol", "dave"))
    operator = make_user("ops", is_staff=True)
    for fan in (bob, carol, dave):
        social.do_follow(fan, alice)
    social.do_follow(alice, bob)
    with TestCase.captureOnCommitCallbacks(execute=True):
        public = social.do_create_post(alice, text="a public post #tea")
        message = dm(alice, f"@bob {SECRET} #tea", in_reply_to_id=public.pk)
    alice.refresh_from_db()
    public.refresh_from_db()
    return {"alice": alice, "bob": bob, "carol": carol, "operator": operator, "public": public, "message": message}


def _everyone(w):
    return [None, w["alice"], w["bob"], w["carol"], w["operator"]]


def test_never_in_home_timelines_nor_feed_rows(leak_world):
    from tastemaker.feeds.models import TimelineEntry
    from tastemaker.feeds.selectors import home_timeline

    w = leak_world
    assert not TimelineEntry.objects.filter(post_id=w["message"].pk).exists()  # never fanned out, not even own
    for who in _everyone(w)[1:]:
        assert w["message"].pk not in {p.pk for p in home_timeline(who, page_from({}))}


def test_never_in_a_rebuilt_home_feed(leak_world):
    from tastemaker.feeds.management.commands.rebuild_feeds import rebuild_viewers
    from tastemaker.feeds.models import TimelineEntry
    from tastemaker.feeds.services import rebuild_viewer

    w = leak_world
    for who in (w["alice"], w["bob"], w["carol"]):  # the author's own posts are rebuilt too, but not messages
        rebuild_viewer(who.pk)
        assert TimelineEntry.objects.filter(viewer_id=who.pk, post_id=w["public"].pk).exists()
        assert not TimelineEntry.objects.filter(viewer_id=who.pk, post_id=w["message"].pk).exists()
    TimelineEntry.objects.all().delete()
    rebuild_viewers([w["alice"].pk, w["bob"].pk, w["carol"].pk])  # the management command's batch statement
    assert TimelineEntry.objects.filter(post_id=w["public"].pk).count() == 3
    assert not TimelineEntry.objects.filter(post_id=w["message"].pk).exists()


def test_never_in_public_or_tag_timelines_search_or_profiles(leak_world):
    w = leak_world
    for who in _everyone(w):
        assert w["message"].pk not in {p.pk for p in selectors.public_timeline(who, page_from({}))}
        assert w["message"].pk not in {p.pk for p in selectors.tag_timeline(who, "tea", page_from({}))}
        assert w["message"].pk not in {p.pk for p in selectors.search_posts("Quetzalcoatl", who)}
        assert w["message"].pk not in {p.pk for p in selectors.account_timeline(who, w["alice"], page_from({}))}


def test_in_the_thread_only_for_its_participants(leak_world):
    w = leak_world
    for who, sees in ((None, False), (w["alice"], True), (w["bob"], True), (w["carol"], False),
                      (w["operator"], False)):
        _ancestors, descendants = selectors.thread_context(who, w["public"])
        assert (w["message"].pk in {p.pk for p in descendants}) is sees, who
        assert (selectors.get_post(who, w["message"].pk) is not None) is (sees or who == w["operator"]), who


def test_not_counted_in_public_counters(leak_world):
    w = leak_world
    assert w["alice"].statuses_count == 1  # the public post only
    assert w["public"].replies_count == 0


def test_never_in_discovery(leak_world):
    from tastemaker.discovery import selectors as discovery
    from tastemaker.experts.models import PostLabel, Vertical

    w = leak_world
    vertical = Vertical.objects.filter(active=True).order_by("position").first()
    public = social.do_create_post(w["alice"], text="a public post about tea")
    message = dm(w["alice"], "@bob a message about tea")
    for post in (public, message):
        PostLabel.objects.create(post=post, author=w["alice"], vertical=vertical, confidence=0.9)
    for who in _everyone(w):
        shown = {p.pk for p in discovery.vertical_posts(who, vertical)}
        assert public.pk in shown and message.pk not in shown, who


def test_never_the_subject_of_analytics_events(leak_world):
    from tastemaker.analytics.ingest import EventIn, do_record_events
    from tastemaker.analytics.models import Event

    w = leak_world
    result = do_record_events([EventIn(metric="read", subject_type="post", subject_id=w["message"].pk,
                                       viewer_id=w["bob"].pk)])
    assert result.rejected == 1 and not Event.objects.filter(subject_id=w["message"].pk).exists()


def test_never_in_reports_or_exports(leak_world, client):
    w = leak_world
    client.force_login(w["alice"])
    report = client.get("/reports")
    export = client.get("/reports.csv")
    assert report.status_code == 200 and export.status_code == 200
    for response in (report, export):
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert SECRET.encode() not in body and str(w["message"].pk).encode() not in body


def test_never_promoted(leak_world):
    from tastemaker.payments.ledger import post_transaction, provider_clearing, wallet_for
    from tastemaker.promotion import services as promotion

    w = leak_world
    post_transaction("topup", [(provider_clearing("sandbox", "CNY"), -10_000), (wallet_for(w["alice"], "CNY"), 10_000)],
                     reference="dm-promotion")
    with pytest.raises(Exception) as err:
        promotion.do_create_campaign(w["alice"], tool="passerby", post_id=w["message"].pk, budget=2_000, bid=1_000)
    assert 400 <= err.value.status < 500


def test_a_third_party_cannot_reply_into_it(leak_world):
    w = leak_world
    with pytest.raises(Exception) as err:
        dm(w["carol"], "@alice sneaking in", in_reply_to_id=w["message"].pk)
    assert err.value.status == 404
