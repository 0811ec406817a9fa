"""The labeler on posts as people write them: a hand-written evaluation set (tests/experts/data/, never
trained on: the training code cannot see this directory, and a test below checks the texts are not in the
training data), off-topic posts that must get no label, readable reasons, and a model that is never
trained or loaded inside a request."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from pathlib import Path

import pytest

from tastemaker.experts import labeler, training

DATA = Path(__file__).with_name("data")
EVAL_FILE = DATA / "eval_natural.jsonl"
OFF_TOPIC_FILE = DATA / "eval_offtopic.jsonl"

# measured with the shipped model (threshold 0.5): overall 0.950; en 0.967, zh 0.933; plain 0.958,
# colloquial 0.942; worst vertical gaming 0.85; off-topic posts labelled 0.05. The floors are the goals of
# issue 16, with a little room above them where the measure allows.
FLOOR_OVERALL = 0.92
FLOOR_PER_LANGUAGE = 0.90
FLOOR_PER_STYLE = 0.90
FLOOR_PER_VERTICAL = 0.80
MAX_OFF_TOPIC_LABELLED = 0.10


def _load(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture(scope="module")
def evaluation():
    return _load(EVAL_FILE)


@pytest.fixture(scope="module")
def result(evaluation):
    return labeler.evaluate(evaluation, threshold=0.5)


def test_the_evaluation_set_covers_every_vertical_both_languages_and_styles(evaluation):
    from tastemaker.experts.corpus import VOCAB

    cells: dict[tuple[str, str, str], int] = {}
    for row in evaluation:
        key = (row["vertical"], row["lang"], row["style"])
        cells[key] = cells.get(key, 0) + 1
    assert {v for v, _l, _s in cells} == set(VOCAB)
    assert all(cells.get((v, lang, style), 0) >= 5 for v in VOCAB for lang in ("en", "zh")
               for style in ("plain", "colloquial"))
    assert len(_load(OFF_TOPIC_FILE)) >= 80


def _shingles(text: str) -> set[str]:
    text = re.sub(r"\W+", "", text.lower())
    return {text[i:i + 3] for i in range(max(1, len(text) - 2))}


def test_no_evaluation_text_is_in_the_training_data(evaluation):
    """Not the same text, and not a near copy (3-character shingles overlapping 80% or more)."""
    train = sorted(training.training_texts())
    evaluated = [r["text"] for r in evaluation] + [r["text"] for r in _load(OFF_TOPIC_FILE)]
    normalised = {re.sub(r"\W+", "", t.lower()) for t in train}
    assert not [t for t in evaluated if re.sub(r"\W+", "", t.lower()) in normalised]
    shingled = [_shingles(t) for t in train]
    index: dict[str, list[int]] = {}
    for i, shingles in enumerate(shingled):
        for shingle in shingles:
            index.setdefault(shingle, []).append(i)
    for text in evaluated:
        mine = _shingles(text)
        shared = Counter(i for shingle in mine for i in index.get(shingle, ()))
        for i, n in shared.items():
            assert n / len(mine | shingled[i]) < 0.8, (text, train[i])


def test_the_shipped_model_is_built_from_the_training_data_in_the_package():
    """A changed training file without a rebuilt model fails here (the version digests the files)."""
    import hashlib

    digest = hashlib.sha256(training.MODEL_VERSION.encode())
    for path in (labeler.NATURAL_TRAIN_FILE, labeler.VOCABULARY_FILE, training.corpus.TRAIN_FILE):
        digest.update(path.read_bytes())
    assert labeler.get_labeler().version == f"{training.MODEL_VERSION}-{digest.hexdigest()[:12]}"


def test_accuracy_on_natural_posts_overall_per_language_style_and_vertical(result):
    assert result["accuracy"] >= FLOOR_OVERALL, result
    assert set(result["per_language"]) == {"en", "zh"}
    for lang, value in result["per_language"].items():
        assert value["accuracy"] >= FLOOR_PER_LANGUAGE, (lang, value)
    assert set(result["per_style"]) == {"plain", "colloquial"}
    for style, value in result["per_style"].items():
        assert value["accuracy"] >= FLOOR_PER_STYLE, (style, value)
    assert len(result["per_vertical"]) == 12
    for vertical, value in result["per_vertical"].items():
        assert value["accuracy"] >= FLOOR_PER_VERTICAL, (vertical, value)


def test_off_topic_posts_get_no_label(settings):
    texts = [r["text"] for r in _load(OFF_TOPIC_FILE)]
    assert labeler.false_label_rate(texts, threshold=settings.LABEL_MIN_CONFIDENCE) <= MAX_OFF_TOPIC_LABELLED
    assert labeler.get_labeler().predict("Good morning everyone, happy Friday!").confidence < 0.5


_STOP = labeler.STOPWORDS | labeler.STOPWORDS_ZH


def test_reasons_are_real_words_of_the_post(evaluation):
    lab = labeler.get_labeler()
    shown = 0
    for row, pred in zip(evaluation, lab.label_many([r["text"] for r in evaluation]), strict=True):
        text = labeler.normalise(row["text"])
        for term in pred.terms:
            shown += 1
            assert term in text, (term, row["text"])  # a word or phrase the post really contains
            assert term not in _STOP, (term, row["text"])
            assert not re.search(r"[\u4e00-\u9fff] +[\u4e00-\u9fff]", term), term  # no "这 款"
            if labeler.is_chinese(term):
                assert len(term) >= 2, term
            else:  # an English term is whole words: it does not start or end inside a word of the post
                assert re.search(rf"(?<![a-z]){re.escape(term)}(?![a-z])", text), (term, row["text"])
    assert shown >= len(evaluation)  # most posts have reasons


@pytest.mark.parametrize(("text", "vertical", "expected"), [
    ("这支唇釉yyds！黄皮显白，防晒霜也回购了", "beauty", {"唇釉", "防晒霜"}),
    ("开了星露谷物语的新农场", "gaming", {"星露谷物语"}),
    ("Switched to a gentle cleanser after my skin barrier got wrecked by retinol", "beauty",
     {"cleanser", "skin barrier", "retinol"}),
])
def test_reasons_keep_names_and_phrases_whole(text, vertical, expected):
    terms = labeler.get_labeler().terms(text, vertical)
    assert expected <= set(terms), terms
    assert not {"星露", "谷物", "skin", "barrier"} & set(terms)


@pytest.mark.django_db
def test_the_chinese_page_shows_chinese_terms_and_the_english_page_english_ones(make_user):
    from django.utils import translation

    from tastemaker.experts import selectors, services
    from tastemaker.experts.models import AbilityLabel, Vertical

    terms = services.label_terms([["sunscreen", "防晒霜"], ["防晒霜", "面膜", "serum"], ["sunscreen"]])
    assert terms == ["防晒霜", "面膜", "sunscreen", "serum"]
    label = AbilityLabel(user=make_user("mixed"), vertical=Vertical.objects.get(slug="beauty"), terms=terms,
                         post_count=3, share=1.0, consistency=0.5)
    with translation.override("zh-hans"):
        assert selectors.terms_for_display(label) == ["防晒霜", "面膜"]
        assert "sunscreen" not in selectors.reason_text(label) and "防晒霜、面膜" in selectors.reason_text(label)
    with translation.override("en"):
        assert selectors.terms_for_display(label) == ["sunscreen", "serum"]
    label.terms = ["防晒霜"]  # no English term: the Chinese one rather than none
    assert selectors.terms_for_display(label, "en") == ["防晒霜"]


# --- never inside a request ---------------------------------------------------------------------

@pytest.mark.django_db
def test_first_showcase_post_on_a_fresh_data_dir_answers_within_3_s(fresh_process, make_user, card_input, store,
                                                                    django_capture_on_commit_callbacks):
    """The request never classifies: the card's vertical is guessed by a job after commit (which may wait
    for the model; no request does)."""
    from tastemaker.showcase.cards import do_create_showcase_post
    from tastemaker.showcase.models import ProductCard

    creator = make_user("maker")
    with django_capture_on_commit_callbacks(execute=False) as jobs:
        started = time.perf_counter()
        post = do_create_showcase_post(creator, text="", card=card_input(creator))
        assert time.perf_counter() - started <= 3.0
    assert post.card.vertical is None  # not guessed in the request
    for job in jobs:
        job()  # the consumer's part: fan-out, and the vertical's guess (waits for the model if it must)
    assert ProductCard.objects.get(post=post).vertical.slug == "beauty"


def test_classification_in_the_request_path_is_fast():
    """≤ 5 ms per post (p99) once loaded; the benchmark (make bench, figure g) measures it properly."""
    lab = labeler.get_labeler()
    texts = [r["text"] for r in _load(EVAL_FILE)][:60]
    times = []
    for text in texts:
        started = time.thread_time()  # CPU time: the neighbours on a shared test machine do not count
        lab.predict(text)
        times.append(time.thread_time() - started)
    times.sort()
    assert times[len(times) // 2] <= 0.010  # the median, with room for a busy machine's slower caches


def test_a_model_that_cannot_load_leaves_posts_unlabelled_and_is_not_retried_in_every_request(fresh_process,
                                                                                              monkeypatch):
    from tastemaker.experts import selectors

    def broken(*args, **kwargs):
        raise OSError("model file unreadable")

    monkeypatch.setattr(labeler, "Labeler", broken)
    assert selectors.classify("running shoes").ready is False
    assert not labeler.wait_until_ready(10)  # the background load failed (and logged why)
    first = labeler._warm_thread
    assert selectors.classify("running shoes").ready is False and selectors.vertical_for_text("running") is None
    assert labeler._warm_thread is first  # no new attempt until RETRY_SECONDS have passed
    monkeypatch.undo()
    labeler.forget()
