"""Pure scoring functions for the evaluation: retrieval, citations, refusals, answers, latency.

Everything here takes plain strings and lists and returns numbers, so each function can be
checked against hand-worked examples. Retrieval is judged by *evidence*: short verbatim
snippets of the article that contain the answer. A ranking "covers" an evidence string when
one of its passages contains it after normalisation (:func:`normalize_for_match`), or holds
most of it when a chunk boundary cuts through it, or when two passages hold its two halves.

Per-question functions raise ``ValueError`` for inputs they cannot score (no evidence, no
gold documents): unanswerable questions have no evidence and are scored by
:func:`refusal_metrics` instead, so the caller must route them there.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from assistant.text import to_simplified

# Characters kept although Unicode files them under punctuation: "%" changes what a number
# means ("0.73" vs "0.73%"). A "." between two digits is a decimal point, handled separately.
_KEPT_PUNCTUATION = frozenset("%")


def normalize_for_match(text: str) -> str:
    """Canonical form for matching: Simplified script, NFKC, lower-case, no whitespace, punctuation or symbols.

    Traditional characters are converted to Simplified first (OpenCC t2s), so a Simplified
    evidence string or gold answer matches a Traditional copy of its passage.

    NFKC folds full-width forms ("１７．７３％", "（", "，") onto their ASCII twins, so the same
    snippet matches however a page typed it. Punctuation and symbols (Unicode categories P*
    and S*, Chinese and ASCII alike) are dropped, except "%" and a "." between two digits.
    """
    text = unicodedata.normalize("NFKC", to_simplified(text)).lower()
    kept: list[str] = []
    for i, char in enumerate(text):
        category = unicodedata.category(char)
        if category[0] in "ZC" or char.isspace():
            continue
        if category[0] in "PS" and char not in _KEPT_PUNCTUATION and not _is_decimal_point(text, i):
            continue
        kept.append(char)
    return "".join(kept)


def _is_decimal_point(text: str, i: int) -> bool:
    return text[i] == "." and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()


# --- evidence coverage ------------------------------------------------------------------


def evidence_covered(evidence: str, passage: str, min_overlap: float = 0.6) -> bool:
    """Whether ``passage`` holds ``evidence``: whole, or (cut by a chunk boundary) mostly.

    After normalisation the evidence must be a substring of the passage, or the longest
    common substring of the two must cover at least ``min_overlap`` of the evidence's
    normalised length (rounded up to whole characters).
    """
    return _covered_alone(_normalized_evidence(evidence), normalize_for_match(passage), min_overlap)


def _normalized_evidence(evidence: str) -> str:
    normalized = normalize_for_match(evidence)
    if not normalized:
        raise ValueError(f"evidence {evidence!r} is empty after normalisation; give a real snippet")
    return normalized


def _covered_alone(evidence: str, passage: str, min_overlap: float) -> bool:
    if not 0.0 < min_overlap <= 1.0:
        raise ValueError(f"min_overlap must be in (0, 1], got {min_overlap}")
    if evidence in passage:
        return True
    # "The longest common substring has >= need characters" is the same as "some run of
    # `need` evidence characters occurs in the passage", which `in` checks at C speed.
    need = math.ceil(min_overlap * len(evidence) - 1e-9)
    return any(evidence[i : i + need] in passage for i in range(len(evidence) - need + 1))


def _covered_by_split(evidence: str, passages: Sequence[str]) -> bool:
    """Whether one passage ends with the evidence's head and another starts with its tail.

    This is the shape a chunk boundary leaves when it cuts through the evidence and both
    neighbouring chunks were retrieved; each half alone may fall short of ``min_overlap``.
    """
    heads = [_longest_head_at_end(evidence, p) for p in passages]
    tails = [_longest_tail_at_start(evidence, p) for p in passages]
    return any(
        head + tail >= len(evidence)
        for i, head in enumerate(heads)
        for j, tail in enumerate(tails)
        if i != j and head and tail
    )


def _longest_head_at_end(evidence: str, passage: str) -> int:
    return next((n for n in range(len(evidence), 0, -1) if passage.endswith(evidence[:n])), 0)


def _longest_tail_at_start(evidence: str, passage: str) -> int:
    return next((n for n in range(len(evidence), 0, -1) if passage.startswith(evidence[-n:])), 0)


def _first_rank_covering_one(evidence: str, passages: Sequence[str], min_overlap: float) -> int | None:
    """1-based length of the shortest prefix of ``passages`` that covers one evidence string."""
    for rank in range(1, len(passages) + 1):
        if _covered_alone(evidence, passages[rank - 1], min_overlap):
            return rank
        if rank > 1 and _covered_by_split(evidence, passages[:rank]):
            return rank
    return None


def _check_evidence_list(evidence: Sequence[str]) -> list[str]:
    if isinstance(evidence, str):
        raise TypeError("evidence must be a list of strings, not one string")
    if not evidence:
        raise ValueError("no evidence to look for: score unanswerable questions with refusal_metrics")
    return [_normalized_evidence(e) for e in evidence]


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")


def first_covering_rank(
    evidence: Sequence[str], ranked_texts: Sequence[str], k: int = 10, min_overlap: float = 0.6
) -> int | None:
    """The smallest rank r <= k such that passages 1..r together cover every evidence string.

    ``None`` when the top k never cover all of it. With one evidence string this is the rank
    of the first passage holding it; with several it is the rank of the last one needed.
    """
    _check_k(k)
    normalized_evidence = _check_evidence_list(evidence)
    passages = [normalize_for_match(t) for t in ranked_texts[:k]]
    ranks = [_first_rank_covering_one(e, passages, min_overlap) for e in normalized_evidence]
    return None if None in ranks else max(ranks)  # type: ignore[type-var]


def evidence_hit_at_k(
    evidence: Sequence[str], ranked_texts: Sequence[str], k: int, min_overlap: float = 0.6
) -> bool:
    """Whether the top ``k`` passages together cover every evidence string."""
    return first_covering_rank(evidence, ranked_texts, k, min_overlap) is not None


def reciprocal_rank(
    evidence: Sequence[str], ranked_texts: Sequence[str], k: int = 10, min_overlap: float = 0.6
) -> float:
    """``1 / first_covering_rank``, or 0.0 when the top ``k`` do not cover the evidence."""
    rank = first_covering_rank(evidence, ranked_texts, k, min_overlap)
    return 0.0 if rank is None else 1.0 / rank


def mrr_at_k(first_ranks: Sequence[int | None], k: int = 10) -> float:
    """Mean reciprocal rank over questions, from each question's :func:`first_covering_rank`.

    A rank of ``None`` or beyond ``k`` scores 0.
    """
    _check_k(k)
    if not first_ranks:
        raise ValueError("no questions to average over")
    return sum(1.0 / r for r in first_ranks if r is not None and r <= k) / len(first_ranks)


def evidence_hit_within_chars(
    evidence: Sequence[str], ranked_texts: Sequence[str], budget: int = 1500, min_overlap: float = 0.6
) -> bool:
    """Whether the first ``budget`` characters of the ranking cover every evidence string.

    Passages are read in rank order and the one that crosses the budget is cut there, so a
    retriever with bigger chunks gets no more text to score with than one with small chunks.
    """
    if budget < 1:
        raise ValueError(f"budget must be at least 1 character, got {budget}")
    _check_evidence_list(evidence)
    within: list[str] = []
    left = budget
    for text in ranked_texts:
        if left <= 0:
            break
        within.append(text[:left])
        left -= len(text)
    return bool(within) and evidence_hit_at_k(evidence, within, len(within), min_overlap)


def doc_recall_at_k(gold_docs: Sequence[str], ranked_doc_ids: Sequence[str], k: int) -> float:
    """Share of the distinct gold documents that appear among the top ``k`` ranked ids."""
    _check_k(k)
    gold = set(gold_docs)
    if not gold:
        raise ValueError("no gold documents: score unanswerable questions with refusal_metrics")
    return len(gold & set(ranked_doc_ids[:k])) / len(gold)


# --- citations ---------------------------------------------------------------------------


def citation_evidence_recall(
    evidence: Sequence[str], cited_texts: Sequence[str], min_overlap: float = 0.6
) -> float:
    """Share of the evidence strings covered by the cited passages (0.0 with no citations)."""
    normalized_evidence = _check_evidence_list(evidence)
    passages = [normalize_for_match(t) for t in cited_texts]
    covered = sum(_first_rank_covering_one(e, passages, min_overlap) is not None for e in normalized_evidence)
    return covered / len(normalized_evidence)


def citation_precision(gold_docs: Sequence[str], cited_doc_ids: Sequence[str]) -> float:
    """Share of citations that point into a gold document (0.0 with no citations).

    An answer without citations supports nothing, hence 0.0 rather than "undefined".
    """
    if not gold_docs:
        raise ValueError("no gold documents: score unanswerable questions with refusal_metrics")
    if not cited_doc_ids:
        return 0.0
    gold = set(gold_docs)
    return sum(doc in gold for doc in cited_doc_ids) / len(cited_doc_ids)


# --- refusals ----------------------------------------------------------------------------


class RefusalScores(NamedTuple):
    """``None`` where the question set has no questions of that kind."""

    refusal_accuracy: float | None  # share of unanswerable questions the assistant refused
    false_refusal_rate: float | None  # share of answerable questions the assistant refused


def refusal_metrics(records: Iterable[tuple[bool, bool]]) -> RefusalScores:
    """Score refusals from ``(answerable, refused)`` pairs, one per question."""
    refused_when_unanswerable: list[bool] = []
    refused_when_answerable: list[bool] = []
    for answerable, refused in records:
        (refused_when_answerable if answerable else refused_when_unanswerable).append(bool(refused))
    return RefusalScores(_share(refused_when_unanswerable), _share(refused_when_answerable))


def _share(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


# --- answers -----------------------------------------------------------------------------


def char_f1(prediction: str, reference: str | Sequence[str]) -> float:
    """CMRC-style character F1 between an answer and a reference (best over several).

    Both sides go through :func:`normalize_for_match`, then their character multisets are
    compared: P = common / len(prediction), R = common / len(reference), F1 = 2PR / (P + R).
    Two empty strings agree (1.0); one empty side scores 0.0.
    """
    references = [reference] if isinstance(reference, str) else list(reference)
    if not references:
        raise ValueError("no reference answer to compare with")
    return max(_char_f1_one(prediction, r) for r in references)


def _char_f1_one(prediction: str, reference: str) -> float:
    predicted, expected = normalize_for_match(prediction), normalize_for_match(reference)
    if not predicted or not expected:
        return float(predicted == expected)
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


# --- latency -----------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) with linear interpolation, as numpy's default method."""
    if not values:
        raise ValueError("no values to take a percentile of")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be between 0 and 100, got {p}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * p / 100
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


