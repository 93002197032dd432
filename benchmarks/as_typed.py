"""Questions as users type them, beside the same questions as written.

Users type "who runs suining's science bureau", "Who heads Lanzhous bureau?" or "兰州市科技局局长是谁"
(no question mark). Each question of a split is asked as written, lower-cased, with its
apostrophes left out ("What's" -> "Whats", "Lanzhou's" -> "Lanzhous") and without its closing
question mark, and with one English word misspelt ("inovation"); lower case, apostrophes and
spelling are English ways (a Chinese question has none of them).
Nothing is tuned here: the dev splits show causes, the test splits are only reported.

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
from benchmarks.refusal_check import DEV_SETS, JUDGE_SETS  # noqa: E402

WORK = ROOT / "index-bench" / "as_typed"
SPLITS = (*DEV_SETS, *JUDGE_SETS, "test", "test2")  # a new dev split is listed where the choosers list it
ROWS = (("cited_evidence", "cited passages hold the evidence"), ("evidence_hit_within_1500_chars", "evidence within 1,500 chars"),
        ("refusal_accuracy", "unanswerable refused"), ("false_refusal_rate", "false refusals"))
# (name, the question languages it applies to, how the question is typed)
WAYS: tuple[tuple[str, tuple[str, ...], Callable[[str], str]], ...] = (
    ("as written", ("zh", "en"), lambda q: q),
    ("lower case", ("en",), str.lower),
    ("no apostrophes", ("en",), lambda q: re.sub(r"['’]", "", q)),
    ("no question mark", ("zh", "en"), lambda q: re.sub(r"[?？]+\s*$", "", q.strip())),
    ("one word misspelt", ("en",), lambda q: misspelt(q)),
)


def misspelt(question: str) -> str:
    """The question with one typing slip in its longest lower-case word of six letters or more (the
    first of equals): one of a doubled letter dropped ("innovation" -> "inovation"), else its two
    middle letters swapped ("research" -> "resaerch"). Deterministic."""
    words = [m for m in re.finditer(r"\b[a-z]{6,}\b", question)]
    if not words:
        return question
    m = max(words, key=lambda w: (len(w.group(0)), -w.start()))
    word = m.group(0)
    doubled = re.search(r"([a-z])\1", word)
    if doubled:
        slip = word[:doubled.start()] + word[doubled.start() + 1:]
    else:
        mid = len(word) // 2
        slip = word[:mid - 1] + word[mid] + word[mid - 1] + word[mid + 1:]
    return question[:m.start()] + slip + question[m.end():]



def typed_questions(split: Path, name: str, langs: tuple[str, ...], typed: Callable[[str], str]) -> Path:
    """The split's questions in ``langs``, each typed as ``typed`` gives it, as a question file of their own."""
    out = WORK / f"{split.stem}.{name.replace(' ', '-')}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for line in split.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            if record.get("lang") in langs:
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
    for name, langs, typed in WAYS:
        out = WORK / "reports" / f"{args.split}-{name.replace(' ', '-')}"
        runs[name] = evaluate_file(assistant, typed_questions(split, name, langs, typed), out, ["hybrid"]).runs["hybrid"]["by_lang"]
    names = [name for name, _, _ in WAYS]
    lines = [f"# Questions as users type them: {split.name}", "",
             f"Command: `python benchmarks/as_typed.py --split {args.split}`", "",
             "| language | figure | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for lang in ("zh", "en"):
        for key, label in ROWS:
            values = [runs[n].get(lang, {}).get(key) for n in names]
            shown = ["–" if v is None else f"{v:.3f}" for v in values]
            lines.append(f"| {lang} | {label} | " + " | ".join(shown) + " |")
    report = ROOT / "eval" / "reports" / f"as-typed-{args.split}.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
