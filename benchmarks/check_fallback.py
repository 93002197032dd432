"""What passing over a sentence the checks refuse would change, on dev data only.

For every question of our dev splits (``dev``, ``dev2``) and the public training questions
(``cmrc2018_trial``, the "train" parts of CMRC 2018 dev and XQuAD-zh) the answer stage is run
once up to the checks on the lead (one retrieval, one scoring, one reordering), then answered
without the fallback (``AnswerSettings.check_fallback_langs`` empty) and with it at each
``check_fallback_ratio`` candidate. The report gives, per language:
unanswerable and answerable questions refused, answerable questions whose cited passages hold
the evidence (dev) or whose first quote holds the gold answer (public), and the choice the rule
of ``benchmarks/decisions_2026-12-03e.md`` makes.

    python benchmarks/check_fallback.py        # -> benchmarks/check_fallback.md (about 30 min)

The test split and the public "test" parts are never read here.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answer import ExtractiveAnswerer  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.evaluation import metrics  # noqa: E402
from assistant.evaluation.bench import ensure_bench_index, load_bench_questions, resolve_bench  # noqa: E402
from assistant.evaluation.questions import load_questions  # noqa: E402
from assistant.pipeline import ensure_index  # noqa: E402
from assistant.query import parse_query  # noqa: E402
from assistant.retrieve import Retriever  # noqa: E402
from benchmarks.refusal_check import DEV_SETS, PUBLIC, answerer_and_retriever  # noqa: E402

RATIOS: tuple[float | None, ...] = (None, 0.5, 0.25, 0.1)
MAX_FIRST_QUOTE_LOSS = 1


@dataclass
class Row:
    id: str
    lang: str
    answerable: bool
    refused: dict = field(default_factory=dict)  # ratio -> refused
    score: dict = field(default_factory=dict)  # ratio -> cited evidence (dev) or gold in first quote (public)
    lead: dict = field(default_factory=dict)  # ratio -> first quote


def _answer_all(answerer: ExtractiveAnswerer, retriever: Retriever, text: str, score) -> tuple[str, dict, dict, dict]:
    query = parse_query(text)
    hits = retriever.run(query, k=50)[:10]  # as `assistant bench` and `assistant eval` pass them
    early, selection = answerer.prepare(query, hits)
    if early is not None:
        return query.lang, {r: True for r in RATIOS}, {r: 0.0 for r in RATIOS}, {r: "" for r in RATIOS}
    refused, scores, leads = {}, {}, {}
    for ratio in RATIOS:
        fallback = {"check_fallback_langs": ()} if ratio is None else {"check_fallback_langs": ("zh", "en"),
                                                                       "check_fallback_ratio": ratio}
        variant = answerer.with_settings(replace(answerer.settings, **fallback))
        answer = variant.answer(query, hits, selection)
        refused[ratio] = answer.refused
        scores[ratio] = 0.0 if answer.refused else score(answer)
        quotes = answer.quotes()
        leads[ratio] = quotes[0] if quotes else ""
    return query.lang, refused, scores, leads


def dev_rows(settings: Settings, path: Path) -> list[Row]:
    ensure_index(settings)
    answerer, retriever = answerer_and_retriever(settings)
    rows = []
    for q in load_questions(path).questions:
        score = (lambda a, q=q: metrics.citation_evidence_recall(q.evidence, [c.text for c in a.citations])
                 if q.answerable else 0.0)
        lang, refused, scores, leads = _answer_all(answerer, retriever, q.question, score)
        rows.append(Row(q.id, lang, q.answerable, refused, scores, leads))
    return rows


def public_rows(settings: Settings, name: str, part: str) -> list[Row]:
    folder = resolve_bench(name)
    settings = settings.model_copy(update={"index_dir": ROOT / "index-bench" / name})
    ensure_bench_index(folder, settings.index_dir, settings)
    answerer, retriever = answerer_and_retriever(settings)
    rows = []
    for q in load_bench_questions(folder, part):
        score = (lambda a, q=q: float(bool(a.quotes()) and metrics.answer_in_text(q.answers, a.quotes()[0])))
        lang, refused, scores, leads = _answer_all(answerer, retriever, q.text, score)
        rows.append(Row(q.id, lang, True, refused, scores, leads))
    return rows


def chosen(results: dict[str, list[Row]], lang: str) -> float | None:
    """The rule of the decision record (written before the run)."""
    dev = [r for name in DEV_SETS for r in results[name] if r.lang == lang]
    public = {name: [r for r in rows if r.lang == lang] for name, rows in results.items() if name not in DEV_SETS}
    unans = lambda ratio: sum(r.refused[ratio] for r in dev if not r.answerable)  # noqa: E731
    best, best_gain = None, 0.0
    for ratio in RATIOS[1:]:
        if unans(ratio) < unans(None):
            continue
        ok, gain = True, sum(r.score[ratio] - r.score[None] for r in dev if r.answerable)
        for rows in public.values():
            held = sum(r.score[ratio] for r in rows) - sum(r.score[None] for r in rows)
            more_refused = sum(r.refused[ratio] for r in rows) - sum(r.refused[None] for r in rows)
            ok &= held >= -MAX_FIRST_QUOTE_LOSS and more_refused <= 0
            gain += held
        if ok and gain > best_gain + 1e-9:
            best, best_gain = ratio, gain
    return best


def report(results: dict[str, list[Row]], seconds: float) -> str:
    name_of = lambda ratio: "None" if ratio is None else f"{ratio:g}"  # noqa: E731
    lines = ["# Passing over a sentence the checks refuse (`check_fallback_ratio`), on dev data", "",
             "Command: `python benchmarks/check_fallback.py` "
             f"({seconds / 60:.0f} min on this machine). Shipped models and checks; hybrid retrieval, the top 10 "
             "passages as `assistant eval` and `assistant bench` pass them. None = today (refuse). "
             "Rule and reasons: `benchmarks/decisions_2026-12-03e.md`.", "",
             "| set | language | ratio | unanswerable refused | answerable refused | cited evidence (dev) / first quote holds gold (public) |",
             "|---|---|---|---|---|---|"]
    for name, rows in results.items():
        for lang in ("zh", "en"):
            rs = [r for r in rows if r.lang == lang]
            if not rs:
                continue
            unans, ans = [r for r in rs if not r.answerable], [r for r in rs if r.answerable]
            for ratio in RATIOS:
                lines.append(f"| {name} | {lang} | {name_of(ratio)} | "
                             f"{sum(r.refused[ratio] for r in unans)} of {len(unans)} | "
                             f"{sum(r.refused[ratio] for r in ans)} of {len(ans)} | "
                             f"{sum(r.score[ratio] for r in ans):.1f} of {len(ans)} |")
    lines += ["", "Chosen (per language): " + ", ".join(f"{lang}: {name_of(chosen(results, lang))}" for lang in ("zh", "en")),
              "", "## Dev questions whose answer changes at 0.1", ""]
    for name in DEV_SETS:
        for r in results[name]:
            if r.refused[None] != r.refused[0.1] or r.lead[None] != r.lead[0.1]:
                lines.append(f"- {r.id} ({'answerable' if r.answerable else 'unanswerable'}): "
                             f"{'refused' if r.refused[None] else r.lead[None][:60]!r} -> "
                             f"{'refused' if r.refused[0.1] else r.lead[0.1][:60]!r}")
    return "\n".join(lines) + "\n"


def main() -> None:
    start = time.time()
    settings = Settings()
    results: dict[str, list[Row]] = {}
    for name, path in DEV_SETS.items():
        results[name] = dev_rows(settings, path)
        print(name, "done", flush=True)
    for name, part in PUBLIC:
        results[name] = public_rows(settings, name, part)
        print(name, "done", flush=True)
    out = ROOT / "benchmarks" / "check_fallback.md"
    out.write_text(report(results, time.time() - start), encoding="utf-8")
    print(out.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
