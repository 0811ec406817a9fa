"""Tokenisation and entity extraction for Chinese and English."""

from __future__ import annotations

from tastemaker.core.text import extract_hashtags, extract_mentions, search_text, tokens


def test_english_tokens_are_lowercased_words():
    assert tokens("Hello, World! It's 2026") == ["hello", "world", "it", "s", "2026"]


def test_chinese_is_segmented_by_jieba():
    toks = tokens("我喜欢这款口红")
    assert "喜欢" in toks
    assert "口红" in toks
    assert "我喜欢这款口红" not in toks


def test_mixed_text_search_text_is_space_separated():
    assert search_text("iPhone 手机壳") .split()[0] == "iphone"
    assert "手机" in search_text("iPhone 手机壳").split()


def test_hashtags_english_and_chinese_deduplicated_lowercase():
    assert extract_hashtags("#Beauty tip #美妆 and #beauty again, #护肤") == ["beauty", "美妆", "护肤"]


def test_weibo_style_closed_hashtag():
    assert extract_hashtags("#双十一# 买了什么") == ["双十一"]


def test_hash_inside_words_and_urls_is_not_a_tag():
    assert extract_hashtags("abc#def https://x.test/page#anchor") == []


def test_mentions_extracted_lowercase_once():
    assert extract_mentions("@Alice hi @bob and @alice again") == ["alice", "bob"]


def test_email_addresses_are_not_mentions():
    assert extract_mentions("write to me@example.org") == []


def test_search_text_holds_character_pairs_of_chinese_words():
    indexed = search_text("这款口红颜色很好看").split()
    assert "口红" in indexed  # jieba alone segments this as 口 / 红颜 / 颜色
    assert "颜色" in indexed and "好看" in indexed
    assert len(indexed) == len(set(indexed))
