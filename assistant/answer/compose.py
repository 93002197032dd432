"""Composition: which scored sentences to quote, how much of each, and how the answer reads.

- The lead is the most probable sentence. Another sentence is added only when it supplies a
  part of the question the quotes so far do not: a place of a comparison that has no quote
  yet, or question terms no chosen quote covers (a list or a second figure spread over
  another sentence). A sentence that merely repeats the topic is not added.
- One sentence found in several near-duplicate passages is quoted once, with all its markers.
- A long sentence is quoted by the clauses that hold the question's terms and, for a typed
  question (a number, a date, a name ...), the clause that holds that type.
- A quote that opens with a pronoun takes the sentence before it, which says who or what it is.
- English answers give each quote a short English lead-in naming what it states.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.answer.candidates import Candidate
from assistant.answer.qtype import QuestionType, asks_year, gives_new, gives_new_year, gives_share, is_typed, without_dates
from assistant.answer.terms import Term, coverage, text_coverage
from assistant.entities import posseg
from assistant.query import Query
from assistant.text import tokenize_zh

# A comma or colon between digits is part of a figure (6,476; 4:51), not a clause mark.
CLAUSE_END = re.compile(r"[，；;：]|(?<!\d)[,:]|[,:](?!\d)")
_CLOSING = "。.;；!！?？"
# Where the chunker cuts a sentence too long for a passage (``chunk._split_long``) and the sentence
# splitter never ends one: a stored sentence before or after such a mark is a piece of a longer one.
PIECE_BREAKS = "，,：:、"


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    probability: float


def choose(scored: list[Scored], query: Query, qtype: QuestionType, terms: list[Term], *, threshold: float,
           extra_ratio: float, min_gain: float, max_quotes: int, place_articles: dict[str, set[str]]) -> list[list[Scored]]:
    """Groups of candidates to quote, lead first; each group is one sentence and its duplicates.

    ``place_articles`` maps each place a comparison question names to the articles about it.
    """
    ranked = sorted(scored, key=lambda s: -s.probability)
    groups = _duplicate_groups(ranked)
    lead = groups[0]
    chosen = [lead]
    covered = set(_tokens(lead[0].candidate))
    floor = max(threshold, extra_ratio * lead[0].probability)
    # A comparison: each place named gets its best sentence from an article about it.
    for place, docs in place_articles.items():
        if quotes_about(chosen, docs):
            continue
        best = next((g for g in groups if g[0].candidate.sentence.doc_id in docs and g[0].probability >= threshold), None)
        if best is not None and best not in chosen and len(chosen) < max_quotes:
            chosen.append(best)
            covered |= _tokens(best[0].candidate)
    for group in groups[1:]:
        if len(chosen) >= max_quotes or group[0].probability < floor:
            break
        if group in chosen:
            continue
        tokens = _tokens(group[0].candidate)
        gain = coverage([t for t in terms if not t.tokens & covered], tokens) * _uncovered_share(terms, covered)
        if gain >= min_gain:
            chosen.append(group)
            covered |= tokens
    return chosen


def quotes_about(groups: list[list[Scored]], docs: set[str]) -> bool:
    """Whether any of the quoted groups comes from one of ``docs`` (the articles about a place)."""
    return any(s.candidate.sentence.doc_id in docs for g in groups for s in g)


def _uncovered_share(terms: list[Term], covered: set[str]) -> float:
    total = sum(t.weight for t in terms)
    return sum(t.weight for t in terms if not t.tokens & covered) / total if total else 0.0


def _tokens(candidate: Candidate) -> set[str]:
    return set(tokenize_zh(candidate.match))


def sentence_key(candidate: Candidate) -> str:
    """What makes two candidates one sentence: the text in match form, punctuation and spaces ignored."""
    return re.sub(r"\W+", "", candidate.match)


def _duplicate_groups(ranked: list[Scored]) -> list[list[Scored]]:
    """Candidates grouped by sentence (``sentence_key``)."""
    groups: dict[str, list[Scored]] = {}
    for s in ranked:
        groups.setdefault(sentence_key(s.candidate), []).append(s)
    return list(groups.values())


# ---------------------------------------------------------------- quote spans


# Answer types whose answer is a short span (a figure, a date, a name): the clause holding it
# is quoted rather than the whole sentence.
CLAUSE_TYPES = frozenset({"number", "date", "person", "place"})


def quote_span(candidate: Candidate, terms: list[Term], qtype: QuestionType, max_chars: int,
               clause_chars: int | None = None, question_match: str = "",
               dates_are_no_figures: bool = False, clause_needs_type: bool = False,
               holds_terms: bool = False, year_clauses: bool = False) -> tuple[int, int]:
    """Offsets (in the article) of what to quote of the candidate sentence.

    A sentence of at most ``max_chars`` characters (``clause_chars`` for a number, date, name
    or place question) is quoted whole; a longer one by its best clause (most question terms;
    for a typed question the clause must hold the type when one does, not counting what the
    question (``question_match``) already names: "截至2022年5月" holds no new figure for a
    question about May 2022; with ``dates_are_no_figures``, for no number question that does not
    ask for a length of time) grown over neighbouring clauses that also carry the terms, within
    the limit. ``clause_needs_type``: the shorter limit only holds when the sentence has the type
    (a sentence without it is no short answer, and its asked thing may be there in a form the
    type patterns miss: a name jieba does not tag). ``holds_terms``: clauses holding none of the
    question's terms (a bare "截至2022年5月" chosen for its figure) grow towards the nearest clause
    that holds one, within the limit: a figure alone does not say what it counts. For a question
    asking for a share, the typed clauses are those with a share, when any clause has one.
    ``year_clauses``: for a question asking for a year (哪一年, "what year"), the typed clauses are
    those with a year; a time word that names none (目前, 此前, 近年) does not answer it.
    """
    start, end = candidate.sentence.start, candidate.sentence.end
    text = candidate.match
    if clause_chars is not None and qtype.kind in CLAUSE_TYPES and (
            not clause_needs_type or gives_new(qtype, text, question_match)):
        max_chars = clause_chars
    end = start + _trim_clause_mark(text, 0, end - start)
    if end - start <= max_chars:
        return start, end
    clauses = split_clauses(text, 0, end - start)
    coverage = [text_coverage(terms, text[s:e]) for s, e in clauses]
    gains = list(coverage)
    if is_typed(qtype):
        undated = dates_are_no_figures and qtype.kind == "number"
        typed = [gives_new(qtype, without_dates(text[s:e], question_match) if undated else text[s:e], question_match)
                 for s, e in clauses]
        # "What share": a share answers it, not the clause's other figures ("2019年", "一院三所").
        sharing = [gives_share(text[s:e], question_match) for s, e in clauses] if qtype.share else []
        if any(sharing):
            typed = sharing
        if year_clauses and qtype.kind == "date" and asks_year(question_match):
            typed = [gives_new_year(text[s:e], question_match) for s, e in clauses]
        # "How many X": the figure that counts X is in a clause that names X ("…24个, 共联合
        # 企业…244家" answers "how many enterprises" with 244家), when a clause does.
        counting = [t and any(form in text[s:e] for form in qtype.counted_forms) for t, (s, e) in zip(typed, clauses)]
        if any(counting):
            typed = counting
        if any(typed):
            gains = [g + (1.0 if t else 0.0) for g, t in zip(gains, typed)]
    if max(gains) <= 0:
        return start, end
    best = max(range(len(clauses)), key=lambda i: gains[i])
    lo = hi = best
    enough = 0.5 * gains[best]
    while hi - lo < 2:
        left = gains[lo - 1] if lo > 0 else -1.0
        right = gains[hi + 1] if hi + 1 < len(clauses) else -1.0
        if max(left, right) <= enough:
            break
        if right >= left:
            if clauses[hi + 1][1] - clauses[lo][0] > max_chars:
                break
            hi += 1
        else:
            if clauses[hi][1] - clauses[lo - 1][0] > max_chars:
                break
            lo -= 1
    if holds_terms and max(coverage[lo:hi + 1]) <= 0:
        lo, hi = _grown_to_a_term(clauses, coverage, lo, hi, max_chars)
    return start + clauses[lo][0], start + clauses[hi][1]


def _grown_to_a_term(clauses: list[tuple[int, int]], coverage: list[float], lo: int, hi: int,
                     max_chars: int) -> tuple[int, int]:
    """Clauses ``lo..hi`` grown to the nearest clause with some coverage (the nearer side first,
    the right on a tie), if the whole fits in ``max_chars``; else unchanged."""
    spans = []  # (distance, lo, hi) of each side's growth
    right = next((i for i in range(hi + 1, len(clauses)) if coverage[i] > 0), None)
    if right is not None:
        spans.append((right - hi, lo, right))
    left = next((i for i in range(lo - 1, -1, -1) if coverage[i] > 0), None)
    if left is not None:
        spans.append((lo - left, left, hi))
    for _, new_lo, new_hi in sorted(spans, key=lambda span: span[0]):  # stable: the right first on a tie
        if clauses[new_hi][1] - clauses[new_lo][0] <= max_chars:
            return new_lo, new_hi
    return lo, hi


# English sentences (an English article) opening with a word that points back (a closed class).
_ENGLISH_POINTING_BACK = frozenset({"he", "she", "it", "they", "this", "these", "those", "his", "her", "its",
                                    "their", "such"})
_OPENING = re.compile(r"^[\s“”\"'‘’「」『』（）()]*")


def opens_with_pronoun(sentence_match: str) -> bool:
    """Does the sentence (match form) open with a pronoun, whose referent is in an earlier one?
    Chinese: the first word's jieba tag is "r" (他, 这些, 该, 其中, 此次); English: a closed list."""
    text = _OPENING.sub("", sentence_match)
    if not text:
        return False
    english = re.match(r"[a-z]+", text)
    if english:
        return english.group(0) in _ENGLISH_POINTING_BACK
    first = next(iter(posseg().cut(text[:8])), None)
    return first is not None and first.flag == "r"


