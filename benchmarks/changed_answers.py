"""Judge a change that is no setting by the questions it can change: the pattern of rule 3 of
benchmarks/decisions_2026-12-28.md and rule 3 of decisions_2026-12-29.md.

Only a question whose intermediate output (``output(answerer, text)``) differs between the old and
the new code can answer differently, so those are listed from the dev splits (dev7 by aggregate
only) and the named public training parts, and each is answered in full with the shipped models,
once with each code (``install(variant)`` puts a variant in place). The test splits and the public
test parts are never read.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answer import AnswerSettings, ExtractiveAnswerer  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.embed import load_embedder  # noqa: E402
from assistant.evaluation import load_questions, metrics  # noqa: E402
from assistant.evaluation.bench import load_bench_questions, resolve_bench  # noqa: E402
from assistant.index.store import open_index  # noqa: E402
from assistant.pipeline import Assistant  # noqa: E402
from assistant.query import parse_query  # noqa: E402
from assistant.retrieve import Retriever  # noqa: E402

DEV_SPLITS = ("dev", "dev2", "dev3", "dev4", "dev5", "dev6", "dev7")
JUDGE_ONLY = ("dev7",)  # printed by aggregate only


def judge(old, new, install: Callable[[object], None], output: Callable[[ExtractiveAnswerer, str], object],
          public: tuple[tuple[str, str], ...], lang: str | None = None) -> None:
    """Print each changed dev question's answers (old, new), each split's aggregate, and each public
    part's changed questions with (refused, gold in first / any quote) under each variant; ``lang``:
    only questions in that language."""
    def changes(answerer, text: str) -> bool:
        install(old)
        before = output(answerer, text)
        install(new)
        return before != output(answerer, text)

    def answer(answerer, retriever, text: str, variant):
        install(variant)
        query = parse_query(text)
        return answerer.run(query, retriever.run(query, k=50)[:10])

    assistant = Assistant.open(Settings())
    answerer, retriever = assistant.answerer, assistant.retriever()
    for split in DEV_SPLITS:
        totals = {"affected": 0, "answerable_refused": [0, 0], "unanswerable_refused": [0, 0], "evidence_cited": [0, 0]}
        for q in load_questions(ROOT / "eval" / f"corpus_zh_en.{split}.jsonl").questions:
            if (lang and q.lang != lang) or not changes(answerer, q.question):
                continue
            totals["affected"] += 1
            shown = []
            for i, variant in enumerate((old, new)):
                r = answer(answerer, retriever, q.question, variant)
                totals["answerable_refused" if q.docs else "unanswerable_refused"][i] += int(r.refused)
                # As `assistant eval` scores it: the share of the evidence the cited passages hold.
                held = (metrics.citation_evidence_recall(q.evidence, [c.text for c in r.citations])
                        if q.docs and not r.refused else 0.0)
                totals["evidence_cited"][i] += held
                shown.append((r.refused, round(held, 2), r.text[:70].replace("\n", " ")))
            if split not in JUDGE_ONLY:
                print(split, q.id, "answerable" if q.docs else "UNANSWERABLE", q.question[:60],
                      "\n   before", shown[0], "\n   after ", shown[1])
        print(split, json.dumps(totals))
    for name, part in public:
        settings = Settings(index_dir=ROOT / "index-bench" / name)
        index, embedder = open_index(settings), load_embedder(settings.encoder)
        public_answerer = ExtractiveAnswerer(index, embedder, settings.prompts_dir, AnswerSettings.from_config(settings))
        public_retriever = Retriever.from_config(index, embedder, "hybrid", settings)
        affected, refused = 0, [0, 0]
        for q in load_bench_questions(resolve_bench(name), part):
            if (lang and q.lang != lang) or not changes(public_answerer, q.text):
                continue
            affected += 1
            results = []
            for i, variant in enumerate((old, new)):
                r = answer(public_answerer, public_retriever, q.text, variant)
                refused[i] += int(r.refused)
                results.append((r.refused, metrics.quotes_hold_answer(q.answers, r.refused, r.quotes())))
            install(new)
            print(name, q.id, q.lang, q.text[:60], output(public_answerer, q.text), results)
        print(name, "affected", affected, "refused before/after", refused)
