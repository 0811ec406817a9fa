"""The payments reads and checks the HTTP layers share (api/payments and the web pages): whose wallet a
request is about, a top-up / withdrawal / payout account by id for its owner or an operator, a
reconciliation's period, and whether an idempotency key was used."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tastemaker.accounts import selectors as accounts
from tastemaker.core.errors import ValidationFailed
from tastemaker.payments import idempotency, reconcile, selectors, services

pytestmark = pytest.mark.django_db


def test_whose_wallet(make_user):
    me, other, operator = make_user("me"), make_user("other"), make_user("op", is_staff=True)
    assert selectors.wallet_subject(me, None) == me and selectors.wallet_subject(me, me.pk) == me
    assert selectors.wallet_subject(me, other.pk) is None  # not an operator: the same 404 as missing
    assert selectors.wallet_subject(operator, other.pk) == other
    assert selectors.wallet_subject(operator, other.pk + 999_999) is None


def test_records_for_their_owner_or_an_operator(make_user):
    me, other, operator = make_user("me"), make_user("other"), make_user("op", is_staff=True)
    topup, _url = services.do_start_topup(me, 5000, "CNY", "sandbox")
    assert selectors.topup_visible_to(me, topup.pk) == topup
    assert selectors.topup_visible_to(operator, topup.pk) == topup
    assert selectors.topup_visible_to(other, topup.pk) is None
    account = services.do_bind_payout_account(me, "sandbox", "me@example.com", "Me")
    assert selectors.payout_account_for(me, account.pk) == account
    assert selectors.payout_account_for(other, account.pk) is None and selectors.payout_account_for(me, None) is None
    services.do_unbind_payout_account(me, account)
    assert selectors.payout_account_for(me, account.pk) is None  # unbound


def test_an_active_account(make_user):
    user = make_user("someone")
    assert accounts.active_account(user.pk) == user
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert accounts.active_account(user.pk) is None and accounts.active_account(None) is None


def test_a_reconciliation_period():
    today = timezone.localdate()
    reconcile.check_reconcile_request("sandbox", today - timedelta(days=91), today)  # 92 days: the most
    cases = [("nowhere", today, today, "provider"),
             ("sandbox", today, today - timedelta(days=1), "date_to"),
             ("sandbox", today - timedelta(days=92), today, "date_to"),
             ("sandbox", today, today + timedelta(days=1), "date_to")]
    for provider, start, end, field in cases:
        with pytest.raises(ValidationFailed) as exc:
            reconcile.check_reconcile_request(provider, start, end)
        assert exc.value.field == field


def test_a_used_idempotency_key(make_user):
    user = make_user("me")
    assert not idempotency.key_used(user, "key-1")
    idempotency.run_idempotent(user, "key-1", "fp", lambda: (201, {}))
    assert idempotency.key_used(user, "key-1") and not idempotency.key_used(user, "key-2")
