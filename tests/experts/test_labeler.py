"""The labeler: generalisation on the held-out corpus (never trained on), Chinese and English, and the
``tastemaker labels classify`` / ``eval`` command-line tools."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from tastemaker.experts import corpus, labeler

# measured with the shipped model: overall 0.994, en 0.994, zh 0.994 (1,440 held-out template sentences; the
# real measure is the hand-written evaluation set: test_natural_eval.py); floors leave a small margin
FLOOR_OVERALL = 0.95
FLOOR_PER_LANGUAGE = 0.95
FLOOR_PER_VERTICAL = 0.90


@pytest.fixture(scope="module")
def heldout_result():
    return labeler.evaluate(corpus.load(corpus.HELDOUT_FILE))


def test_heldout_is_never_trained_on_and_has_unseen_vocabulary():
    train = {r["text"] for r in corpus.load(corpus.TRAIN_FILE)}
    heldout = corpus.load(corpus.HELDOUT_FILE)
    assert len(train) >= 12 * 2 * 200 and len(heldout) >= 12 * 2 * 50
    assert not train & {r["text"] for r in heldout}
    # every vertical's held-out-only products really are absent from the training sentences
    train_blob = "\n".join(train)
    for vertical, langs in corpus.VOCAB.items():
        for lang, (items, _d, _c) in langs.items():
            for unseen in items[-corpus.ITEMS_HOLD:]:
                assert unseen not in train_blob, (vertical, lang, unseen)


def test_corpus_file_is_what_the_generator_writes():
    assert corpus.generate("train") == corpus.load(corpus.TRAIN_FILE)
    assert corpus.generate("heldout") == corpus.load(corpus.HELDOUT_FILE)


def test_heldout_accuracy_overall_and_per_language(heldout_result):
    assert heldout_result["accuracy"] >= FLOOR_OVERALL, heldout_result
    assert set(heldout_result["per_language"]) == {"en", "zh"}
    for lang, value in heldout_result["per_language"].items():
        assert value["accuracy"] >= FLOOR_PER_LANGUAGE, (lang, value)
    assert len(heldout_result["per_vertical"]) == 12
    for vertical, value in heldout_result["per_vertical"].items():
        assert value["accuracy"] >= FLOOR_PER_VERTICAL, (vertical, value)


@pytest.mark.parametrize(("text", "vertical"), [
    ("这款防晒霜很清爽，油皮夏天必备", "beauty"),
    ("New mechanical keyboard for coding, the battery life is great", "tech"),
    ("我家猫咪超爱这款冻干零食", "pets"),
    ("Packing cubes and a carry-on suitcase for my weekend getaway", "travel"),
    ("宝宝的安全座椅怎么选？新手爸妈看过来", "parenting"),
])
def test_real_sentences(text, vertical):
    pred = labeler.get_labeler().predict(text)
    assert pred.vertical == vertical
    assert abs(sum(pred.scores.values()) - 1) < 0.01


def test_terms_explain_a_label_without_stopwords():
    terms = labeler.get_labeler().terms("The best sunscreen for oily skin, non-greasy and fragrance-free", "beauty")
    assert "sunscreen" in terms
    assert not {"the", "for", "and"} & set(terms)


def test_model_ships_in_the_package_and_nothing_is_trained_or_written_at_run_time(settings, tmp_path,
                                                                                   monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("the labeler tried to reach the network")

    settings.DATA_DIR = tmp_path
    labeler.forget()
    monkeypatch.setattr(socket.socket, "connect", no_network)  # weights come from the installed packages
    monkeypatch.setattr(socket, "create_connection", no_network)
    lab = labeler.get_labeler()
    assert lab.predict("这款防晒霜很清爽，油皮夏天必备").vertical == "beauty"
    assert labeler.MODEL_FILE.exists() and labeler.MODEL_FILE.stat().st_size < 1_000_000
    assert lab.version == labeler.Labeler().version and labeler.model_version() == labeler.file_hash()
    assert not hasattr(labeler, "train") and not list(tmp_path.iterdir())


def _run(*args, stdin: str = "") -> tuple[str, str, int]:
    out, err = io.StringIO(), io.StringIO()
    from tastemaker.experts.management.commands.labels import Command

    cmd = Command(stdout=out, stderr=err)
    cmd.stdin = io.StringIO(stdin)
    code = 0
    try:
        call_command(cmd, *args)
    except SystemExit as exc:
        code = exc.code
    return out.getvalue(), err.getvalue(), code


def test_classify_writes_one_line_per_valid_input_and_reports_bad_lines():
    stdin = "\n".join([
        json.dumps({"text": "这款防晒霜很清爽"}),
        "",
        "{not json",
        json.dumps({"text": ""}),
        json.dumps(["text"]),
        json.dumps({"text": "A great gaming mouse and headset for late-night sessions"}, ensure_ascii=False),
    ]) + "\n"
    out, err, code = _run("classify", stdin=stdin)
    lines = [json.loads(line) for line in out.splitlines()]
    assert [row["vertical"] for row in lines] == ["beauty", "gaming"]
    assert set(lines[0]["scores"]) == set(corpus.VOCAB) and lines[0]["scores"]["beauty"] > 0.5
    assert "line 2: empty line" in err
    assert "line 3: not valid JSON" in err
    assert 'line 4: "text" must be a non-empty string' in err
    assert "line 5: expected a JSON object" in err
    assert code == 1


def test_classify_clean_input_exits_zero():
    out, err, code = _run("classify", stdin=json.dumps({"text": "running shoes"}) + "\n")
    assert code == 0 and err == "" and json.loads(out)["vertical"] == "fitness"


def test_eval_prints_accuracy_overall_per_vertical_and_language(tmp_path):
    path = tmp_path / "eval.jsonl"
    path.write_text("\n".join([
        json.dumps({"text": "这款防晒霜很清爽", "vertical": "beauty"}, ensure_ascii=False),
        json.dumps({"text": "best mechanical keyboard for coding", "vertical": "tech"}),
        json.dumps({"text": "best mechanical keyboard for coding", "vertical": "food"}),
        "garbage",
        json.dumps({"text": "no vertical"}),
    ]) + "\n", encoding="utf-8")
    out, err, code = _run("eval", str(path))
    assert "top-1 accuracy: 0.6667 (3 texts)" in out
    assert "zh         1.0000  (n=1)" in out and "en         0.5000  (n=2)" in out
    assert "food       0.0000  (n=1)" in out and "beauty     1.0000  (n=1)" in out
    assert "line 4: not valid JSON" in err and 'line 5: "vertical" must be' in err
    assert code == 1
    out, _err, _code = _run("eval", str(path), "--json")
    assert json.loads(out)["per_language"]["zh"]["accuracy"] == 1.0


def test_eval_missing_file_is_a_clear_error(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="cannot read"):
        call_command("labels", "eval", str(tmp_path / "nope.jsonl"))


def test_label_many_matches_predict_and_terms():
    lab = labeler.get_labeler()
    texts = ["The best sunscreen for oily skin, non-greasy", "我家猫咪超爱这款冻干零食", "running shoes"]
    for text, pred in zip(texts, lab.label_many(texts), strict=True):
        single = lab.predict(text)
        assert pred.vertical == single.vertical and abs(pred.confidence - single.confidence) < 1e-5
        assert pred.terms == lab.terms(text, pred.vertical)
