"""Grid-search the hybrid fusion parameters on the shipped question set and a public benchmark.

Scores are computed once per question (BM25 per chunk and per article, dense per chunk), then every
parameter combination is a cheap numpy re-ranking. Prints one line per combination:
  evidence hit@5 (zh, en) on eval/corpus_zh_en.dev.jsonl (the dev split: never the test split) and passage R@1 (zh, en) on the benchmark.

    python benchmarks/tune_fusion.py [--bench xquad_zh] [--limit 400]
"""

from __future__ import annotations

import argparse
import itertools
import random
from pathlib import Path

import numpy as np

from assistant.config import Settings
from assistant.embed import load_embedder
from assistant.evaluation import metrics
from assistant.evaluation.bench import ensure_bench_index, load_bench_questions, resolve_bench
from assistant.evaluation.questions import load_questions
from assistant.pipeline import ensure_index
from assistant.query import parse_query
from assistant.retrieve import Retriever, _normalise_dense, _normalise_lexical
from assistant.index.store import load_index


def precompute(index, embedder, items):
    """Per item: (item, chunk BM25, article BM25 per chunk, dense per chunk), each normalised."""
    retriever = Retriever(index, embedder)
    out = []
    for item, text in items:
        q = parse_query(text)
        chunk = _normalise_lexical(index.lexical.scores(q.lexical_tokens))
        article = _normalise_lexical(index.article_lexical.scores(q.lexical_tokens))[index.chunk_article_rows]
        out.append((item, q.lang, chunk, article, retriever.dense_scores(q)))
    return out


def _z(x, pool):
    top = np.sort(x)[::-1][:pool]
    sd = float(top.std())
    return (x - float(top.mean())) / sd if sd > 1e-9 else np.zeros_like(x)


def fused(chunk, article, dense, lang, aw, wzh, wen, pool):
    w = wzh if lang == "zh" else wen
    lexical = (1 - aw) * chunk + aw * article
    if NORM == "z":
        return w * _z(lexical, pool) + (1 - w) * _z(dense, pool)
    return w * _normalise_lexical(lexical) + (1 - w) * _normalise_dense(dense, pool)


NORM = "max"


def ranked_chunks(index, scores, k=10):
    """Top-k chunk rows after the same overlap de-duplication the retriever applies."""
    rows, kept = [], []
    for row in np.argsort(-scores, kind="stable"):
        c = index.chunks[row]
        if any(d == c.doc_id and min(e, c.end) - max(s, c.start) > 0.5 * min(e - s, c.end - c.start) for d, s, e in kept):
            continue
        kept.append((c.doc_id, c.start, c.end))
        rows.append(row)
        if len(rows) == k:
            break
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", default="eval/corpus_zh_en.dev.jsonl")
    parser.add_argument("--bench", default="xquad_zh")
    parser.add_argument("--limit", type=int, default=400, help="benchmark questions sampled (seeded)")
    parser.add_argument("--norm", choices=["max", "z"], default="max", help="score normalisation before fusion")
    parser.add_argument("--encoder", default=Settings().encoder)
    args = parser.parse_args()
    global NORM
    NORM = args.norm
    settings = Settings(index_dir=Path(f"/tmp/tune-index-{args.encoder}"), encoder=args.encoder)
    ensure_index(settings)
    index = load_index(settings.index_dir)
    embedder = load_embedder(settings.encoder, threads=settings.encoder_threads)
    questions = [q for q in load_questions(Path(args.questions)).questions if q.answerable]
    product = precompute(index, embedder, [(q, q.question) for q in questions])

    folder = resolve_bench(args.bench)
    bench_settings = Settings(index_dir=Path(f"/tmp/tune-bench-{folder.name}-{args.encoder}"), encoder=args.encoder)
    ensure_bench_index(folder, bench_settings.index_dir, bench_settings)
    bench_index = load_index(bench_settings.index_dir)
    bench_qs = load_bench_questions(folder)
    ids = sorted({q.id for q in bench_qs})
    random.Random(0).shuffle(ids)
    keep = set(ids[: args.limit])
    bench = precompute(bench_index, embedder, [(q, q.text) for q in bench_qs if q.id in keep])
    doc_of = [c.doc_id for c in bench_index.chunks]

    grid = itertools.product([0.3], [0.5], [0.4, 0.45, 0.5], [20, 50, 100])
    for aw, wzh, wen, pool in grid:
        hit = {"zh": [], "en": []}
        for q, lang, c, a, d in product:
            rows = ranked_chunks(index, fused(c, a, d, lang, aw, wzh, wen, pool), 5)
            hit[lang].append(metrics.evidence_hit_at_k(q.evidence, [index.chunks[r].text for r in rows], 5))
        r1 = {"zh": [], "en": []}
        for q, lang, c, a, d in bench:
            order = np.argsort(-fused(c, a, d, lang, aw, wzh, wen, pool), kind="stable")
            r1[lang].append(doc_of[order[0]] == q.passage_id)
        print(f"aw={aw} wzh={wzh} wen={wen} pool={pool}  eval hit@5 zh={np.mean(hit['zh']):.3f} en={np.mean(hit['en']):.3f}"
              f"  {folder.name} R@1 zh={np.mean(r1['zh']):.3f} en={np.mean(r1['en']):.3f}", flush=True)


if __name__ == "__main__":
    main()