def _trim_clause_mark(text: str, start: int, end: int) -> int:
    """End of the span without a dangling clause mark (a long sentence split at a comma)."""
    while end - 1 > start and CLAUSE_END.match(text[end - 1]):
        end -= 1
    return end


def split_clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Clause spans of ``text[start:end]``, each without its trailing clause mark."""
    spans = []
    s = start
    for m in CLAUSE_END.finditer(text, start, end):
        spans.append((s, m.end()))
        s = m.end()
    if s < end:
        spans.append((s, end))
    return [(a, b - 1) if CLAUSE_END.match(text[b - 1]) and b - 1 > a else (a, b) for a, b in spans]


# ---------------------------------------------------------------- wording

_LEAD_INS = {
    "number": "The figure", "date": "The date", "person": "Who", "place": "Where", "reason": "The reason given",
    "method": "How", "list": "The items named", "definition": "What it means", "entity": "The passage says",
    "other": "The passage says",
}


def english_lead_in(query: Query, qtype: QuestionType, quote_match: str, first: bool) -> str:
    """"The figure (registered technology contract)": the answer type, and the question's own
    words whose translations the quote contains, in the order the question has them.

    A quote that does not hold the asked figure, date, name or place (one place's sentence in
    a comparison may not) is not announced as one: "The passage says".
    """
    kind = qtype.kind
    if kind in CLAUSE_TYPES and not gives_new(qtype, quote_match, query.match):
        kind = "other"
    label = _LEAD_INS[kind] if first else "Also relevant"
    tokens = set(tokenize_zh(quote_match))
    named = [source for source, translations in query.expansion_groups
             if any(set(tokenize_zh(t)) & tokens for t in translations)]
    topic = question_phrases(query.normalized, list(dict.fromkeys(named)))
    return f"{label} ({topic})" if topic else label


# Words that may stand between two named words of one phrase ("tech and industrial innovation",
# "Inner Mongolia's registered consortia").
_PHRASE_GLUE = re.compile(r"(?:\s|-|'s\b|’s\b|\b(?:and|of|the|a|an|for|in|on)\b)*", re.IGNORECASE)


def question_phrases(question: str, words: list[str]) -> str:
    """``words`` of the question as the phrases it writes them in: words the question has next to
    each other (or joined only by "and", "of", "the" ...) as one phrase in its own wording, phrases
    apart separated by commas: "tech and industrial innovation, priority", not "tech industrial
    innovation priority". A word the question writes twice is named where it joins most of the
    others; a word not found in the question is appended as it is."""
    found = sorted((m.start(), m.end(), i) for i, word in enumerate(words)
                   for m in re.finditer(rf"(?<!\w){re.escape(word)}(?!\w)", question, re.IGNORECASE))
    phrases: list[tuple[int, int, set[int]]] = []
    for start, end, i in found:
        if phrases and (start <= phrases[-1][1] or _PHRASE_GLUE.fullmatch(question[phrases[-1][1]:start])):
            phrases[-1] = (phrases[-1][0], max(phrases[-1][1], end), phrases[-1][2] | {i})
        else:
            phrases.append((start, end, {i}))
    chosen, named = [], set()
    for start, end, ids in sorted(phrases, key=lambda p: (-len(p[2]), p[0])):
        if not ids <= named:
            chosen.append((start, end))
            named |= ids
    missing = [word for i, word in enumerate(words) if i not in named]
    return ", ".join([question[start:end] for start, end in sorted(chosen)] + missing)


def marker(numbers: list[int]) -> str:
    return "".join(f"[{n}]" for n in numbers)


def chinese_body(quotes: list[tuple[str, list[int]]]) -> str:
    return "".join(f"{text.rstrip(_CLOSING)}{marker(ns)}。" for text, ns in quotes)


def english_body(lines: list[tuple[str, str, list[int]]]) -> str:
    """One line per quote: ``- lead-in: “quote”[n]``."""
    return "\n".join(f"- {lead}: “{text.rstrip(_CLOSING)}”{marker(ns)}" for lead, text, ns in lines)
