"""Mastodon.py's report() reaches the moderators' queue."""

from __future__ import annotations

import os

import pytest
from mastodon import Mastodon

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.client, pytest.mark.django_db(transaction=True)]

PASSWORD = "Corr3ct-Horse-Battery"


def test_mastodon_py_report(live_server):
    from tastemaker.moderation.models import Case

    base = live_server.url
    client_id, client_secret = Mastodon.create_app("reports-test", scopes=["read", "write"], api_base_url=base,
                                                   redirect_uris="urn:ietf:wg:oauth:2.0:oob")
    tokens = {}
    for name in ("spammer", "reporter"):
        anon = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)
        tokens[name] = anon.create_account(name, PASSWORD, f"{name}@example.org", agreement=True,
                                           scopes=["read", "write"])
    spammer = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base,
                       access_token=tokens["spammer"])
    reporter = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base,
                        access_token=tokens["reporter"])
    status = spammer.status_post("cheap followers, DM me")
    account = spammer.account_verify_credentials()
    report = reporter.report(account.id, status_ids=[status.id], comment="selling followers", category="spam")
    assert report.category == "spam" and report.action_taken is False
    assert str(report.target_account.id) == str(account.id)
    assert [str(s) for s in report.status_ids] == [str(status.id)]
    case = Case.objects.get()
    assert case.target_id == int(status.id) and case.reports_count == 1
