"""English questions as users type them, beside the same questions as written.

Users type "who runs suining's science bureau" or "Who heads Lanzhous bureau?". Each English
question of a split is asked as written, lower-cased, and with its apostrophes left out
("What's" -> "Whats", "Lanzhou's" -> "Lanzhous"); Chinese questions are left out (neither
applies). Nothing is tuned here: the dev splits show causes, the test splits are only reported.

    python benchmarks/as_typed.py [--split test]   # report: eval/reports/as-typed-<split>.md
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.evaluation.suite import evaluate_file  # noqa: E402
from assistant.pipeline import Assistant, ensure_index  # noqa: E402

WORK = ROOT / "index-bench" / "as_typed"
SPLITS = ("dev", "dev2", "dev3", "dev4", "dev5", "test", "test2")
ROWS = (("cited_evidence", "cited passages hold the evidence"), ("evidence_hit_within_1500_chars", "evidence within 1,500 chars"),
        ("refusal_accuracy", "unanswerable refused"), ("false_refusal_rate", "false refusals"))
# (name, how the question is typed)
WAYS: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("as written", lambda q: q),
    ("lower case", str.lower),
    ("no apostrophes", lambda q: re.sub(r"['’]", "", q)),
)


def english_questions(split: Path, name: str, typed: Callable[[str], str]) -> Path:
    """The split's English questions, each typed as ``typed`` gives it, as a question file of their own."""
    out = WORK / f"{split.stem}.{name.replace(' ', '-')}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for line in split.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            if record.get("lang") == "en":
                record["question"] = typed(record["question"])
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
    for name, typed in WAYS:
        out = WORK / "reports" / f"{args.split}-{name.replace(' ', '-')}"
        runs[name] = evaluate_file(assistant, english_questions(split, name, typed), out, ["hybrid"]).runs["hybrid"]["by_lang"]["en"]
    names = [name for name, _ in WAYS]
    lines = [f"# English questions as users type them: {split.name}", "",
             f"Command: `python benchmarks/as_typed.py --split {args.split}`", "",
             "| figure | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for key, label in ROWS:
        shown = ["–" if runs[n].get(key) is None else f"{runs[n][key]:.3f}" for n in names]
        lines.append(f"| {label} | " + " | ".join(shown) + " |")
    report = ROOT / "eval" / "reports" / f"as-typed-{args.split}.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
