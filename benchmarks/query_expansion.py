"""Passage retrieval with BM25 over ``tokenize_zh`` tokens, with and without English->Chinese expansion.

Measures, on the public sets in ``../shared/bench`` (every passage ranked for every question):
  - XQuAD-zh: Chinese questions; English questions raw; English questions expanded
    (``max_per_word`` variants, with/without character bigrams);
  - CMRC2018 dev: Chinese questions, tokenizer and bm25s parameter variants.

Run from the project root:  python benchmarks/query_expansion.py
(about a minute; the results and what they decided are in query_expansion.md).
A question whose gold passage scores 0 counts as a miss (no lexical evidence at all).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

os.environ.setdefault("DISABLE_TQDM", "1")  # bm25s progress bars

import bm25s
import jieba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assistant.query import DEFAULT_MAX_PER_WORD, expand_english, load_dictionary, parse_query  # noqa: E402
from assistant.text import tokenize_zh  # noqa: E402

logging.getLogger("bm25s").setLevel(logging.WARNING)

BENCH_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "bench"
Tokenizer = Callable[[str], list[str]]
# The bm25s settings recommended for the index (best on CMRC and XQuAD together, see the CMRC table).
BM25_PARAMS = dict(method="lucene", k1=1.2, b=0.75)
PARAM_VARIANTS = (
    dict(method="lucene", k1=1.5, b=0.75),  # bm25s defaults
    BM25_PARAMS,
    dict(method="lucene", k1=0.9, b=0.9),
    dict(method="robertson", k1=1.5, b=0.75),
    dict(method="bm25+", k1=1.2, b=0.75),
)


@dataclass(frozen=True)
class BenchSet:
    passages: list[dict]
    questions: list[dict]
    gold: list[int]  # index into passages, per question


@dataclass(frozen=True)
class Metrics:
    r1: float
    r5: float
    r10: float
    mrr10: float

    def row(self) -> str:
        return f"{self.r1:.3f} | {self.r5:.3f} | {self.r10:.3f} | {self.mrr10:.3f}"


def load_set(name: str, bench_dir: Path = BENCH_DIR) -> BenchSet:
    folder = bench_dir / name
    if not folder.exists():
        raise SystemExit(f"{folder} not found: pass --bench-dir pointing at shared/bench.")
    passages = [json.loads(line) for line in (folder / "passages.jsonl").open(encoding="utf-8")]
    questions = [json.loads(line) for line in (folder / "questions.jsonl").open(encoding="utf-8")]
    position = {p["id"]: i for i, p in enumerate(passages)}
    return BenchSet(passages, questions, [position[q["passage_id"]] for q in questions])


def build_index(passages: list[dict], tokenize: Tokenizer, **bm25_params) -> bm25s.BM25:
    retriever = bm25s.BM25(**bm25_params)
    retriever.index([tokenize(p["title"] + "\n" + p["text"]) for p in passages], show_progress=False)
    return retriever


def gold_rank(retriever: bm25s.BM25, query_tokens: list[str], gold: int) -> int | None:
    """1-based rank of the gold passage (ties broken by passage order); None if it scores 0."""
    token_ids = retriever.get_tokens_ids(query_tokens)
    if not token_ids:
        return None
    scores = retriever.get_scores_from_ids(token_ids)
    if scores[gold] <= 0:
        return None
    return int(np.sum(scores > scores[gold]) + np.sum(scores[:gold] == scores[gold])) + 1


def evaluate(retriever: bm25s.BM25, queries: list[list[str]], gold: list[int]) -> Metrics:
    ranks = [gold_rank(retriever, tokens, g) for tokens, g in zip(queries, gold)]
    hits = lambda k: sum(1 for r in ranks if r is not None and r <= k) / len(ranks)  # noqa: E731
    mrr = sum(1 / r for r in ranks if r is not None and r <= 10) / len(ranks)
    return Metrics(hits(1), hits(5), hits(10), mrr)


def tokens_with_repeats(question: str) -> list[str]:
    """parse_query's English tokens, but expansion tokens shared by candidates kept repeated."""
    terms = expand_english(question)
    return tokenize_zh(question) + [t for term in terms for t in tokenize_zh(term)]


