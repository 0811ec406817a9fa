"""Learned interests never classify in the request: they read stored post labels, and a job labels the posts
nobody labelled yet, after commit, for the next computation (issue 16: ≤ 5 ms per post in the request path)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tastemaker.discovery import selectors, services
from tastemaker.experts import labeler
from tastemaker.experts.models import PostLabel, Vertical
from tastemaker.social import services as social

pytestmark = pytest.mark.django_db


def _refuse(*_args, **_kwargs):
    raise AssertionError("the labeler classified a post in the request path")


@pytest.fixture
def unlabelled_engagement(make_user, make_creator):
    """A reader who liked four posts of a pets author whose posts were never labelled."""
    reader = make_user("reader")
    author = make_creator("petauthor", "pets", label=False)
    posts = list(author.posts.all()[:4])
    for post in posts:
        social.do_favourite(reader, post)
    assert not PostLabel.objects.filter(post__in=posts).exists()
    return reader, posts


def test_the_interests_page_never_calls_the_model_and_a_job_labels_the_posts(
        client, unlabelled_engagement, monkeypatch, django_capture_on_commit_callbacks):
    reader, posts = unlabelled_engagement
    labeler.get_labeler()  # loaded: the old code would classify with it right in the request
    monkeypatch.setattr(labeler.Labeler, "label_many", _refuse)
    client.force_login(reader)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.get(reverse("web:interests"))
    assert response.status_code == 200
    assert not PostLabel.objects.filter(post__in=posts).exists()  # nothing classified in the request
    assert selectors.learned_interests(reader).unlabelled == sorted(p.pk for p in posts)
    assert queued  # … but a job is queued after commit
    monkeypatch.undo()
    for callback in queued:
        callback()  # the job (huey runs it at once in tests) labels them
    assert PostLabel.objects.filter(post__in=posts).count() == len(posts)
    assert selectors.learned_interests(reader).unlabelled == []
    pets = Vertical.objects.get(slug="pets")
    weights = services.do_recompute_learned_interests(reader)  # the next computation counts them
    assert weights[pets.pk] >= 0.8


def test_recomputing_interests_reads_stored_labels_only(unlabelled_engagement, monkeypatch,
                                                        django_capture_on_commit_callbacks):
    reader, posts = unlabelled_engagement
    monkeypatch.setattr(labeler.Labeler, "label_many", _refuse)
    monkeypatch.setattr(labeler, "get_labeler", _refuse)
    monkeypatch.setattr(labeler, "ready_labeler", _refuse)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert services.do_recompute_learned_interests(reader) == {}
    assert len(queued) == 1
    # already labelled posts queue nothing
    monkeypatch.undo()
    queued[0]()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert services.do_recompute_learned_interests(reader)
    assert queued == []


def test_the_label_job_skips_labelled_and_empty_posts(unlabelled_engagement):
    from tastemaker.experts.services import do_label_post_ids

    _reader, posts = unlabelled_engagement
    ids = [p.pk for p in posts]
    assert do_label_post_ids(ids) == len(ids)
    assert do_label_post_ids(ids) == 0  # idempotent: labelled by the current model already
    assert do_label_post_ids([]) == 0
