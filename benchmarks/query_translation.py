"""What Chinese search terms added to an English question could do for retrieval: the ceiling.

``ASSISTANT_LLM_TRANSLATE_QUERIES`` lets the chat model add Chinese search terms to an English
question before retrieval. No model is reachable from this machine, so this measures the
best such a rewrite can do: XQuAD-zh's English questions with the set's own Chinese
question appended (a perfect translation), against the English question alone (the
dictionary expansion only, as today), over the benchmark's index, test part.

    python benchmarks/query_translation.py      # -> benchmarks/query_translation.md
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.evaluation.bench import article_part, ensure_bench_index, resolve_bench  # noqa: E402
from assistant.pipeline import Assistant  # noqa: E402
from assistant.query import parse_query  # noqa: E402


def main() -> None:
    folder = resolve_bench("xquad_zh")
    settings = Settings(index_dir=ROOT / "index-bench" / "xquad_zh")
    ensure_bench_index(folder, settings.index_dir, settings)
    assistant = Assistant(settings)
    retriever = assistant.retriever()
    titles = {p["id"]: p["title"] for p in map(json.loads, (folder / "passages.jsonl").read_text(encoding="utf-8").splitlines())}
    questions = [q for q in map(json.loads, (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines())
                 if article_part("xquad_zh", titles[q["passage_id"]]) == "test"]
    variants = {
        "English question (today)": lambda q: q["question_en"],
        "English + the set's Chinese question (a perfect rewrite)": lambda q: f"{q['question_en']} {q['question']}",
        "the Chinese question alone (for reference)": lambda q: q["question"],
    }
    rows = []
    for name, text_of in variants.items():
        ranks = []
        for q in questions:
            docs = list(dict.fromkeys(h.chunk.doc_id for h in retriever.run(parse_query(text_of(q)), k=10)))
            ranks.append(docs.index(q["passage_id"]) + 1 if q["passage_id"] in docs else None)
        r = {k: sum(1 for x in ranks if x is not None and x <= k) / len(ranks) for k in (1, 5)}
        rows.append(f"| {name} | {len(ranks)} | {r[1]:.3f} | {r[5]:.3f} |")
    report = "\n".join([
        "# Query translation: the ceiling", "",
        f"- measured {time.strftime('%Y-%m-%d')}; command: `python benchmarks/query_translation.py`",
        "- XQuAD-zh, test part, hybrid retrieval over the benchmark's index; a question's rank is its passage's best chunk", "",
        "| query | questions | R@1 | R@5 |", "| --- | ---: | ---: | ---: |", *rows, "",
        "A model's rewrite can only approach the middle row; what a given model reaches is measured by "
        "`assistant eval FILE --answer llm` with `ASSISTANT_LLM_TRANSLATE_QUERIES=true` against the same run without it.",
    ]) + "\n"
    (ROOT / "benchmarks" / "query_translation.md").write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
