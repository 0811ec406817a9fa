"""The post labeler: text (Chinese or English) -> vertical, with a probability per vertical.

Features: TF-IDF over character n-grams (1-3, within words: robust to unseen compounds such as
眼霜 vs 面霜 and to jieba's context-dependent segmentation) plus TF-IDF over words (jieba with the
project dictionary for Chinese, plain words for Latin text, and word bigrams). Model: multinomial
logistic regression (it gives calibrated-enough probabilities for ``scores`` and per-feature weights
for the *reasons*: the terms that earned a label).

Trained from the corpus shipped in ``data/`` at first use; the fitted model is cached under
``DATA_DIR/models/`` keyed by a hash of the corpus and of this module's ``MODEL_VERSION``, so a
changed corpus retrains automatically. The held-out file is never used for training.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from tastemaker.core.text import _jieba

from . import corpus

log = logging.getLogger(__name__)
MODEL_VERSION = "1"
_lock = threading.Lock()
_WORD_RE = re.compile(r"[a-z0-9][a-z0-9'\-]*|[\u4e00-\u9fff]+")
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
_URL_RE = re.compile(r"https?://\S+")
_MENTION_RE = re.compile(r"@\w+")


def normalise(text: str) -> str:
    text = _URL_RE.sub(" ", text or "")
    text = _MENTION_RE.sub(" ", text)
    return text.replace("#", " ").lower()


def words(text: str) -> list[str]:
    """Word features: jieba words for Chinese runs, words for Latin text (already normalised)."""
    out: list[str] = []
    for chunk in _WORD_RE.findall(text):
        if _CJK_RE.match(chunk):
            out.extend(w for w in _jieba().lcut(chunk) if w.strip())
        else:
            out.append(chunk)
    return out


def language_of(text: str) -> str:
    cjk = len(_CJK_RE.findall(text or ""))
    return "zh" if cjk and cjk * 3 >= len(re.sub(r"\s", "", text or "")) * 0.5 else "en"


@dataclass
class Prediction:
    vertical: str
    confidence: float
    scores: dict[str, float]


class Labeler:
    def __init__(self, pipeline):
        self.pipeline = pipeline
        self.classes: list[str] = list(pipeline.classes_)
        union = pipeline.named_steps["features"]
        self._word_vec = dict(union.transformer_list)["words"]
        self._word_names = self._word_vec.get_feature_names_out()
        clf = pipeline.named_steps["clf"]
        n_char = len(dict(union.transformer_list)["chars"].get_feature_names_out())
        self._word_coef = clf.coef_[:, n_char:]

    def predict_many(self, texts: list[str]) -> list[Prediction]:
        if not texts:
            return []
        probs = self.pipeline.predict_proba([normalise(t) for t in texts])
        out = []
        for row in probs:
            best = int(row.argmax())
            out.append(Prediction(self.classes[best], float(row[best]),
                                  {c: round(float(p), 4) for c, p in zip(self.classes, row, strict=True)}))
        return out

    def label_many(self, texts: list[str], n_terms: int = 5) -> list[tuple[Prediction, list[str]]]:
        """Predictions with their reason terms, from one feature transform of the batch."""
        if not texts:
            return []
        features = self.pipeline.named_steps["features"].transform([normalise(t) for t in texts]).tocsr()
        probs = self.pipeline.named_steps["clf"].predict_proba(features)
        n_char = features.shape[1] - self._word_coef.shape[1]
        out = []
        for i, row in enumerate(probs):
            best = int(row.argmax())
            pred = Prediction(self.classes[best], float(row[best]),
                              {c: round(float(p), 4) for c, p in zip(self.classes, row, strict=True)})
            start, end = features.indptr[i], features.indptr[i + 1]
            coef = self._word_coef[best]
            contributions = []
            for idx, value in zip(features.indices[start:end], features.data[start:end], strict=True):
                if idx < n_char:
                    continue
                weight = float(coef[idx - n_char]) * float(value)
                name = self._word_names[idx - n_char]
                if weight > 0 and not _is_stop(name):
                    contributions.append((weight, name))
            contributions.sort(reverse=True)
            out.append((pred, [name for _w, name in contributions[:n_terms]]))
        return out

    def predict(self, text: str) -> Prediction:
        return self.predict_many([text])[0]

    def terms(self, text: str, vertical: str, limit: int = 5) -> list[str]:
        """The words in ``text`` that pushed it most towards ``vertical`` (for a label's reason)."""
        if vertical not in self.classes:
            return []
        vec = self._word_vec.transform([normalise(text)])
        coef = self._word_coef[self.classes.index(vertical)]
        contributions = []
        for idx, value in zip(vec.indices, vec.data, strict=True):
            weight = float(coef[idx]) * float(value)
            name = self._word_names[idx]
            if weight > 0 and not _is_stop(name):
                contributions.append((weight, self._word_names[idx]))
        contributions.sort(reverse=True)
        return [name for _w, name in contributions[:limit]]


STOPWORDS = set("""a an and the for of to in on at my me i it is this that with your you our we be are was
but not so one no yes new why how what which who all any just really very too also here there than from by
as or if its it's i've don't doesn't anyone else else about more most best better get got buy bought""".split())
STOPWORDS_ZH = {"这款", "这个", "一个", "真的", "分享", "真实", "测评", "好用", "入手", "值得", "推荐", "我们", "你们",
                "他们", "自己", "什么", "还有", "就是", "一直", "今天", "本月", "最爱", "回购", "便宜", "划算", "种草"}


def _is_stop(term: str) -> bool:
    parts = term.split()
    if all(p in STOPWORDS or p in STOPWORDS_ZH for p in parts):
        return True
    if _CJK_RE.search(term) and len(term.replace(" ", "")) < 2:
        return True
    return len(term) < 2


def corpus_hash() -> str:
    digest = hashlib.sha256(MODEL_VERSION.encode())
    digest.update(corpus.TRAIN_FILE.read_bytes())
    return digest.hexdigest()[:16]


def build_pipeline():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    return Pipeline([
        ("features", FeatureUnion([
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=2, sublinear_tf=True,
                                      max_features=60_000)),
            ("words", TfidfVectorizer(analyzer=_word_analyzer, min_df=1, sublinear_tf=True)),
        ])),
        ("clf", LogisticRegression(C=8.0, max_iter=2000)),
    ])


