"""English questions typed all in lower case, beside the same questions as written.

Users type "who runs suining's science bureau". Each English question of a split is asked
twice, as written and lower-cased (Chinese questions are left out: case does not apply), and
the answer figures are put side by side. Nothing is tuned here: the dev splits show causes,
the test splits are only reported.

    python benchmarks/lower_case.py [--split test]   # report: eval/reports/lower-case-<split>.md
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.evaluation.suite import evaluate_file  # noqa: E402
from assistant.pipeline import Assistant, ensure_index  # noqa: E402

WORK = ROOT / "index-bench" / "lower_case"
SPLITS = ("dev", "dev2", "dev3", "dev4", "dev5", "test", "test2")
ROWS = (("cited_evidence", "cited passages hold the evidence"), ("evidence_hit_within_1500_chars", "evidence within 1,500 chars"),
        ("refusal_accuracy", "unanswerable refused"), ("false_refusal_rate", "false refusals"))


def english_questions(split: Path, lower: bool) -> Path:
    """The split's English questions (lower-cased when ``lower``), as a question file of their own."""
    out = WORK / f"{split.stem}.{'lower' if lower else 'written'}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for line in split.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            if record.get("lang") == "en":
                if lower:
                    record["question"] = record["question"].lower()
                lines.append(json.dumps(record, ensure_ascii=False))
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="test", choices=SPLITS)
    args = parser.parse_args()
    split = ROOT / "eval" / f"corpus_zh_en.{args.split}.jsonl"
    settings = Settings()
    ensure_index(settings)
    assistant = Assistant(settings)
    runs = {}
    for name, lower in (("written", False), ("lower", True)):
        out = WORK / "reports" / f"{args.split}-{name}"
        runs[name] = evaluate_file(assistant, english_questions(split, lower), out, ["hybrid"]).runs["hybrid"]["by_lang"]["en"]
    lines = [f"# English questions typed in lower case: {split.name}", "",
             f"Command: `python benchmarks/lower_case.py --split {args.split}`", "",
             "| figure | as written | lower case | difference |", "|---|---|---|---|"]
    for key, label in ROWS:
        a, b = runs["written"].get(key), runs["lower"].get(key)
        diff = "–" if a is None or b is None else f"{b - a:+.3f}"
        shown = ["–" if x is None else f"{x:.3f}" for x in (a, b)]
        lines.append(f"| {label} | {shown[0]} | {shown[1]} | {diff} |")
    report = ROOT / "eval" / "reports" / f"lower-case-{args.split}.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
