"""Which refusal checks on the lead sentence to turn on, per question language: chosen together.

The rule (``benchmarks/decisions_2026-12-08.md``, rule 1), on dev data only: every question of
the chooser dev splits (``refusal_check.DEV_SETS``) and of the public training
parts is retrieved and scored once; a set of checks refuses a question when the answer stage,
with exactly those checks on for the question's language, refuses it
(``ExtractiveAnswerer.passing``). Starting from no check, the check that most raises "dev
unanswerable refused minus dev answerable refused" joins the set, while it raises it by at least
``MIN_NET`` questions, keeps dev false refusals within ``FALSE_REFUSAL_BUDGET`` (unless it adds
none) and the checks together add at most ``PUBLIC_ADDED`` of each public training set's
questions to its refusals. Every public training question is answered out of sample, as
``tune_answers.py`` answers it when it chooses the threshold: by the selector trees not fitted on
its article's fold and the half reader not trained on its half (rule 2 of
``benchmarks/decisions_2026-12-11.md``; the shipped models' leads there are right more often
than on unseen questions, so a check on the lead would look cheaper than it is).

    python benchmarks/choose_refusal_checks.py          # -> benchmarks/refusal_checks_chosen.md

A check only removes sentences from those the answer may lead with, so refusals grow with the
set: a question answered with every check on, or refused with none, is never run again.
The test splits and the public "test" parts are never read here.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.refusal_check import DEV_SETS, PUBLIC, answerer_and_retriever  # noqa: E402
from benchmarks.train_reader import half_of  # noqa: E402
from benchmarks.train_selector import _fold, article_groups  # noqa: E402
from benchmarks.tune_answers import fold_selectors, half_readers, language_half_readers, side_model_lines  # noqa: E402

from assistant.answer import ExtractiveAnswerer  # noqa: E402
from assistant.answer.extractive import Selection  # noqa: E402
from assistant.answer.refusal import BEST_SENTENCE_CHECKS  # noqa: E402
from assistant.answer.selector import SentenceSelector  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.evaluation.bench import ensure_bench_index, load_bench_questions, resolve_bench  # noqa: E402
from assistant.evaluation.questions import load_questions  # noqa: E402
from assistant.pipeline import ensure_index  # noqa: E402
from assistant.query import Query, parse_query  # noqa: E402

CHECKS = tuple(field for field, _ in BEST_SENTENCE_CHECKS)
LANGS = ("zh", "en")
MIN_NET, FALSE_REFUSAL_BUDGET, PUBLIC_ADDED, MIN_PUBLIC_QUESTIONS = 2, 0.05, 0.01, 50


@dataclass
class Case:
    """One question, retrieved and scored once."""
    set_name: str
    id: str
    text: str
    lang: str
    answerable: bool
    answerer: ExtractiveAnswerer
    query: Query
    selection: Selection | None  # None: refused before any sentence was scored
    fixed: bool | None = None  # refused whatever the checks (True), answered whatever (False), or None


def answerer_with(answerer: ExtractiveAnswerer, lang: str, checks: frozenset[str]) -> ExtractiveAnswerer:
    """``answerer`` with exactly ``checks`` on for ``lang`` (and every check off for the other)."""
    on = {field: ((lang,) if field in checks else ()) for field in CHECKS}
    return answerer.with_settings(replace(answerer.settings, **on))


def cases_of(set_name: str, answerer: ExtractiveAnswerer, retriever, asked: list[tuple[str, str, bool]]) -> list[Case]:
    out = []
    started = time.monotonic()
    for n, (qid, text, answerable) in enumerate(asked, 1):
        query = parse_query(text)
        hits = retriever.run(query, k=50)[:10]  # as `assistant bench` and `assistant eval` pass them
        early, selection = answerer.prepare(query, hits)
        case = Case(set_name, qid, text, query.lang, answerable, answerer, query, selection)
        if early is not None:
            case.fixed = True
        else:
            none = answerer_with(answerer, query.lang, frozenset()).passing(query, selection) is None
            every = answerer_with(answerer, query.lang, frozenset(CHECKS)).passing(query, selection) is None
            case.fixed = none if none == every else None
        out.append(case)
        if n % 200 == 0:
            print(f"  {set_name}: {n}/{len(asked)} ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    return out


class Refusals:
    """Whether a case is refused under a set of checks (cached: each set is asked about often)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[int, frozenset[str]], bool] = {}
        self._answerers: dict[tuple[int, str, frozenset[str]], ExtractiveAnswerer] = {}

    def __call__(self, case: Case, checks: frozenset[str]) -> bool:
        if case.fixed is not None:
            return case.fixed
        key = (id(case), checks)
        if key not in self._seen:
            akey = (id(case.answerer), case.lang, checks)
            if akey not in self._answerers:
                self._answerers[akey] = answerer_with(case.answerer, case.lang, checks)
            self._seen[key] = self._answerers[akey].passing(case.query, case.selection) is None
        return self._seen[key]


