"""Idempotency-key rules (single connection), the read-only admin, the periodic sweep, settings checks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tastemaker.payments import idempotency, selectors, services
from tastemaker.payments.models import IdempotencyRecord, TopUp, Transaction

pytestmark = pytest.mark.django_db


def transfer_act(payer, payee, amount):
    def act():
        tx = services.do_transfer(payer, payee, amount, "CNY")
        return 201, {"id": str(tx.pk), "amount": amount, "note": "转账 ok"}

    return act


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\tkey", "new\nline", "   ", "ключ", None])
def test_key_format(key):
    with pytest.raises(idempotency.MissingIdempotencyKey) as exc:
        idempotency.require_key(key)
    assert exc.value.status == 400


def test_valid_keys():
    for key in ("a", "x" * 255, "550e8400-e29b-41d4-a716-446655440000", "with space ~!@#"):
        assert idempotency.require_key(key) == key


def test_fingerprint_ignores_key_order_not_values():
    fp = idempotency.request_fingerprint
    assert fp("POST", "/t", {"a": 1, "b": 2}) == fp("post", "/t", {"b": 2, "a": 1}) == fp("POST", "/t", b'{"b":2, "a":1}')
    assert fp("POST", "/t", {"a": 1}) != fp("POST", "/t", {"a": 2}) != fp("POST", "/u", {"a": 2})
    assert fp("POST", "/t", b"not json") != fp("POST", "/t", b"not json!")


def test_replay_is_byte_identical_and_errors_are_replayed_too(make_user, fund):
    payer, payee = make_user(), make_user()
    fund(payer, 1_000)
    fp = idempotency.request_fingerprint("POST", "/t", {"amount": 600})
    first = idempotency.run_idempotent(payer, "k1", fp, transfer_act(payer, payee, 600))
    again = idempotency.run_idempotent(payer, "k1", fp, transfer_act(payer, payee, 600))
    assert (first.status, first.replayed, again.replayed) == (201, False, True)
    assert again.body == first.body and "转账" in first.body
    # a failed request (insufficient funds) is stored and replayed as it was, even after funding
    fp2 = idempotency.request_fingerprint("POST", "/t", {"amount": 600, "n": 2})
    failed = idempotency.run_idempotent(payer, "k2", fp2, transfer_act(payer, payee, 600))
    assert failed.status == 409 and "Insufficient" in failed.body
    fund(payer, 5_000)
    assert idempotency.run_idempotent(payer, "k2", fp2, transfer_act(payer, payee, 600)).body == failed.body
    assert Transaction.objects.filter(kind="transfer").count() == 1
    # keys belong to a user: another user's same key is a different request
    fund(payee, 100)
    other = idempotency.run_idempotent(payee, "k1", fp, transfer_act(payee, payer, 50))
    assert not other.replayed and other.status == 201
    with pytest.raises(idempotency.IdempotencyKeyReused) as exc:
        idempotency.run_idempotent(payer, "k1", idempotency.request_fingerprint("POST", "/t", {"amount": 601}),
                                   transfer_act(payer, payee, 601))
    assert exc.value.status == 422


def test_unexpected_failure_stores_nothing(make_user, fund):
    payer, payee = make_user(), make_user()
    fund(payer, 1_000)

    def boom():
        services.do_transfer(payer, payee, 100, "CNY")
        raise RuntimeError("the process died half-way")

    with pytest.raises(RuntimeError):
        idempotency.run_idempotent(payer, "k", "f" * 64, boom)
    assert not IdempotencyRecord.objects.exists() and selectors.balance(payer).available == 1_000
    retry = idempotency.run_idempotent(payer, "k", "f" * 64, transfer_act(payer, payee, 100))
    assert retry.status == 201 and not retry.replayed


def test_admin_is_read_only(client, make_user, fund):
    operator = make_user("payops", is_staff=True, is_superuser=True)
    fan = make_user()
    tx = fund(fan, 1_000)
    services.do_hold(fan, 100, "CNY")
    client.force_login(operator)
    for model in ("account", "transaction", "entry", "hold", "topup", "withdrawal", "payoutaccount",
                  "providernotification", "sandboxtrade", "reconciliationrun", "idempotencyrecord"):
        response = client.get(reverse(f"admin:payments_{model}_changelist"))
        assert response.status_code == 200, model
        assert reverse(f"admin:payments_{model}_add").encode() not in response.content, model
    page = client.get(reverse("admin:payments_transaction_change", args=[tx.pk]))
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.post(reverse("admin:payments_entry_delete", args=[tx.entries.first().pk]),
                       {"post": "yes"}).status_code == 403


def test_sweep_queries_stale_topups_and_purges_old_keys(make_user, settings):
    from tastemaker.payments.providers import sandbox
    from tastemaker.payments.tasks import sweep_payments

    fan = make_user()
    topup, _url = services.do_start_topup(fan, 900, "CNY", "sandbox")
    sandbox.sandbox_approve(topup.order_no)  # its notification is lost (never committed here)
    TopUp.objects.filter(pk=topup.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    IdempotencyRecord.objects.create(user=fan, key="old", fingerprint="f", status_code=200, response_body="{}",
                                     created_at=timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS + 1))
    IdempotencyRecord.objects.create(user=fan, key="new", fingerprint="f", status_code=200, response_body="{}")
    result = sweep_payments.call_local()
    assert result["queried"] == 1 and result["purged"] == 1
    assert TopUp.objects.get(pk=topup.pk).status == "succeeded" and selectors.balance(fan).available == 900
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_configuration_checks(settings):
    from tastemaker.payments.apps import check_providers, check_sandbox_in_production

    assert check_providers() == []
    settings.PAYMENT_PROVIDERS = ["sandbox", "alipay", "paypal"]
    assert {e.id for e in check_providers()} == {"payments.E001", "payments.E002", "payments.E003"}
    settings.DEBUG = False
    settings.PAYMENT_PROVIDERS = ["sandbox"]
    assert [w.id for w in check_sandbox_in_production()] == ["payments.W001"]
