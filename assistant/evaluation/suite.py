"""``assistant eval``: load a question set, run it per retriever, write results, metrics, report, plot."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from assistant.evaluation.questions import LoadReport, require_questions
from assistant.evaluation.report import breakdown, markdown_report, plot_hit_curves, write_results
from assistant.evaluation.runner import run_questions


@dataclass(frozen=True)
class EvalRun:
    out_dir: Path
    runs: dict[str, dict]  # retriever -> breakdown
    loaded: int
    skipped: int
    problems: list[str]


def evaluate_file(
    assistant,
    path: Path,
    out_dir: Path,
    retrievers: Sequence[str],
    k: int = 10,
    progress: Callable[[str, int, int], None] | None = None,
    answer_modes: Sequence[str] = ("extractive",),
    report: LoadReport | None = None,
) -> EvalRun:
    """One run per retriever and answer mode; several answer modes are reported side by side.
    ``report``: the file's questions when the caller has loaded them already."""
    report = report or require_questions(path)
    out_dir.mkdir(parents=True, exist_ok=True)
    assistant.preload(wait=True)  # the first English question's latency is not the encoder's load
    runs = {}
    for mode in retrievers:
        for answer in answer_modes:
            name = mode if len(answer_modes) == 1 else f"{mode} · {answer}"

            def ask(question: str, mode=mode, answer=answer):
                return assistant.ask(question, k=k, retriever=mode, answer=answer)

            tick = (lambda done, total, name=name: progress(f"eval:{name}", done, total)) if progress else None
            results = run_questions(ask, report.questions, tick)
            single = len(retrievers) == 1 and len(answer_modes) == 1
            target = out_dir if single else out_dir / name.replace(" · ", "-")
            target.mkdir(parents=True, exist_ok=True)
            write_results(target, results)
            runs[name] = breakdown(results)
    context = _context(assistant, path, k, report)
    (out_dir / "metrics.json").write_text(
        json.dumps({"context": context, "runs": runs}, ensure_ascii=False, indent=2), encoding="utf-8")
    (out_dir / "report.md").write_text(markdown_report(runs, context), encoding="utf-8")
    plot_hit_curves(runs, out_dir / "hit_at_k.png", f"Evidence hit@k — {path.name}")
    return EvalRun(out_dir, runs, len(report.questions), report.skipped, report.problems)


def _context(assistant, path: Path, k: int, report) -> dict:
    m = assistant.index.manifest
    return {
        "question set": str(path),
        "questions": f"{len(report.questions)} loaded, {report.skipped} skipped",
        "encoder": m.encoder,
        "index": str(assistant.settings.index_dir),
        "corpus fingerprint": m.corpus_fingerprint,
        "chunker": f"{m.chunker['max_tokens']} tokens, overlap {m.chunker['overlap_tokens']}",
        "k": k,
        "index built": m.created,
    }