@dataclass
class Figures:
    unanswerable: int  # dev unanswerable refused
    answerable: int  # dev answerable refused
    public: dict[str, int]  # refused per public set

    @property
    def net(self) -> int:
        return self.unanswerable - self.answerable


def figures(cases: list[Case], checks: frozenset[str], refused: Refusals) -> Figures:
    dev = [c for c in cases if c.set_name in DEV_SETS]
    public: dict[str, int] = {}
    for c in cases:
        if c.set_name not in DEV_SETS:
            public[c.set_name] = public.get(c.set_name, 0) + refused(c, checks)
    return Figures(sum(refused(c, checks) for c in dev if not c.answerable),
                   sum(refused(c, checks) for c in dev if c.answerable), public)


def choose(cases: list[Case], lang: str, refused: Refusals) -> tuple[frozenset[str], list[str]]:
    """The forward selection of the rule for one language; the checks chosen and a log of each step."""
    cases = [c for c in cases if c.lang == lang]
    sizes: dict[str, int] = {}
    for c in cases:
        sizes[c.set_name] = sizes.get(c.set_name, 0) + 1
    public_sets = [s for s, n in sizes.items() if s not in DEV_SETS and n >= MIN_PUBLIC_QUESTIONS]
    cases = [c for c in cases if c.set_name in DEV_SETS or c.set_name in public_sets]
    answerable_dev = sum(1 for c in cases if c.set_name in DEV_SETS and c.answerable)
    unanswerable_dev = sum(1 for c in cases if c.set_name in DEV_SETS and not c.answerable)
    chosen: frozenset[str] = frozenset()
    base = figures(cases, chosen, refused)
    current = base
    log = [f"### {lang}: {unanswerable_dev} dev unanswerable, {answerable_dev} dev answerable; public sets "
           + ", ".join(f"{s} ({sizes[s]})" for s in public_sets), "",
           f"No check on the lead: unanswerable refused {base.unanswerable}, answerable refused {base.answerable}; "
           "public refused " + ", ".join(f"{s} {base.public.get(s, 0)}" for s in public_sets), ""]
    while True:
        rows, eligible = [], []
        for check in CHECKS:
            if check in chosen:
                continue
            f = figures(cases, chosen | {check}, refused)
            # What lets a question answered with every check on, or refused with none, go unasked
            # (``cases_of``): a check only ever adds refusals.
            grown = [c.id for c in cases if refused(c, chosen) and not refused(c, chosen | {check})]
            if grown:
                raise AssertionError(f"{check} un-refuses {grown[:5]}: refusals do not grow with the checks")
            gain, added = f.unanswerable - current.unanswerable, f.answerable - current.answerable
            public_added = {s: f.public.get(s, 0) - base.public.get(s, 0) for s in public_sets}
            reasons = []
            if gain - added < MIN_NET:
                reasons.append(f"net {gain - added} < {MIN_NET}")
            if added > 0 and f.answerable > FALSE_REFUSAL_BUDGET * answerable_dev:
                reasons.append(f"false refusals {f.answerable} > {FALSE_REFUSAL_BUDGET:.0%}")
            over = [s for s in public_sets if public_added[s] > PUBLIC_ADDED * sizes[s]]
            if over:
                reasons.append("public over " + ", ".join(over))
            rows.append(f"| {check} | +{gain} | +{added} | {gain - added} | "
                        + ", ".join(f"+{public_added[s]}" for s in public_sets)
                        + f" | {'; '.join(reasons) or 'eligible'} |")
            if not reasons:
                tie = (-(gain - added), added, sum(public_added.values()), CHECKS.index(check))
                eligible.append((tie, check, f))
        log += [f"Step {len(chosen) + 1}, with {sorted(chosen) or 'none'} on:", "",
                "| check added | dev unanswerable refused | dev answerable refused | net | public refused (each set, "
                "against no check) | |", "|---|---|---|---|---|---|", *rows, ""]
        if not eligible:
            log += ["None eligible: stop.", ""]
            break
        _, check, current = min(eligible)
        chosen = chosen | {check}
        log += [f"Joins: `{check}` (unanswerable refused {current.unanswerable}, answerable refused "
                f"{current.answerable}).", ""]
    return chosen, log


