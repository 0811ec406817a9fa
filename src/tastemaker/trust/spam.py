"""The spam filter: SEO / adult / gambling keyword lines (the kind pasted at the top of copied articles).

What it looks for: a run of adult-site, gambling or black-hat keywords separated by commas, spaces, ｜, 丨
or brackets, with no sentence in it — in Chinese and English. What it must never flag: an ordinary post
that names a product many times, a list of product names, a post full of hashtags, a recipe's ingredient
list, news about a gambling crackdown, a trip to Macau.

How (explainable by construction):

1. The text is normalised (NFKC: full-width letters become ASCII; lower case; invisible characters removed;
   a word spelt with spaces between its characters, 成 人 视 频, is joined back).
2. It is cut into chunks at sentence ends (。！？!? ". ") and blank lines, and each chunk into list items
   at separators (, ， 、 | ｜ 丨 / ; 【】 # newlines …; Chinese items also at spaces).
3. Keywords come from ``data/spam_lexicon.txt`` (category adult, gambling, blackhat, and contact, a weak
   one). A text with fewer than ``MIN_TERMS`` distinct adult/gambling/black-hat keywords stops there (one
   scan; the common case). Otherwise the chunk with the most keywords is scored on seven features
   (``FEATURES``): how many distinct keywords, what share of its characters they cover, what share of its
   list items are keyword items (not a sentence, at least half keywords), the longest run of keywords in
   consecutive keyword items, what share of the items are sentences, how many categories mix, whether it
   asks to be contacted (加微信, a URL, a long number). A logistic model turns them into a score; its
   weights (``data/spam_weights.json``) are learned from the labelled texts in ``data/spam_train.jsonl``
   (``python -m tastemaker.trust.spam --train`` rewrites them; a test checks the shipped weights are what
   training gives).
4. Spam is a score at or above the threshold (``TASTEMAKER_RULES_SPAM_THRESHOLD``) *and* the shape of a
   keyword line: at least ``MIN_TERMS`` keywords, a run of ``MIN_RUN`` in a row, and at least ``MIN_SHARE``
   of the list items keywords — a post *about* a casino, a trip to Macau or a crackdown on gambling names
   a few and stays a post.

``check_text(text)`` returns a ``Verdict``: the score (0–1), whether it is spam, the kind ("spam" for
adult/gambling, "keyword_stuffing" for black-hat services only), the keywords and the reasons, each a
sentence an operator can read. Reused for posts, replies, profile fields and (later) direct messages.
The hand-written fixtures that measure precision and recall live apart from the training data
(``tests/trust/fixtures/``; a test proves they do not overlap).
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

DATA = Path(__file__).with_name("data")
LEXICON = DATA / "spam_lexicon.txt"
TRAINING = DATA / "spam_train.jsonl"
WEIGHTS = DATA / "spam_weights.json"
PRIMARY = ("adult", "gambling", "blackhat")
CATEGORIES = (*PRIMARY, "contact")
FEATURES = ("terms", "coverage", "keyword_share", "run", "sentence_share", "categories", "contact")
MIN_TERMS = 3  # distinct primary keywords below which nothing is spam
MIN_RUN = 3  # nor without a run of this many keywords in consecutive list items
MIN_SHARE = 0.5  # nor when fewer than this share of the list items are keywords
MAX_CHARS = 5000  # what is looked at of a text (posts have at most POST_MAX_CHARS; beyond, it is a paste)
DEFAULT_THRESHOLD = 0.5

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")
_INVISIBLE_RE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
# a chunk ends at a sentence end or a blank line
_CHUNK_RE = re.compile(r"[。！？!?…]+|\.(?=\s|$)|\n\s*\n")
# list separators (丨 U+4E28 is an ideograph used as a bar; " - " with spaces, not the hyphen of t-shirt)
_SEPARATOR_RE = re.compile(r"[,，、|｜丨/\\;；:：·•・【】\[\]()（）《》<>「」『』\"“”‘’#★☆●◆■♥❤~～_+=*\n\t]+|\s[-–—]+\s")
_CONTENT_RE = re.compile(f"[a-z0-9{_CJK}]")
_URL_RE = re.compile(r"(?:https?://|www\.)\S+|\b[a-z0-9-]{2,}\.(?:com|net|cc|vip|top|xyz|me|tv|co|org|info)\b")
_LONG_NUMBER_RE = re.compile(r"\d{6,}")
_LATIN_WORD_RE = re.compile(r"[a-z][a-z']*")
# words that make a Latin list item a sentence (pronouns, verbs, articles, conjunctions)
_EN_FUNCTION = frozenset(
    "i you we he she they it me my our your his her their this that these those is are was were be been "
    "am have has had do did will would can could should just really so because but the a an of with "
    "after before when since got went tried love loved made".split())
# characters that make a Chinese list item a sentence (pronouns, particles, common verbs)
_ZH_FUNCTION = frozenset("我你他她们的了吗呢吧啊是很也都就这那还又着过得把被让去说")


@dataclass(frozen=True)
class Verdict:
    """What the spam filter found in one text."""

    spam: bool
    score: float
    kind: str = ""  # "spam" (adult, gambling) or "keyword_stuffing" (black-hat services only); "" if clean
    terms: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    features: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for logs and hook consumers."""
        return f"score {self.score:.2f}: " + "; ".join(self.reasons)


