"""Run a question set through the same path as ``assistant ask`` and judge every answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from assistant.evaluation import metrics
from assistant.evaluation.questions import EvalQuestion
from assistant.types import Answer

HIT_KS = (1, 3, 5, 10)
CURVE_KS = tuple(range(1, 11))
CHAR_BUDGET = 1500


@dataclass(frozen=True)
class Judgement:
    """What the metrics say about one answer (retrieval fields are None for unanswerable questions)."""

    refused: bool
    first_rank: int | None = None
    hits: dict[int, bool] | None = None  # evidence hit@k for k in CURVE_KS
    hit_within_chars: bool | None = None
    doc_recall: dict[int, float] | None = None
    citation_recall: float | None = None
    citation_precision: float | None = None
    answer_f1: float | None = None
    # Whether the first quote / any quote holds the reference answer, for a question whose reference
    # is a span of its evidence (``metrics.quoted_reference``); None for the others.
    reference_in_first_quote: bool | None = None
    reference_in_quotes: bool | None = None


@dataclass(frozen=True)
class QuestionResult:
    question: EvalQuestion
    answer: Answer
    judgement: Judgement


def judge(question: EvalQuestion, answer: Answer) -> Judgement:
    if not question.answerable:
        return Judgement(refused=answer.refused)
    ranked = [h.chunk.text for h in answer.hits]
    ranked_docs = [h.chunk.doc_id for h in answer.hits]
    first = metrics.first_covering_rank(question.evidence, ranked, k=max(CURVE_KS))
    cited = answer.citations
    quoted = metrics.quoted_reference(question.answer, question.evidence, answer.refused, answer.quotes())
    return Judgement(
        refused=answer.refused,
        first_rank=first,
        hits={k: first is not None and first <= k for k in CURVE_KS},
        hit_within_chars=metrics.evidence_hit_within_chars(question.evidence, ranked, CHAR_BUDGET),
        doc_recall={k: metrics.doc_recall_at_k(question.docs, ranked_docs, k) for k in HIT_KS},
        citation_recall=metrics.citation_evidence_recall(question.evidence, [c.text for c in cited]),
        citation_precision=metrics.citation_precision(question.docs, [c.doc_id for c in cited]),
        answer_f1=None if question.answer is None else metrics.char_f1(answer.text if not answer.refused else "", question.answer),
        reference_in_first_quote=None if quoted is None else quoted[0],
        reference_in_quotes=None if quoted is None else quoted[1],
    )


def run_questions(
    ask: Callable[[str], Answer],
    questions: Sequence[EvalQuestion],
    progress: Callable[[int, int], None] | None = None,
) -> list[QuestionResult]:
    """``ask`` is the pipeline's own entry point (``Assistant.ask`` bound to a retriever)."""
    results = []
    for i, question in enumerate(questions, start=1):
        answer = ask(question.question)
        results.append(QuestionResult(question, answer, judge(question, answer)))
        if progress:
            progress(i, len(questions))
    return results