# --- answers over reading-comprehension sets ----------------------------------------------


def answer_in_text(answers: Sequence[str], text: str) -> bool:
    """Whether any gold answer occurs in ``text`` (both normalised with :func:`normalize_for_match`)."""
    normalized = normalize_for_match(text)
    return any(a and a in normalized for a in (normalize_for_match(x) for x in answers))


class QuoteScores(NamedTuple):
    first_quote: float | None  # share of answerable questions whose first quote holds a gold answer
    any_quote: float | None  # ... whose quotes together hold one
    refused: float | None  # share of answerable questions refused
    mean_first_quote_chars: float | None  # over answered questions
    mean_quoted_chars: float | None  # all distinct quotes of an answer, over answered questions


def quotes_hold_answer(answers: Sequence[str], refused: bool, quotes: Sequence[str]) -> tuple[bool, bool]:
    """(the first quote holds a gold answer, some quote does) for one answerable question; a
    refused answer holds none."""
    if refused:
        return False, False
    return (bool(quotes) and answer_in_text(answers, quotes[0]),
            any(answer_in_text(answers, q) for q in quotes))


def quoted_reference(reference: str | None, evidence: Sequence[str], refused: bool,
                     quotes: Sequence[str]) -> tuple[bool, bool] | None:
    """(the first quote holds the reference answer, some quote does) for a question whose reference
    answer is a span of its evidence (a figure, a date, a name the article writes: "2021年"); None
    for one whose reference is a paraphrase the article does not write verbatim, which no quote can hold."""
    if not reference or not any(normalize_for_match(reference) in normalize_for_match(e) for e in evidence):
        return None
    return quotes_hold_answer([reference], refused, quotes)


def quote_scores(records: Iterable[tuple[Sequence[str], bool, Sequence[str]]]) -> QuoteScores:
    """From (gold answers, refused, the answer's distinct quotes in order) per answerable question."""
    first, any_, refused, first_chars, all_chars = [], [], [], [], []
    for answers, was_refused, quotes in records:
        refused.append(was_refused)
        in_first, in_any = quotes_hold_answer(answers, was_refused, quotes)
        first.append(in_first)
        any_.append(in_any)
        if not was_refused and quotes:
            first_chars.append(len(quotes[0]))
            all_chars.append(sum(len(q) for q in quotes))
    mean = (lambda v: round(sum(v) / len(v), 1) if v else None)
    return QuoteScores(_share(first), _share(any_), _share(refused), mean(first_chars), mean(all_chars))
