"""Reports, cases, operator actions with their audit log, suspension's effects, appeals and credit."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction

from tastemaker.accounts.models import CreditChange
from tastemaker.accounts.standing import CREDIT_START, Feature, State, gate, standing
from tastemaker.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tastemaker.moderation import selectors, services
from tastemaker.moderation.models import Action, ActionKind, Appeal, Case, CaseStatus, Notice, Report
from tastemaker.social.models import Post
from tastemaker.social.selectors import can_view
from tastemaker.social.services import do_block, do_create_post, do_follow


@pytest.fixture
def world(make_user):
    author = make_user("author")
    fan = make_user("fan")
    other = make_user("other")
    op1 = make_user("op_one", is_staff=True)
    op2 = make_user("op_two", is_staff=True)
    post = do_create_post(author, text="Great moisturiser, see my store for the link")
    return author, fan, other, op1, op2, post


def test_report_joins_one_case_and_raises_severity(world):
    author, fan, other, _op1, _op2, post = world
    r1 = services.do_report(fan, "post", post.pk, "spam", "this is an ad")
    r2 = services.do_report(other, "post", post.pk, "scam")
    assert r1.case_id == r2.case_id
    case = Case.objects.get(pk=r1.case_id)
    assert case.reports_count == 2 and case.reason == "scam" and case.severity == 4
    assert case.account_id == author.pk
    # the same person twice: the first report, no second one
    assert services.do_report(fan, "post", post.pk, "spam").pk == r1.pk
    assert Report.objects.count() == 2


def test_report_validation(world):
    author, fan, _other, _op1, _op2, post = world
    with pytest.raises(ValidationFailed):
        services.do_report(fan, "post", post.pk, "not-a-reason")
    with pytest.raises(ValidationFailed):
        services.do_report(fan, "post", post.pk, "flooding")  # rules-only reason
    with pytest.raises(ValidationFailed):
        services.do_report(fan, "planet", post.pk, "spam")
    with pytest.raises(ValidationFailed):
        services.do_report(author, "post", post.pk, "spam")  # yourself
    with pytest.raises(NotFound):
        services.do_report(fan, "post", 12345678901, "spam")
    with pytest.raises(NotFound):
        services.do_report(fan, "post", "x", "spam")
    with pytest.raises(ValidationFailed):
        services.do_report(fan, "post", post.pk, "spam", "x" * 1001)
    assert Report.objects.count() == 0


def test_cannot_report_what_you_cannot_see(world, make_user):
    author, fan, _other, _op1, _op2, _post = world
    secret = do_create_post(author, text="followers only", visibility="private")
    with pytest.raises(NotFound):
        services.do_report(fan, "post", secret.pk, "spam")
    do_block(author, fan)
    with pytest.raises(NotFound):
        services.do_report(fan, "post", _post.pk, "spam")


def test_evidence_keeps_the_content_as_reported(world):
    _author, fan, _other, op1, _op2, post = world
    report = services.do_report(fan, "post", post.pk, "spam")
    Post.objects.filter(pk=post.pk).delete()
    case = Case.objects.get(pk=report.case_id)
    assert case.evidence[0]["post"]["text"] == "Great moisturiser, see my store for the link"
    assert selectors.case_file(case).current_post is None


def test_remove_deducts_credit_notifies_and_is_audited(world):
    author, fan, _other, op1, _op2, post = world
    report = services.do_report(fan, "post", post.pk, "spam")
    case = Case.objects.get(pk=report.case_id)
    action = services.do_act(op1, case, "remove", "Advertising without disclosure")
    author.refresh_from_db()
    assert author.credit_score == CREDIT_START - 10
    assert action.credit_delta == -10 and action.operator_id == op1.pk
    post.refresh_from_db()
    assert post.held and not can_view(fan, post) and can_view(author, post)
    case.refresh_from_db()
    assert case.status == CaseStatus.ACTIONED
    assert Notice.objects.filter(recipient=author, kind="action").exists()
    assert Notice.objects.filter(recipient=fan, kind="report_outcome").exists()
    change = CreditChange.objects.get(account=author)
    assert change.case_id == case.pk and change.reason == "spam" and change.score_after == 70
    with pytest.raises(Conflict):
        services.do_act(op1, case, "dismiss", "again")


def test_only_operators_act_and_never_on_themselves(world, make_user):
    author, fan, _other, op1, _op2, post = world
    case = Case.objects.get(pk=services.do_report(fan, "post", post.pk, "spam").case_id)
    with pytest.raises(Forbidden):
        services.do_act(fan, case, "dismiss", "nope")
    own = do_create_post(op1, text="operator's own post")
    own_case = Case.objects.get(pk=services.do_report(fan, "post", own.pk, "spam").case_id)
    with pytest.raises(Forbidden):
        services.do_act(op1, own_case, "dismiss", "mine")
    with pytest.raises(ValidationFailed):
        services.do_act(op1, case, "remove", "   ")
    with pytest.raises(ValidationFailed):
        services.do_act(op1, case, "remove", "ok", credit=99)
    with pytest.raises(ValidationFailed):
        services.do_act(op1, case, "explode", "ok")
    assert Action.objects.count() == 0


def test_audit_log_is_append_only(world):
    _author, fan, _other, op1, _op2, post = world
    case = Case.objects.get(pk=services.do_report(fan, "post", post.pk, "spam").case_id)
    action = services.do_act(op1, case, "dismiss", "fine")
    with pytest.raises(RuntimeError):
        action.save()
    with pytest.raises(RuntimeError):
        action.delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        Action.objects.filter(pk=action.pk).update(reason="rewritten")
    assert Action.objects.get(pk=action.pk).reason == "fine"


def test_suspension_applies_at_once_and_appeal_by_another_operator_restores(world, client):
    author, fan, _other, op1, op2, post = world
    do_follow(fan, author)
    client.force_login(author)
    case = Case.objects.get(pk=services.do_report(fan, "account", author.pk, "harassment").case_id)
    action = services.do_act(op1, case, "suspend", "Threats in replies")
    author.refresh_from_db()
    assert author.is_suspended and standing(author).state == State.SUSPENDED
    assert author.credit_score == CREDIT_START - 15
    assert not can_view(fan, post)
    assert client.get("/settings")["Location"] == "/settings/credit"  # the session reaches its credit page only
    assert not gate(author, Feature.SHOWCASE).allowed

    appeal = services.do_appeal(author, action, "It was a joke between friends")
    with pytest.raises(Conflict):
        services.do_appeal(author, action, "again")
    with pytest.raises(Forbidden):  # the operator who acted cannot decide it
        services.do_decide_appeal(op1, appeal, overturn=True, decision="mine")
    services.do_decide_appeal(op2, appeal, overturn=True, decision="Context shows it was banter")
    author.refresh_from_db()
    assert not author.is_suspended and author.credit_score == CREDIT_START
    assert can_view(fan, post)
    appeal.refresh_from_db()
    assert appeal.status == "overturned" and appeal.decided_by_id == op2.pk
    history = list(CreditChange.objects.filter(account=author).order_by("id").values_list("delta", "reason"))
    assert history == [(-15, "harassment"), (15, "overturned")]
    kinds = list(Action.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == [ActionKind.SUSPEND, ActionKind.APPEAL_OVERTURNED]


def test_appeal_refused_keeps_the_action(world):
    author, fan, _other, op1, op2, post = world
    case = Case.objects.get(pk=services.do_report(fan, "post", post.pk, "scam").case_id)
    action = services.do_act(op1, case, "limit", "Fake product claims")
    appeal = services.do_appeal(author, action, "The product is real")
    services.do_decide_appeal(op2, appeal, overturn=False, decision="The listing is a counterfeit")
    author.refresh_from_db()
    assert author.is_limited and author.credit_score == CREDIT_START - 20
    assert standing(author).state == State.LIMITED
    with pytest.raises(Conflict):
        services.do_decide_appeal(op2, appeal, overturn=True, decision="changed mind")
    assert Appeal.objects.get().status == "upheld"


def test_only_the_account_appeals_its_action(world):
    author, fan, _other, op1, _op2, post = world
    case = Case.objects.get(pk=services.do_report(fan, "post", post.pk, "spam").case_id)
    action = services.do_act(op1, case, "remove", "spam")
    with pytest.raises(NotFound):
        services.do_appeal(fan, action, "not mine")
    dismissed_case = Case.objects.get(pk=services.do_report(author, "account", fan.pk, "other").case_id)
    dismiss = services.do_act(op1, dismissed_case, "dismiss", "nothing")
    with pytest.raises(ValidationFailed):
        services.do_appeal(fan, dismiss, "why")


def test_credit_reaching_zero_suspends_through_the_audited_service(world):
    author, fan, other, op1, _op2, _post = world
    do_follow(fan, author)  # below 40 the author is limited: only followers still see (and can report) its posts
    for i in range(3):
        p = do_create_post(author, text=f"illegal thing {i}")
        case = Case.objects.get(pk=services.do_report(fan, "post", p.pk, "illegal").case_id)
        services.do_act(op1, case, "remove", "illegal goods")
    author.refresh_from_db()
    assert author.credit_score == 0 and author.is_suspended
    assert Action.objects.filter(kind=ActionKind.SUSPEND, operator_id=None, account_id=author.pk).count() == 1
    total = sum(CreditChange.objects.filter(account=author).values_list("delta", flat=True))
    assert CREDIT_START + total == 0  # 3 × 30 clamped: the history records what actually moved


def test_restore_lifts_a_limit_without_credit(world):
    author, fan, _other, op1, op2, post = world
    case = Case.objects.get(pk=services.do_report(fan, "post", post.pk, "spam").case_id)
    action = services.do_act(op1, case, "limit", "spam")
    services.do_restore(op2, action, "Behaved for a month")
    author.refresh_from_db()
    assert not author.is_limited and author.credit_score == CREDIT_START - 10
    with pytest.raises(Conflict):
        services.do_restore(op2, action, "twice")


def test_queue_orders_by_severity_then_age(world, make_user):
    author, fan, other, _op1, _op2, post = world
    p2 = do_create_post(author, text="second")
    low = services.do_report(fan, "post", post.pk, "other").case_id
    high = services.do_report(fan, "post", p2.pk, "illegal").case_id
    acct = services.do_report(fan, "account", author.pk, "spam").case_id
    assert [c.pk for c in selectors.queue()] == [high, acct, low]
