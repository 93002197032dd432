"""Tests for assistant.answer: cited extractive answers, exact quotes, refusals, prompt templates.

Real components throughout: the session's tiny index, plus a second small index whose Suining
article keeps the real corpus's long 17.73 sentence (the tiny one's is short).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from assistant.answer import ExtractiveAnswerer
from assistant.chunk import split_sentences
from assistant.config import Settings
from assistant.pipeline import Assistant
from assistant.query import parse_query
from tests.conftest import REPO, TINY_ARTICLES

SUINING_ZH = "遂宁市技术合同认定登记额是多少？"
SUINING_EN = "What was Suining's registered technology contract turnover?"
MONGOLIA_ZH = "内蒙古创新联合体如何备案？"  # answered from three sentences
MONGOLIA_EN = "How many innovation consortia has Inner Mongolia set up?"
ANSWERED = [SUINING_ZH, SUINING_EN, MONGOLIA_ZH, MONGOLIA_EN, "甘肃省组建了几家企业创新联合体？"]
MARKER = re.compile(r"\[(\d+)\]")

# The real article's sentence (corpus/004_111ded2fd1d310bd.txt): 146 characters, the figure in its last clause.
LONG_SUINING = """遂宁市科技成果转化答记者问
2024-12-09 来源:遂宁日报
代萍:近年来,我市先后出台《进一步支持科技创新加快建设成渝地区具有重要影响力的科技创新中心的若干政策》《遂宁市支持科技成果转移转化若干政策》《遂宁市支持中试平台建设的若干政策》等,先进技术成果西部转化中心省内首个共建基地落户遂宁,全市技术合同认定登记额达17.73亿元、同比增长33.21%。下一步,我们将大力实施科技成果转化示范工程,建立完善成果评价、技术交易等科技成果转化服务体系。
"""


def template(name: str, prompts: Path = REPO / "prompts") -> str:
    return (prompts / name).read_text(encoding="utf-8").strip()


def fixed_part(name: str) -> str:
    """The template's text before its field: what every answer or refusal from it starts with."""
    return re.split(r"\{\w+\}", template(name))[0]


@pytest.fixture(scope="module")
def long_sentence(tmp_path_factory) -> Assistant:
    corpus = tmp_path_factory.mktemp("long_corpus")
    (corpus / "d_suining_long.txt").write_text(LONG_SUINING, encoding="utf-8")
    for name in ("b_mongolia", "c_gansu"):
        (corpus / f"{name}.txt").write_text(TINY_ARTICLES[name], encoding="utf-8")
    return Assistant.open(Settings(index_dir=tmp_path_factory.mktemp("long_index") / "index", corpus_dir=corpus))


# ---------------------------------------------------------------------------------------
# Answers and their citations
# ---------------------------------------------------------------------------------------


def test_the_suining_question_is_answered_with_the_cited_figure(tiny_assistant):
    answer = tiny_assistant.ask(SUINING_ZH)
    assert not answer.refused
    assert "17.73" in answer.text and "[1]" in answer.text
    first = answer.citations[0]
    assert first.doc_id == "a_suining" and "17.73" in first.quote


@pytest.mark.parametrize("question", ANSWERED)
def test_each_quote_is_the_exact_article_span_inside_its_cited_chunk(tiny_assistant, question):
    answer = tiny_assistant.ask(question)
    assert answer.citations
    chunks = {c.chunk_id: c for c in tiny_assistant.index.chunks}
    for citation in answer.citations:
        article = tiny_assistant.index.articles[citation.doc_id]
        chunk = chunks[citation.chunk_id]
        assert citation.quote == article.text[citation.quote_start:citation.quote_end]
        assert citation.text == chunk.text and citation.quote in citation.text
        assert chunk.start <= citation.quote_start < citation.quote_end <= chunk.end
        assert (citation.title, citation.source, citation.date) == (article.title, article.source, article.date)


