"""What one refusal check would add: the questions it refuses, on dev data only.

A refusal check of the answer stage (an ``AnswerSettings`` field listing the question languages
it is on for, e.g. ``organisation_gate_langs``) is run over our dev splits (``dev``, and
``dev2``, written later by a writer who read only the articles, which no model was trained on) and the public
training questions (``cmrc2018_trial``, the "train" parts of CMRC 2018 dev and XQuAD-zh), and
for every question the stage answers with the check off, the report says whether the check
would refuse it. Nothing else changes between the two runs: the same retrieval, the same
scores, the same lead sentence.

    python benchmarks/refusal_check.py organisation_gate_langs   # -> benchmarks/refusal_checks/organisation_gate_langs.md

The models are the shipped ones, which were trained on these questions: the lead sentence is
right more often than on unseen ones, so the refusals a check adds here are a lower bound
(``tune_answers.py`` judges the checks with models not fitted on the question, but needs the
training caches and the half readers). Public questions that the check cannot apply to (it
reads nothing in them) are counted but not run.

The test split and the public "test" parts are never read here.

Its "Chosen" line is the rule that judged one check at a time (``chosen_langs``); since the
twentieth session the checks are chosen together by ``choose_refusal_checks.py``, whose choice
ships (``benchmarks/refusal_checks_chosen.md``). The reports here still say what each one adds.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answer import AnswerSettings, ExtractiveAnswerer  # noqa: E402
from assistant.answer.qtype import classify  # noqa: E402
from assistant.answer.qtype import asks_share  # noqa: E402
from assistant.answer.refusal import (  # noqa: E402
    asked_measure, asked_offices, asks_each, asks_generic_count, asks_money, question_names)
from assistant.config import Settings  # noqa: E402
from assistant.embed import load_embedder  # noqa: E402
from assistant.entities import organisations  # noqa: E402
from assistant.evaluation.bench import ensure_bench_index, load_bench_questions, resolve_bench  # noqa: E402
from assistant.evaluation.metrics import answer_in_text  # noqa: E402
from assistant.evaluation.questions import load_questions  # noqa: E402
from assistant.index.store import open_index  # noqa: E402
from assistant.pipeline import ensure_index  # noqa: E402
from assistant.query import Query, parse_query  # noqa: E402
from assistant.retrieve import Retriever  # noqa: E402

DEV_SETS = {"dev": ROOT / "eval" / "corpus_zh_en.dev.jsonl", "dev2": ROOT / "eval" / "corpus_zh_en.dev2.jsonl",
            "dev3": ROOT / "eval" / "corpus_zh_en.dev3.jsonl", "dev4": ROOT / "eval" / "corpus_zh_en.dev4.jsonl",
            # judge-only from the twenty-fifth to the thirtieth session (aggregates only), then a chooser's
            "dev5": ROOT / "eval" / "corpus_zh_en.dev5.jsonl",
            # judge-only from the thirtieth to the thirty-fourth session (aggregates only), then a chooser's
            "dev6": ROOT / "eval" / "corpus_zh_en.dev6.jsonl"}
# Dev splits no chooser reads: they only judge a change whole (compare_answer_settings.py), so
# that a rule's judge has questions no earlier choice was made on. A split moves to DEV_SETS once
# a choice has been judged on it and the next choice may read it.
JUDGE_SETS = {"dev7": ROOT / "eval" / "corpus_zh_en.dev7.jsonl"}  # written 2026-12-07 (thirty-fifth session)
PUBLIC = (("cmrc2018_trial", "all"), ("cmrc2018_dev", "train"), ("xquad_zh", "train"))

# Which questions a check can refuse at all, read from the question alone (None: any question).
APPLIES = {
    "counted_figure_langs": lambda query: bool(classify(query).counted_forms),
    "organisation_gate_langs": lambda query: any(o.full for o in organisations(query.match)),
    "type_gate_langs": lambda query: classify(query).kind == "number",
    "date_gate_langs": lambda query: classify(query).kind == "date",
    "share_gate_langs": asks_share,
    "each_gate_langs": lambda query: asks_each(classify(query), query),
    "money_gate_langs": lambda query: asks_money(classify(query), query),
    "measure_gate_langs": lambda query: bool(asked_measure(query)),
    "generic_measure_gate_langs": asks_generic_count,
    "office_gate_langs": lambda query: bool(asked_offices(classify(query), query)),
    "name_gate_langs": lambda query: bool(question_names(query)) or any(o.full for o in organisations(query.match)),
}


@dataclass
class Asked:
    id: str
    text: str
    answerable: bool
    answers: tuple[str, ...] = ()  # public sets: the gold answers


@dataclass
class Outcome:
    asked: Asked
    lang: str
    run: bool  # False: the check cannot apply, so the question was not run
    refused_without: bool = False
    refused_with: bool = False
    lead: str = ""
    first_quote_held_gold: bool = False


def outcomes(answerer: ExtractiveAnswerer, retriever: Retriever, asked: list[Asked], field: str,
             every_question: bool) -> list[Outcome]:
    """Each question answered with the check off and on, from one retrieval and one scoring
    (unless ``every_question`` is off: then only those the check applies to)."""
    off = answerer.with_settings(replace(answerer.settings, **{field: ()}))
    on = answerer.with_settings(replace(answerer.settings, **{field: ("zh", "en")}))
    applies = None if every_question else APPLIES.get(field)
    out = []
    for q in asked:
        query = parse_query(q.text)
        if applies is not None and not applies(query):
            out.append(Outcome(q, query.lang, run=False))
            continue
        out.append(_outcome(off, on, retriever, query, q))
    return out


def _outcome(off: ExtractiveAnswerer, on: ExtractiveAnswerer, retriever: Retriever, query: Query, q: Asked) -> Outcome:
    hits = retriever.run(query, k=50)[:10]  # as `assistant bench` and `assistant eval` pass them
    early, selection = off.prepare(query, hits)
    if early is not None:
        return Outcome(q, query.lang, run=True, refused_without=True, refused_with=True)
    without, with_check = off.answer(query, hits, selection), on.answer(query, hits, selection)
    quotes = without.quotes()
    return Outcome(q, query.lang, run=True, refused_without=without.refused, refused_with=with_check.refused,
                   lead=quotes[0] if quotes else "",
                   first_quote_held_gold=bool(quotes) and answer_in_text(q.answers, quotes[0]))


def dev_outcomes(settings: Settings, path: Path, field: str) -> list[Outcome]:
    ensure_index(settings)
    asked = [Asked(q.id, q.question, q.answerable) for q in load_questions(path).questions]
    return _run(settings, asked, field, every_question=True)


def public_outcomes(settings: Settings, name: str, part: str, field: str) -> list[Outcome]:
    folder = resolve_bench(name)
    settings = settings.model_copy(update={"index_dir": ROOT / "index-bench" / name})
    ensure_bench_index(folder, settings.index_dir, settings)
    asked = [Asked(q.id, q.text, True, q.answers) for q in load_bench_questions(folder, part)]
    return _run(settings, asked, field, every_question=False)


def answerer_and_retriever(settings: Settings) -> tuple[ExtractiveAnswerer, Retriever]:
    """The shipped answer stage and the hybrid retriever over ``settings``' index."""
    index = open_index(settings)
    embedder = load_embedder(settings.encoder, threads=settings.encoder_threads)
    answerer = ExtractiveAnswerer(index, embedder, settings.prompts_dir, AnswerSettings.from_config(settings))
    return answerer, Retriever(index, embedder, mode="hybrid")


