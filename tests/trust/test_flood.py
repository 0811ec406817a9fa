"""trust.flood: the SimHash fingerprint, its distance and the near-duplicate test (pure functions)."""

from __future__ import annotations

import random

import pytest

from tastemaker.core.text import search_text
from tastemaker.trust import flood

K = 12  # the default RULES_DUPLICATE_DISTANCE

POSTS = [
    "今天试了新出的小棕瓶精华，连续用了一周，皮肤明显透亮了很多，推荐给大家！链接在橱窗里",
    "周末去了趟西湖，人超级多，但是风景真的美，断桥那边拍了好多照片，下次想秋天再去一次",
    "这款空气炸锅真的好用，做鸡翅二十分钟搞定，外酥里嫩，清洗也方便，双十一价格很香",
    "Just tried the new serum for a week and my skin looks brighter. Highly recommend, link in my showcase!",
    "Flash sale tonight only: our linen shirts are 30% off, all sizes in stock, free shipping over $50.",
    "Weekend trip to the lake was amazing, the weather was perfect and we finally tried kayaking.",
]


def fingerprint(text: str) -> int | None:
    return flood.simhash(text, search_text(text).split())


def test_identical_texts_have_the_same_fingerprint_in_the_signed_64_bit_range():
    for text in POSTS:
        a, b = fingerprint(text), fingerprint(text)
        assert a == b and a is not None
        assert -(2**63) <= a < 2**63  # fits a signed BIGINT column
        assert flood.distance(a, b) == 0
    # stable across processes: BLAKE2b, not Python's salted hash()
    assert flood.simhash("stable fingerprint across runs") == flood.simhash("stable fingerprint across runs")


def test_a_few_characters_changed_stay_within_the_distance():
    edits = [
        (POSTS[0], POSTS[0].replace("一周", "两周")),
        (POSTS[0], POSTS[0] + "！！"),
        (POSTS[0], POSTS[0].replace("推荐给大家", "安利给大家")),
        (POSTS[1], POSTS[1].replace("西湖", "西溪")),
        (POSTS[3], POSTS[3].replace("a week", "two weeks")),
        (POSTS[3], POSTS[3] + " 123"),
        (POSTS[4], POSTS[4].replace("30%", "40%")),
        (POSTS[3], POSTS[3].upper()),  # case
        (POSTS[0], "\u200b".join(POSTS[0][:10]) + POSTS[0][10:]),  # invisible characters in between
        (POSTS[4], POSTS[4].replace("linen", "ｌｉｎｅｎ")),  # full-width letters
    ]
    for original, copy in edits:
        assert flood.near_duplicate(fingerprint(original), fingerprint(copy), K), (original, copy)


def test_random_small_edits_are_mostly_near_duplicates():
    rng = random.Random(7)
    hits = total = 0
    for text in POSTS:
        for _ in range(20):
            chars = list(text)
            i = rng.randrange(len(chars))
            chars[i] = rng.choice("的了是在好") if ord(chars[i]) > 0x3000 else rng.choice("xyz")
            total += 1
            hits += flood.near_duplicate(fingerprint(text), fingerprint("".join(chars)), K)
    assert hits / total >= 0.95, (hits, total)


def test_different_texts_are_far_apart():
    prints = [fingerprint(t) for t in POSTS]
    for i, a in enumerate(prints):
        for b in prints[i + 1:]:
            assert not flood.near_duplicate(a, b, K)
            assert flood.distance(a, b) > K + 6  # a margin, not a coin flip


@pytest.mark.parametrize("text", ["", "   ", "！？。，…", "!!!???...", "🙂🙂🙂", "\n\t"])
def test_nothing_to_compare_has_no_fingerprint(text):
    assert flood.simhash(text) is None
    assert flood.near_duplicate(None, flood.simhash("abc"), K) is False


def test_hostile_input_does_not_break_it():
    assert flood.simhash("abc\ud800def") == flood.simhash("abcdef")  # a lone surrogate is dropped
    long = "长文本" * 50_000
    assert flood.simhash(long) == flood.simhash(long[: flood.MAX_CHARS * 2])  # only the start is looked at
    assert flood.simhash("a") is not None and flood.simhash("好") is not None  # shorter than a trigram


def test_distance_works_on_signed_and_unsigned_forms():
    unsigned = (1 << 64) - 1
    assert flood.to_signed(unsigned) == -1
    assert flood.distance(-1, 0) == 64
    assert flood.distance(flood.to_signed(unsigned), unsigned) == 0
