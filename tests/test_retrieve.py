"""Tests for assistant.retrieve: the right article first in every mode and language, well-formed hits.

Everything runs on real components: the session's tiny index (one chunk per article) and, for
de-duplication, a second index of the same articles cut into small overlapping chunks.
"""

from __future__ import annotations

import pytest

from assistant.config import Settings
from assistant.embed import load_embedder
from assistant.pipeline import Assistant
from assistant.query import parse_query
from assistant.retrieve import MODES, Retriever
from assistant.text import tokenize_zh

SUINING_ZH = "遂宁市技术合同认定登记额是多少？"
SUINING_TRADITIONAL = "遂寧市技術合同認定登記額是多少？"
QUESTIONS = {  # question -> the article that answers it
    SUINING_ZH: "a_suining",
    "内蒙古创新联合体如何备案？": "b_mongolia",
    "甘肃省组建了几家企业创新联合体？": "c_gansu",
    "How many innovation consortia has Inner Mongolia set up?": "b_mongolia",
    "What was Suining's registered technology contract turnover?": "a_suining",
}
ZH_QUESTIONS = [q for q in QUESTIONS if not q.isascii()]
EN_QUESTIONS = [q for q in QUESTIONS if q.isascii()]


def run(assistant: Assistant, question: str, mode: str = "hybrid", k: int = 10):
    return assistant.retriever(mode).run(parse_query(question), k=k)


def overlap_share(a, b) -> float:
    """Overlap of two chunks' spans as a share of the shorter one (0 for different articles)."""
    if a.doc_id != b.doc_id:
        return 0.0
    inter = min(a.end, b.end) - max(a.start, b.start)
    return max(inter, 0) / min(a.end - a.start, b.end - b.start)


@pytest.fixture(scope="module")
def small_chunks(tmp_path_factory, tiny_corpus) -> Assistant:
    """The tiny articles cut into ~32-token chunks carrying ~24 tokens over: chunks overlap a lot."""
    settings = Settings(index_dir=tmp_path_factory.mktemp("small") / "index", corpus_dir=tiny_corpus,
                        chunk_tokens=32, overlap_tokens=24)
    return Assistant.open(settings)


# ---------------------------------------------------------------------------------------
# The right article first
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["hybrid", "lexical"])
@pytest.mark.parametrize("question", ZH_QUESTIONS)
def test_a_chinese_question_finds_its_article_first(tiny_assistant, question, mode):
    hits = run(tiny_assistant, question, mode)
    assert hits[0].chunk.doc_id == QUESTIONS[question]


@pytest.mark.parametrize("question", EN_QUESTIONS)
def test_an_english_question_finds_its_article_first_in_hybrid_mode(tiny_assistant, question):
    hits = run(tiny_assistant, question, "hybrid")
    assert hits[0].chunk.doc_id == QUESTIONS[question]
    # Both sides contributed: the dictionary expansion gave BM25 something to match.
    assert hits[0].lexical > 0 and hits[0].dense is not None


def test_the_answer_chunk_holds_the_figure(tiny_assistant):
    assert "17.73" in run(tiny_assistant, SUINING_ZH)[0].chunk.text


@pytest.mark.parametrize("mode", MODES)
def test_a_traditional_question_ranks_like_its_simplified_form(tiny_assistant, mode):
    simplified = run(tiny_assistant, SUINING_ZH, mode)
    traditional = run(tiny_assistant, SUINING_TRADITIONAL, mode)
    assert traditional[0].chunk.doc_id == "a_suining"
    assert [h.chunk.chunk_id for h in traditional] == [h.chunk.chunk_id for h in simplified]
    assert [h.score for h in traditional] == pytest.approx([h.score for h in simplified], abs=1e-5)


# ---------------------------------------------------------------------------------------
# Well-formed hits
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("question", list(QUESTIONS))
def test_hits_are_ranked_one_to_n_best_first_without_repeats(tiny_assistant, question, mode):
    hits = run(tiny_assistant, question, mode)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))
    assert len({h.chunk.chunk_id for h in hits}) == len(hits)


def test_every_chunk_is_reachable_when_k_exceeds_the_index(tiny_assistant):
    hits = run(tiny_assistant, SUINING_ZH, k=10)
    assert {h.chunk.chunk_id for h in hits} == {c.chunk_id for c in tiny_assistant.index.chunks}


@pytest.mark.parametrize("k", [1, 2, 5])
def test_k_is_respected(small_chunks, k):
    assert len(small_chunks.index.chunks) > 5
    hits = run(small_chunks, "内蒙古创新联合体如何备案？", k=k)
    assert len(hits) == k


