"""Tests for assistant.index.lexical: BM25 scores against the formula, df/idf, and the no-pickle save format."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from assistant.index.lexical import LexicalIndex

DOCS = [["苹果", "香蕉", "苹果"], ["香蕉", "橙子"], ["西瓜"]]


def lucene_bm25(tf: int, doc_len: int, df: int, n_docs: int, avgdl: float, k1: float = 1.2, b: float = 0.75) -> float:
    """The BM25 variant ``method="lucene"`` promises, written out by hand."""
    idf = math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
    return idf * tf / (tf + k1 * (1.0 - b + b * doc_len / avgdl))


@pytest.fixture(scope="module")
def index() -> LexicalIndex:
    return LexicalIndex.build(DOCS)


def test_scores_follow_the_lucene_bm25_formula(index):
    avgdl = sum(map(len, DOCS)) / len(DOCS)
    np.testing.assert_allclose(index.scores(["苹果"]), [lucene_bm25(2, 3, 1, 3, avgdl), 0, 0], rtol=1e-5)
    expected = [lucene_bm25(1, 3, 2, 3, avgdl), lucene_bm25(1, 2, 2, 3, avgdl), 0]
    np.testing.assert_allclose(index.scores(["香蕉"]), expected, rtol=1e-5)


def test_scores_of_several_tokens_add_up(index):
    both = index.scores(["苹果", "橙子"])
    np.testing.assert_allclose(both, index.scores(["苹果"]) + index.scores(["橙子"]), rtol=1e-5)
    assert both.dtype == np.float32 and both.shape == (3,)


def test_shorter_document_wins_on_equal_term_frequency(index):
    scores = index.scores(["香蕉"])
    assert scores[1] > scores[0] > 0  # length normalisation: doc 1 has 2 tokens, doc 0 has 3


@pytest.mark.parametrize("tokens", [[], ["不存在"], ["不存在", "也没有"]])
def test_unknown_or_no_tokens_score_zero_everywhere(index, tokens):
    scores = index.scores(tokens)
    assert scores.shape == (3,) and not scores.any()


def test_unknown_tokens_do_not_disturb_known_ones(index):
    np.testing.assert_allclose(index.scores(["苹果", "不存在"]), index.scores(["苹果"]))


def test_document_frequency_and_idf(index):
    assert [index.document_frequency(t) for t in ("苹果", "香蕉", "橙子", "不存在")] == [1, 2, 1, 0]
    assert index.idf("苹果") == pytest.approx(math.log(1 + 2.5 / 1.5))
    assert index.idf("不存在") > index.idf("苹果") > index.idf("香蕉")  # rarer is more specific
    assert index.size == 3


def test_k1_and_b_change_the_scores():
    default = LexicalIndex.build(DOCS).scores(["香蕉"])
    no_length_norm = LexicalIndex.build(DOCS, b=0.0).scores(["香蕉"])
    assert no_length_norm[0] == pytest.approx(no_length_norm[1])  # b=0: length no longer matters
    assert default[0] != pytest.approx(default[1])


def test_an_empty_document_keeps_its_row():
    index = LexicalIndex.build([["数据"], [], ["数据", "安全"]])
    assert index.size == 3
    scores = index.scores(["数据"])
    assert scores[1] == 0 and scores[0] > 0 and scores[2] > 0


def test_save_load_roundtrip_uses_npy_and_json_only(index, tmp_path):
    folder = tmp_path / "lexical"
    index.save(folder)
    files = sorted(p.name for p in folder.iterdir())
    assert files and all(name.endswith((".npy", ".json")) for name in files), files
    for path in folder.glob("*.npy"):
        np.load(path, allow_pickle=False)  # raises if anything needed pickle
    for path in folder.glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))

    loaded = LexicalIndex.load(folder)
    assert loaded.size == index.size
    for tokens in (["苹果"], ["香蕉", "橙子"], ["西瓜", "不存在"]):
        np.testing.assert_allclose(loaded.scores(tokens), index.scores(tokens))
    assert [loaded.document_frequency(t) for t in ("苹果", "香蕉")] == [1, 2]


def test_memory_mapped_load_scores_like_a_full_load(tmp_path):
    # Enough documents that the posting lists are real arrays, not a handful of numbers.
    rng = np.random.default_rng(0)
    words = [f"词{i}" for i in range(300)]
    docs = [[str(w) for w in rng.choice(words, size=rng.integers(1, 30))] for _ in range(500)]
    LexicalIndex.build(docs).save(tmp_path / "lexical")

    mapped = LexicalIndex.load(tmp_path / "lexical")  # mmap is the default
    full = LexicalIndex.load(tmp_path / "lexical", mmap=False)
    assert isinstance(mapped._data, np.memmap) and isinstance(mapped._indices, np.memmap)
    assert not isinstance(full._data, np.memmap)
    import bm25s  # what wrote the files scores them the same way

    reference = bm25s.BM25.load(str(tmp_path / "lexical"), allow_pickle=False, show_progress=False)
    for query in (["词1"], ["词2", "词250", "词7"], words[:40], ["词9", "词9"], ["不存在"], []):
        np.testing.assert_array_equal(mapped.scores(query), full.scores(query))
        ids = reference.get_tokens_ids(query)
        expected = reference.get_scores_from_ids(ids) if ids else np.zeros(500, dtype=np.float32)
        np.testing.assert_allclose(mapped.scores(query), expected, rtol=1e-6, atol=1e-7)
    assert mapped.size == full.size == 500
    assert [mapped.document_frequency(w) for w in words] == [full.document_frequency(w) for w in words]
    assert mapped.idf("词3") == full.idf("词3")
