"""English retrieval with and without the translated-words query (Retriever.translated_weight).

Dev data only: the English answerable questions of eval/corpus_zh_en.dev.jsonl and dev2 (gold:
the chunk holding the first evidence string) and the English questions of XQuAD-zh's train part
(gold: the question's passage). Prints, and writes to benchmarks/translated_query.md, R@1, R@5
and MRR@20 for each (weight, translations per word).

    python benchmarks/translated_query.py            # the grid of the decision record
    python benchmarks/translated_query.py --quick    # the shipped setting against none
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.embed import load_embedder  # noqa: E402
from assistant.evaluation.bench import ensure_bench_index, load_bench_questions, passage_ranking, resolve_bench  # noqa: E402
from assistant.evaluation.questions import load_questions  # noqa: E402
from assistant.index.store import open_index  # noqa: E402
from assistant.pipeline import ensure_index  # noqa: E402
from assistant.query import parse_query  # noqa: E402
from assistant.retrieve import Retriever  # noqa: E402

DEV_FILES = [ROOT / "eval" / "corpus_zh_en.dev.jsonl", ROOT / "eval" / "corpus_zh_en.dev2.jsonl"]
GRID = [(0.0, 2), (0.2, 2), (0.3, 2), (0.4, 2), (0.3, 1), (0.3, 3)]
DEPTH = 20


def corpus_items() -> tuple[Settings, list[tuple[str, str]]]:
    settings = Settings()
    ensure_index(settings)
    items = [(q.question, q.evidence[0]) for f in DEV_FILES for q in load_questions(f).questions
             if q.answerable and parse_query(q.question).lang == "en"]
    return settings, items


def xquad_items() -> tuple[Settings, list[tuple[str, str]]]:
    folder = resolve_bench("xquad_zh")
    settings = Settings()
    settings = settings.model_copy(update={"index_dir": ROOT / "index-bench" / "xquad_zh"})
    ensure_bench_index(folder, settings.index_dir, settings)
    return settings, [(q.text, q.passage_id) for q in load_bench_questions(folder, "train") if q.lang == "en"]


def ranks(retriever: Retriever, items: list[tuple[str, str]], by_passage: bool) -> np.ndarray:
    out = []
    for text, gold in items:
        hits = retriever.run(parse_query(text), k=DEPTH)
        if by_passage:
            ranking = passage_ranking(hits)
            out.append(ranking.index(gold) if gold in ranking else DEPTH)
        else:
            out.append(next((i for i, h in enumerate(hits) if gold in h.chunk.text), DEPTH))
    return np.array(out)


def figures(r: np.ndarray) -> str:
    return f"{(r < 1).mean():.3f} | {(r < 5).mean():.3f} | {(1 / (r + 1)).mean():.3f}"


def write_report(name: str, lines: list[str]) -> None:
    out = ROOT / "benchmarks" / name
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only weight 0 and the shipped setting")
    args = parser.parse_args()
    grid = [(0.0, 2), (0.3, 2)] if args.quick else GRID
    started = time.time()
    rows: dict[tuple[float, int], list[str]] = {g: [] for g in grid}
    counts = []
    for name, load, by_passage in (("dev en", corpus_items, False), ("XQuAD train en", xquad_items, True)):
        settings, items = load()
        counts.append(f"{name}: {len(items)}")
        index = open_index(settings)
        embedder = load_embedder(settings.encoder, threads=settings.encoder_threads)
        for weight, per in grid:
            r = ranks(Retriever(index, embedder, translated_weight=weight, translations_per_word=per), items, by_passage)
            rows[(weight, per)].append(figures(r))
            print(name, weight, per, figures(r), flush=True)
    lines = [
        "# English retrieval with the translated-words query",
        "",
        f"Command: `python benchmarks/translated_query.py{' --quick' if args.quick else ''}` "
        f"({(time.time() - started) / 60:.1f} min on this machine). Questions: {'; '.join(counts)}.",
        "Hybrid retrieval, everything else shipped. Gold: the chunk holding the first evidence string "
        "(dev), the question's passage (XQuAD). MRR over the top 20.",
        "",
        "| weight | translations per word | dev en R@1 | R@5 | MRR | XQuAD train en R@1 | R@5 | MRR |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [f"| {w} | {n} | {' | '.join(rows[(w, n)])} |" for w, n in grid]
    lines += ["", "Shipped: weight 0.3, 2 translations per word (`benchmarks/decisions_2026-12-03b.md`)."]
    write_report("translated_query.md", lines)


if __name__ == "__main__":
    main()
