"""How widely each reader's scores spread within a shortlist: the half models against the shipped one.

    python benchmarks/reader_scale.py [--questions 150]   # -> benchmarks/reader_scale.md (~2 min)
    python benchmarks/reader_scale.py --rendered          # the English questions' reader (reader_en.npz)
                                                          # -> benchmarks/reader_scale_rendered.md

Needs ``train_reader.py pairs`` and ``fit`` (the shortlists and the two half models in
index-bench/_reader/). The combination weight (selector logit + weight x reader score) is
chosen on the half models' out-of-fold scores; a reader whose scores spread wider gets more say
at the same weight (so ``train_reader.py rescale`` scales it). A half model is scored on
questions of its own training half ("trained on") and of the other ("held out"), so the table
also shows whether a wider spread is memorisation (only on trained questions) or the model's
scale (on both).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import benchmarks.train_reader as train_reader  # noqa: E402  (its paths follow `configure`)
from assistant.answer.reader import SentenceReader  # noqa: E402
from benchmarks.train_reader import HALVES, SEED, SPREAD_QUESTIONS, half_of, load_groups, spread, spread_sample  # noqa: E402

REPORT = ROOT / "benchmarks" / "reader_scale.md"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=SPREAD_QUESTIONS, help="shortlists sampled (fixed seed)")
    parser.add_argument("--rendered", action="store_true",
                        help="the English questions' reader (reader_en.npz), its halves and shortlists")
    args = parser.parse_args()
    train_reader.configure(args.rendered)
    report = REPORT.with_name("reader_scale_rendered.md") if args.rendered else REPORT
    flag = train_reader.command_flag()
    sample = spread_sample(load_groups(), args.questions)
    rows = []
    for half in range(HALVES):
        path = Path(train_reader.HALF_MODEL.format(half))
        if not path.is_file():
            raise SystemExit(f"no {path}: run `python benchmarks/train_reader.py fit{flag}` first")
        reader = SentenceReader.load(path)
        # half model k is trained without half k's articles
        held = [g for g in sample if half_of(g["group"]) == half]
        trained = [g for g in sample if half_of(g["group"]) != half]
        rows.append((f"half model {half}", len(trained), spread(reader, trained), len(held), spread(reader, held)))
        print(rows[-1], file=sys.stderr)
    shipped = SentenceReader.load(train_reader.SHIPPED)
    trained_on = shipped.meta.get("training", {}).get("trained_on", "?")
    rows.append((f"shipped ({trained_on})", len(sample), spread(shipped, sample), 0, float("nan")))
    lines = ["# Reader score spread" + (" (English questions' reader)" if args.rendered else ""), "",
             f"Command: `python benchmarks/reader_scale.py{flag}`", "",
             f"Mean standard deviation of reader scores within a shortlist, over {len(sample)} training "
             f"shortlists (seed {SEED}). The combination weight was chosen on the half models' out-of-fold "
             f"scores ({shipped.meta['training'].get('chosen_weight', shipped.weight):g}); the shipped reader "
             f"carries it at its own scale ({shipped.weight:g}, `python benchmarks/train_reader.py rescale{flag}`).", "",
             "| reader | questions trained on | spread | questions held out | spread |", "|---|---|---|---|---|"]
    for name, n_in, s_in, n_out, s_out in rows:
        held_cell = f"{s_out:.3f}" if n_out else "–"
        lines.append(f"| {name} | {n_in} | {s_in:.3f} | {n_out} | {held_cell} |")
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"-> {report}", file=sys.stderr)


if __name__ == "__main__":
    main()
