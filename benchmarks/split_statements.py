"""Rule 1 of benchmarks/decisions_2026-12-30.md: 首X and 第一X as one word (rule 4 of
decisions_2026-12-29.md) and a list question's lead quoted with the rest of its split statement
(``ExtractiveAnswerer._statement_pieces``), judged together by the questions they can change
(``changed_answers.judge``: dev1-7, dev7 by aggregate, and the public training parts), each
answered in full with the shipped models before and after.

    python benchmarks/split_statements.py > benchmarks/split_statements.txt   # ~4 min
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import assistant.answer.terms as terms  # noqa: E402
import assistant.query as query  # noqa: E402
from assistant.answer.extractive import ExtractiveAnswerer  # noqa: E402
from assistant.answer.qtype import classify  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.entities import ordinal_variants  # noqa: E402
from assistant.retrieve import Retriever  # noqa: E402
from benchmarks.changed_answers import judge  # noqa: E402
from benchmarks.ordinal_variants import install as install_spellings  # noqa: E402

STATEMENT_PIECES = ExtractiveAnswerer._statement_pieces
OLD = (lambda word: (), lambda self, groups, query, selection: [])
NEW = (ordinal_variants, STATEMENT_PIECES)
_retrievers: dict[int, Retriever] = {}


def install(variant):
    variants, pieces = variant
    install_spellings(variants)
    ExtractiveAnswerer._statement_pieces = pieces


def output(answerer, text):
    """The question's BM25 tokens and terms; for a list question also its answer."""
    parsed = answerer.resolved(query.parse_query(text))
    matched = (parsed.lexical_tokens, terms.question_terms(parsed, answerer.index.terms))
    if classify(parsed).kind != "list":
        return matched
    retriever = _retrievers.setdefault(id(answerer), Retriever.from_config(
        answerer.index, answerer.embedder, "hybrid", Settings()))
    answer = answerer.run(query.parse_query(text), retriever.run(query.parse_query(text), k=50)[:10])
    return matched, answer.text


if __name__ == "__main__":
    judge(OLD, NEW, install, output,
          public=(("cmrc2018_trial", "all"), ("cmrc2018_dev", "train"), ("xquad_zh", "train")))
