"""The shipped question set over a Traditional-script copy of the corpus, beside the Simplified original.

The five articles are converted with OpenCC s2t and saved as Big5 (as a Taiwanese or Hong
Kong site would serve them); the split's Chinese questions are converted too, English ones
stay as they are. Evidence strings stay Simplified: matching is script-insensitive
(``metrics.normalize_for_match``). Target: every figure within 0.03 of the Simplified one.

    python benchmarks/traditional.py [--split test]   # report: eval/reports/traditional-<split>/
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import opencc  # noqa: E402

from assistant.config import Settings  # noqa: E402
from assistant.evaluation.suite import evaluate_file  # noqa: E402
from assistant.indexer import build_index  # noqa: E402
from assistant.pipeline import Assistant, ensure_index  # noqa: E402

WORK = ROOT / "index-bench" / "traditional"
ROWS = (("cited_evidence", "cited passages hold the evidence"), ("evidence_hit_within_1500_chars", "evidence within 1,500 chars"),
        ("refusal_accuracy", "unanswerable refused"), ("false_refusal_rate", "false refusals"),
        ("mean_quoted_chars", "mean quoted chars"))


def traditional_copy(s2t: opencc.OpenCC) -> Path:
    corpus = WORK / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "corpus").glob("*.txt")):
        text = s2t.convert(path.read_text(encoding="utf-8"))
        try:
            data = text.encode("big5")
        except UnicodeEncodeError:  # a character Big5 lacks: keep UTF-8 for that file
            data = text.encode("utf-8")
        target = corpus / path.name
        if not target.exists() or target.read_bytes() != data:
            target.write_bytes(data)
    return corpus


def traditional_questions(split: Path, s2t: opencc.OpenCC) -> Path:
    out = WORK / f"{split.stem}.jsonl"
    lines = []
    for line in split.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            if record.get("lang") == "zh":
                record["question"] = s2t.convert(record["question"])
            lines.append(json.dumps(record, ensure_ascii=False))
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="test", choices=("dev", "test"))
    args = parser.parse_args()
    split = ROOT / "eval" / f"corpus_zh_en.{args.split}.jsonl"
    s2t = opencc.OpenCC("s2t")
    simplified = Settings()
    ensure_index(simplified)
    traditional = Settings(index_dir=WORK / "index", corpus_dir=traditional_copy(s2t))
    build_index([traditional.corpus_dir], traditional.index_dir, traditional, reuse_from=[simplified.index_dir])
    runs = {}
    for name, settings, questions in (("simplified", simplified, split),
                                      ("traditional", traditional, traditional_questions(split, s2t))):
        out = ROOT / "eval" / "reports" / f"{name}-{args.split}"
        runs[name] = evaluate_file(Assistant(settings), questions, out, ["hybrid"]).runs["hybrid"]
    lines = [f"# Script parity: {split.name}", "", f"Command: `python benchmarks/traditional.py --split {args.split}`", "",
             "| language | figure | Simplified | Traditional | difference |", "|---|---|---|---|---|"]
    for lang in ("zh", "en"):
        for key, label in ROWS:
            a, b = runs["simplified"]["by_lang"][lang].get(key), runs["traditional"]["by_lang"][lang].get(key)
            diff = "–" if a is None or b is None else f"{b - a:+.3f}"
            lines.append(f"| {lang} | {label} | {a} | {b} | {diff} |")
    report = ROOT / "eval" / "reports" / f"traditional-{args.split}.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