@dataclass(frozen=True)
class _Lexicon:
    pattern: re.Pattern[str]
    category: dict[str, str]


@dataclass(frozen=True)
class _Chunk:
    values: dict[str, float]
    terms: tuple[str, ...]
    categories: tuple[str, ...]
    contacts: tuple[str, ...]
    items: int
    items_hit: int
    run: int


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    category: dict[str, str] = {}
    for line in LEXICON.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cat, _tab, term = line.partition("\t")
        term = unicodedata.normalize("NFKC", term.strip()).lower()
        if cat not in CATEGORIES or not term:
            raise ValueError(f"{LEXICON.name}: bad line {line!r}")
        category.setdefault(term, cat)
    cjk = _trie_pattern([t for t in category if _CJK_RE.search(t)])
    latin = _trie_pattern([t for t in category if not _CJK_RE.search(t)])
    pattern = "|".join(filter(None, [cjk, f"(?<![a-z0-9]){latin}(?![a-z0-9])" if latin else ""]))
    return _Lexicon(re.compile(pattern), category)


def _trie_pattern(terms: list[str]) -> str:
    """One regular expression matching any of ``terms``, the longest where several start at one place, built
    as a trie (a flat alternation of 250 words tries each at every position: several times slower)."""
    trie: dict[str, Any] = {}
    for term in terms:
        node = trie
        for char in term:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [(r"\s+" if char == " " else re.escape(char)) + build(child)
                    for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:  # a term ends here: the longer ones are optional (greedy: the longest wins)
            return f"(?:{body})?"
        return body

    return build(trie) if terms else ""


def normalise(text: str) -> str:
    """NFKC, lower case, invisible characters and lone surrogates removed, words spelt with spaces between
    their Chinese characters joined (成 人 视 频 → 成人视频)."""
    text = text[:MAX_CHARS].encode("utf-8", "ignore").decode("utf-8")
    text = _INVISIBLE_RE.sub("", unicodedata.normalize("NFKC", text).lower())
    return "\n".join(_join_spaced(line) for line in text.split("\n"))


_SPACED_RE = re.compile(f"(?<![{_CJK}])[{_CJK}]+(?: [{_CJK}]+)+")


def _join_spaced(line: str) -> str:
    """Remove a space between Chinese characters where one side is a lone character (成 人 视 频, 日 本)."""
    def join(match: re.Match[str]) -> str:
        parts = match.group().split(" ")
        out = [parts[0]]
        for part in parts[1:]:
            if len(out[-1]) == 1 or len(part) == 1:
                out[-1] += part
            else:
                out.append(part)
        return " ".join(out)

    return _SPACED_RE.sub(join, line)


def _items(chunk: str) -> list[str]:
    out: list[str] = []
    for item in _SEPARATOR_RE.split(chunk):
        if _CJK_RE.search(item):
            out.extend(item.split())
        elif item.strip():
            out.append(item.strip())
    return [i for i in out if _CONTENT_RE.search(i)]


def _is_sentence(item: str) -> bool:
    if _CJK_RE.search(item):
        chars = [c for c in item if _CJK_RE.match(c)]
        return len(chars) >= 15 or (len(chars) >= 5 and any(c in _ZH_FUNCTION for c in chars))
    found = _LATIN_WORD_RE.findall(item)
    return len(found) >= 4 and any(w in _EN_FUNCTION for w in found)


def _keyword_items(items: list[str], lexicon: _Lexicon) -> list[int | None]:
    """For each list item: None if it is not a keyword item, else how many distinct primary keywords it holds
    (0 for a contact item such as 加微信). A keyword item is not a sentence, and at least half of its letters,
    digits and ideographs are keywords."""
    out: list[int | None] = []
    for item in items:
        found = {" ".join(m.group().split()) for m in lexicon.pattern.finditer(item)}
        if not found or _is_sentence(item):
            out.append(None)
            continue
        covered = sum(len(_CONTENT_RE.findall(t)) for t in found)
        primary = sum(1 for t in found if lexicon.category[t] != "contact")
        out.append(primary if covered * 2 >= len(_CONTENT_RE.findall(item)) else None)
    return out


def _chunk_features(chunk: str, lexicon: _Lexicon) -> _Chunk:
    items = _items(chunk)
    terms: dict[str, str] = {}
    contacts: list[str] = []
    covered = 0
    for match in lexicon.pattern.finditer(chunk):
        term = " ".join(match.group().split())
        cat = lexicon.category[term]
        if cat == "contact":
            contacts.append(term)
        else:
            terms.setdefault(term, cat)
        covered += len(_CONTENT_RE.findall(term))
    contacts.extend(m.group() for m in _URL_RE.finditer(chunk))
    contacts.extend(m.group() for m in _LONG_NUMBER_RE.finditer(chunk))
    keyword = _keyword_items(items, lexicon)
    run = best = 0
    for count in keyword:
        run = 0 if count is None else run + count
        best = max(best, run)
    hit = sum(1 for count in keyword if count is not None)
    sentences = sum(1 for i in items if _is_sentence(i))
    content = len(_CONTENT_RE.findall(chunk))
    n = max(1, len(items))
    cats = tuple(sorted(set(terms.values())))
    values = {
        "terms": math.log1p(len(terms)),
        "coverage": min(1.0, covered / content) if content else 0.0,
        "keyword_share": hit / n,
        "run": math.log1p(best),
        "sentence_share": sentences / n,
        "categories": float(len(cats)),
        "contact": 1.0 if contacts else 0.0,
    }
    return _Chunk(values, tuple(terms), cats, tuple(dict.fromkeys(contacts)), len(items), hit, best)


def _chunks(norm: str) -> list[str]:
    return [c for c in _CHUNK_RE.split(norm) if c and c.strip()]


def _worst_chunk(norm: str) -> _Chunk | None:
    """The features of the chunk with the most keywords (then the densest), or None for an empty text."""
    lexicon = _lexicon()
    chunks = [_chunk_features(c, lexicon) for c in _chunks(norm)]
    if not chunks:
        return None
    return max(chunks, key=lambda c: (len(c.terms), c.values["coverage"]))


def feature_vector(text: str) -> list[float]:
    """The model's input for ``text`` (in ``FEATURES`` order): used by training and by ``check_text``."""
    chunk = _worst_chunk(normalise(text))
    return [chunk.values[f] if chunk else 0.0 for f in FEATURES]


# --- the model ----------------------------------------------------------------------------------------

def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def train(rows: Iterable[dict[str, Any]], *, iterations: int = 3000, rate: float = 0.5,
          l2: float = 0.01) -> dict[str, float]:
    """Fit the logistic model on labelled rows (``{"text": ..., "label": 0|1}``): batch gradient descent
    from zero, deterministic. Returns ``{"bias": b, feature: w, ...}``."""
    data = [(feature_vector(str(r["text"])), float(r["label"])) for r in rows]
    if not data:
        raise ValueError("no training rows")
    weights = [0.0] * len(FEATURES)
    bias = 0.0
    n = float(len(data))
    for _step in range(iterations):
        grad = [0.0] * len(FEATURES)
        grad_bias = 0.0
        for x, y in data:
            err = _sigmoid(bias + sum(w * v for w, v in zip(weights, x, strict=True))) - y
            grad_bias += err
            for i, v in enumerate(x):
                grad[i] += err * v
        bias -= rate * grad_bias / n
        weights = [w - rate * (g / n + l2 * w) for w, g in zip(weights, grad, strict=True)]
    return {"bias": round(bias, 4), **{f: round(w, 4) for f, w in zip(FEATURES, weights, strict=True)}}


def training_rows() -> list[dict[str, Any]]:
    with TRAINING.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@lru_cache(maxsize=1)
def weights() -> dict[str, float]:
    loaded = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    return {k: float(v) for k, v in loaded.items()}


# --- the verdict --------------------------------------------------------------------------------------

def _threshold() -> float:
    from django.conf import settings

    return float(getattr(settings, "RULES_SPAM_THRESHOLD", DEFAULT_THRESHOLD))


def check_text(text: str, threshold: float | None = None) -> Verdict:
    """Whether ``text`` is a spam keyword line, with its score and the reasons (see the module doc)."""
    norm = normalise(text or "")
    lexicon = _lexicon()
    found = {" ".join(m.group().split()) for m in lexicon.pattern.finditer(norm)}
    primary = tuple(t for t in found if lexicon.category[t] != "contact")
    if len(primary) < MIN_TERMS:  # the common case, one scan: too few keywords to be a keyword line
        return Verdict(spam=False, score=0.0, terms=tuple(sorted(primary)))
    chunk = _worst_chunk(norm)
    if chunk is None or not chunk.terms:
        return Verdict(spam=False, score=0.0)
    w = weights()
    z = w["bias"] + sum(w[f] * chunk.values[f] for f in FEATURES)
    score = _sigmoid(z)
    limit = _threshold() if threshold is None else threshold
    spam = (score >= limit and len(chunk.terms) >= MIN_TERMS and chunk.run >= MIN_RUN
            and chunk.values["keyword_share"] >= MIN_SHARE)
    kind = ""
    if spam:
        kind = "spam" if {"adult", "gambling"} & set(chunk.categories) else "keyword_stuffing"
    return Verdict(spam=spam, score=round(score, 4), kind=kind, terms=chunk.terms,
                   reasons=tuple(_reasons(chunk, w)), features=dict(chunk.values))


def _reasons(chunk: _Chunk, w: dict[str, float]) -> list[str]:
    """The features that pushed the score up, strongest first, in words."""
    shown = ", ".join(chunk.terms[:8]) + (", …" if len(chunk.terms) > 8 else "")
    words = {
        "terms": _("%(n)d spam keywords (%(cats)s): %(terms)s") % {
            "n": len(chunk.terms), "cats": "/".join(chunk.categories), "terms": shown},
        "coverage": _("keywords make up %(pct)d%% of the text") % {"pct": round(100 * chunk.values["coverage"])},
        "keyword_share": _("%(hit)d of %(n)d list items are keywords") % {"hit": chunk.items_hit,
                                                                           "n": chunk.items},
        "run": _("a run of %(n)d keywords in a row") % {"n": chunk.run},
        "sentence_share": _("no sentence among the list items"),
        "categories": _("mixes %(cats)s keywords") % {"cats": " and ".join(chunk.categories)},
        "contact": _("asks to be contacted: %(what)s") % {"what": ", ".join(chunk.contacts[:3])},
    }
    pushes = []
    for name in FEATURES:
        value = chunk.values[name]
        contribution = w[name] * value
        if name == "sentence_share":  # a negative weight: what counts is the absence of sentences
            contribution = -w[name] * (1.0 - value) if value == 0 else 0.0
        if contribution > 0.05 and not (name == "categories" and len(chunk.categories) < 2):
            pushes.append((contribution, words[name]))
    return [text for _c, text in sorted(pushes, key=lambda p: -p[0])]


def measure(rows: Sequence[dict[str, Any]], threshold: float | None = None) -> dict[str, dict[str, float]]:
    """Precision, recall and counts per language (and "all") of ``check_text`` on labelled rows."""
    out: dict[str, dict[str, float]] = {}
    for lang in sorted({str(r["lang"]) for r in rows}) + ["all"]:
        part = [r for r in rows if lang == "all" or r["lang"] == lang]
        tp = fp = fn = tn = 0
        for r in part:
            flagged = check_text(str(r["text"]), threshold).spam
            if flagged and r["label"]:
                tp += 1
            elif flagged:
                fp += 1
            elif r["label"]:
                fn += 1
            else:
                tn += 1
        out[lang] = {"precision": tp / (tp + fp) if tp + fp else 1.0, "recall": tp / (tp + fn) if tp + fn else 1.0,
                     "tp": tp, "fp": fp, "fn": fn, "tn": tn, "n": len(part)}
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tastemaker.trust.spam --train``: learn the weights from the training data and write them."""
    import argparse

    parser = argparse.ArgumentParser(description="Train the spam filter's weights from data/spam_train.jsonl")
    parser.add_argument("--train", action="store_true", help="rewrite data/spam_weights.json")
    args = parser.parse_args(argv)
    learned = train(training_rows())
    print(json.dumps(learned, indent=2))
    if args.train:
        WEIGHTS.write_text(json.dumps(learned, indent=2) + "\n", encoding="utf-8")
        weights.cache_clear()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