def xquad_rows(bench: BenchSet) -> list[tuple[str, Metrics]]:
    rows = []
    for bigrams in (False, True):
        tokenize = lambda s: tokenize_zh(s, bigrams=bigrams)  # noqa: E731
        index = build_index(bench.passages, tokenize, **BM25_PARAMS)
        tag = "bigrams" if bigrams else "words"
        zh_queries = [tokenize(q["question"]) for q in bench.questions]
        rows.append((f"zh questions, {tag}", evaluate(index, zh_queries, bench.gold)))
        for max_per_word in (0, 1, 2, 3, 5, 8):
            queries = [parse_query(q["question_en"], max_per_word, bigrams).lexical_tokens
                       for q in bench.questions]
            expanded = f"expanded, max_per_word={max_per_word}" if max_per_word else "no expansion"
            rows.append((f"en questions, {tag}, {expanded}", evaluate(index, queries, bench.gold)))
    index = build_index(bench.passages, tokenize_zh, **BM25_PARAMS)
    repeated = [tokens_with_repeats(q["question_en"]) for q in bench.questions]
    rows.append(("en questions, defaults but expansion tokens repeated",
                 evaluate(index, repeated, bench.gold)))
    untitled = build_index([dict(p, title="") for p in bench.passages], tokenize_zh, **BM25_PARAMS)
    for max_per_word, label in ((0, "no expansion"), (DEFAULT_MAX_PER_WORD, "defaults")):
        queries = [parse_query(q["question_en"], max_per_word).lexical_tokens for q in bench.questions]
        rows.append((f"en questions, {label}, passages without their (English) titles",
                     evaluate(untitled, queries, bench.gold)))
    return rows


def baseline_tokens(text: str) -> list[str]:
    """The README's BM25 baseline tokenisation: lower-cased jieba.lcut words without punctuation."""
    return [w.lower() for w in jieba.lcut(text) if re.search(r"\w", w)]


def cmrc_rows(bench: BenchSet) -> list[tuple[str, Metrics]]:
    baseline = build_index(bench.passages, baseline_tokens, **PARAM_VARIANTS[0])
    queries = [baseline_tokens(q["question"]) for q in bench.questions]
    rows = [("baseline tokens (jieba.lcut, lower-cased), lucene k1=1.5 b=0.75",
             evaluate(baseline, queries, bench.gold))]
    for bigrams in (False, True):
        tokenize = lambda s: tokenize_zh(s, bigrams=bigrams)  # noqa: E731
        queries = [tokenize(q["question"]) for q in bench.questions]
        for params in PARAM_VARIANTS:
            index = build_index(bench.passages, tokenize, **params)
            label = f"{'bigrams' if bigrams else 'words'}, {params['method']} k1={params['k1']} b={params['b']}"
            rows.append((label, evaluate(index, queries, bench.gold)))
    return rows


def timings(bench: BenchSet) -> str:
    """Dictionary build (first English query) and per-question costs, in this process."""
    tokenize_zh("预热")  # jieba's own start-up is not the dictionary's
    started, cpu_started = time.perf_counter(), time.process_time()
    load_dictionary()
    build, build_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    started = time.perf_counter()
    for q in bench.questions:
        parse_query(q["question_en"])
    english = (time.perf_counter() - started) / len(bench.questions)
    started = time.perf_counter()
    for q in bench.questions:
        parse_query(q["question"])
    chinese = (time.perf_counter() - started) / len(bench.questions)
    return (
        f"Timing: English->Chinese dictionary built in {build:.2f} s wall, {build_cpu:.2f} s CPU "
        f"(once per process, on the first English question); parse_query {english * 1000:.2f} ms per English question, "
        f"{chinese * 1000:.2f} ms per Chinese question.\n"
    )


def table(title: str, rows: list[tuple[str, Metrics]]) -> str:
    lines = [f"### {title}", "", "| variant | R@1 | R@5 | R@10 | MRR@10 |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {label} | {metrics.row()} |" for label, metrics in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench-dir", type=Path, default=BENCH_DIR)
    args = parser.parse_args()
    started = time.perf_counter()
    xquad = load_set("xquad_zh", args.bench_dir)
    sections = [
        timings(xquad),
        table(f"XQuAD-zh (240 passages, 1,190 questions), bm25s {BM25_PARAMS}", xquad_rows(xquad)),
        table("CMRC2018 dev (848 passages, 3,219 questions), Chinese questions",
              cmrc_rows(load_set("cmrc2018_dev", args.bench_dir))),
    ]
    report = "\n".join(sections) + f"\n_{time.perf_counter() - started:.0f} s on this machine._\n"
    print(report)


if __name__ == "__main__":
    main()