def test_no_two_hits_overlap_by_more_than_half_and_only_overlaps_are_dropped(small_chunks):
    chunks = small_chunks.index.chunks
    overlapping = [(a, b) for i, a in enumerate(chunks) for b in chunks[i + 1:] if overlap_share(a, b) > 0.5]
    assert overlapping, "the small-chunk index should hold overlapping chunks; check the chunker's overlap"
    for question in QUESTIONS:
        hits = run(small_chunks, question, k=len(chunks))
        kept = [h.chunk for h in hits]
        assert all(overlap_share(a, b) <= 0.5 for i, a in enumerate(kept) for b in kept[i + 1:])
        dropped = [c for c in chunks if c.chunk_id not in {k.chunk_id for k in kept}]
        assert dropped, "some overlapping chunk must have been dropped"
        assert all(any(overlap_share(d, k) > 0.5 for k in kept) for d in dropped)


# ---------------------------------------------------------------------------------------
# Modes
# ---------------------------------------------------------------------------------------


def test_each_mode_records_only_the_evidence_it_used(tiny_assistant):
    by_mode = {mode: run(tiny_assistant, SUINING_ZH, mode) for mode in MODES}
    assert all(h.dense is not None and h.lexical is not None for h in by_mode["hybrid"])
    assert all(h.dense is not None and h.lexical is None for h in by_mode["dense"])
    assert all(h.lexical is not None and h.dense is None for h in by_mode["lexical"])
    # A single-sided mode ranks by that side's own score ...
    assert all(h.score == pytest.approx(h.dense) for h in by_mode["dense"])
    assert all(h.score == pytest.approx(h.lexical) for h in by_mode["lexical"])
    # ... and hybrid reports the very same per-side evidence for each chunk.
    dense = {h.chunk.chunk_id: h.dense for h in by_mode["dense"]}
    lexical = {h.chunk.chunk_id: h.lexical for h in by_mode["lexical"]}
    for hit in by_mode["hybrid"]:
        assert hit.dense == pytest.approx(dense[hit.chunk.chunk_id])
        assert hit.lexical == pytest.approx(lexical[hit.chunk.chunk_id])


def test_dense_mode_alone_finds_the_article_of_a_chinese_question(tiny_assistant):
    assert run(tiny_assistant, "内蒙古创新联合体如何备案？", "dense")[0].chunk.doc_id == "b_mongolia"


def test_an_unknown_mode_is_refused_naming_the_choices(tiny_assistant):
    with pytest.raises(ValueError, match="unknown retriever 'bm25'.*hybrid, dense, lexical"):
        Retriever(tiny_assistant.index, tiny_assistant.embedder, mode="bm25")


def test_a_comparison_of_two_places_puts_each_places_best_passages_first(tiny_assistant):
    # Both articles must be among the leading passages (two per place), whichever place matches more strongly.
    for question in ("甘肃和内蒙古各自组建了多少个创新联合体？",
                     "How many innovation consortia did Gansu and Inner Mongolia each form?"):
        hits = tiny_assistant.retriever("hybrid").run(parse_query(question), k=5)
        assert {"b_mongolia", "c_gansu"} <= {h.chunk.doc_id for h in hits[:4]}, question
        one_each = Retriever(tiny_assistant.index, tiny_assistant.embedder, passages_per_place=1)
        assert {h.chunk.doc_id for h in one_each.run(parse_query(question), k=5)[:2]} == {"b_mongolia", "c_gansu"}


# ---------------------------------------------------------------------------------------
# An English question's translated words
# ---------------------------------------------------------------------------------------


def test_an_english_question_is_also_asked_as_the_chinese_words_the_collection_holds(tiny_assistant):
    retriever = tiny_assistant.retriever("hybrid")
    words = retriever.translated_query(parse_query("How many innovation consortia has Inner Mongolia set up?")).split()
    assert "内蒙古" in words and "创新联合体" in words
    # Only words the articles hold (as BM25 tokens: 创新联合体 as 创新 + 联合体), at most two
    # per English word or phrase.
    terms = tiny_assistant.index.terms
    assert all(terms.document_frequency(t) > 0 for w in words for t in tokenize_zh(w))
    groups = parse_query("How many innovation consortia has Inner Mongolia set up?").expansion_groups
    assert len(words) <= 2 * len(groups)


def test_a_chinese_question_has_no_translated_words(tiny_assistant):
    assert tiny_assistant.retriever("hybrid").translated_query(parse_query(SUINING_ZH)) == ""


def test_the_translated_words_change_only_english_rankings(tiny_assistant):
    with_words = tiny_assistant.retriever("hybrid")
    without = Retriever(tiny_assistant.index, tiny_assistant.embedder, translated_weight=0.0)
    chinese = parse_query(SUINING_ZH)
    assert [(h.chunk.chunk_id, h.score) for h in with_words.run(chinese)] == \
        [(h.chunk.chunk_id, h.score) for h in without.run(chinese)]
    english = parse_query("What was Suining's registered technology contract turnover?")
    assert [h.dense for h in with_words.run(english)] != [h.dense for h in without.run(english)]


