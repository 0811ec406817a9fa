"""Ability labels: scores and reasons from what creators post, background recomputes, appeals,
expert applications and badges."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tastemaker.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tastemaker.experts import selectors, services, tasks
from tastemaker.experts.models import AbilityLabel, ExpertBadge, Vertical
from tastemaker.social.services import do_create_post, do_favourite

pytestmark = pytest.mark.django_db


def test_default_verticals_exist_with_both_names():
    slugs = list(Vertical.objects.values_list("slug", flat=True))
    assert slugs == ["beauty", "fashion", "tech", "parenting", "food", "travel", "fitness", "home", "auto", "pets",
                     "books", "gaming"]
    assert Vertical.objects.get(slug="beauty").name_zh == "美妆"


def test_label_from_posts_with_reason(make_creator):
    alice = make_creator("alice", "beauty", n=8)
    labels = selectors.visible_labels(alice)
    assert labels and labels[0].vertical.slug == "beauty"
    top = labels[0]
    assert top.post_count >= 6 and top.share > 0.7 and 0 < top.consistency <= 1
    assert top.terms and len(top.sample_post_ids) == 3
    assert "beauty" in selectors.reason_text(top).lower()


def test_chinese_creator_labelled(make_creator):
    wang = make_creator("wang", "food", n=6, lang="zh")
    assert selectors.visible_labels(wang)[0].vertical.slug == "food"


def test_mixed_creator_has_two_labels_strongest_first(make_creator, vertical_text):
    bob = make_creator("bob", "tech", n=8)
    for _ in range(3):
        do_create_post(bob, text=vertical_text("gaming"))
    services.do_recompute_labels(bob)
    slugs = [lab.vertical.slug for lab in selectors.all_labels(bob)]
    assert slugs[0] == "tech" and "gaming" in slugs


def test_engagement_raises_the_score(make_user, make_creator):
    a = make_creator("quiet", "pets", n=5)
    b = make_creator("loved", "pets", n=5)
    fans = [make_user(f"fan{i}") for i in range(6)]
    for post in b.posts.all():
        for fan in fans:
            do_favourite(fan, post)
    services.do_recompute_labels(b)
    score = lambda u: AbilityLabel.objects.get(user=u, vertical__slug="pets").score  # noqa: E731
    assert score(b) > score(a)


def test_private_posts_and_chit_chat_do_not_count(make_user):
    carol = make_user("carol")
    for _ in range(5):
        do_create_post(carol, text="The best sunscreen for oily skin, non-greasy", visibility="private")
    do_create_post(carol, text="Thanks everyone, see you tomorrow!")
    assert services.do_recompute_labels(carol) == []


def test_label_removed_on_appeal_stays_removed_after_recompute(make_creator, make_user):
    dan = make_creator("dan", "fitness")
    op = make_user("op", is_staff=True)
    fitness = Vertical.objects.get(slug="fitness")
    appeal = services.do_appeal_label(dan, fitness, "I only post about my own training, not products")
    with pytest.raises(Conflict):
        services.do_appeal_label(dan, fitness, "again")
    with pytest.raises(Forbidden):
        services.do_review_appeal(dan, appeal, accept=True)
    services.do_review_appeal(op, appeal, accept=True, note="ok")
    assert selectors.visible_labels(dan) == []
    services.do_recompute_labels(dan)
    assert AbilityLabel.objects.get(user=dan, vertical=fitness).suppressed
    assert selectors.visible_labels(dan) == []


def test_appeal_validation(make_user, make_creator):
    eve = make_user("eve")
    books = Vertical.objects.get(slug="books")
    with pytest.raises(NotFound):
        services.do_appeal_label(eve, books, "not mine")
    with pytest.raises(ValidationFailed):
        services.do_appeal_label(eve, books, "   ", kind="missing")
    missing = services.do_appeal_label(eve, books, "I review books every week", kind="missing")
    assert missing.status == "pending" and missing.label is None


def test_rejected_appeal_keeps_label(make_creator, make_user):
    fay = make_creator("fay", "home")
    op = make_user("op2", is_staff=True)
    appeal = services.do_appeal_label(fay, Vertical.objects.get(slug="home"), "wrong")
    services.do_review_appeal(op, appeal, accept=False)
    assert selectors.visible_labels(fay)[0].vertical.slug == "home"


def test_expert_application_thresholds_approval_and_badge(make_creator, make_user, settings):
    settings.EXPERT_MIN_FOLLOWERS = 2
    settings.EXPERT_MIN_SCORE = 30
    gus = make_creator("gus", "auto", n=8)
    auto = Vertical.objects.get(slug="auto")
    with pytest.raises(ValidationFailed, match="Followers"):
        services.do_apply_for_expert(gus, auto)
    gus.followers_count = 5
    gus.date_joined = timezone.now() - timedelta(days=30)
    gus.save()
    with pytest.raises(ValidationFailed, match="Ability score"):
        services.do_apply_for_expert(gus, Vertical.objects.get(slug="books"))
    application = services.do_apply_for_expert(gus, auto, "I fix cars for a living")
    with pytest.raises(Conflict):
        services.do_apply_for_expert(gus, auto)
    op = make_user("op3", is_staff=True)
    services.do_review_application(op, application, approve=True)
    assert ExpertBadge.objects.filter(user=gus, vertical=auto).exists()
    assert selectors.badge_map([gus.pk]) == {gus.pk: ["auto"]}
    with pytest.raises(Conflict, match="already an expert"):
        services.do_apply_for_expert(gus, auto)


def test_suspended_account_is_not_eligible(make_creator, settings):
    settings.EXPERT_MIN_FOLLOWERS = 0
    settings.EXPERT_MIN_ACCOUNT_DAYS = 0
    hal = make_creator("hal", "books", n=8)
    hal.is_suspended = True
    hal.save()
    assert not all(r.met for r in selectors.eligibility(hal, Vertical.objects.get(slug="books")))


def test_periodic_job_labels_creators_who_posted_since_last_run(make_creator):
    ivy = make_creator("ivy", "travel", label=False)
    assert AbilityLabel.objects.filter(user=ivy).count() == 0
    assert tasks.label_recent_creators() >= 1
    assert AbilityLabel.objects.filter(user=ivy, vertical__slug="travel").exists()
    type(ivy).objects.filter(pk=ivy.pk).update(last_status_at=timezone.now() - timedelta(minutes=1))
    assert tasks.label_recent_creators() == 0  # nobody posted since the last run


def test_nightly_recompute_drops_labels_no_longer_earned(make_creator):
    jo = make_creator("jo", "gaming")
    jo.posts.all().delete()
    tasks.recompute_all()
    assert not AbilityLabel.objects.filter(user=jo).exists()


def test_directory_ranks_by_ability_and_skips_suspended(make_creator, make_user):
    strong = make_creator("strong", "tech", n=10)
    weak = make_creator("weak", "tech", n=5)
    fans = [make_user(f"f{i}") for i in range(4)]
    for post in strong.posts.all():
        for fan in fans:
            do_favourite(fan, post)
    services.do_recompute_labels(strong)
    tech = Vertical.objects.get(slug="tech")
    assert [lab.user_id for lab in selectors.directory(tech)][:2] == [strong.pk, weak.pk]
    strong.is_suspended = True
    strong.save()
    assert strong.pk not in [lab.user_id for lab in selectors.directory(tech)]


def test_labels_recompute_command(make_creator, capsys):
    from django.core.management import call_command

    make_creator("kim", "pets", label=False)
    call_command("labels", "recompute", "--user", "kim")
    assert "@kim: 1 labels" in capsys.readouterr().out


def test_admin_pages_for_operators(client, make_user, make_creator):
    from django.urls import reverse

    lee = make_creator("lee", "fashion")
    services.do_appeal_label(lee, Vertical.objects.get(slug="fashion"), "hmm")
    admin = make_user("root_op", is_staff=True, is_superuser=True)
    client.force_login(admin)
    for model in ("vertical", "abilitylabel", "labelappeal", "expertapplication", "expertbadge"):
        assert client.get(reverse(f"admin:experts_{model}_changelist")).status_code == 200
    appeal_id = lee.label_appeals.get().pk
    response = client.post(reverse("admin:experts_labelappeal_changelist"),
                           {"action": "accept_appeal", "_selected_action": [appeal_id]})
    assert response.status_code == 302
    assert lee.label_appeals.get().status == "accepted"
    assert selectors.visible_labels(lee) == []


def test_engagement_per_impression_when_analytics_counts_them(make_creator, make_user):
    from tastemaker.analytics.models import Stat
    from tastemaker.experts.selectors import impressions_for

    seen = make_creator("seen", "food", n=5)
    ids = list(seen.posts.values_list("pk", flat=True))
    fan = make_user("fanx")
    for pid in ids:
        do_favourite(fan, seen.posts.get(pk=pid))
    before = AbilityLabel.objects.get(user=seen, vertical__slug="food")
    services.do_recompute_labels(seen)
    per_post = AbilityLabel.objects.get(user=seen, vertical__slug="food").engagement
    for pid in ids:  # 1 like per 1,000 impressions: poorly received
        Stat.objects.create(subject_type="post", subject_id=pid, owner_id=seen.pk, granularity="t", dimension="",
                            value="", metric="impression", bucket=0, count=1000)
    assert impressions_for(ids) == dict.fromkeys(ids, 1000)
    services.do_recompute_labels(seen)
    per_impression = AbilityLabel.objects.get(user=seen, vertical__slug="food").engagement
    assert per_impression < per_post and before.pk
