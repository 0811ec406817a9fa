"""Anti-flooding (刷屏) arithmetic: a 64-bit SimHash of a text, the distance between two, and the
near-duplicate test. Pure functions, no models: the queries over an author's recent posts are social's
(``social/rules.py``), which stores the fingerprint in ``Post.fingerprint``.

The fingerprint is Charikar's SimHash over two kinds of features, so that a copy with a few characters
changed, added or removed lands a few bits away from the original:

- the distinct words of the text (jieba's precise mode for Chinese, ``core.text.words``, or the post's own
  search tokens when the caller has them), weight 2;
- the distinct character trigrams of the normalised text (NFKC, lower case, whitespace and punctuation
  removed), weight 1 — they survive jieba segmenting a changed sentence differently.

Each feature is hashed with BLAKE2b (8 bytes: stable across processes, unlike ``hash()``); bit i of the
fingerprint is set when the weighted features with bit i set outweigh those without. Databases store
signed 64-bit integers, so ``simhash`` returns the value as a signed int (``to_signed``); the distance
works on either form.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from hashlib import blake2b

import numpy as np

from tastemaker.core.text import words

BITS = 64
MASK = (1 << BITS) - 1
# a fingerprint looks at this much text: a flood copy is recognisable long before, and the cost stays flat
MAX_CHARS = 1000
WORD_WEIGHT = 2
GRAM = 3
# invisible characters used to make copies look different to exact matching
_INVISIBLE_RE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
_NOT_CONTENT_RE = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """The text as the rules compare it: NFKC (full-width letters and digits become ASCII), lower case,
    invisible characters removed, runs of whitespace made one space, lone surrogates dropped."""
    text = text.encode("utf-8", "ignore").decode("utf-8") if _has_surrogates(text) else text
    text = unicodedata.normalize("NFKC", text[: MAX_CHARS * 2]).lower()
    text = _INVISIBLE_RE.sub("", text)
    return " ".join(text.split())


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def content(text: str) -> str:
    """Only the letters, digits and ideographs of the normalised text (what the n-grams are made of)."""
    return _NOT_CONTENT_RE.sub("", normalise(text))


def features(text: str, tokens: Iterable[str] | None = None) -> dict[str, int]:
    """The weighted features of ``text``: its distinct words (weight 2) and character trigrams (weight 1).

    ``tokens``: the words, when the caller has them already (a post's ``search_text``, made by the same
    jieba segmentation): a post is then segmented once, not twice."""
    norm = normalise(text)[:MAX_CHARS]
    chars = _NOT_CONTENT_RE.sub("", norm)
    out = dict.fromkeys([chars] if 0 < len(chars) < GRAM else
                        [chars[i: i + GRAM] for i in range(len(chars) - GRAM + 1)], 1)
    out.update(dict.fromkeys(["w:" + w for w in (words(norm) if tokens is None else tokens)], WORD_WEIGHT))
    return out


@lru_cache(maxsize=65536)
def _digest(feature: str) -> bytes:
    """8 bytes of BLAKE2b (cached: common words and trigrams come back in post after post)."""
    return blake2b(feature.encode("utf-8", "surrogatepass"), digest_size=8).digest()


def to_signed(value: int) -> int:
    """An unsigned 64-bit value as the signed integer a BIGINT column holds (same bits)."""
    value &= MASK
    return value - (1 << BITS) if value >= 1 << (BITS - 1) else value


def simhash(text: str, tokens: Iterable[str] | None = None) -> int | None:
    """The text's 64-bit SimHash as a signed integer, or None when it has no letters, digits or ideographs
    (only punctuation, emoji or whitespace: nothing to compare). ``tokens``: see ``features``."""
    feats = features(text, tokens)
    if not feats:
        return None
    digests = b"".join(map(_digest, feats))
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8)).reshape(len(feats), BITS)
    weights = np.fromiter(feats.values(), dtype=np.int64, count=len(feats))
    # +weight where the bit is set, -weight where it is not; the first digest bit is the top bit
    totals = weights @ (bits.astype(np.int64) * 2 - 1)
    return to_signed(int.from_bytes(np.packbits(totals > 0).tobytes(), "big"))


def distance(a: int, b: int) -> int:
    """Hamming distance between two fingerprints (signed or unsigned: the same 64 bits)."""
    return ((a ^ b) & MASK).bit_count()


def near_duplicate(a: int | None, b: int | None, max_distance: int) -> bool:
    """Whether two fingerprints are the same text or a copy with a few characters changed."""
    if a is None or b is None:
        return False
    return distance(a, b) <= max_distance