def _word_analyzer(text: str) -> list[str]:
    ws = words(text)
    return ws + [f"{a} {b}" for a, b in zip(ws, ws[1:], strict=False)]


def train(rows: list[dict] | None = None):
    rows = rows if rows is not None else corpus.load(corpus.TRAIN_FILE)
    pipeline = build_pipeline()
    pipeline.fit([normalise(r["text"]) for r in rows], [r["vertical"] for r in rows])
    return pipeline


def model_path() -> Path:
    return Path(settings.DATA_DIR) / "models" / f"labeler-{corpus_hash()}.joblib"


@lru_cache(maxsize=1)
def get_labeler() -> Labeler:
    """The trained labeler: loaded from the cache under DATA_DIR, or trained (and cached) once."""
    import fcntl
    import os
    import secrets

    import joblib

    with _lock:
        path = model_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        # one process trains, the others (gunicorn workers, test workers) wait for it and load its file
        with open(path.parent / "labeler.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                pipeline = None
                if path.exists():
                    try:
                        pipeline = joblib.load(path)
                    except Exception:  # a corrupt or incompatible cache (e.g. scikit-learn upgraded)
                        log.warning("labeler cache %s unusable; retraining", path)
                if pipeline is None:
                    pipeline = train()
                    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
                    joblib.dump(pipeline, tmp)
                    tmp.replace(path)  # atomic: a reader never sees half a file
                    for old in path.parent.glob("labeler-*.joblib"):
                        if old != path:
                            old.unlink(missing_ok=True)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        return Labeler(pipeline)


def evaluate(rows: list[dict], labeler: Labeler | None = None) -> dict:
    """Top-1 accuracy overall, per vertical and per language (``lang`` given or detected)."""
    labeler = labeler or get_labeler()
    preds = labeler.predict_many([r["text"] for r in rows])
    total = correct = 0
    per_v: dict[str, list[int]] = {}
    per_l: dict[str, list[int]] = {}
    for row, pred in zip(rows, preds, strict=True):
        ok = int(pred.vertical == row["vertical"])
        total += 1
        correct += ok
        lang = row.get("lang") or language_of(row["text"])
        for table, key in ((per_v, row["vertical"]), (per_l, lang)):
            bucket = table.setdefault(key, [0, 0])
            bucket[0] += ok
            bucket[1] += 1
    return {
        "n": total,
        "accuracy": correct / total if total else 0.0,
        "per_vertical": {k: {"n": n, "accuracy": c / n} for k, (c, n) in sorted(per_v.items())},
        "per_language": {k: {"n": n, "accuracy": c / n} for k, (c, n) in sorted(per_l.items())},
    }
