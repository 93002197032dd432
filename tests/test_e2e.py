"""End to end through ``Assistant``: index on first use, and the README's acceptance questions
answered on the real default corpus (``corpus/``, five raw web pages).
"""

from __future__ import annotations

import pytest

from assistant.config import Settings
from assistant.pipeline import Assistant
from assistant.index.store import load_index, read_manifest
from tests.conftest import REPO

MONGOLIA_DOC = "001_2c62cb16d225f48b"
SUINING_DOC = "004_111ded2fd1d310bd"


@pytest.fixture(scope="module")
def real(tmp_path_factory) -> Assistant:
    """The repository's own corpus, indexed once into a temporary folder (the corpus is only read)."""
    settings = Settings(index_dir=tmp_path_factory.mktemp("real") / "index", corpus_dir=REPO / "corpus")
    return Assistant.open(settings)


def check_citations(assistant: Assistant, answer) -> None:
    """Every citation quotes its article exactly, from a passage that was retrieved."""
    hit_chunks = {h.chunk.chunk_id for h in answer.hits}
    for citation in answer.citations:
        article = assistant.index.articles[citation.doc_id]
        assert citation.quote == article.text[citation.quote_start:citation.quote_end]
        assert citation.quote in citation.text and citation.chunk_id in hit_chunks
        assert f"[{citation.n}]" in answer.text


def test_open_builds_the_index_from_the_corpus_folder_then_answers(fresh_settings):
    assert read_manifest(fresh_settings.index_dir) is None
    assistant = Assistant.open(fresh_settings)
    assert set(load_index(fresh_settings.index_dir).articles) == {"a_suining", "b_mongolia", "c_gansu"}
    answer = assistant.ask("遂宁市技术合同认定登记额是多少？")
    assert not answer.refused and "17.73" in answer.text
    assert set(answer.timings_ms) == {"retrieve", "answer", "total"}
    check_citations(assistant, answer)


def test_the_real_corpus_is_indexed_whole(real):
    assert set(real.index.articles) == {p.stem for p in (REPO / "corpus").glob("*.txt")}
    assert len(real.index.articles) == 5


@pytest.mark.parametrize("question", [
    "how does Inner Mongolia register consortia?",
    "How does Inner Mongolia register innovation consortia?",
])
def test_an_english_question_cites_inner_mongolias_online_filing_channel(real, question):
    answer = real.ask(question)
    assert not answer.refused and answer.lang == "en"
    assert any(c.doc_id == MONGOLIA_DOC and "网上备案绿色通道" in c.text for c in answer.citations)
    check_citations(real, answer)


def test_the_suining_figure_is_answered_and_cited_from_its_article(real):
    answer = real.ask("遂宁市技术合同认定登记额是多少？")
    assert not answer.refused and "17.73亿元" in answer.text
    assert any(c.doc_id == SUINING_DOC and "17.73亿元" in c.quote for c in answer.citations)
    assert answer.hits[0].chunk.doc_id == SUINING_DOC
    check_citations(real, answer)


def test_the_suining_figure_is_found_for_an_english_question_too(real):
    answer = real.ask("What was Suining's registered technology contract turnover?")
    assert not answer.refused
    assert any(c.doc_id == SUINING_DOC and "17.73" in c.quote for c in answer.citations)
    check_citations(real, answer)


@pytest.mark.parametrize(("question", "place"), [
    ("广东省的创新联合体如何备案？", "广东省"),
    ("How are innovation consortia registered in Guangdong?", "Guangdong"),
])
def test_a_province_the_corpus_does_not_cover_is_refused(real, question, place):
    answer = real.ask(question)
    assert answer.refused and answer.citations == []
    assert place in answer.text
