"""Choose the bar at which a passage "supports" a generated sentence; report it on data it never saw.

A generated answer's sentence is checked with the extractive answerer's sentence scorer: the
sentence takes the place of the question, and a passage supports it when its best sentence
scores at least the support threshold (``assistant.answer.llm.verify``). The refusal threshold
is far too low for this: it is tuned so that answerable questions are rarely refused, and an
unrelated English sentence still scores above it against the top passage.

Claims are built from questions with known answers, the way a generated sentence states an
answer: the question followed by its reference answer, in the question's language. For each
claim, its top five retrieved passages are scored:

* positive: a passage that holds the answer (a benchmark's gold passage containing the gold
  answer; an eval question's evidence);
* negative: every other passage, and the same five passages scored against the claim of an
  unrelated question (a claim the passages do not support at all).

The threshold per language maximises F1 of "supported" on the tuning data: the "train" part
of XQuAD-zh (Chinese and English questions) and CMRC 2018 dev, and our own dev split. It is
reported on their "test" parts and on our test split.

    python benchmarks/tune_support.py            # figures -> benchmarks/support.md
    python benchmarks/tune_support.py --write    # also store the thresholds in assistant/answer/selector.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answer.llm.context import Passage  # noqa: E402
from assistant.answer.llm.verify import CitationChecker  # noqa: E402
from assistant.answer.selector import MODEL_PATH  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.evaluation.bench import article_part, resolve_bench  # noqa: E402
from assistant.evaluation.questions import load_questions  # noqa: E402
from assistant.pipeline import Assistant  # noqa: E402
from assistant.query import parse_query  # noqa: E402

PASSAGES = 5
BENCHES = ("xquad_zh", "cmrc2018_dev")


def bench_claims(name: str) -> list[dict]:
    """(claim, lang, gold passage, answers, part) for every question of a benchmark, both languages."""
    folder = resolve_bench(name)
    titles = {p["id"]: p["title"] for p in map(json.loads, (folder / "passages.jsonl").read_text(encoding="utf-8").splitlines())}
    out = []
    for q in map(json.loads, (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines()):
        part = article_part(name, titles[q["passage_id"]])
        out.append({"question": q["question"], "claim": f"{q['question']} {q['answers'][0]}", "lang": "zh",
                    "doc": q["passage_id"], "evidence": q["answers"], "part": part, "set": name})
        if q.get("question_en"):
            out.append({"question": q["question_en"], "claim": f"{q['question_en']} {q['answers_en'][0]}", "lang": "en",
                        "doc": q["passage_id"], "evidence": q["answers"], "part": part, "set": name})
    return out


def eval_claims(path: Path, part: str) -> list[dict]:
    return [{"question": q.question, "claim": f"{q.question} {q.answer}", "lang": q.lang, "doc": q.docs[0],
             "evidence": list(q.evidence), "part": part, "set": "corpus"}
            for q in load_questions(path).questions if q.answerable and q.answer]


def score(assistant: Assistant, claims: list[dict], rng: random.Random) -> list[tuple[float, bool, str, str]]:
    """(best probability of a passage, supported?, lang, part) for each claim x top passage, plus unrelated claims."""
    checker = CitationChecker(assistant.answerer)
    retriever = assistant.retriever()
    rows = []
    for claim in claims:
        hits = [h for h in retriever.run(parse_query(claim["question"]), k=10)
                if assistant.index.chunk_row(h.chunk.chunk_id) is not None][:PASSAGES]
        passages = [Passage(i + 1, h, "", 0) for i, h in enumerate(hits)]
        if not passages:
            continue
        best, _ = checker.support(claim["claim"], passages)
        for p, b in zip(passages, best):
            holds = p.hit.chunk.doc_id == claim["doc"] and any(e in p.hit.chunk.text for e in claim["evidence"])
            rows.append((float(b), holds, claim["lang"], claim["part"]))
        other = rng.choice([c for c in claims if c["doc"] != claim["doc"] and c["lang"] == claim["lang"]])
        unrelated, _ = checker.support(other["claim"], passages)
        rows += [(float(b), False, claim["lang"], claim["part"]) for b in unrelated]
    return rows


def f1_at(rows: list[tuple[float, bool]], t: float) -> tuple[float, float, float]:
    tp = sum(1 for p, y in rows if p >= t and y)
    fp = sum(1 for p, y in rows if p >= t and not y)
    fn = sum(1 for p, y in rows if p < t and y)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


def choose(rows: list[tuple[float, bool]]) -> float:
    grid = sorted({round(p, 3) for p, _ in rows} | {round(x, 3) for x in np.linspace(0.01, 0.99, 99)})
    return max(grid, key=lambda t: (f1_at(rows, t)[2], -t))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="store the chosen thresholds in selector.json")
    parser.add_argument("--limit", type=int, default=600, help="claims per set, part and language (sampled)")
    args = parser.parse_args()
    rng = random.Random(11)
    started = time.time()
    rows: list[tuple[float, bool, str, str, str]] = []
    for name in BENCHES:
        settings = Settings(index_dir=ROOT / "index-bench" / name)
        assistant = Assistant(settings)
        claims = bench_claims(name)
        picked = []
        for part in ("train", "test"):
            for lang in ("zh", "en"):
                group = [c for c in claims if c["part"] == part and c["lang"] == lang]
                picked += rng.sample(group, min(args.limit, len(group)))
        rows += [(*r, name) for r in score(assistant, picked, rng)]
    corpus = Assistant.open(Settings())
    claims = eval_claims(ROOT / "eval" / "corpus_zh_en.dev.jsonl", "train") + \
        eval_claims(ROOT / "eval" / "corpus_zh_en.test.jsonl", "test")
    rows += [(*r, "corpus") for r in score(corpus, claims, rng)]

    thresholds = {lang: choose([(p, y) for p, y, l, part, _ in rows if l == lang and part == "train"])
                  for lang in ("zh", "en")}
    lines = ["# Support threshold for checking generated sentences", "",
             f"- measured {time.strftime('%Y-%m-%d')}; command: `python benchmarks/tune_support.py`; {time.time() - started:.0f} s",
             "- claim = question + its reference answer; passages = its top 5 retrieved; a passage supports the claim "
             "when it holds the answer; unrelated claims against the same passages are negatives",
             f"- chosen on the train parts (XQuAD-zh, CMRC 2018 dev) and our dev split: zh {thresholds['zh']:.3f}, "
             f"en {thresholds['en']:.3f} (F1 of \"supported\" at its best)", "",
             "| data | lang | pairs | supported | precision | recall | F1 |", "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for part in ("train", "test"):
        for name in (*BENCHES, "corpus"):
            for lang in ("zh", "en"):
                group = [(p, y) for p, y, l, pt, n in rows if l == lang and pt == part and n == name]
                if not group:
                    continue
                precision, recall, f1 = f1_at(group, thresholds[lang])
                label = {"train": "train part / dev split", "test": "test part / test split"}[part]
                lines.append(f"| {name}, {label} | {lang} | {len(group)} | {sum(y for _, y in group)} | "
                             f"{precision:.3f} | {recall:.3f} | {f1:.3f} |")
    lines += ["", "The refusal thresholds (zh 0.04, en 0.02) on the same test data, for comparison:", ""]
    refusal = {"zh": 0.04, "en": 0.02}
    for lang in ("zh", "en"):
        group = [(p, y) for p, y, l, pt, _ in rows if l == lang and pt == "test"]
        precision, recall, f1 = f1_at(group, refusal[lang])
        lines.append(f"- {lang}: precision {precision:.3f}, recall {recall:.3f}, F1 {f1:.3f}")
    report = "\n".join(lines) + "\n"
    (ROOT / "benchmarks" / "support.md").write_text(report, encoding="utf-8")
    print(report)
    if args.write:
        model = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
        model["support"] = {"threshold": {k: round(v, 4) for k, v in thresholds.items()},
                            "command": "python benchmarks/tune_support.py --write"}
        MODEL_PATH.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
