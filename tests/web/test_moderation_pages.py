"""The web side of issue 12: the report (举报) control on posts, profiles and Showcase cards, the
moderators' console (queue, case file with its action form, audit log, appeals) and the account's credit
page. Who may see each page, what each form does, its messages, empty states and pages."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tastemaker.accounts.standing import CREDIT_START
from tastemaker.moderation import services
from tastemaker.moderation.models import REPORTER_REASONS, Action, Appeal, Case, Notice, Report
from tastemaker.social import services as social
from tastemaker.social.models import Post

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def people(make_user):
    author = make_user("author", display_name="Author A")
    fan = make_user("fan")
    other = make_user("other")
    op1 = make_user("op_one", is_staff=True)
    op2 = make_user("op_two", is_staff=True)
    return author, fan, other, op1, op2


def as_(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def body(response) -> str:
    return response.content.decode()


def _case(reporter, kind, target_id, reason="spam", note=""):
    return Case.objects.get(pk=services.do_report(reporter, kind, target_id, reason, note).case_id)


def _login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/login")


# --- the report control on every surface ---------------------------------------------------------

def test_report_link_under_others_posts_not_own(people, client):
    author, fan, *_ = people
    post = social.do_create_post(author, text="A kettle I like")
    link = f"/flag/post/{post.pk}"
    assert link in body(as_(fan).get("/public"))
    assert link in body(as_(fan).get(f"/posts/{post.pk}"))
    assert link not in body(as_(author).get("/public"))
    assert link not in body(as_(author).get(f"/posts/{post.pk}"))
    # signed out: the link is there, and leads to the log-in page
    assert link in body(client.get("/public"))
    response = client.get(link)
    assert _login_redirect(response) and "next=" in response["Location"]


def test_report_link_on_profiles_not_own(people, client):
    author, fan, *_ = people
    link = f"/flag/account/{author.pk}"
    assert link in body(as_(fan).get("/@author"))
    assert link not in body(as_(author).get("/@author"))
    assert link in body(client.get("/@author"))


def test_report_link_on_showcase_cards(people, showcase_post, store):
    from tastemaker.showcase.catalog import do_upsert_catalog

    author, fan, *_ = people
    do_upsert_catalog(store, [{"external_id": "c1", "title": "Hydrating face cream", "gtin": "6901234567892",
                               "url": "https://shop.example.com/p/cream-1", "price": 12900, "stock": 5}])
    post = showcase_post(author)
    assert post.card.product_id
    link = f"/flag/card/{post.pk}"
    for url in (f"/posts/{post.pk}", "/@author/showcase", f"/products/{post.card.product_id}"):
        assert link in body(as_(fan).get(url)), url
        assert link not in body(as_(author).get(url)), url
    form = body(as_(fan).get(link))
    assert "Hydrating face cream" in form and "Report a Showcase card" in form
    response = as_(fan).post(link, {"reason": "scam", "note": "fake cream"})
    assert response.status_code == 303
    report = Report.objects.get()
    assert (report.target_kind, report.target_id, report.reason, report.note) == ("card", post.pk, "scam", "fake cream")
    assert report.case.evidence[0]["card"]["title"] == "Hydrating face cream"


def test_report_form_offers_the_reporter_reasons_with_labels(people):
    author, fan, *_ = people
    post = social.do_create_post(author, text="hello")
    page = body(as_(fan).get(f"/flag/post/{post.pk}"))
    radios = re.findall(r'<input type="radio" name="reason" value="([a-z_]+)"', page)
    assert radios == [r.value for r in REPORTER_REASONS]
    for reason in REPORTER_REASONS:
        assert str(reason.label) in page
    assert 'for="flag-note-post-' in page and "hello" in page  # a labelled note; what is reported
    assert "flooding" not in radios  # rules-only reasons are not offered


def test_report_a_post_with_csrf(people):
    author, fan, *_ = people
    post = social.do_create_post(author, text="Buy now!!!")
    client = Client(enforce_csrf_checks=True)
    client.force_login(fan)
    page = body(client.get(f"/flag/post/{post.pk}?next=/public"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert client.post(f"/flag/post/{post.pk}", {"reason": "spam"}).status_code == 403  # no token: refused
    response = client.post(f"/flag/post/{post.pk}", {"reason": "spam", "note": "ad", "next": "/public",
                                                     "csrfmiddlewaretoken": token}, follow=True)
    assert response.redirect_chain[0] == ("/public", 303)
    assert "Thanks — the moderators will look at it; you&#x27;ll be told the outcome" in body(response)
    report = Report.objects.get()
    assert (report.reporter_id, report.target_kind, report.reason, report.note) == (fan.pk, "post", "spam", "ad")


def test_report_inline_with_htmx(people):
    author, fan, *_ = people
    post = social.do_create_post(author, text="hello")
    client = as_(fan)
    form = client.get(f"/flag/post/{post.pk}?next=/public", **HX)
    assert form.status_code == 200 and "<html" not in body(form) and 'hx-post="/flag/post/' in body(form)
    refused = client.post(f"/flag/post/{post.pk}", {"note": "no reason"}, **HX)
    assert refused.status_code == 422 and "Choose a reason" in body(refused) and "no reason" in body(refused)
    done = client.post(f"/flag/post/{post.pk}", {"reason": "harassment"}, **HX)
    assert done.status_code == 200 and "the moderators will look at it" in body(done) and "<form" not in body(done)
    assert Report.objects.get().reason == "harassment"


def test_report_an_account(people):
    author, fan, *_ = people
    client = as_(fan)
    response = client.post(f"/flag/account/{author.pk}", {"reason": "harassment", "note": "rude"})
    assert response.status_code == 303 and response["Location"] == "/@author"
    assert list(Report.objects.values_list("target_kind", "note")) == [("account", "rude")]
    assert Case.objects.get(target_kind="account").evidence[0]["account"]["username"] == "author"


def test_report_validation_messages(people):
    author, fan, other, *_ = people
    post = social.do_create_post(author, text="hello")
    client = as_(fan)
    missing = client.post(f"/flag/post/{post.pk}", {"reason": ""})
    assert missing.status_code == 422 and "Choose a reason" in body(missing)
    rules_only = client.post(f"/flag/post/{post.pk}", {"reason": "flooding"})
    assert rules_only.status_code == 422
    long_note = client.post(f"/flag/post/{post.pk}", {"reason": "spam", "note": "x" * 1001})
    assert long_note.status_code == 422 and "at most 1000 characters" in body(long_note)
    assert Report.objects.count() == 0
    own = as_(author).get(f"/flag/post/{post.pk}")
    assert own.status_code == 422 and "You cannot report yourself" in body(own)
    assert as_(author).post(f"/flag/account/{author.pk}", {"reason": "spam"}).status_code == 422
    secret = social.do_create_post(author, text="followers only", visibility="private")
    assert client.get(f"/flag/post/{secret.pk}").status_code == 404
    assert client.post(f"/flag/post/{secret.pk}", {"reason": "spam"}).status_code == 404
    assert client.get("/flag/planet/1").status_code == 404
    assert client.get(f"/flag/card/{post.pk}").status_code == 404  # a post without a card
    assert client.get("/flag/post/123456789012").status_code == 404
    assert Report.objects.count() == 0


# --- who may see which page ------------------------------------------------------------------------

CONSOLE = ["/moderation", "/moderation?status=dismissed", "/moderation/audit", "/moderation/appeals"]


def test_console_is_for_operators_only(people, client):
    author, fan, other, op1, _op2 = people
    case = _case(fan, "account", author.pk)
    pages = [*CONSOLE, f"/moderation/cases/{case.pk}"]
    for url in pages:
        assert _login_redirect(client.get(url)), url
        for user in (author, fan):
            assert as_(user).get(url).status_code == 404, (url, user)
        assert as_(op1).get(url).status_code == 200, url
    # the forms too
    action = services.do_act(op1, _case(fan, "post", social.do_create_post(author, text="x").pk), "limit", "x")
    for user in (author, fan):
        assert as_(user).post(f"/moderation/cases/{case.pk}", {"action": "dismiss", "reason": "x"}).status_code == 404
        assert as_(user).post(f"/moderation/actions/{action.pk}/restore", {"reason": "x"}).status_code == 404
    assert _login_redirect(client.post(f"/moderation/actions/{action.pk}/restore", {"reason": "x"}))
    assert not Action.objects.filter(kind="restore").exists()
    assert _login_redirect(client.post(f"/moderation/cases/{case.pk}", {"action": "dismiss", "reason": "x"}))
    assert Case.objects.get(pk=case.pk).status == "open"


def test_credit_page_is_the_accounts_own(people, client):
    author, fan, *_ = people
    assert _login_redirect(client.get("/settings/credit"))
    case = _case(fan, "account", author.pk, "harassment")
    action = services.do_act(people[3], case, "limit", "Threats")
    assert action.reason in body(as_(author).get("/settings/credit"))
    assert action.reason not in body(as_(fan).get("/settings/credit"))
    # appealing someone else's action: 404, nothing made
    assert as_(fan).post(f"/settings/credit/appeals/{action.pk}", {"text": "let me"}).status_code == 404
    assert _login_redirect(client.post(f"/settings/credit/appeals/{action.pk}", {"text": "let me"}))
    assert not Appeal.objects.exists()


def test_navigation_links(people):
    author, fan, other, op1, _op2 = people
    _case(fan, "account", author.pk)
    staff_page = body(as_(op1).get("/"))
    assert 'href="/moderation"' in staff_page
    assert re.search(r'href="/moderation" class="nav-moderation">Moderation <span class="badge"[^>]*>1<', staff_page)
    assert 'href="/moderation"' not in body(as_(fan).get("/"))
    assert 'href="/settings/credit"' in body(as_(fan).get("/settings"))


# --- the queue ---------------------------------------------------------------------------------------

def test_queue_order_counts_tabs_and_empty_states(people):
    author, fan, other, op1, _op2 = people
    op = as_(op1)
    assert "No open cases" in body(op.get("/moderation"))
    low = _case(fan, "post", social.do_create_post(author, text="one").pk, "other")
    high = _case(fan, "post", social.do_create_post(author, text="two").pk, "illegal")
    mid = _case(fan, "account", author.pk, "spam")
    services.do_act(op1, mid, "dismiss", "fine")
    page = body(op.get("/moderation"))
    order = [int(n) for n in re.findall(r'data-case="(\d+)"', page)]
    assert order == [high.pk, low.pk]
    assert re.search(r'data-status="open">Open <span class="muted">2</span>', page)
    assert re.search(r'data-status="dismissed">Dismissed <span class="muted">1</span>', page)
    decided = body(op.get("/moderation?status=dismissed"))
    assert [int(n) for n in re.findall(r'data-case="(\d+)"', decided)] == [mid.pk]
    assert "No cases here yet." in body(op.get("/moderation?status=actioned"))
    assert op.get("/moderation?status=bogus&page=x").status_code == 200


def test_queue_pages(people):
    author, fan, other, op1, _op2 = people
    for i in range(23):
        _case(fan, "post", social.do_create_post(author, text=f"post {i}").pk)
    op = as_(op1)
    first = body(op.get("/moderation"))
    assert len(re.findall(r'data-case="', first)) == 20 and "page=2" in first
    second = body(op.get("/moderation?status=open&page=2"))
    assert len(re.findall(r'data-case="', second)) == 3 and "page=3" not in second and "page=1" in second
    assert not set(re.findall(r'data-case="(\d+)"', first)) & set(re.findall(r'data-case="(\d+)"', second))


# --- the case file and the action form -------------------------------------------------------------

def test_case_file_keeps_the_evidence_after_the_content_changes(people):
    author, fan, other, op1, _op2 = people
    post = social.do_create_post(author, text="Original claim: cures everything")
    case = _case(fan, "post", post.pk, "scam", "it is a fake")
    _case(other, "post", post.pk, "spam", "also spam")
    services.do_act(op1, _case(fan, "account", author.pk), "dismiss", "nothing")  # a prior case
    Post.objects.filter(pk=post.pk).update(text="Edited: a nice cream")
    page = body(as_(op1).get(f"/moderation/cases/{case.pk}"))
    assert "Original claim: cures everything" in page  # as reported
    assert re.search(r"As reported, \d{4}-\d{2}-\d{2} \d{2}:\d{2}<", page)
    assert "Edited: a nice cream" in page  # as it is now
    assert "it is a fake" in page and "also spam" in page and "@fan" in page and "@other" in page
    assert 'data-state="active" data-score="80"' in page
    assert "Earlier cases" in page and "No earlier cases." not in page
    Post.objects.filter(pk=post.pk).delete()
    gone = body(as_(op1).get(f"/moderation/cases/{case.pk}"))
    assert "Original claim: cures everything" in gone and "Deleted since it was reported" in gone


def test_action_form_offers_what_applies_with_the_default_deduction(people):
    author, fan, other, op1, _op2 = people
    post_case = _case(fan, "post", social.do_create_post(author, text="x").pk, "harassment")
    page = body(as_(op1).get(f"/moderation/cases/{post_case.pk}"))
    offered = re.findall(r'name="action" value="([a-z]+)"', page)
    assert offered == ["dismiss", "remove", "limit", "suspend", "release"]
    assert re.search(r'name="credit"[^>]*value="15"', page)  # harassment costs 15 by default
    account_case = _case(fan, "account", author.pk, "spam")
    page = body(as_(op1).get(f"/moderation/cases/{account_case.pk}"))
    assert re.findall(r'name="action" value="([a-z]+)"', page) == ["dismiss", "limit", "suspend"]
    assert re.search(r'name="credit"[^>]*value="10"', page)
    assert as_(op1).get("/moderation/cases/999999999").status_code == 404


def test_remove_with_a_chosen_deduction(people):
    author, fan, other, op1, _op2 = people
    post = social.do_create_post(author, text="spammy")
    case = _case(fan, "post", post.pk)
    response = as_(op1).post(f"/moderation/cases/{case.pk}", {"action": "remove", "reason": "Ad", "credit": "12"},
                             follow=True)
    assert response.redirect_chain == [(f"/moderation/cases/{case.pk}", 303)]
    page = body(response)
    assert "Done: Removed the content." in page and 'name="action"' not in page  # decided: no form
    assert 'data-kind="remove"' in page and "credit -12" in page
    author.refresh_from_db()
    assert author.credit_score == CREDIT_START - 12
    assert Post.objects.get(pk=post.pk).held
    again = as_(op1).post(f"/moderation/cases/{case.pk}", {"action": "dismiss", "reason": "again"})
    assert again.status_code == 409 and "already decided" in body(again)


def test_action_form_validation_messages(people):
    author, fan, other, op1, _op2 = people
    case = _case(fan, "post", social.do_create_post(author, text="x").pk)
    op = as_(op1)
    url = f"/moderation/cases/{case.pk}"
    cases = [
        ({"action": "remove", "reason": "  "}, 422, "Give a reason"),
        ({"action": "remove", "reason": "ok", "credit": "abc"}, 422, "Enter a whole number of points from 0 to 50"),
        ({"action": "remove", "reason": "ok", "credit": "99"}, 422, "between 0 and 50 points"),
        ({"action": "explode", "reason": "ok"}, 422, "Unknown action"),
        ({"reason": "ok"}, 422, "Unknown action"),
    ]
    for data, status, message in cases:
        response = op.post(url, data)
        assert response.status_code == status, data
        assert message in body(response), data
    kept = body(op.post(url, {"action": "remove", "reason": "typed text stays", "credit": "abc"}))
    assert "typed text stays" in kept
    assert not Action.objects.exists() and Case.objects.get(pk=case.pk).status == "open"
    # an operator's own account
    own = _case(fan, "account", op1.pk)
    refused = op.post(f"/moderation/cases/{own.pk}", {"action": "dismiss", "reason": "mine"})
    assert refused.status_code == 403 and "your own account" in body(refused)


def test_restore_from_the_case_file(people):
    author, fan, other, op1, op2 = people
    case = _case(fan, "post", social.do_create_post(author, text="x").pk, "spam")
    action = services.do_act(op1, case, "limit", "Spam run")
    op = as_(op2)
    page = body(op.get(f"/moderation/cases/{case.pk}"))
    assert f'action="/moderation/actions/{action.pk}/restore"' in page and f'for="restore-reason-{action.pk}"' in page
    empty = op.post(f"/moderation/actions/{action.pk}/restore", {"reason": ""})
    assert empty.status_code == 422 and "Give a reason" in body(empty) and "<details class=\"mod-restore\" open>" in body(empty)
    done = op.post(f"/moderation/actions/{action.pk}/restore", {"reason": "Behaved since"}, follow=True)
    assert "Restored" in body(done) and "reversed" in body(done)
    assert f'action="/moderation/actions/{action.pk}/restore"' not in body(done)  # once
    author.refresh_from_db()
    assert not author.is_limited and author.credit_score == CREDIT_START - 10  # the credit stays taken
    twice = op.post(f"/moderation/actions/{action.pk}/restore", {"reason": "again"})
    assert twice.status_code == 409 and "already reversed" in body(twice)
    dismissed = services.do_act(op1, _case(fan, "account", author.pk), "dismiss", "fine")
    assert op.post(f"/moderation/actions/{dismissed.pk}/restore", {"reason": "x"}).status_code == 422
    assert op.post("/moderation/actions/999999999/restore", {"reason": "x"}).status_code == 404


# --- appeals and the credit page --------------------------------------------------------------------

def test_credit_page_standing_gates_history_notices_and_reports(people):
    author, fan, other, op1, _op2 = people
    post = social.do_create_post(author, text="spam")
    fresh = body(as_(author).get("/settings/credit"))
    assert 'data-state="active" data-score="80"' in fresh and "No change yet" in fresh and "No notices." in fresh
    assert "You have not reported anything." in fresh and "No moderator has acted on your account." in fresh
    assert 'data-feature="showcase" data-allowed="yes"' in fresh
    case = _case(fan, "post", post.pk, "scam")
    services.do_act(op1, case, "limit", "Counterfeit listing")
    assert re.search(r'href="/settings/credit" class="nav-credit">Credit <span class="badge"[^>]*>1<',
                     body(as_(author).get("/")))
    page = body(as_(author).get("/settings/credit"))
    assert 'data-state="limited" data-score="60"' in page and "Limited by a moderator" in page
    assert 'data-feature="showcase" data-allowed="no"' in page and "limited by a moderator" in page
    assert "You can appeal the limit from your credit page." in page
    assert 'data-delta="-20"' in page and "Counterfeit listing" in page
    assert 'class="mod-notice unread"' in page
    assert Notice.objects.filter(recipient=author, read=False).count() == 0  # seen now
    assert "nav-credit\">Credit <span" not in body(as_(author).get("/settings/credit"))
    mine = body(as_(fan).get("/settings/credit"))
    assert 'data-status="actioned"' in mine and "The moderators took action" in mine
    assert "The outcome of your report" in mine


def test_appeal_from_the_credit_page(people):
    author, fan, other, op1, _op2 = people
    case = _case(fan, "post", social.do_create_post(author, text="x").pk)
    action = services.do_act(op1, case, "remove", "Spam")
    client = as_(author)
    page = body(client.get("/settings/credit"))
    assert f'action="/settings/credit/appeals/{action.pk}"' in page and f'for="appeal-text-{action.pk}"' in page
    empty = client.post(f"/settings/credit/appeals/{action.pk}", {"text": "  "})
    assert empty.status_code == 422 and "Say why the action was wrong." in body(empty)
    sent = client.post(f"/settings/credit/appeals/{action.pk}", {"text": "It was a review"}, follow=True)
    assert sent.redirect_chain[0][1] == 303 and "Your appeal is sent." in body(sent)
    assert 'data-status="pending"' in body(sent)
    assert f'action="/settings/credit/appeals/{action.pk}"' not in body(sent)  # once per action
    twice = client.post(f"/settings/credit/appeals/{action.pk}", {"text": "again"})
    assert twice.status_code == 409 and "already appealed" in body(twice)
    assert Appeal.objects.get().text == "It was a review"
    dismissed = services.do_act(op1, _case(fan, "account", author.pk), "dismiss", "fine")
    assert client.post(f"/settings/credit/appeals/{dismissed.pk}", {"text": "why"}).status_code == 422


def test_appeals_page_refuses_the_acting_operator_and_another_overturns(people):
    author, fan, other, op1, op2 = people
    assert "No appeal is waiting" in body(as_(op1).get("/moderation/appeals"))
    post = social.do_create_post(author, text="x")
    action = services.do_act(op1, _case(fan, "post", post.pk), "remove", "Spam")
    appeal = services.do_appeal(author, action, "It was a review, not an ad")
    page = body(as_(op1).get("/moderation/appeals"))
    assert "It was a review, not an ad" in page and "You took this action" in page
    refused = as_(op1).post(f"/moderation/appeals/{appeal.pk}", {"decision": "overturn", "reason": "mine"})
    assert refused.status_code == 403 and "Another operator must decide an appeal of your own action." in body(refused)
    missing = as_(op2).post(f"/moderation/appeals/{appeal.pk}", {"reason": "no choice"})
    assert missing.status_code == 422 and "Choose" in body(missing) and "no choice" in body(missing)
    no_reason = as_(op2).post(f"/moderation/appeals/{appeal.pk}", {"decision": "overturn", "reason": ""})
    assert no_reason.status_code == 422 and "Give a reason" in body(no_reason)
    done = as_(op2).post(f"/moderation/appeals/{appeal.pk}", {"decision": "overturn", "reason": "Fair review"},
                         follow=True)
    assert "Appeal decided: the action is overturned." in body(done) and "No appeal is waiting" in body(done)
    author.refresh_from_db()
    assert author.credit_score == CREDIT_START and not Post.objects.get(pk=post.pk).held
    assert as_(op2).post(f"/moderation/appeals/{appeal.pk}", {"decision": "uphold", "reason": "x"}).status_code == 409
    assert as_(op2).post("/moderation/appeals/999999999", {"decision": "uphold", "reason": "x"}).status_code == 404


def test_appeal_upheld(people):
    author, fan, other, op1, op2 = people
    action = services.do_act(op1, _case(fan, "account", author.pk, "harassment"), "limit", "Threats")
    appeal = services.do_appeal(author, action, "sorry")
    response = as_(op2).post(f"/moderation/appeals/{appeal.pk}", {"decision": "uphold", "reason": "Clear threats"},
                             follow=True)
    assert "Appeal decided: the action stands." in body(response)
    assert Appeal.objects.get().status == "upheld"
    assert "Refused: the action stands" in body(as_(author).get("/settings/credit"))


# --- the audit log -----------------------------------------------------------------------------------

def test_audit_log_filter_and_pages(people):
    author, fan, other, op1, _op2 = people
    op = as_(op1)
    assert "Nothing in the audit log yet." in body(op.get("/moderation/audit"))
    for i in range(3):
        services.do_act(op1, _case(fan, "post", social.do_create_post(author, text=f"p{i}").pk), "dismiss", f"ok {i}")
    services.do_act(op1, _case(author, "account", other.pk), "dismiss", "other is fine")
    page = body(op.get("/moderation/audit"))
    assert len(re.findall(r'class="mod-audit-row"', page)) == 4 and "by op_one" in page
    only = body(op.get("/moderation/audit?account=other"))
    assert len(re.findall(r'class="mod-audit-row"', only)) == 1 and "other is fine" in only
    by_id = body(op.get(f"/moderation/audit?account={author.pk}"))
    assert len(re.findall(r'class="mod-audit-row"', by_id)) == 3
    unknown = op.get("/moderation/audit?account=nobody_here")
    assert unknown.status_code == 422 and "No account is called nobody_here." in body(unknown)
    first = body(op.get("/moderation/audit?limit=2"))
    assert len(re.findall(r'class="mod-audit-row"', first)) == 2
    max_id = re.search(r"max_id=(\d+)", first).group(1)
    rest = body(op.get(f"/moderation/audit?limit=2&max_id={max_id}"))
    assert len(re.findall(r'class="mod-audit-row"', rest)) == 2
    assert "ok 0" in rest and "other is fine" in first
