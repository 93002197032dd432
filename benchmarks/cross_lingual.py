"""English retrieval with and without the cross-lingual encoder (Retriever.cross_lingual_weight).

Dev data only, as ``translated_query.py``: the English answerable questions of
eval/corpus_zh_en.dev.jsonl and dev2 (gold: the chunk holding the first evidence string) and the
English questions of XQuAD-zh's train part (gold: the question's passage). Chinese questions are
not affected (the blend reads English questions only); their figures are printed as a check.
Writes benchmarks/cross_lingual.md: R@1, R@5 and MRR@20 per weight (0 = without it).

    python benchmarks/cross_lingual.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

# The indexes measured hold the cross-lingual vectors (off by default: the run turns them on).
os.environ.setdefault("ASSISTANT_CROSS_LINGUAL_ENCODER", "use")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from translated_query import corpus_items, figures, ranks, write_report, xquad_items  # noqa: E402

from assistant.embed import load_embedder  # noqa: E402
from assistant.index.store import open_index  # noqa: E402
from assistant.retrieve import Retriever  # noqa: E402

WEIGHTS = (0.0, 0.3, 0.4, 0.5, 0.6)


def main() -> None:
    started = time.time()
    rows: dict[float, list[str]] = {w: [] for w in WEIGHTS}
    counts, encoders = [], set()
    for name, load, by_passage in (("dev en", corpus_items, False), ("XQuAD train en", xquad_items, True)):
        settings, items = load()  # builds the index (with its cross-lingual vectors) when missing
        counts.append(f"{name}: {len(items)}")
        index = open_index(settings)
        if not index.cross_lingual_encoder:
            sys.exit(f"the index at {settings.index_dir} holds no cross-lingual vectors "
                     "(ASSISTANT_CROSS_LINGUAL_ENCODER is off?)")
        encoders.add(index.cross_lingual_encoder)
        embedder = load_embedder(settings.encoder, threads=settings.encoder_threads)
        for weight in WEIGHTS:
            r = ranks(Retriever(index, embedder, cross_lingual_weight=weight), items, by_passage)
            rows[weight].append(figures(r))
            print(name, weight, figures(r), flush=True)
    lines = [
        "# English retrieval with the cross-lingual encoder",
        "",
        f"Command: `python benchmarks/cross_lingual.py` ({(time.time() - started) / 60:.1f} min on this machine). "
        f"Cross-lingual encoder: {', '.join(sorted(encoders))}. Questions: {'; '.join(counts)}.",
        "Hybrid retrieval, everything else shipped (the translated-words query included). Gold: the chunk "
        "holding the first evidence string (dev), the question's passage (XQuAD). MRR over the top 20.",
        "",
        "| weight | dev en R@1 | R@5 | MRR | XQuAD train en R@1 | R@5 | MRR |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [f"| {w} | {' | '.join(rows[w])} |" for w in WEIGHTS]
    lines += ["", "Weight 0 is retrieval without it. Chosen by the rule in `benchmarks/decisions_2026-12-04.md`."]
    write_report("cross_lingual.md", lines)


if __name__ == "__main__":
    main()
