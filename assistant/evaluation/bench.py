"""Passage-retrieval benchmark on public data (CMRC 2018 dev, XQuAD-zh) with the product's own pipeline.

Each benchmark passage becomes one article; it is chunked, embedded and indexed exactly like the
default corpus, and a question's passage ranking is the order in which its chunks' articles first
appear in the retriever's ranking. Nothing here knows the questions when the index is built.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from assistant.config import PROJECT_ROOT, Settings
from assistant.embed import load_embedder
from assistant.evaluation import metrics
from assistant.indexer import corpus_fingerprint, index_articles
from assistant.query import parse_query
from assistant.retrieve import Retriever
from assistant.store import load_index, read_manifest
from assistant.types import Article

KS = (1, 5, 10)
SHARED_BENCH = PROJECT_ROOT.parent / "shared" / "bench"


@dataclass(frozen=True)
class BenchQuestion:
    id: str
    text: str
    lang: str
    passage_id: str


def resolve_bench(name_or_dir: str) -> Path:
    path = Path(name_or_dir)
    for candidate in (path, SHARED_BENCH / name_or_dir):
        if (candidate / "passages.jsonl").is_file() and (candidate / "questions.jsonl").is_file():
            return candidate
    raise FileNotFoundError(
        f"no benchmark '{name_or_dir}': pass a folder holding passages.jsonl and questions.jsonl "
        f"(or a name under {SHARED_BENCH})"
    )


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_passages(folder: Path) -> list[Article]:
    return [Article(doc_id=str(p["id"]), title=p.get("title", ""), text=p["text"].strip(), path=str(folder))
            for p in _read_jsonl(folder / "passages.jsonl")]


def load_bench_questions(folder: Path) -> list[BenchQuestion]:
    """Chinese questions, plus the English originals where the set has them (XQuAD)."""
    out = []
    for q in _read_jsonl(folder / "questions.jsonl"):
        out.append(BenchQuestion(str(q["id"]), q["question"], "zh", str(q["passage_id"])))
        if q.get("question_en"):
            out.append(BenchQuestion(str(q["id"]), q["question_en"], "en", str(q["passage_id"])))
    return out


def ensure_bench_index(folder: Path, index_dir: Path, settings: Settings,
                       progress: Callable[[str, int, int], None] | None = None) -> None:
    """Build the benchmark's own index unless one for the same passages and settings exists."""
    passages_file = folder / "passages.jsonl"
    digest = hashlib.sha256(passages_file.read_bytes()).hexdigest()
    fingerprint = corpus_fingerprint({"passages": digest}, settings)
    manifest = read_manifest(index_dir)
    encoder = load_embedder(settings.encoder, threads=settings.encoder_threads).name
    if manifest and manifest.corpus_fingerprint == fingerprint and manifest.encoder == encoder:
        return
    index_articles(load_passages(folder), index_dir, settings, {"passages": digest}, fingerprint,
                   [str(passages_file.resolve())], progress)


def passage_ranking(retriever: Retriever, text: str, depth: int = 50) -> list[str]:
    seen: dict[str, None] = {}
    for hit in retriever.run(parse_query(text), k=depth):
        seen.setdefault(hit.chunk.doc_id, None)
    return list(seen)


def score_rankings(rankings: Sequence[tuple[str, list[str]]]) -> dict:
    """R@k and MRR@10 from (gold passage id, ranked passage ids) pairs."""
    n = len(rankings)
    out = {f"R@{k}": round(sum(gold in ranked[:k] for gold, ranked in rankings) / n, 4) for k in KS}
    ranks = [ranked.index(gold) + 1 if gold in ranked else None for gold, ranked in rankings]
    out["MRR@10"] = round(metrics.mrr_at_k(ranks, k=10), 4)
    out["questions"] = n
    return out


def run_bench(folder: Path, settings: Settings, modes: Sequence[str], limit: int | None = None,
              progress: Callable[[str, int, int], None] | None = None) -> dict:
    ensure_bench_index(folder, settings.index_dir, settings, progress)
    index = load_index(settings.index_dir)
    embedder = load_embedder(settings.encoder, threads=settings.encoder_threads)
    questions = load_bench_questions(folder)
    if limit:  # the first N question ids, in every language the set has them
        keep = set(list(dict.fromkeys(q.id for q in questions))[:limit])
        questions = [q for q in questions if q.id in keep]
    results: dict = {}
    for mode in modes:
        retriever = Retriever(index, embedder, mode=mode)
        for lang in sorted({q.lang for q in questions}, reverse=True):
            subset = [q for q in questions if q.lang == lang]
            rankings, latencies = [], []
            for i, q in enumerate(subset, start=1):
                t = time.perf_counter()
                rankings.append((q.passage_id, passage_ranking(retriever, q.text)))
                latencies.append((time.perf_counter() - t) * 1000)
                if progress:
                    progress(f"{mode}/{lang}", i, len(subset))
            row = score_rankings(rankings)
            row["latency_ms_p50"] = round(metrics.percentile(latencies, 50), 2)
            row["latency_ms_p95"] = round(metrics.percentile(latencies, 95), 2)
            results.setdefault(mode, {})[lang] = row
    return {
        "benchmark": folder.name,
        "passages": len(index.articles),
        "chunks": len(index.chunks),
        "encoder": index.manifest.encoder,
        "chunker": index.manifest.chunker,
        "results": results,
    }


def bench_markdown(report: dict, command: str) -> str:
    lines = [f"# Passage retrieval: {report['benchmark']}", "",
             f"- command: `{command}`",
             f"- passages: {report['passages']} ({report['chunks']} chunks), encoder `{report['encoder']}`, "
             f"chunker {report['chunker']['max_tokens']} tokens / overlap {report['chunker']['overlap_tokens']}",
             "- a passage's rank is the rank of its best chunk; every passage of the set is indexed", "",
             "| retriever | questions | R@1 | R@5 | R@10 | MRR@10 | p50 ms | p95 ms |", "|---|---|---|---|---|---|---|---|"]
    for mode, by_lang in report["results"].items():
        for lang, r in by_lang.items():
            lines.append(f"| {mode} | {lang} ({r['questions']}) | {r['R@1']:.3f} | {r['R@5']:.3f} | {r['R@10']:.3f} | "
                         f"{r['MRR@10']:.3f} | {r['latency_ms_p50']} | {r['latency_ms_p95']} |")
    return "\n".join(lines) + "\n"
