"""Load and validate an evaluation question set (JSONL; the format is in eval/README.md).

One JSON object per line::

    {"id": "zh-001", "question": "...", "lang": "zh", "doc": "001_2c62cb16d225f48b",
     "evidence": ["verbatim snippet"], "answer": "short answer", "kind": "number"}

``doc`` is a document id, a list of them (multi-document questions) or ``null``; ``null``
with ``"evidence": []`` marks a question the collection cannot answer. A bad line does not
stop the run: it is reported with its line number and skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.evaluation.metrics import normalize_for_match
from assistant.text import detect_lang

LANGS = ("zh", "en")
# Kinds with a meaning the loader checks; any other label (e.g. "unanswerable-place",
# "chitchat", "definition") is accepted as it is and reported per kind.
UNANSWERABLE = "unanswerable"
MULTI_DOC = "multi_doc"


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    lang: str
    docs: tuple[str, ...]  # gold document ids; empty when the collection cannot answer
    evidence: tuple[str, ...]  # verbatim snippets of those documents holding the answer
    answer: str | None = None
    kind: str | None = None

    @property
    def answerable(self) -> bool:
        return bool(self.docs)


@dataclass(frozen=True)
class LoadReport:
    questions: list[EvalQuestion]
    problems: list[str]  # one per skipped line, e.g. "line 7: missing 'question'"

    @property
    def skipped(self) -> int:
        return len(self.problems)

    def summary(self) -> str:
        """One line for the run log, e.g. "64 questions loaded, 2 lines skipped"."""
        text = f"{len(self.questions)} questions loaded"
        return text + (f", {self.skipped} lines skipped" if self.skipped else "")


class QuestionLineError(ValueError):
    """What is wrong with one line; the loader turns it into a reported problem."""


class QuestionFileError(ValueError):
    """A question file that cannot be evaluated at all: unreadable, or without one valid line."""


# Problems a file with no valid line lists in its error (the rest are counted).
PROBLEMS_SHOWN = 5


def require_questions(path: Path) -> LoadReport:
    """``load_questions``, raising ``QuestionFileError`` (with the first problems, each with its
    line number) when no line is a valid question: checked before any index is opened."""
    report = load_questions(path)
    if not report.questions:
        shown = "; ".join(report.problems[:PROBLEMS_SHOWN])
        more = f"; and {report.skipped - PROBLEMS_SHOWN} more" if report.skipped > PROBLEMS_SHOWN else ""
        raise QuestionFileError(f"{path}: no valid questions ({report.summary()}): {shown or 'the file is empty'}{more}. "
                                "Each line is a JSON object with id, question and doc (null when the collection "
                                "cannot answer it); see eval/README.md")
    return report


def load_questions(path: Path) -> LoadReport:
    """Parse every line of ``path``; keep the valid questions and report the others.

    Blank lines are ignored. A repeated id is reported and the later line skipped.
    Raises ``FileNotFoundError`` or ``QuestionFileError`` (not UTF-8) for a file that cannot be read.
    """
    path = Path(path)
    lines = _read_lines(path)
    questions: list[EvalQuestion] = []
    problems: list[str] = []
    first_line_of_id: dict[str, int] = {}
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            question = parse_question(line)
        except QuestionLineError as error:
            problems.append(f"line {line_no}: {error}")
            continue
        if question.id in first_line_of_id:
            problems.append(
                f"line {line_no}: duplicate id {question.id!r} (first used on line {first_line_of_id[question.id]})"
            )
            continue
        first_line_of_id[question.id] = line_no
        questions.append(question)
    return LoadReport(questions, problems)


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise FileNotFoundError(f"question file not found: {path}; pass the path of a JSONL question set")
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as error:
        raise QuestionFileError(f"{path} is not UTF-8 (bad byte at offset {error.start}); save it as UTF-8") from None


def parse_question(line: str) -> EvalQuestion:
    """One JSONL line -> an :class:`EvalQuestion`; raises :class:`QuestionLineError` saying why not."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise QuestionLineError(f"not valid JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(record, dict):
        raise QuestionLineError("expected a JSON object")
    question_id = _required_text(record, "id")
    question = _required_text(record, "question")
    docs = _docs(record)
    evidence = _evidence(record)
    kind = _optional_text(record, "kind")
    _check_consistency(docs, evidence, kind)
    return EvalQuestion(
        id=question_id,
        question=question,
        lang=_optional_choice(record, "lang", LANGS) or detect_lang(question),
        docs=docs,
        evidence=evidence,
        answer=_optional_text(record, "answer"),
        kind=kind,
    )


def _required_text(record: dict[str, Any], key: str) -> str:
    if key not in record:
        raise QuestionLineError(f"missing {key!r}")
    value = record[key]
    if not isinstance(value, str) or not value.strip():
        raise QuestionLineError(f"{key!r} must be a non-empty string")
    return value


def _optional_text(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is not None and not isinstance(value, str):
        raise QuestionLineError(f"{key!r} must be a string or absent")
    return value or None


def _optional_choice(record: dict[str, Any], key: str, choices: tuple[str, ...]) -> str | None:
    value = _optional_text(record, key)
    if value is not None and value not in choices:
        raise QuestionLineError(f"{key!r} must be one of {', '.join(choices)}; got {value!r}")
    return value


def _docs(record: dict[str, Any]) -> tuple[str, ...]:
    # Required even for unanswerable questions (as null), so a forgotten field is not
    # silently read as "the collection cannot answer this".
    if "doc" not in record:
        raise QuestionLineError("missing 'doc' (use null for a question the collection cannot answer)")
    value = record["doc"]
    if value is None:
        return ()
    docs = [value] if isinstance(value, str) else value
    if not isinstance(docs, list) or not docs or not all(isinstance(d, str) and d.strip() for d in docs):
        raise QuestionLineError("'doc' must be a document id, a non-empty list of them, or null")
    if len(set(docs)) != len(docs):
        raise QuestionLineError("'doc' lists the same document twice")
    return tuple(docs)


def _evidence(record: dict[str, Any]) -> tuple[str, ...]:
    if "evidence" not in record:
        raise QuestionLineError("missing 'evidence'")
    value = record["evidence"]
    if not isinstance(value, list) or not all(isinstance(e, str) for e in value):
        raise QuestionLineError("'evidence' must be a list of strings")
    if not all(normalize_for_match(e) for e in value):
        raise QuestionLineError("'evidence' holds a string with no letters or digits")
    return tuple(value)


def _check_consistency(docs: tuple[str, ...], evidence: tuple[str, ...], kind: str | None) -> None:
    if not docs and evidence:
        raise QuestionLineError("'evidence' given but 'doc' is null")
    if docs and len(evidence) < len(docs):
        raise QuestionLineError(f"{len(docs)} document(s) but {len(evidence)} evidence string(s); give one per document")
    if kind == UNANSWERABLE and docs:
        raise QuestionLineError("kind 'unanswerable' goes with \"doc\": null")
    if kind == MULTI_DOC and len(docs) < 2:
        raise QuestionLineError("kind 'multi_doc' needs a list of at least two documents in 'doc'")
