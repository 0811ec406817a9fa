"""seed-demo runs that need an empty database of their own (test_seed_demo.py shares one seeded community)."""

from __future__ import annotations

import pytest

from tastemaker.accounts.models import User

from .test_seed_demo import seed


def test_same_seed_same_community(db):
    from django.db import transaction

    # the ledger is append-only (its rows cannot be deleted), so the first community is rolled back instead
    first = transaction.savepoint()
    seed(users=20, experts=3, posts=50, images=1)
    names = sorted(User.objects.exclude(username="admin").values_list("username", flat=True))
    transaction.savepoint_rollback(first)
    assert not User.objects.exists()
    seed(users=20, experts=3, posts=50, images=1)
    assert sorted(User.objects.exclude(username="admin").values_list("username", flat=True)) == names


def test_rejects_bad_numbers(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        seed(users=5, experts=5)
