"""Full-text search over posts on whichever database is in use (FTS5 or PostgreSQL), English and Chinese."""

from __future__ import annotations

import pytest
from django.db import connection

from tastemaker.social.search import matching_post_ids
from tastemaker.social.selectors import search_accounts, search_hashtags, search_posts
from tastemaker.social.services import do_block, do_create_post, do_delete_post, do_mute, do_reblog

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus(make_user):
    a = make_user("searcher")
    posts = {
        "lip": do_create_post(a, text="This Lipstick is amazing for summer"),
        "cn_lip": do_create_post(a, text="这款口红颜色很好看，推荐给大家"),
        "cn_phone": do_create_post(a, text="新买的手机壳质量不错 #数码"),
        "mixed": do_create_post(a, text="iPhone 手机 review: battery OK"),
        "summer": do_create_post(a, text="summer travel in 北京"),
    }
    return a, posts


def ids(posts):
    return [p.pk for p in posts]


def test_database_in_use_is_reported(corpus):
    assert connection.vendor in {"sqlite", "postgresql"}


def test_english_words_case_insensitive(corpus):
    _a, p = corpus
    assert ids(search_posts("lipstick", None)) == [p["lip"].pk]
    assert ids(search_posts("LIPSTICK", None)) == [p["lip"].pk]
    assert ids(search_posts("summer", None)) == [p["summer"].pk, p["lip"].pk]  # newest first


def test_every_term_must_match(corpus):
    _a, p = corpus
    assert ids(search_posts("summer lipstick", None)) == [p["lip"].pk]
    assert search_posts("summer winter", None) == []


def test_chinese_words_found_inside_unspaced_sentences(corpus):
    _a, p = corpus
    assert ids(search_posts("口红", None)) == [p["cn_lip"].pk]
    assert ids(search_posts("推荐", None)) == [p["cn_lip"].pk]
    assert set(ids(search_posts("手机", None))) == {p["cn_phone"].pk, p["mixed"].pk}
    assert ids(search_posts("北京", None)) == [p["summer"].pk]
    assert ids(search_posts("数码", None)) == [p["cn_phone"].pk]  # hashtag words are searchable too


def test_chinese_multi_word_query(corpus):
    _a, p = corpus
    assert ids(search_posts("口红颜色", None)) == [p["cn_lip"].pk]
    assert search_posts("口红 手机", None) == []


def test_mixed_language_query(corpus):
    _a, p = corpus
    assert ids(search_posts("iphone 手机", None)) == [p["mixed"].pk]


def test_no_match_and_empty_queries(corpus):
    assert search_posts("zebra", None) == []
    assert search_posts("", None) == []
    assert search_posts("  !!! ", None) == []


def test_query_syntax_is_not_interpreted(corpus):
    # FTS/tsquery operators in user input must not raise or widen the search
    for q in ['"lipstick', "lipstick OR zebra", "lip*", "NEAR(a b)", "a & b | !c", "'); DROP TABLE x; --"]:
        found = search_posts(q, None)
        assert all("zebra" not in p.text for p in found)


def test_max_id_pages_backwards(make_user):
    a = make_user()
    posts = [do_create_post(a, text=f"matcha latte number {i}") for i in range(5)]
    first = matching_post_ids("matcha", limit=2)
    assert first == [posts[4].pk, posts[3].pk]
    second = matching_post_ids("matcha", limit=2, max_id=first[-1])
    assert second == [posts[2].pk, posts[1].pk]
    assert ids(search_posts("matcha", None, limit=10, max_id=posts[1].pk)) == [posts[0].pk]


def test_reposts_are_not_search_results(make_user):
    a, b = make_user(), make_user()
    post = do_create_post(a, text="unique-ish wombat")
    do_reblog(b, post)
    assert ids(search_posts("wombat", None)) == [post.pk]


def test_blocked_and_muted_authors_hidden(make_user):
    a, b, viewer = make_user(), make_user(), make_user()
    pa = do_create_post(a, text="kombucha recipe")
    pb = do_create_post(b, text="kombucha tasting")
    assert ids(search_posts("kombucha", viewer)) == [pb.pk, pa.pk]
    do_block(viewer, a)
    do_mute(viewer, b)
    assert search_posts("kombucha", viewer) == []
    assert len(search_posts("kombucha", None)) == 2


def test_deleted_posts_leave_the_index(make_user):
    a = make_user()
    post = do_create_post(a, text="ephemeral 限时 mango")
    assert matching_post_ids("mango", 10) == [post.pk]
    do_delete_post(a, post)
    assert matching_post_ids("mango", 10) == []
    assert matching_post_ids("限时", 10) == []


def test_search_accounts_and_hashtags(make_user):
    alice = make_user("alice_beauty", display_name="美妆达人 Alice")
    make_user("bob")
    assert search_accounts("ALICE") == [alice]
    assert search_accounts("美妆") == [alice]
    assert search_accounts("@alice_b") == [alice]
    do_create_post(alice, text="#美妆分享 #makeup")
    assert [t.name for t in search_hashtags("#美妆")] == ["美妆分享"]
    assert [t.name for t in search_hashtags("MAKE")] == ["makeup"]


def test_hidden_matches_do_not_cut_the_results_short(make_user):
    """Many newer matches the viewer may not see must not hide an older one they may see."""
    author, viewer = make_user(), make_user()
    visible = do_create_post(author, text="needle in public")
    for i in range(40):
        do_create_post(author, text=f"needle private {i}", visibility="private")
    assert ids(search_posts("needle", viewer, limit=5)) == [visible.pk]
    assert ids(search_posts("needle", author, limit=5)) != [visible.pk]  # the author sees their own first


def test_unlisted_posts_stay_out_of_search_except_for_their_author(make_user):
    from tastemaker.social.selectors import search_posts
    from tastemaker.social.services import do_create_post

    author, other = make_user(), make_user()
    quiet = do_create_post(author, text="quietpost about serums", visibility="unlisted")
    loud = do_create_post(author, text="loudpost about serums")
    assert [p.pk for p in search_posts("serums", other)] == [loud.pk]
    assert {p.pk for p in search_posts("serums", author)} == {loud.pk, quiet.pk}
    assert [p.pk for p in search_posts("serums", None)] == [loud.pk]