def _run(settings: Settings, asked: list[Asked], field: str, every_question: bool) -> list[Outcome]:
    return outcomes(*answerer_and_retriever(settings), asked, field, every_question)


def _share(n: int, total: int) -> str:
    return f"{n} of {total} ({n / total:.1%})" if total else "–"


# The rule for turning a check on for a language, written before the checks were run (issue 6):
# on the dev splits together it refuses at least one more unanswerable question, and it adds no
# false refusal unless the language's false refusals stay within 5%; on each public training set
# it adds at most one point of answerable questions refused (their total, with the refusals
# `benchmarks/answers.md` reports, must stay within 3%: read there, not here).
MIN_GAIN, FALSE_REFUSAL_BUDGET, PUBLIC_ADDED = 1, 0.05, 0.01


def chosen_langs(results: dict[str, list[Outcome]]) -> tuple[str, ...]:
    """The languages the rule above turns the check on for."""
    dev = [r for name in DEV_SETS for r in results[name]]
    out = []
    for lang in ("zh", "en"):
        unans = [r for r in dev if r.lang == lang and not r.asked.answerable]
        ans = [r for r in dev if r.lang == lang and r.asked.answerable]
        gain = sum(r.refused_with for r in unans) - sum(r.refused_without for r in unans)
        added = sum(r.refused_with for r in ans) - sum(r.refused_without for r in ans)
        within = added <= 0 or sum(r.refused_with for r in ans) <= FALSE_REFUSAL_BUDGET * len(ans)
        public = [[r for r in rows if r.lang == lang] for name, rows in results.items() if name not in DEV_SETS]
        public_ok = all(sum(r.refused_with and not r.refused_without for r in rs) <= PUBLIC_ADDED * len(rs)
                        for rs in public if rs)
        if gain >= MIN_GAIN and within and public_ok:
            out.append(lang)
    return tuple(out)


