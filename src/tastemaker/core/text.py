"""Text helpers shared by search and (later) ability labels: Chinese + English tokenisation."""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

_lock = threading.Lock()
USER_DICT = Path(__file__).with_name("userdict.txt")
# A hashtag or mention may follow Chinese text directly ("今天#双十一", "谢谢@alice"), but not Latin
# word characters (so "a#b", e-mail addresses and URL fragments are not tags or mentions).
HASHTAG_RE = re.compile(r"(?<![A-Za-z0-9_&/#])#(\w{1,64})", re.UNICODE)
MENTION_RE = re.compile(r"(?<![A-Za-z0-9_@/.])@([A-Za-z0-9_]{1,30})(?![A-Za-z0-9_@])")
_WORD_RE = re.compile(r"[\w\u4e00-\u9fff]+", re.UNICODE)
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")


@lru_cache(maxsize=1)
def _jieba() -> Any:
    with _lock:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        if USER_DICT.exists():
            jieba.load_userdict(str(USER_DICT))
        return jieba


def tokens(text: str) -> list[str]:
    """Lower-cased search tokens: words for Latin text, jieba search-mode words for Chinese."""
    out: list[str] = []
    for chunk in _WORD_RE.findall(text.lower()):
        if _CJK_RE.search(chunk):
            out.extend(t for t in _jieba().cut_for_search(chunk) if t.strip())
        else:
            out.append(chunk)
    return out


def words(text: str) -> list[str]:
    """Lower-cased words, each once per occurrence: Latin words, and jieba's precise-mode words for Chinese
    (no overlapping sub-words, unlike ``tokens``)."""
    out: list[str] = []
    for chunk in _WORD_RE.findall(text.lower()):
        if _CJK_RE.search(chunk):
            out.extend(t for t in _jieba().cut(chunk) if t.strip())
        else:
            out.append(chunk)
    return out


_CJK_RUN_RE = re.compile(r"[\u4e00-\u9fff]+")
_NON_CJK_RUN_RE = re.compile(r"[^\u4e00-\u9fff]+")


def cjk_grams(word: str) -> list[str]:
    """A word containing Chinese as exact-match index terms: its Latin/digit parts, and the single
    characters and character pairs of its Chinese runs.

    jieba alone is not enough for search: it segments a word differently in different contexts
    (``这款口红颜色`` gives 口 / 红颜 / 颜色, never 口红), so a query for 口红 would miss that post.
    Pairs of characters match whatever the segmentation was.
    """
    out = list(_NON_CJK_RUN_RE.findall(word))
    for run in _CJK_RUN_RE.findall(word):
        out.extend(run)  # single characters
        out.extend(run[i: i + 2] for i in range(len(run) - 1))
    return out


def query_grams(word: str) -> list[str]:
    """The index terms a query word must all match: pairs for Chinese runs of 2+ characters."""
    out = list(_NON_CJK_RUN_RE.findall(word))
    for run in _CJK_RUN_RE.findall(word):
        out.extend([run] if len(run) == 1 else [run[i: i + 2] for i in range(len(run) - 1)])
    return out


def search_text(text: str) -> str:
    """What is indexed for a post: jieba words plus the character n-grams of every Chinese word."""
    words = tokens(text)
    extra = [g for chunk in _WORD_RE.findall(text.lower()) if _CJK_RE.search(chunk) for g in cjk_grams(chunk)]
    return " ".join(dict.fromkeys([*words, *extra]))


def extract_hashtags(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for tag in HASHTAG_RE.findall(text):
        seen.setdefault(tag.lower(), None)
    return list(seen)


def extract_mentions(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for name in MENTION_RE.findall(text):
        seen.setdefault(name.lower(), None)
    return list(seen)
