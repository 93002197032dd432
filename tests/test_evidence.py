"""Pure evidence functions: terms, coverage, 'how many X', clause quoting."""

from __future__ import annotations

import pytest

from assistant.evidence import (
    Term,
    counted_thing,
    coverage,
    question_terms,
    quote_span,
    split_clauses,
    text_coverage,
    trim_clause_mark,
)
from assistant.lexical import LexicalIndex
from assistant.query import parse_query
from assistant.text import tokenize_zh

DOCS = ["遂宁市技术合同认定登记额达17.73亿元", "甘肃省组建创新联合体5家", "内蒙古开通网上备案绿色通道"]


@pytest.fixture(scope="module")
def lexical() -> LexicalIndex:
    return LexicalIndex.build([tokenize_zh(d) for d in DOCS])


def test_coverage_is_the_share_of_term_weight_found():
    terms = [Term(frozenset({"a"}), 3.0), Term(frozenset({"b", "c"}), 1.0)]
    assert coverage(terms, {"a"}) == pytest.approx(0.75)
    assert coverage(terms, {"c"}) == pytest.approx(0.25)  # any spelling of a term counts
    assert coverage(terms, set()) == 0.0
    assert coverage([], {"a"}) == 0.0


def test_a_word_and_its_bigrams_are_one_term(lexical):
    terms = question_terms(parse_query("甘肃省组建了几家创新联合体？"), lexical)
    gansu = [t for t in terms if "甘肃省" in t.tokens]
    assert len(gansu) == 1 and {"甘肃", "肃省"} <= gansu[0].tokens
    # Words found nowhere in the collection (几家) are not terms.
    assert not any("几家" in t.tokens for t in terms)


def test_an_english_word_is_one_term_with_its_translations(lexical):
    terms = question_terms(parse_query("How does Inner Mongolia register consortia?"), lexical)
    tokens = [t.tokens for t in terms]
    assert any("内蒙古" in t for t in tokens)
    assert any("备案" in t for t in tokens)  # register -> 登记/注册/备案: the collection's word
    assert text_coverage(terms, DOCS[2]) > text_coverage(terms, DOCS[0])


@pytest.mark.parametrize("question, thing", [
    ("How many patents did the consortia file?", "patents"),
    ("How many national high-tech enterprises does Suining have?", "high tech enterprises"),
    ("内蒙古创新联合体申请了多少项专利？", "专利"),
])
def test_counted_thing_finds_the_noun_being_counted(question, thing):
    found = counted_thing(parse_query(question))
    assert found is not None and found[0] == thing


def test_counted_thing_is_none_for_other_questions():
    assert counted_thing(parse_query("How does Inner Mongolia register consortia?")) is None
    assert counted_thing(parse_query("How much money did Gansu allocate?")) is None
    assert counted_thing(parse_query("遂宁市技术合同认定登记额是多少？")) is None


def test_clauses_split_at_commas_without_the_mark():
    text = "甲乙丙,丁戊己;庚辛。"
    spans = split_clauses(text, 0, len(text))
    assert [text[s:e] for s, e in spans] == ["甲乙丙", "丁戊己", "庚辛。"]
    assert trim_clause_mark("甲乙丙,", 0, 4) == 3


def test_a_long_sentence_is_quoted_by_its_relevant_clauses(lexical):
    sentence = ("近年来我市先后出台一系列支持科技创新的政策文件和配套措施" * 2 + ","
                "全市技术合同认定登记额达17.73亿元、同比增长33.21%。")
    terms = question_terms(parse_query("遂宁市技术合同认定登记额是多少？"), lexical)
    start, end = quote_span(sentence, 0, len(sentence), terms, long_sentence=40)
    assert sentence[start:end] == "全市技术合同认定登记额达17.73亿元、同比增长33.21%。"
    # A short sentence is quoted whole.
    assert quote_span("登记额达17.73亿元。", 0, 12, terms) == (0, 12)
