"""English words read as the collection's own Chinese words by the cross-lingual encoder
(``assistant.collection_renderings``): the real USE encoder over the tiny corpus's index."""

from __future__ import annotations

import pytest

from assistant.answer import AnswerSettings
from assistant.answer.terms import question_terms
from assistant.collection_renderings import lexicon_of, with_collection_renderings
from assistant.config import Settings
from assistant.embed import load_embedder
from assistant.pipeline import Assistant
from assistant.query import english_content_words, parse_query
from assistant.retrieve import Retriever

# The tiny corpus writes 高校 (institutions of higher learning) where the dictionary renders
# "universities" as 大学 only.
UNIVERSITIES = "Which universities work with Inner Mongolia's consortia?"


@pytest.fixture(scope="module")
def without_cross_lingual(tmp_path_factory, tiny_corpus):
    return Assistant.open(Settings(index_dir=tmp_path_factory.mktemp("index") / "index", corpus_dir=tiny_corpus,
                                   cross_lingual_encoder="none"))


def rendered(assistant, question: str, threshold: float = 0.6, per_word: int = 1):
    return with_collection_renderings(parse_query(question), assistant.index, threshold, per_word)


def test_an_english_word_reads_as_the_word_the_articles_write(tiny_assistant):
    query = rendered(tiny_assistant, UNIVERSITIES)
    assert "高校" not in dict(query.expansion_groups)["universities"]
    assert dict(query.collection_renderings)["universities"] == ("高校",)
    assert "高校" in query.lexical_tokens


def test_every_rendering_is_a_chinese_word_of_the_index_near_its_source(tiny_assistant):
    index = tiny_assistant.index
    lexicon = lexicon_of(index)
    assert lexicon is not None and lexicon is lexicon_of(index)  # built once per loaded index
    query = rendered(tiny_assistant, UNIVERSITIES)
    sources = english_content_words(parse_query(UNIVERSITIES))
    assert query.collection_renderings
    encoder = load_embedder(index.cross_lingual_encoder)
    for source, words in query.collection_renderings:
        assert source in sources and len(words) == 1
        assert all(index.terms.document_frequency(w) > 0 for w in words)
        assert all(w in query.lexical_tokens for w in words)
        # at the threshold's cosine or nearer, and no vocabulary word nearer
        cosines = lexicon.vectors @ encoder.embed_query(source)
        assert cosines[lexicon.words.index(words[0])] == pytest.approx(cosines.max()) and cosines.max() >= 0.6


def test_a_higher_threshold_renders_fewer_words_and_more_per_word_more(tiny_assistant):
    some = dict(rendered(tiny_assistant, UNIVERSITIES).collection_renderings)
    fewer = dict(rendered(tiny_assistant, UNIVERSITIES, threshold=0.8).collection_renderings)
    more = dict(rendered(tiny_assistant, UNIVERSITIES, per_word=3).collection_renderings)
    assert set(fewer) <= set(some) and sum(map(len, fewer.values())) < sum(map(len, some.values()))
    assert all(set(some[source]) <= set(more[source]) for source in some)
    assert sum(map(len, more.values())) > sum(map(len, some.values()))


def test_chinese_questions_no_words_per_word_and_indexes_without_the_encoder_are_left_alone(
        tiny_assistant, without_cross_lingual):
    chinese = parse_query("遂宁市技术合同认定登记额是多少？")
    assert with_collection_renderings(chinese, tiny_assistant.index, 0.6, 1) is chinese
    english = parse_query(UNIVERSITIES)
    assert with_collection_renderings(english, tiny_assistant.index, 0.6, 0) is english
    assert lexicon_of(without_cross_lingual.index) is None
    assert with_collection_renderings(english, without_cross_lingual.index, 0.6, 1) is english


def test_the_renderings_join_the_terms_sentences_are_compared_with(tiny_assistant):
    lexical = tiny_assistant.index.terms
    plain = {t for term in question_terms(parse_query(UNIVERSITIES), lexical) for t in term.tokens}
    terms = question_terms(rendered(tiny_assistant, UNIVERSITIES), lexical)
    tokens = {t for term in terms for t in term.tokens}
    assert "高校" not in plain and "高校" in tokens and plain <= tokens
    # One term per English word: the rendering joins the term of the word it renders (大学 itself
    # is no word of the tiny corpus, so that term holds 高校 alone).
    assert [term.tokens for term in terms if "高校" in term.tokens] == [frozenset({"高校"})]


def test_off_by_default_and_on_as_the_settings_say(tiny_assistant, tiny_settings, monkeypatch):
    index, embedder = tiny_assistant.index, tiny_assistant.embedder
    query = parse_query(UNIVERSITIES)
    # Off until judged with a refitted selector (rules 2-4 of benchmarks/decisions_2026-12-26.md).
    off = Retriever(index, embedder)
    assert off.collection_renderings_per_word == 0
    assert not tiny_assistant.answerer.resolved(query).collection_renderings
    on = Retriever(index, embedder, collection_renderings_per_word=1)
    assert [h.lexical for h in on.run(query)] != [h.lexical for h in off.run(query)]
    chinese = parse_query("内蒙古的创新联合体有哪些高校参与？")
    assert [(h.chunk.chunk_id, h.score) for h in on.run(chinese)] == [(h.chunk.chunk_id, h.score) for h in off.run(chinese)]
    monkeypatch.setenv("ASSISTANT_COLLECTION_RENDERINGS_PER_WORD", "1")
    settings = Settings()
    assert Retriever.from_config(index, embedder, "hybrid", settings).collection_renderings_per_word == 1
    answer_settings = AnswerSettings.from_config(settings)
    assert answer_settings.collection_renderings_per_word == 1
    assert tiny_assistant.answerer.with_settings(answer_settings).resolved(query).collection_renderings
    monkeypatch.setenv("ASSISTANT_COLLECTION_RENDERING_THRESHOLD", "1.5")
    with pytest.raises(ValueError, match="collection_rendering_threshold"):
        Settings()


def test_a_serving_process_embeds_the_vocabulary_before_the_first_english_question(tiny_settings):
    from assistant import collection_renderings

    assistant = Assistant.open(tiny_settings.model_copy(update={"collection_renderings_per_word": 1}))
    index = assistant.index
    assert id(index) not in collection_renderings._LEXICONS
    assistant.preload(wait=True)
    held = collection_renderings._LEXICONS[id(index)]
    assert held[0]() is index and held[1] is lexicon_of(index) and held[1].words
