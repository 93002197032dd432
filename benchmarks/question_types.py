"""How consistently questions are typed across languages: XQuAD's English questions against their Chinese twins.

XQuAD-zh asks every question in both languages, so the answer type (``assistant.answer.qtype``)
of the English question and of its Chinese translation should agree. Where they differ, one
of the two typings is loose ("What actress …" as entity, "哪位女演员" as person) or wrong
("How many seconds were left when …" as a date). Only the "train" part is read (dev data).

    python benchmarks/question_types.py      # writes benchmarks/question_types.md
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answer.qtype import classify  # noqa: E402
from assistant.evaluation.bench import load_bench_questions, resolve_bench  # noqa: E402
from assistant.query import parse_query  # noqa: E402

EXAMPLES = 3


def main() -> None:
    pairs: dict[str, dict[str, str]] = {}
    for q in load_bench_questions(resolve_bench("xquad_zh"), "train"):
        pairs.setdefault(q.id, {})[q.lang] = q.text
    pairs = {k: v for k, v in pairs.items() if {"zh", "en"} <= set(v)}
    confusion: Counter = Counter()
    examples: dict[tuple[str, str], list[str]] = {}
    for texts in pairs.values():
        zh, en = (classify(parse_query(texts[lang])).kind for lang in ("zh", "en"))
        confusion[(zh, en)] += 1
        if zh != en:
            examples.setdefault((zh, en), []).append(f"{texts['en']} / {texts['zh']}")
    agree = sum(n for (zh, en), n in confusion.items() if zh == en)
    lines = ["# Question types across languages (XQuAD-zh, train part)", "",
             "Command: `python benchmarks/question_types.py`", "",
             f"English and Chinese question typed alike: **{agree} of {len(pairs)}** ({agree / len(pairs):.3f}).", "",
             "| Chinese type | English type | questions | examples (English / Chinese) |", "|---|---|---|---|"]
    for (zh, en), n in sorted(confusion.items(), key=lambda item: -item[1]):
        if zh != en:
            shown = "; ".join(examples[(zh, en)][:EXAMPLES]).replace("|", "/")
            lines.append(f"| {zh} | {en} | {n} | {shown} |")
    (ROOT / "benchmarks" / "question_types.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
