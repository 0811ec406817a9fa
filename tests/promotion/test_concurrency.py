"""Real concurrent connections (threads, each with its own connection; SQLite WAL file or PostgreSQL):
deliveries racing each other and the capture job never pass the budget, never bill twice, and the books and
reconcile agree afterwards."""

from __future__ import annotations

import pytest

from payments.conftest import assert_ledger_invariants, run_threads
from tastemaker.payments.ledger import platform_account, wallet_for
from tastemaker.promotion import selectors, services
from tastemaker.promotion.models import Campaign, Charge
from tastemaker.promotion.services import Delivered


@pytest.mark.django_db(transaction=True)
def test_racing_deliveries_and_captures(concurrent_db, make_user, fund):
    from tastemaker.social.services import do_create_post

    owner = make_user()
    fund(owner, 50_000)
    post = do_create_post(owner, text="Racing noodles, all of them hand-pulled")
    # 3.00 an impression, 20.00 budget: six fit, the seventh would pass it
    campaign = services.do_create_campaign(owner, tool="passerby", post_id=post.pk, budget=2_000, bid=300_000)
    viewers = [make_user() for _ in range(12)]
    jobs = [("deliver", v) for v in viewers] + [("deliver", v) for v in viewers[:4]] + [("settle", None)] * 4

    def work(job):
        kind, viewer = job
        if kind == "settle":
            return services.do_settle_charges()
        return services.do_record_delivery(viewer, [Delivered(campaign.pk)])

    results = run_threads(4, jobs, work)
    assert not [r for r in results if isinstance(r, Exception)], results
    services.do_settle_charges()
    c = Campaign.objects.get(pk=campaign.pk)
    assert Charge.objects.filter(campaign=c).count() == 6
    assert c.captured == 1_800 and c.status == "exhausted" and c.closed
    assert platform_account("promotion_spend", "CNY").balance == 1_800
    assert wallet_for(owner, "CNY").balance == 50_000 - 1_800
    assert selectors.reconcile_campaigns() == []
    assert_ledger_invariants()
