"""What a change to how answers are composed would do, on dev data only.

Each question of our dev splits (the choosers' ``refusal_check.DEV_SETS`` and the judge-only
``JUDGE_SETS``) and the public training questions (``cmrc2018_trial``, the "train" parts of CMRC
2018 dev and XQuAD-zh) is retrieved, scored and
reordered once (``ExtractiveAnswerer.prepare``, shipped settings), then answered under the shipped
``AnswerSettings`` and under each variant given on the command line. A variant of settings read
after that first half (composition, the checks on the lead, the fallback) shares it; a variant of
one read before it (``PREPARED``: which sentences are candidates, their features, the reader)
runs its own first half too, which doubles its cost.

The report gives, per set and language and for each variant: unanswerable and answerable questions
refused, answerable questions whose cited passages hold the evidence (dev) or whose first quote
holds the gold answer (public), dev answerable questions whose first quote holds the reference
answer (those whose reference is a span of their evidence: ``metrics.quoted_reference``; cited
passages hold the evidence whichever sentence is quoted, so only this row sees a quote change), and
the mean length of the first quote; then the variants that pass ``accepted`` (no loss on any row,
first quotes within ``MAX_MEAN_QUOTE`` characters on the public sets, as the issue's target asks).

    python benchmarks/compare_answer_settings.py pronoun_context=false   # -> benchmarks/pronoun_context.md
    python benchmarks/compare_answer_settings.py max_window_chars=120 --out /tmp/window.md
    python benchmarks/compare_answer_settings.py "office_gate_langs=('zh','en');check_fallback_langs=('zh','en')"

The test split and the public "test" parts are never read here.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
import time
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answer import AnswerSettings, ExtractiveAnswerer  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.evaluation import metrics  # noqa: E402
from assistant.evaluation.bench import ensure_bench_index, load_bench_questions, resolve_bench  # noqa: E402
from assistant.evaluation.questions import load_questions  # noqa: E402
from assistant.pipeline import ensure_index  # noqa: E402
from assistant.query import parse_query  # noqa: E402
from assistant.retrieve import Retriever  # noqa: E402
from benchmarks.refusal_check import DEV_SETS as CHOOSER_DEV_SETS, JUDGE_SETS, PUBLIC, answerer_and_retriever  # noqa: E402

DEV_SETS = {**CHOOSER_DEV_SETS, **JUDGE_SETS}  # every dev split: the choosers' and the judge-only ones

SHIPPED = "shipped"
# Settings ExtractiveAnswerer.prepare reads: a variant of these needs its own first half.
PREPARED = frozenset({"passages", "smalltalk_check", "threshold", "reader", "language_readers", "reader_shortlist",
                      "article_context"})
MAX_MEAN_QUOTE = 120.0  # the target for the mean quote on XQuAD and CMRC
MAX_LISTED = 40  # public questions listed per set and variant (the report stays readable)


@dataclass
class Row:
    id: str
    lang: str
    answerable: bool
    refused: dict = field(default_factory=dict)  # variant -> refused
    score: dict = field(default_factory=dict)  # variant -> cited evidence (dev) or gold in first quote (public)
    first_quote: dict = field(default_factory=dict)  # variant -> first quote ("" when refused)
    # variant -> whether the first quote holds the reference answer (dev questions whose evidence
    # writes it, ``metrics.quoted_reference``; None for the others and for public questions, whose
    # ``score`` is that already)
    reference: dict = field(default_factory=dict)


def parse_variant(spec: str) -> tuple[str, dict]:
    """``FIELD=VALUE`` (a Python literal; false/true/none accepted), or several joined by ``;``
    (settings that only make sense together) -> (spec, overrides)."""
    known = {f.name for f in fields(AnswerSettings)}
    overrides = {}
    for part in spec.split(";"):
        name, sep, value = part.strip().partition("=")
        if not sep or name not in known:
            raise SystemExit(f"error: {spec!r}: expected FIELD=VALUE[;FIELD=VALUE] with FIELD one of "
                             f"{', '.join(sorted(known))}")
        literal = {"false": "False", "true": "True", "none": "None"}.get(value.lower(), value)
        try:
            overrides[name] = ast.literal_eval(literal)
        except (ValueError, SyntaxError):
            raise SystemExit(f"error: {spec!r}: {value!r} is not a Python literal") from None
    return spec, overrides


def _answer_all(answerer: ExtractiveAnswerer, variants: dict[str, ExtractiveAnswerer], retriever: Retriever,
                text: str, score, reference=None) -> tuple[str, dict, dict, dict, dict]:
    query = parse_query(text)
    hits = retriever.run(query, k=50)[:10]  # as `assistant bench` and `assistant eval` pass them
    shared = answerer.prepare(query, hits)
    refused, scores, quotes, references = {}, {}, {}, {}
    for name, variant in variants.items():
        early, selection = variant.prepare(query, hits) if _own_first_half(answerer, variant) else shared
        answer = early if early is not None else variant.answer(query, hits, selection)
        refused[name] = answer.refused
        scores[name] = 0.0 if answer.refused else score(answer)
        quoted = answer.quotes()
        quotes[name] = quoted[0] if quoted and not answer.refused else ""
        references[name] = reference(answer) if reference else None
    return query.lang, refused, scores, quotes, references


def _own_first_half(shipped: ExtractiveAnswerer, variant: ExtractiveAnswerer) -> bool:
    return any(getattr(shipped.settings, name) != getattr(variant.settings, name) for name in PREPARED)


def _variants(answerer: ExtractiveAnswerer, overrides: dict[str, dict]) -> dict[str, ExtractiveAnswerer]:
    return {SHIPPED: answerer, **{name: answerer.with_settings(replace(answerer.settings, **o))
                                  for name, o in overrides.items()}}


def dev_rows(settings: Settings, path: Path, overrides: dict[str, dict]) -> list[Row]:
    ensure_index(settings)
    answerer, retriever = answerer_and_retriever(settings)
    variants = _variants(answerer, overrides)
    rows = []
    for q in load_questions(path).questions:
        score = (lambda a, q=q: metrics.citation_evidence_recall(q.evidence, [c.text for c in a.citations])
                 if q.answerable else 0.0)
        reference = (lambda a, q=q: _first_of(metrics.quoted_reference(q.answer, q.evidence, a.refused, a.quotes()))
                     if q.answerable else None)
        lang, refused, scores, quotes, references = _answer_all(answerer, variants, retriever, q.question, score,
                                                                reference)
        rows.append(Row(q.id, lang, q.answerable, refused, scores, quotes, references))
    return rows


def public_rows(settings: Settings, name: str, part: str, overrides: dict[str, dict]) -> list[Row]:
    folder = resolve_bench(name)
    settings = settings.model_copy(update={"index_dir": ROOT / "index-bench" / name})
    ensure_bench_index(folder, settings.index_dir, settings)
    answerer, retriever = answerer_and_retriever(settings)
    variants = _variants(answerer, overrides)
    rows = []
    for q in load_bench_questions(folder, part):
        score = (lambda a, q=q: float(bool(a.quotes()) and metrics.answer_in_text(q.answers, a.quotes()[0])))
        lang, refused, scores, quotes, references = _answer_all(answerer, variants, retriever, q.text, score)
        rows.append(Row(q.id, lang, True, refused, scores, quotes, references))
    return rows


SET_NAMES = (*DEV_SETS, *(name for name, _ in PUBLIC))


def all_rows(settings: Settings, overrides: dict[str, dict], sets: tuple[str, ...] = SET_NAMES) -> dict[str, list[Row]]:
    """Rows of the dev splits and public training parts named in ``sets`` (all by default), by set
    name (progress on stdout)."""
    results: dict[str, list[Row]] = {}
    for name, path in DEV_SETS.items():
        if name in sets:
            results[name] = dev_rows(settings, path, overrides)
            print(name, "done", flush=True)
    for name, part in PUBLIC:
        if name in sets:
            results[name] = public_rows(settings, name, part, overrides)
            print(name, "done", flush=True)
    return results


def _first_of(judged: tuple[bool, bool] | None) -> float | None:
    return None if judged is None else float(judged[0])


def _references(rows: list[Row], name: str) -> tuple[float, int]:
    """(first quotes holding the reference answer, questions it is looked for in) under a setting."""
    judged = [r.reference[name] for r in rows if r.reference.get(name) is not None]
    return sum(judged), len(judged)


def _mean_quote(rows: list[Row], name: str) -> float:
    quoted = [len(r.first_quote[name]) for r in rows if r.first_quote[name]]
    return sum(quoted) / len(quoted) if quoted else 0.0


def accepted(results: dict[str, list[Row]], name: str) -> bool:
    """No set and language loses: unanswerable refused not fewer, answerable refused not more,
    evidence / first-quote score not lower, dev first quotes holding the reference answer not fewer;
    public first quotes within MAX_MEAN_QUOTE on average."""
    for set_name, rows in results.items():
        for lang in ("zh", "en"):
            rs = [r for r in rows if r.lang == lang]
            unans, ans = [r for r in rs if not r.answerable], [r for r in rs if r.answerable]
            if sum(r.refused[name] for r in unans) < sum(r.refused[SHIPPED] for r in unans):
                return False
            if sum(r.refused[name] for r in ans) > sum(r.refused[SHIPPED] for r in ans):
                return False
            if sum(r.score[name] for r in ans) < sum(r.score[SHIPPED] for r in ans) - 1e-9:
                return False
            if _references(ans, name)[0] < _references(ans, SHIPPED)[0]:
                return False
            if set_name not in DEV_SETS and rs and _mean_quote(rs, name) > MAX_MEAN_QUOTE:
                return False
    return True


def _reference_cell(rows: list[Row], name: str) -> str:
    held, judged = _references(rows, name)
    return f"{held:.0f} of {judged}" if judged else "–"


def _first(row: Row, name: str) -> str:
    """A row's answer under a setting, as the report lists it: refused, or its first quote's start."""
    return repr("refused" if row.refused[name] else row.first_quote[name][:70])


def report(results: dict[str, list[Row]], names: list[str], command: str, seconds: float) -> str:
    lines = ["# Answer settings compared on dev data", "",
             f"Command: `{command}` ({seconds / 60:.0f} min on this machine). Shipped models; hybrid retrieval, "
             "the top 10 passages as `assistant eval` and `assistant bench` pass them; one retrieval and one "
             "scoring per question, answered under each setting.", "",
             "| set | language | setting | unanswerable refused | answerable refused | cited evidence (dev) / "
             "first quote holds gold (public) | first quote holds the reference answer (dev, where the "
             "evidence writes it) | mean first quote (chars) |",
             "|---|---|---|---|---|---|---|---|"]
    for set_name, rows in results.items():
        for lang in ("zh", "en"):
            rs = [r for r in rows if r.lang == lang]
            if not rs:
                continue
            unans, ans = [r for r in rs if not r.answerable], [r for r in rs if r.answerable]
            for name in names:
                lines.append(f"| {set_name} | {lang} | {name} | {sum(r.refused[name] for r in unans)} of {len(unans)} | "
                             f"{sum(r.refused[name] for r in ans)} of {len(ans)} | "
                             f"{sum(r.score[name] for r in ans):.1f} of {len(ans)} | {_reference_cell(ans, name)} | "
                             f"{_mean_quote(rs, name):.1f} |")
    lines += ["", "Accepted (no row loses; public first quotes within "
              f"{MAX_MEAN_QUOTE:.0f} characters on average): "
              + (", ".join(f"`{n}`" for n in names[1:] if accepted(results, n)) or ("none" if names[1:] else "no variant")),
              "", "## Dev questions whose first quote changes", ""]
    for set_name in (name for name in DEV_SETS if name in results):
        for r in results[set_name]:
            for name in names[1:]:
                if r.first_quote[name] != r.first_quote[SHIPPED] or r.refused[name] != r.refused[SHIPPED]:
                    lines.append(f"- {r.id} ({'answerable' if r.answerable else 'unanswerable'}, `{name}`): "
                                 f"{_first(r, SHIPPED)} -> {_first(r, name)}")
    public = [name for name in results if name not in DEV_SETS]
    if public:
        lines += ["", "## Public questions whose first quote gains or loses the gold answer, or whose refusal changes",
                  "", f"(at most {MAX_LISTED} a set and variant)", ""]
    for set_name in public:
        for name in names[1:]:
            changed = [r for r in results[set_name]
                       if r.score[name] != r.score[SHIPPED] or r.refused[name] != r.refused[SHIPPED]]
            for r in changed[:MAX_LISTED]:
                lines.append(f"- {set_name} {r.id} ({r.lang}, `{name}`): gold in first quote "
                             f"{r.score[SHIPPED]:g} -> {r.score[name]:g}; {_first(r, SHIPPED)} -> {_first(r, name)}")
            if len(changed) > MAX_LISTED:
                lines.append(f"- {set_name} (`{name}`): {len(changed) - MAX_LISTED} more")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("variants", nargs="*", metavar="FIELD=VALUE[;FIELD=VALUE]",
                        help="AnswerSettings fields and the values to compare with the shipped ones "
                             "(none: the shipped rows alone, e.g. under other ASSISTANT_* variables; needs --out)")
    parser.add_argument("--out", type=Path, help="report file [default: benchmarks/<first field>.md]")
    parser.add_argument("--sets", nargs="+", choices=SET_NAMES, default=list(SET_NAMES), metavar="SET",
                        help=f"only these sets (a first look on the dev splits, or a long run split over two "
                             f"processes) [default: all: {' '.join(SET_NAMES)}]")
    args = parser.parse_args()
    if not args.variants and not args.out:
        parser.error("without a variant, name the report file with --out")
    overrides = dict(parse_variant(spec) for spec in args.variants)
    out = args.out or ROOT / "benchmarks" / f"{next(iter(next(iter(overrides.values()))))}.md"
    start = time.time()
    settings = Settings()
    results = all_rows(settings, overrides, tuple(args.sets))
    # The variables a run was made under belong to its command: they change what "shipped" means.
    env = " ".join(f"{key}={value}" for key, value in sorted(os.environ.items()) if key.startswith("ASSISTANT_"))
    command = " ".join(filter(None, [env, "python benchmarks/compare_answer_settings.py", *args.variants,
                                     f"--out {args.out}" if args.out else "",
                                     "" if set(args.sets) == set(SET_NAMES) else f"--sets {' '.join(args.sets)}"]))
    out.write_text(report(results, [SHIPPED, *overrides], command, time.time() - start), encoding="utf-8")
    print(out.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