@pytest.mark.parametrize("question", ANSWERED)
def test_every_marker_has_a_citation_and_every_citation_a_marker(tiny_assistant, question):
    answer = tiny_assistant.ask(question)
    markers = [int(n) for n in MARKER.findall(answer.text)]
    assert markers == list(range(1, len(answer.citations) + 1))  # each once, in order
    assert [c.n for c in answer.citations] == markers
    for citation in answer.citations:  # the quote stands right before its marker
        assert f"{citation.quote.rstrip('。.;；')}[{citation.n}]" in answer.text


def test_several_sentences_are_cited_when_several_answer(tiny_assistant):
    answer = tiny_assistant.ask(MONGOLIA_ZH)
    assert len(answer.citations) >= 2
    assert any("网上备案绿色通道" in c.quote for c in answer.citations)
    assert len({(c.doc_id, c.quote_start) for c in answer.citations}) == len(answer.citations)


def test_a_long_sentence_is_quoted_by_its_relevant_clauses(long_sentence):
    answer = long_sentence.ask(SUINING_ZH)
    assert not answer.refused
    citation = answer.citations[0]
    text = long_sentence.index.articles["d_suining_long"].text
    sentence = next((s, e) for s, e in split_sentences(text) if s <= citation.quote_start < e)
    assert citation.quote_end <= sentence[1]
    assert "17.73" in citation.quote
    assert len(citation.quote) < sentence[1] - sentence[0]
    assert citation.quote == text[citation.quote_start:citation.quote_end]
    assert citation.quote in citation.text


@pytest.mark.parametrize("question", [SUINING_ZH, SUINING_EN])
def test_a_long_sentence_quote_leaves_out_the_list_of_policies(long_sentence, question):
    quote = long_sentence.ask(question).citations[0].quote
    assert "17.73" in quote and "《进一步支持科技创新" not in quote


# ---------------------------------------------------------------------------------------
# Language of the answer
# ---------------------------------------------------------------------------------------


def test_a_chinese_question_gets_a_chinese_answer(tiny_assistant):
    answer = tiny_assistant.ask(SUINING_ZH)
    assert answer.lang == "zh"
    assert answer.text.startswith(fixed_part("answer.zh.txt"))
    assert not answer.text.startswith(fixed_part("answer.en.txt"))
    assert answer.text.endswith("。")


@pytest.mark.parametrize("question", [SUINING_EN, MONGOLIA_EN])
def test_an_english_question_gets_the_english_framing_around_chinese_quotes(tiny_assistant, question):
    answer = tiny_assistant.ask(question)
    assert answer.lang == "en" and not answer.refused
    assert fixed_part("answer.en.txt").strip() and answer.text.startswith(fixed_part("answer.en.txt"))
    assert all(c.quote in answer.text or c.quote.rstrip("。") in answer.text for c in answer.citations)


# ---------------------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("question", "lang", "place"), [
    ("广东省的创新联合体如何备案？", "zh", "广东省"),
    ("How are innovation consortia registered in Guangdong?", "en", "Guangdong"),
    ("上海市技术合同认定登记额是多少？", "zh", "上海市"),
    ("兰州市技术合同认定登记额是多少？", "zh", "兰州市"),
])
def test_a_place_no_article_mentions_is_refused_by_name(tiny_assistant, question, lang, place):
    answer = tiny_assistant.ask(question)
    assert answer.refused and answer.citations == []
    assert answer.lang == lang
    assert answer.text.startswith(fixed_part(f"refusal.{lang}.txt"))
    assert place in answer.text
    assert "17.73" not in answer.text and not MARKER.search(answer.text)


def test_a_question_about_nothing_in_the_collection_is_refused(tiny_assistant):
    answer = tiny_assistant.ask("今天天气怎么样？")
    assert answer.refused and answer.citations == []
    assert answer.text.startswith(fixed_part("refusal.zh.txt"))


@pytest.mark.parametrize("question", ["甘肃省技术合同认定登记额是多少？", "What was Gansu's registered technology contract turnover?"])
def test_another_place_never_gets_suinings_figure(tiny_assistant, question):
    answer = tiny_assistant.ask(question)
    assert "17.73" not in answer.text
    assert all(c.doc_id != "a_suining" for c in answer.citations)