def test_the_translated_words_share_is_a_setting(tiny_assistant, monkeypatch):
    index, embedder = tiny_assistant.index, tiny_assistant.embedder
    assert Retriever.from_config(index, embedder, "hybrid", Settings()).translated_weight == Retriever(index, embedder).translated_weight
    monkeypatch.setenv("ASSISTANT_TRANSLATED_WEIGHT", "0")
    off = Retriever.from_config(index, embedder, "hybrid", Settings())
    assert off.translated_weight == 0.0
    english = parse_query("What was Suining's registered technology contract turnover?")
    plain = Retriever(index, embedder, translated_weight=0.0)
    assert [h.dense for h in off.run(english)] == [h.dense for h in plain.run(english)]
    monkeypatch.setenv("ASSISTANT_TRANSLATED_WEIGHT", "1.5")
    with pytest.raises(ValueError, match="translated_weight"):
        Settings()


# ---------------------------------------------------------------------------------------
# The cross-lingual encoder (a second vector set, read for English questions)
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cross_lingual_assistant(tmp_path_factory, tiny_corpus):
    """The tiny corpus indexed with the cross-lingual encoder on (as by default, but said here)."""
    return Assistant.open(Settings(index_dir=tmp_path_factory.mktemp("index") / "index", corpus_dir=tiny_corpus,
                                   cross_lingual_encoder="use"))


@pytest.fixture(scope="module")
def without_cross_lingual(tmp_path_factory, tiny_corpus):
    """The tiny corpus indexed with the cross-lingual encoder turned off."""
    return Assistant.open(Settings(index_dir=tmp_path_factory.mktemp("index") / "index", corpus_dir=tiny_corpus,
                                   cross_lingual_encoder="none"))


def _best_cross_lingual_cosine_per_chunk(index, text: str) -> dict[int, float]:
    """Computed here without the retriever: the USE cosine of every unit, each chunk's best."""
    vector = load_embedder(index.cross_lingual_encoder).embed_query(text)
    sims = index.cross_lingual.vectors() @ vector
    best: dict[int, float] = {}
    for row, sim in zip(index.unit_chunk_rows.tolist(), sims.tolist()):
        best[row] = max(best.get(row, -1.0), sim)
    return best


def test_an_english_question_reads_the_cross_lingual_vectors_at_their_weight(cross_lingual_assistant,
                                                                              without_cross_lingual):
    index, embedder = cross_lingual_assistant.index, cross_lingual_assistant.embedder
    assert index.cross_lingual_encoder == "use-m3"
    english = parse_query("How many innovation consortia has Inner Mongolia registered?")
    alone = Retriever(index, embedder, cross_lingual_weight=1.0).dense_scores(english)
    expected = _best_cross_lingual_cosine_per_chunk(index, english.normalized)
    assert sorted(alone, key=alone.__getitem__) == sorted(expected, key=expected.__getitem__)
    without = Retriever(index, embedder, cross_lingual_weight=0.0).dense_scores(english)
    blended = Retriever(index, embedder, cross_lingual_weight=0.4).dense_scores(english)
    assert blended != without and max(blended.values()) <= 1.0
    # An index without the vectors (the encoder turned off) ranks as at weight 0, whatever the weight.
    assert without_cross_lingual.index.cross_lingual_encoder is None
    plain = Retriever(without_cross_lingual.index, without_cross_lingual.embedder, cross_lingual_weight=1.0)
    assert plain.dense_scores(english) == without


def test_a_chinese_question_never_reads_the_cross_lingual_vectors(cross_lingual_assistant):
    index, embedder = cross_lingual_assistant.index, cross_lingual_assistant.embedder
    chinese = parse_query(SUINING_ZH)
    assert Retriever(index, embedder, cross_lingual_weight=1.0).dense_scores(chinese) == \
        Retriever(index, embedder, cross_lingual_weight=0.0).dense_scores(chinese)


def test_the_cross_lingual_weight_is_a_setting(tiny_assistant, monkeypatch):
    index, embedder = tiny_assistant.index, tiny_assistant.embedder
    assert Retriever.from_config(index, embedder, "hybrid", Settings()).cross_lingual_weight == \
        Retriever(index, embedder).cross_lingual_weight
    monkeypatch.setenv("ASSISTANT_CROSS_LINGUAL_WEIGHT", "0")
    assert Retriever.from_config(index, embedder, "hybrid", Settings()).cross_lingual_weight == 0.0
    monkeypatch.setenv("ASSISTANT_CROSS_LINGUAL_WEIGHT", "2")
    with pytest.raises(ValueError, match="cross_lingual_weight"):
        Settings()
