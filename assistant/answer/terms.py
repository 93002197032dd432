"""What a question is about, and how much of it a text covers: pure functions on match-form text.

A question becomes weighted :class:`Term` s (a Chinese word with its character bigrams, or an
English word with its dictionary translations); a text "covers" the share of term weight
whose tokens it contains. Everything compares match forms (``assistant.text.match_form``:
Simplified, half-width, lower case), so a Traditional question meets a Simplified article
and the other way round.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.answer.qtype import asked_words
from assistant.entities import ordinal_variants
from assistant.index import TermStats
from assistant.query import Query
from assistant.text import tokenize_zh

# Question words and glue: they are in the question, not in the sentence that answers it.
_QUESTION_GLUE = re.compile(
    r"什么时候|为什么|怎么样|怎么|什么|哪里|哪儿|哪些|哪个|哪家|哪位|哪一|哪几|哪|多少|几|谁|如何|怎样|为何|是否|吗|呢|吧|啊|"
    r"请问|请|一下|告诉|我|你|的|了|是|有|在|和|与|及|呀|么|啥")
_NOT_CONTENT = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff]+")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")


@dataclass(frozen=True)
class Term:
    """One thing the question asks about: a Chinese word, or an English word's translations."""

    tokens: frozenset[str]
    weight: float  # IDF: rare terms say more about where the answer is


def question_terms(query: Query, lexical: TermStats) -> list[Term]:
    """The question's terms that occur somewhere in the collection, weighted by IDF.

    Terms found nowhere cannot tell passages apart, so they are left out of coverage
    (question words such as 多少/几家 among them); unknown *names* are handled separately.
    """
    if query.lang == "en":
        terms = []
        asking = asked_words(query)  # "year" of "what year" asks; it is not what the answer is about
        # The collection's own words for a word (``assistant.collection_renderings``) join its
        # dictionary renderings as one term; a word the dictionary does not render is a term of its own.
        nearest = dict(query.collection_renderings)
        sources = [(source, (*translations, *nearest.pop(source, ()))) for source, translations in query.expansion_groups]
        for source, translations in [*sources, *nearest.items()]:
            if source.lower() in asking:
                continue
            tokens = {t for term in translations for t in tokenize_zh(term) if lexical.document_frequency(t) > 0}
            if tokens:
                terms.append(Term(frozenset(tokens), max(lexical.idf(t) for t in tokens)))
        # English words that appear as such in the Chinese text (acronyms, names, "5G").
        translated = {t for _, tr in query.expansion_groups for term in tr for t in tokenize_zh(term)}
        for token in dict.fromkeys(query.lexical_tokens):
            if token not in translated and token.isascii() and lexical.document_frequency(token) > 0:
                terms.append(Term(frozenset({token}), lexical.idf(token)))
        # Chinese words written into the English question ("What is 揭榜挂帅?") count as they are.
        return terms + _word_terms(" ".join(_CJK_RUN.findall(query.normalized)), lexical)
    return _word_terms(query.normalized, lexical)


def _word_terms(text: str, lexical: TermStats) -> list[Term]:
    """A word and its character bigrams are one term (甘肃省 = 甘肃省/甘肃/肃省), or a long
    name would count three times."""
    terms = []
    for word in dict.fromkeys(tokenize_zh(text, bigrams=False)):
        # The other spelling of an ordinal (第一批 for 首批) as a word only: 第一 alone is no "first batch".
        tokens = {t for t in [word, *tokenize_zh(word), *ordinal_variants(word)] if lexical.document_frequency(t) > 0}
        if tokens:
            terms.append(Term(frozenset(tokens), max(lexical.idf(t) for t in tokens)))
    return terms


def coverage(terms: list[Term], text_tokens: set[str]) -> float:
    """Share of the terms' weight whose tokens occur in the text."""
    total = sum(t.weight for t in terms)
    if total <= 0:
        return 0.0
    return sum(t.weight for t in terms if t.tokens & text_tokens) / total


def text_coverage(terms: list[Term], text: str) -> float:
    return coverage(terms, set(tokenize_zh(text)))


def question_core(query: Query) -> str:
    """The question's content characters in match form: question words, glue and punctuation removed.

    "遂宁市技术合同认定登记额是多少？" -> "遂宁市技术合同认定登记额"; runs are separated by a
    space where something was removed. Empty for English questions
    (their words are compared through their translations instead).
    """
    if query.lang != "zh":
        return ""
    text = query.match
    return _NOT_CONTENT.sub(" ", _QUESTION_GLUE.sub(" ", text)).strip()


def char_bigrams(text: str) -> set[str]:
    """Character bigrams of the content runs of ``text`` (match form), not across punctuation."""
    grams: set[str] = set()
    for run in _NOT_CONTENT.split(text):
        grams.update(run[i:i + 2] for i in range(len(run) - 1))
    return grams


def longest_common_run(core: str, text: str) -> int:
    """Length of the longest run of ``core`` that occurs verbatim in ``text``."""
    best = 0
    for i in range(len(core)):
        length = best + 1
        while i + length <= len(core) and core[i:i + length] in text:
            best = length
            length += 1
    return best