def report(field: str, results: dict[str, list[Outcome]]) -> str:
    lines = [f"# What the check `{field}` adds, on dev data", "",
             f"Command: `python benchmarks/refusal_check.py {field}`", "",
             "Shipped models: trained on the `dev` and public questions (the refusals a check adds there are a "
             "lower bound), not on `dev2`. 'Refused' counts every refusal of the stage (early ones, the threshold, "
             "every check); 'off' is the shipped settings without this check, 'on' with it for both languages.", "",
             "## Our dev splits", "",
             "| split | language | unanswerable refused (off → on) | answerable refused (off → on) |", "|---|---|---|---|"]
    dev_splits = {name: results[name] for name in DEV_SETS}
    for name, rows in {**dev_splits, " + ".join(DEV_SETS): [r for rows in dev_splits.values() for r in rows]}.items():
        for lang in ("zh", "en"):
            unans = [r for r in rows if r.lang == lang and not r.asked.answerable]
            ans = [r for r in rows if r.lang == lang and r.asked.answerable]
            cells = [f"{_share(sum(r.refused_without for r in rs), len(rs))} → "
                     f"{_share(sum(r.refused_with for r in rs), len(rs))}" for rs in (unans, ans)]
            lines.append(f"| {name} | {lang} | {cells[0]} | {cells[1]} |")
    lines += ["", "## Public training questions (all answerable)", "",
              "Only the questions the check can apply to were run; the refusals without it are in "
              "`benchmarks/answers.md` (models not fitted on the question).", "",
              "| set | language | questions | the check applies to | it refuses (share of all) | "
              "of them, the first quote held the gold answer |", "|---|---|---|---|---|---|"]
    for name, rows in results.items():
        if name in DEV_SETS:
            continue
        for lang in ("zh", "en"):
            rs = [r for r in rows if r.lang == lang]
            if not rs:
                continue
            added = [r for r in rs if r.refused_with and not r.refused_without]
            lines.append(f"| {name} | {lang} | {len(rs)} | {sum(r.run for r in rs)} | {_share(len(added), len(rs))} | "
                         f"{sum(r.first_quote_held_gold for r in added)} |")
    lines += ["", f"Chosen: {chosen_langs(results)!r} (the rule in `chosen_langs`: at least {MIN_GAIN} more unanswerable "
              f"refused on the dev splits, no false refusal added beyond {FALSE_REFUSAL_BUDGET:.0%}, at most "
              f"{PUBLIC_ADDED:.0%} more refused on each public training set).",
              "", "## Questions whose answer the check changes", ""]
    for name, rows in results.items():
        for r in rows:
            if r.refused_with != r.refused_without:
                lines.append(f"- {name} {r.asked.id} ({r.lang}, {'answerable' if r.asked.answerable else 'unanswerable'}): "
                             f"{r.asked.text} — lead: {r.lead[:60]}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    checks = [f.name for f in fields(AnswerSettings) if f.name.endswith("_langs")]
    parser.add_argument("check", choices=checks, help="the AnswerSettings field of the check")
    args = parser.parse_args()
    settings = Settings()
    results = {name: dev_outcomes(settings, path, args.check) for name, path in DEV_SETS.items()}
    for name, part in PUBLIC:
        results[f"{name} ({part})"] = public_outcomes(settings, name, part, args.check)
    text = report(args.check, results)
    out = ROOT / "benchmarks" / "refusal_checks" / f"{args.check}.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
