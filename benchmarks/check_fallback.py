"""What passing over a sentence the checks refuse would change, on dev data only.

For every question of our dev splits (``dev``, ``dev2``) and the public training questions
(``cmrc2018_trial``, the "train" parts of CMRC 2018 dev and XQuAD-zh) the answer stage is run
once up to the checks on the lead (one retrieval, one scoring, one reordering: the rows of
``compare_answer_settings.py``), then answered without the fallback (``AnswerSettings.check_fallback_langs`` empty) and with it at each
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from benchmarks.compare_answer_settings import Row, all_rows  # noqa: E402
from benchmarks.refusal_check import DEV_SETS  # noqa: E402

RATIOS: tuple[float | None, ...] = (None, 0.5, 0.25, 0.1)
MAX_FIRST_QUOTE_LOSS = 1


def _name(ratio: float | None) -> str:
    return "None" if ratio is None else f"{ratio:g}"


# Each ratio as settings the answers are composed under (None: no fallback in either language).
VARIANTS = {_name(ratio): ({"check_fallback_langs": ()} if ratio is None
                           else {"check_fallback_langs": ("zh", "en"), "check_fallback_ratio": ratio})
            for ratio in RATIOS}


def chosen(results: dict[str, list[Row]], lang: str) -> float | None:
    """The rule of the decision record (written before the run)."""
    dev = [r for name in DEV_SETS for r in results[name] if r.lang == lang]
    public = {name: [r for r in rows if r.lang == lang] for name, rows in results.items() if name not in DEV_SETS}
    unans = lambda ratio: sum(r.refused[_name(ratio)] for r in dev if not r.answerable)  # noqa: E731
    best, best_gain = None, 0.0
    for ratio in RATIOS[1:]:
        if unans(ratio) < unans(None):
            continue
        on, off = _name(ratio), _name(None)
        ok, gain = True, sum(r.score[on] - r.score[off] for r in dev if r.answerable)
        for rows in public.values():
            held = sum(r.score[on] for r in rows) - sum(r.score[off] for r in rows)
            more_refused = sum(r.refused[on] for r in rows) - sum(r.refused[off] for r in rows)
            ok &= held >= -MAX_FIRST_QUOTE_LOSS and more_refused <= 0
            gain += held
        if ok and gain > best_gain + 1e-9:
            best, best_gain = ratio, gain
    return best


def report(results: dict[str, list[Row]], seconds: float) -> str:
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
            for ratio in map(_name, RATIOS):
                lines.append(f"| {name} | {lang} | {ratio} | "
                             f"{sum(r.refused[ratio] for r in unans)} of {len(unans)} | "
                             f"{sum(r.refused[ratio] for r in ans)} of {len(ans)} | "
                             f"{sum(r.score[ratio] for r in ans):.1f} of {len(ans)} |")
    lines += ["", "Chosen (per language): " + ", ".join(f"{lang}: {_name(chosen(results, lang))}" for lang in ("zh", "en")),
              "", "## Dev questions whose answer changes at 0.1", ""]
    off, low = _name(None), _name(0.1)
    for name in DEV_SETS:
        for r in results[name]:
            if r.refused[off] != r.refused[low] or r.first_quote[off] != r.first_quote[low]:
                lines.append(f"- {r.id} ({'answerable' if r.answerable else 'unanswerable'}): "
                             f"{'refused' if r.refused[off] else r.first_quote[off][:60]!r} -> "
                             f"{'refused' if r.refused[low] else r.first_quote[low][:60]!r}")
    return "\n".join(lines) + "\n"


def main() -> None:
    start = time.time()
    settings = Settings()
    results = all_rows(settings, VARIANTS)
    out = ROOT / "benchmarks" / "check_fallback.md"
    out.write_text(report(results, time.time() - start), encoding="utf-8")
    print(out.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