def dev_cases(settings: Settings) -> list[Case]:
    ensure_index(settings)
    answerer, retriever = answerer_and_retriever(settings)  # one index for every dev split
    out = []
    for name, path in DEV_SETS.items():
        asked = [(q.id, q.question, q.answerable) for q in load_questions(path).questions]
        out += cases_of(name, answerer, retriever, asked)
    return out


def public_cases(settings: Settings) -> list[Case]:
    """Every training question of the public sets, answered by the answerer whose trees and reader
    never saw it (``tune_answers.public_cases`` pairs them the same way)."""
    selectors, readers, own = fold_selectors(), half_readers(), language_half_readers()
    # The out-of-fold models carry no refusal threshold: they refuse at the shipped model's, as the
    # answers the checks are priced on must (tune_answers.py sets its chosen ones the same way).
    thresholds = SentenceSelector.load().model["refusal"]["threshold"]
    for selector in selectors.values():
        selector.model.setdefault("refusal", {})["threshold"] = thresholds
    out = []
    for name, part in PUBLIC:
        folder = resolve_bench(name)
        bench_settings = settings.model_copy(update={"index_dir": ROOT / "index-bench" / name})
        ensure_bench_index(folder, bench_settings.index_dir, bench_settings)
        shipped, retriever = answerer_and_retriever(bench_settings)
        titles = {a.doc_id: a.title for a in shipped.index.articles.values()}
        questions = load_bench_questions(folder, part)
        groups = article_groups(name, [titles.get(q.passage_id, q.passage_id) for q in questions])
        folds, halves = _fold(groups), [half_of(str(g)) for g in groups]
        for (fold, half) in sorted({(int(f), h) for f, h in zip(folds, halves)}):
            answerer = ExtractiveAnswerer(shipped.index, shipped.embedder, shipped.prompts_dir, shipped.settings,
                                          selector=selectors[fold], reader=readers[half],
                                          language_readers=own[half])
            asked = [(q.id, q.text, True) for q, f, h in zip(questions, folds, halves) if (f, h) == (fold, half)]
            out += cases_of(f"{name} ({part})", answerer, retriever, asked)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "refusal_checks_chosen.md")
    args = parser.parse_args()
    settings = Settings()
    cases = dev_cases(settings) + public_cases(settings)
    refused = Refusals()
    lines = ["# The refusal checks on the lead sentence, chosen together", "",
             "Command: `python benchmarks/choose_refusal_checks.py` (rule 1 of `benchmarks/decisions_2026-12-08.md`; "
             "public questions answered out of sample: rule 2 of `benchmarks/decisions_2026-12-11.md`).",
             "Dev splits: " + ", ".join(DEV_SETS) + " (shipped models); public training parts: "
             + ", ".join(f"{n} ({p})" for n, p in PUBLIC)
             + ", each question by the selector trees not fitted on its fold and the half reader not trained on "
             "its half. Early refusals and the threshold as shipped.", "", *side_model_lines()]
    chosen = {}
    for lang in LANGS:
        chosen[lang], log = choose(cases, lang, refused)
        lines += log
    lines += ["## Chosen", ""]
    choice = {check: tuple(lang for lang in LANGS if check in chosen[lang]) for check in CHECKS}
    lines += [f"- `{check}`: {langs!r}" for check, langs in choice.items()]
    # read by tests/test_answer_parts.py: the shipped defaults must be this choice
    lines += ["", f"Chosen: {choice!r}"]
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
