"""The demo community comes with ability labels: its experts are labelled in their own verticals."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from tastemaker.accounts.models import User
from tastemaker.experts.selectors import visible_labels

pytestmark = pytest.mark.django_db


def test_seeded_experts_are_labelled_in_their_verticals():
    out = io.StringIO()
    call_command("seed_demo", stdout=out, users=80, experts=24, posts=600, images=2, seed=11, no_progress=True)
    assert "ability labels for" in out.getvalue()
    experts = [u for u in User.objects.filter(bio__contains="expert") | User.objects.filter(bio__contains="达人")]
    assert len(experts) == 24
    hits = 0
    for expert in experts:
        labels = visible_labels(expert)
        hits += bool(labels) and labels[0].vertical.slug in expert.interests
    assert hits >= 0.9 * len(experts), hits
