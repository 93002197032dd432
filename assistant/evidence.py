"""What a question asks and how much of it a text covers: pure functions the answerer builds on.

A question becomes weighted :class:`Term` s (a Chinese word with its character bigrams, or an
English word with its dictionary translations); a passage "covers" the share of term weight
whose tokens it contains. Quotes of long sentences are cut to the clauses that carry the terms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from assistant.lexical import LexicalIndex
from assistant.query import Query
from assistant.text import tokenize_zh

CLAUSE_END = re.compile(r"[，,；;：:]")
# "how many X" up to the verb, preposition or comma that ends the noun phrase.
_COUNT_EN = re.compile(
    r"\bhow many\s+((?:(?!(?:do|does|did|is|are|was|were|has|have|had|will|would|can|could|of|from|in|at|"
    r"for|on|with|by|that|which|and)\b)[A-Za-z][\w\-]*\s*)+)", re.IGNORECASE)
# "多少/几 + measure word + X": X is the noun right after the measure word.
_COUNT_ZH = re.compile(r"(?:多少|几)(?:个|家|项|名|位|支|所|件|条|座|种|批)([\u4e00-\u9fff]{2,4}?)(?:[？?，,。]|$|是|有|在)")


@dataclass(frozen=True)
class Term:
    """One thing the question asks about: a Chinese word, or an English word's translations."""

    tokens: frozenset[str]
    weight: float  # IDF: rare terms say more about where the answer is


def question_terms(query: Query, lexical: LexicalIndex) -> list[Term]:
    """The question's terms that occur somewhere in the collection, weighted by IDF.

    Terms found nowhere cannot tell passages apart, so they are left out of coverage
    (question words such as 多少/几家 among them); unknown *names* are handled separately.
    """
    if query.lang == "en":
        terms = []
        for _, translations in query.expansion_groups:
            tokens = {t for term in translations for t in tokenize_zh(term) if lexical.document_frequency(t) > 0}
            if tokens:
                terms.append(Term(frozenset(tokens), max(lexical.idf(t) for t in tokens)))
        # English words that appear as such in the Chinese text (acronyms, names, "5G").
        translated = {t for _, tr in query.expansion_groups for term in tr for t in tokenize_zh(term)}
        for token in dict.fromkeys(query.lexical_tokens):
            if token not in translated and token.isascii() and lexical.document_frequency(token) > 0:
                terms.append(Term(frozenset({token}), lexical.idf(token)))
        return terms
    # A word and its character bigrams are one term (甘肃省 = 甘肃省/甘肃/肃省), or a long
    # name would count three times.
    terms = []
    for word in dict.fromkeys(tokenize_zh(query.normalized, bigrams=False)):
        tokens = {t for t in [word, *tokenize_zh(word)] if lexical.document_frequency(t) > 0}
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


def counted_thing(query: Query) -> tuple[str, tuple[str, ...]] | None:
    """For "how many X …?" / "多少(量词)X", the X asked about and the spellings to look for.

    A passage that gives a number but never names X (patents, academicians) does not
    answer the question, however well the rest of it matches.
    """
    if query.lang == "zh":
        match = _COUNT_ZH.search(query.normalized)
        return (match.group(1), (match.group(1),)) if match else None
    match = _COUNT_EN.search(query.text)
    if not match:
        return None
    phrase = match.group(1).lower().split()
    groups = [(src, terms) for src, terms in query.expansion_groups if src.lower().split()[-1] in phrase]
    if not groups:
        return None
    source, translations = groups[-1]  # the head noun closes the noun phrase
    return source, tuple(translations)


def quote_span(text: str, start: int, end: int, terms: list[Term], long_sentence: int = 90) -> tuple[int, int]:
    """The sentence ``text[start:end]``, or for a long one the clauses that hold the terms."""
    end = trim_clause_mark(text, start, end)
    if end - start <= long_sentence:
        return start, end
    clauses = split_clauses(text, start, end)
    gains = [text_coverage(terms, text[s:e]) for s, e in clauses]
    if max(gains) <= 0:
        return start, end
    best = int(np.argmax(gains))
    lo = hi = best
    # Grow over neighbouring clauses that carry a good share of the terms too (at most three
    # clauses): a neighbour holding only a minor term is not enough.
    enough = 0.5 * gains[best]
    while hi - lo < 2:
        left = gains[lo - 1] if lo > 0 else 0.0
        right = gains[hi + 1] if hi + 1 < len(clauses) else 0.0
        if max(left, right) <= enough:
            break
        if right >= left:
            hi += 1
        else:
            lo -= 1
    return clauses[lo][0], clauses[hi][1]


def trim_clause_mark(text: str, start: int, end: int) -> int:
    """End of the span without a dangling clause mark (a long sentence split at a comma)."""
    while end - 1 > start and CLAUSE_END.match(text[end - 1]):
        end -= 1
    return end


def split_clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    s = start
    for m in CLAUSE_END.finditer(text, start, end):
        spans.append((s, m.end()))
        s = m.end()
    if s < end:
        spans.append((s, end))
    # Quote without the trailing clause mark.
    return [(a, b - 1) if CLAUSE_END.match(text[b - 1]) and b - 1 > a else (a, b) for a, b in spans]