def test_a_fact_that_only_another_places_article_states_is_refused(tiny_assistant):
    answer = tiny_assistant.ask("甘肃省技术合同认定登记额是多少？")
    assert answer.refused and answer.citations == []


def test_an_english_refusal_names_the_place_without_its_possessive(tiny_assistant):
    answer = tiny_assistant.ask("What was Lanzhou's registered technology contract turnover?")
    assert answer.refused
    assert "Lanzhou" in answer.text and "Lanzhou's" not in answer.text


# ---------------------------------------------------------------------------------------
# The answerer on its own: prompt templates, and only the hits it was given
# ---------------------------------------------------------------------------------------


@pytest.fixture()
def custom_prompts(tmp_path) -> Path:
    folder = tmp_path / "prompts"
    shutil.copytree(REPO / "prompts", folder)
    (folder / "answer.zh.txt").write_text("依据资料：{body}\n", encoding="utf-8")
    (folder / "answer.en.txt").write_text("TEST ANSWER >> {body}\n", encoding="utf-8")
    (folder / "refusal.zh.txt").write_text("测试拒答{detail}", encoding="utf-8")
    (folder / "refusal.en.txt").write_text("TEST REFUSAL{detail}", encoding="utf-8")
    return folder


@pytest.mark.parametrize(("question", "expected_start", "refused"), [
    (SUINING_ZH, "依据资料：", False),
    (SUINING_EN, "TEST ANSWER >> ", False),
    ("广东省的创新联合体如何备案？", "测试拒答（资料中没有提到“广东省”）", True),
    ("How are innovation consortia registered in Guangdong?", "TEST REFUSAL (nothing in it mentions Guangdong)", True),
])
def test_templates_are_read_from_the_prompts_folder(tiny_assistant, custom_prompts, question, expected_start, refused):
    answerer = ExtractiveAnswerer(tiny_assistant.index, tiny_assistant.embedder, custom_prompts)
    query = parse_query(question)
    answer = answerer.run(query, tiny_assistant.retriever().run(query, k=10))
    assert answer.refused is refused
    assert answer.text.startswith(expected_start)


def test_a_missing_template_says_which_file_to_restore(tiny_assistant, custom_prompts):
    (custom_prompts / "answer.en.txt").unlink()
    answerer = ExtractiveAnswerer(tiny_assistant.index, tiny_assistant.embedder, custom_prompts)
    query = parse_query(SUINING_EN)
    with pytest.raises(FileNotFoundError, match="answer.en.txt.*restore"):
        answerer.run(query, tiny_assistant.retriever().run(query, k=10))


@pytest.mark.parametrize("question", ANSWERED)
@pytest.mark.parametrize("keep", ["all", "top", "without_top", "none"])
def test_citations_come_only_from_the_hits_given(tiny_assistant, question, keep):
    query = parse_query(question)
    hits = tiny_assistant.retriever().run(query, k=10)
    given = {"all": hits, "top": hits[:1], "without_top": hits[1:], "none": []}[keep]
    answer = tiny_assistant.answerer.run(query, given)
    assert answer.hits == given
    assert {c.chunk_id for c in answer.citations} <= {h.chunk.chunk_id for h in given}
    if not given:
        assert answer.refused and answer.citations == []


@pytest.mark.parametrize("question, thing", [
    ("How many patents did Inner Mongolia's innovation consortia file?", "patents"),
    ("内蒙古的创新联合体申请了多少项专利？", "专利"),
])
def test_how_many_of_something_no_passage_names_is_refused(tiny_assistant, question, thing):
    # The passages give numbers (24 consortia) but none of them counts patents.
    answer = tiny_assistant.ask(question)
    assert answer.refused and not answer.citations
    assert thing in answer.text


def test_how_many_of_something_the_passage_names_is_answered(tiny_assistant):
    answer = tiny_assistant.ask("How many innovation consortia has Inner Mongolia set up?")
    assert not answer.refused
    assert "24" in answer.text
