"""Train the answer-sentence selector on public reading-comprehension data; write its model and report.

Training data: every question of ``cmrc2018_trial`` and the "train" part (split by article,
``assistant.evaluation.bench.article_part``) of CMRC 2018 dev and XQuAD-zh, XQuAD's English
questions included. Each question is run through the product's own retrieval over the
benchmark's whole index; the candidate sentences of its top passages are featurised by
``assistant.answer.features`` and labelled positive when they lie in the gold passage and
contain a gold answer. The "test" parts are never read here.

Each question is also run with its gold passage taken out of the hits; a question naming a
year again with that year moved to one its passage never mentions (``shift_years``); and a
Chinese question again with its focus word swapped for a word its passage lacks
(``swap_focus_word``); and every question again against its own passage with the sentences
holding its answer taken out (``collect_ablated``, in indexes of their own). All their
candidates are negatives, as for a question the collection cannot answer (a place it does
not cover, a time outside it, a figure or attribute it does not give). These rows teach
the model that a sentence resembling the question is not yet an answer, which is what the
refusal threshold relies on.

    python benchmarks/train_selector.py collect      # features -> index-bench/_selector/*.npz (slow: builds indexes)
    python benchmarks/train_selector.py fit          # cross-validated tree settings, model -> assistant/answer/selector.json
    python benchmarks/train_selector.py fit --language en   # English questions' own trees (see below)

English questions are scored by trees of their own (``trees_by_language.en``), fitted on rows
collected with the cross-lingual encoder on (the default since 2026-12-05; Chinese questions
never read it). ``fit`` replaces the shared trees and keeps English's; ``fit --language en``
replaces only English's. After either, the thresholds and quoting (``tune_answers.py``) and the
refusal checks (``choose_refusal_checks.py``) are chosen anew for it. The readers' combination
weights were chosen against the selector logits of their own training run: choosing them anew
means training the readers again (``train_reader.py pairs`` and ``fit``, ``--rendered`` for the
English one); ``train_reader.py rescale`` only measures a reader's own score spread on the stored
shortlists, which a refit of the trees does not change.

The side models (``index-bench/_selector/folds/``: one per public fitting fold, without it;
``crossfit/``: one per dev article, without it) are what the choosers score held-out questions
with. They follow the shipped file's shape: ``fit`` rewrites their shared trees and keeps their
English ones, ``fit --language en`` adds its English trees beside their shared ones; each records
the fingerprint of the shipped trees fitted in the same run (``fitted_with``), and the choosers'
reports name any side model that does not belong to the shipped trees.

The fit is reproducible: fixed folds (by a hash of each question's article), fixed random
state. One fold of the training questions is held out of the fitted model, so that the
refusal threshold and quoting settings are chosen on probabilities the model has not been
fitted to.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answer import AnswerSettings, ExtractiveAnswerer  # noqa: E402
from assistant.answer.candidates import gather  # noqa: E402
from assistant.answer.features import FEATURES, YEAR  # noqa: E402
from assistant.answer.qtype import classify  # noqa: E402
from assistant.answer.selector import LANGUAGES_WITH_OWN_TREES  # noqa: E402
from assistant.answer.terms import question_terms  # noqa: E402
from assistant.collection_renderings import with_collection_renderings  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.embed import load_embedder  # noqa: E402
from assistant.evaluation.bench import ensure_bench_index, load_bench_questions, resolve_bench  # noqa: E402
from assistant.evaluation.metrics import normalize_for_match  # noqa: E402
from assistant.query import parse_query  # noqa: E402
from assistant.retrieve import Retriever  # noqa: E402
from assistant.index.store import load_index, read_manifest  # noqa: E402
from assistant.indexer import corpus_fingerprint, index_articles  # noqa: E402
from assistant.text import tokenize_zh  # noqa: E402

CACHE = ROOT / "index-bench" / "_selector"
DEV_SET = "corpus_dev"  # our own dev split over the default corpus: the one in-domain training set
SETS = ("cmrc2018_trial", "cmrc2018_dev", "xquad_zh", DEV_SET)
DEV_WEIGHT = 5.0  # a dev row counts this much against a public one (leave-one-article-out, fit report)
ABLATED = "-ablated"  # suffix of a set's variant-4 rows (collect_ablated)
CROSSFIT = CACHE / "crossfit"  # models without one dev article each, for tune_answers.py to score dev with
OUT_OF_FOLD = CACHE / "folds"  # models without one public fold each, for tune_answers.py to score that fold with


def rendered(query, index):
    """The question with the collection's renderings of its English words when they are on
    (``ASSISTANT_COLLECTION_RENDERINGS_PER_WORD``; off by default), which the answer stage's terms
    read (``ExtractiveAnswerer.resolved`` adds them in the product; the pinyin names it also
    resolves are left as parsed here, as the rows were always collected)."""
    settings = _rendering_settings()
    return with_collection_renderings(query, index, settings.collection_rendering_threshold,
                                      settings.collection_renderings_per_word)


@functools.cache
def _rendering_settings() -> AnswerSettings:
    """The answer settings as configured, read once per run (``rendered`` asks for every question)."""
    return AnswerSettings.from_config(Settings())


def collect(name: str) -> Path:
    if name == DEV_SET:
        return collect_dev()
    folder = resolve_bench(name)
    settings = Settings(index_dir=ROOT / "index-bench" / folder.name)
    ensure_bench_index(folder, settings.index_dir, settings)
    index = load_index(settings.index_dir)
    embedder = load_embedder(settings.encoder, threads=settings.encoder_threads)
    retriever = Retriever.from_config(index, embedder, "hybrid", settings)
    # The product's own answerer chooses the candidates and computes their features: what the
    # model learns from is what it will be shown.
    answerer = ExtractiveAnswerer(index, embedder, settings.prompts_dir)
    titles = {a.doc_id: a.title for a in index.articles.values()}
    questions = load_bench_questions(folder, "train")
    pool = substitute_pool(index.lexical)
    rows = _empty_rows()
    ids: list[str] = []
    groups: list[str] = []
    started = time.perf_counter()
    for qi, q in enumerate(questions):
        query = rendered(parse_query(q.text), index)
        hits = retriever.run(query, k=10)
        answers = [normalize_for_match(a) for a in q.answers if normalize_for_match(a)]
        passage = index.match_text(q.passage_id)
        gold_sentences = [c.match for c in gather(index, [h for h in hits if h.chunk.doc_id == q.passage_id])
                          if any(a in normalize_for_match(c.text) for a in answers)]
        # Variant 0 is the question as asked; 1-3 are made unanswerable (all candidates negative).
        runs = [(0, query, hits), (1, query, [h for h in hits if h.chunk.doc_id != q.passage_id])]
        for variant, changed in ((2, shift_years(q.text, passage.text)),
                                 (3, swap_focus_word(query, passage, gold_sentences, index.lexical, pool, q.id))):
            if changed:
                other = rendered(parse_query(changed), index)
                runs.append((variant, other, retriever.run(other, k=10)))
        for variant, asked, given in runs:
            candidates = answerer.candidates(asked, given)
            if not candidates:
                continue
            qtype = classify(asked)
            X = answerer.features(asked, qtype, question_terms(asked, index.lexical), candidates)
            in_gold = [c.sentence.doc_id == q.passage_id for c in candidates]
            labels = [variant == 0 and g and any(a in normalize_for_match(c.text) for a in answers)
                      for c, g in zip(candidates, in_gold)]
            _add_rows(rows, candidates, X, labels, in_gold, question=len(ids), lang=q.lang, variant=variant,
                      qtype=qtype.kind)
        ids.append(f"{q.id}:{q.lang}")
        groups.append(titles.get(q.passage_id, q.passage_id))
        if (qi + 1) % 200 == 0:
            print(f"{name}: {qi + 1}/{len(questions)} questions, {time.perf_counter() - started:.0f}s", file=sys.stderr)
    return _save(name, rows, ids, groups)


MAX_ANSWER_SENTENCES = 2  # a gold answer in more sentences than this is the passage's subject, not a fact


def without_answer(text: str, title: str, answers: list[str]) -> str | None:
    """The passage with every sentence that holds a gold answer taken out, or None when the
    answer is its subject (in the title or in many sentences) or too little would be left."""
    from assistant.chunk import split_sentences

    if not answers or any(a in normalize_for_match(title) for a in answers):
        return None
    spans = split_sentences(text)
    holding = [any(a in normalize_for_match(text[s:e]) for a in answers) for s, e in spans]
    if not any(holding) or sum(holding) > MAX_ANSWER_SENTENCES or len(spans) - sum(holding) < 2:
        return None
    kept, last = [], 0
    for (s, e), hold in zip(spans, holding):
        if hold:
            kept.append(text[last:s])  # the text between sentences (line breaks) stays
            last = e
    kept.append(text[last:])
    return "".join(kept).strip()


def ablated_passages(passages: dict, questions) -> tuple[dict[str, str], dict[str, list[str]]]:
    """``collect_ablated``'s material: question id -> its passage's text without the sentences
    holding its answer, and passage id -> the ids of its questions that can be so ablated, in
    order (round r takes each passage's r-th). The English twin of a Chinese question shares its
    id, passage and answer: it is ablated once."""
    ablated: dict[str, str] = {}
    order: dict[str, list[str]] = {}
    for q in questions:
        if q.id in ablated:
            continue
        passage = passages[q.passage_id]
        text = without_answer(passage.text, passage.title,
                              [normalize_for_match(a) for a in q.answers if normalize_for_match(a)])
        if text:
            ablated[q.id] = text
            order.setdefault(q.passage_id, []).append(q.id)
    return ablated, order


def collect_ablated(name: str) -> Path:
    """Variant 4: each question against its passage with the sentences holding its answer taken out.

    The passage still names the question's subject and most of its words, but no longer
    gives what was asked, as when a user asks for a figure or an attribute an article does
    not state. All candidates are negatives. Passages are replaced in rounds (round r takes
    the r-th question of every passage), so each round's index has every passage once and
    its term statistics are those of the collection; unchanged passages reuse their vectors.
    """
    from dataclasses import replace

    from assistant.evaluation.bench import load_passages

    folder = resolve_bench(name)
    base = ROOT / "index-bench" / folder.name
    settings = Settings(index_dir=base)
    ensure_bench_index(folder, base, settings)
    passages = {a.doc_id: a for a in load_passages(folder)}
    questions = load_bench_questions(folder, "train")
    ablated, order = ablated_passages(passages, questions)
    rows = _empty_rows()
    ids: list[str] = []
    groups: list[str] = []
    embedder = load_embedder(settings.encoder, threads=settings.encoder_threads)
    rounds = max((len(v) for v in order.values()), default=0)
    started = time.perf_counter()
    for r in range(rounds):
        chosen = {pid: qids[r] for pid, qids in order.items() if r < len(qids)}
        articles = [replace(a, text=ablated[chosen[a.doc_id]]) if a.doc_id in chosen else a for a in passages.values()]
        digest = hashlib.sha256(json.dumps(sorted(chosen.items())).encode()).hexdigest()
        index_dir = ROOT / "index-bench" / f"{folder.name}-ablated" / str(r)
        fingerprint = corpus_fingerprint({"ablated": digest}, settings)
        manifest = read_manifest(index_dir) if (index_dir / "manifest.json").exists() else None
        if not manifest or manifest.corpus_fingerprint != fingerprint:
            index_articles(articles, index_dir, settings, {"ablated": digest}, fingerprint,
                           [str((folder / "passages.jsonl").resolve())], reuse_from=[base])
        index = load_index(index_dir)
        retriever = Retriever.from_config(index, embedder, "hybrid", settings)
        answerer = ExtractiveAnswerer(index, embedder, settings.prompts_dir)
        wanted = set(chosen.values())
        for q in questions:
            if q.id not in wanted:
                continue
            query = rendered(parse_query(q.text), index)
            candidates = answerer.candidates(query, retriever.run(query, k=10))
            if candidates:
                qtype = classify(query)
                X = answerer.features(query, qtype, question_terms(query, index.lexical), candidates)
                in_gold = [c.sentence.doc_id == q.passage_id for c in candidates]
                _add_rows(rows, candidates, X, [False] * len(candidates), in_gold, question=len(ids), lang=q.lang,
                          variant=4, qtype=qtype.kind)
            ids.append(f"{q.id}:{q.lang}")
            groups.append(passages[q.passage_id].title)  # as collect() groups it: the same fold
        print(f"{name} ablated: round {r + 1}/{rounds}, {len(ids)} questions, {time.perf_counter() - started:.0f}s",
              file=sys.stderr)
    return _save(f"{name}{ABLATED}", rows, ids, groups)


def collect_dev() -> Path:
    """Candidates of the dev split's questions over the default corpus, labelled by evidence.

    A candidate is positive when it lies in a gold article and holds (most of) an evidence
    string; every candidate of an unanswerable question is negative. Rows are grouped by
    gold article (unanswerable questions by a hash of their id into five pseudo-articles),
    so that a model can be cross-fitted without one article at a time.
    """
    from assistant.evaluation.metrics import evidence_covered
    from assistant.evaluation.questions import load_questions
    from assistant.pipeline import ensure_index

    settings = Settings()
    ensure_index(settings)
    index = load_index(settings.index_dir)
    embedder = load_embedder(settings.encoder, threads=settings.encoder_threads)
    retriever = Retriever.from_config(index, embedder, "hybrid", settings)
    answerer = ExtractiveAnswerer(index, embedder, settings.prompts_dir)
    rows = _empty_rows()
    ids, groups = [], []
    for q in load_questions(ROOT / "eval" / "corpus_zh_en.dev.jsonl").questions:
        query = rendered(parse_query(q.question), index)
        candidates = answerer.candidates(query, retriever.run(query, k=10))
        group = q.docs[0] if q.docs else f"unanswerable-{int(hashlib.sha1(q.id.encode()).hexdigest()[:8], 16) % FOLDS}"
        if candidates:
            qtype = classify(query)
            X = answerer.features(query, qtype, question_terms(query, index.lexical), candidates)
            in_gold = [c.sentence.doc_id in q.docs for c in candidates]
            labels = [g and any(evidence_covered(e, c.text) for e in q.evidence) for c, g in zip(candidates, in_gold)]
            _add_rows(rows, candidates, X, labels, in_gold, question=len(ids), lang=q.lang,
                      variant=0 if q.answerable else 1, qtype=qtype.kind)
        ids.append(f"{q.id}:{q.lang}")
        groups.append(group)
    return _save(DEV_SET, rows, ids, groups)


def _empty_rows() -> dict[str, list]:
    """The columns ``_add_rows`` appends to and ``_save`` writes."""
    return {k: [] for k in ("X", "y", "question", "lang", "variant", "hit_rank", "in_gold", "length", "qtype", "doc",
                            "start", "end")}


def _add_rows(rows: dict[str, list], candidates, X, labels: list[bool], in_gold: list[bool], *, question: int,
              lang: str, variant: int, qtype: str) -> None:
    """Append one question's candidate sentences (features, label and bookkeeping) to ``rows``."""
    for c, x, label, gold in zip(candidates, X, labels, in_gold):
        rows["X"].append(x)
        rows["y"].append(int(label))
        rows["question"].append(question)
        rows["lang"].append(lang)
        rows["variant"].append(variant)
        rows["hit_rank"].append(c.hit.rank)
        rows["in_gold"].append(int(gold))
        rows["length"].append(len(c.text))
        rows["qtype"].append(qtype)
        rows["doc"].append(c.sentence.doc_id)
        rows["start"].append(c.sentence.start)
        rows["end"].append(c.sentence.end)


def _save(name: str, rows: dict[str, list], ids: list[str], groups: list[str]) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{name}.npz"
    np.savez_compressed(
        path, X=np.asarray(rows["X"], dtype=np.float32).reshape(-1, len(FEATURES)), y=np.asarray(rows["y"], dtype=np.int8),
        question=np.asarray(rows["question"], dtype=np.int32), lang=np.asarray(rows["lang"], dtype=str),
        variant=np.asarray(rows["variant"], dtype=np.int8), hit_rank=np.asarray(rows["hit_rank"], dtype=np.int16),
        in_gold=np.asarray(rows["in_gold"], dtype=np.int8), length=np.asarray(rows["length"], dtype=np.int32),
        qtype=np.asarray(rows["qtype"], dtype=str), doc=np.asarray(rows["doc"], dtype=str),
        start=np.asarray(rows["start"], dtype=np.int32), end=np.asarray(rows["end"], dtype=np.int32),
        ids=np.asarray(ids), groups=np.asarray(groups), features=np.asarray(FEATURES))
    print(f"{name}: {len(ids)} questions, {len(rows['y'])} rows -> {path}", file=sys.stderr)
    return path


def shift_years(question: str, passage: str) -> str | None:
    """The question with each year it names moved to a nearby year its passage never mentions.

    The gold passage no longer answers the shifted question ("…in 1785?" -> "…in 1786?"): a
    near miss of the kind users ask about (a year the articles do not cover), with every
    candidate a negative. None when the question names no year.
    """
    years = list(dict.fromkeys(YEAR.findall(question)))
    if not years:
        return None
    for year in years:
        for step in (1, -1, 2, -2, 3, -3, 5, -5):
            other = str(int(year) + step)
            if other not in passage and other not in question:
                question = re.sub(rf"(?<!\d){year}(?!\d)", other, question)
                break
        else:
            return None
    return question


_CJK_WORD = re.compile(r"^[\u4e00-\u9fff]{2,4}$")


def substitute_pool(lexical) -> list[str]:
    """Mid-frequency Chinese words of the collection: stand-ins for a question's focus word."""
    n = lexical.size
    return sorted(w for w in lexical.vocabulary()
                  if _CJK_WORD.match(w) and 3 <= lexical.document_frequency(w) <= max(3, n // 20))


def swap_focus_word(query, passage, gold_sentences: list[str], lexical, pool: list[str], seed: str) -> str | None:
    """The Chinese question with its focus word replaced by an unrelated word its passage lacks.

    The focus is the rarest word the question shares with the sentence holding the answer,
    outside the article title (the title names the subject, and a question about another
    subject is a different near miss). "黄鳍紫鱼的身体是什么颜色的？" -> "…是什么温度的？": the
    passage still matches the question well but no longer answers it, as when a user asks
    for an attribute or a figure the article does not give. (English questions are not
    swapped: a word swapped in English lands in the question as an ungrammatical stand-in.)
    """
    if query.lang != "zh" or not gold_sentences or not pool:
        return None
    words = [w for w in dict.fromkeys(tokenize_zh(query.normalized, bigrams=False)) if _CJK_WORD.match(w)]
    shared = [w for w in words if any(w in s for s in gold_sentences) and w not in passage.title]
    if not shared:
        return None
    focus = max(shared, key=lexical.idf)
    start = int(hashlib.sha1(seed.encode()).hexdigest()[:8], 16) % len(pool)
    for i in range(len(pool)):
        other = pool[(start + i) % len(pool)]
        if other not in passage.text and other not in query.normalized and len(other) == len(focus):
            return query.normalized.replace(focus, other)
    return None


PUBLIC_SETS = tuple(s for s in SETS if s != DEV_SET)


def load_rows(names=SETS + tuple(s + ABLATED for s in PUBLIC_SETS)) -> dict[str, np.ndarray]:
    parts = []
    offset = 0
    for name in names:
        data = dict(np.load(CACHE / f"{name}.npz"))
        if tuple(data["features"]) != FEATURES:
            raise SystemExit(f"{name}.npz was collected with other features: run `collect` again")
        local = data["question"]
        data["question"] = local + offset
        data["set"] = np.full(len(data["y"]), name)
        data["qid"] = data["ids"][local]
        # A set's ablated rows share its folds: the same article falls on the same side of a split.
        data["group"] = article_groups(name.removesuffix(ABLATED), data["groups"][local])
        offset += len(data["ids"])
        parts.append(data)
    keys = ("X", "y", "question", "lang", "variant", "hit_rank", "in_gold", "length", "qtype", "doc", "start", "end",
            "set", "qid", "group")
    return {k: np.concatenate([p[k] for p in parts]) for k in keys}


# ---------------------------------------------------------------- fitting

FOLDS = 5
# (trees, leaves per tree, learning rate): a small grid, chosen by cross-validated top-1.
GRID = ((200, 15, 0.05), (300, 15, 0.05), (300, 31, 0.03))
MIN_SAMPLES_LEAF = 40
# ``fit --monotone``: the direction each feature may move the probability, where it can only go
# one way whatever the others say (more of the question's terms or a closer vector never makes a
# sentence less likely to answer; lacking the asked type or the question's heaviest term never
# makes it more likely). Unlisted features (neighbours, length, novelty, position) are free.
MONOTONE = {
    **dict.fromkeys(("lex", "lex_title", "lex_window", "lex_gap", "lex_rr", "bigram", "bigram_gap", "bigram_idf",
                     "lcs", "dense", "dense_gap", "dense_rr", "dense_window", "lex_local", "bigram_local",
                     "chars_local", "type_match", "typed_lex", "match_number", "match_date", "match_person",
                     "match_place", "numbers", "hit_rr", "hit_gap"), 1),
    **dict.fromkeys(("type_missing", "uncovered", "top_term_missing", "year_conflict"), -1),
}


def article_groups(set_name: str, titles) -> np.ndarray:
    """The fold key of each question: its set and its article's title ("<set>/<title>")."""
    return np.char.add(f"{set_name}/", np.asarray(titles).astype(str))


def _fold(groups: np.ndarray) -> np.ndarray:
    """Fold of each row by its question's article ("<set>/<title>"): questions on one article,
    and the English and Chinese versions of a question, never sit on both sides of a split."""
    return np.array([int(hashlib.sha1(str(g).encode()).hexdigest()[:8], 16) % FOLDS for g in groups])


def _fit(rows: dict[str, np.ndarray], mask: np.ndarray, params: tuple[int, int, float], monotone: bool = False):
    """Trees fitted on the rows of ``mask``; rows of our own dev split weigh DEV_WEIGHT;
    ``monotone``: each feature of ``MONOTONE`` constrained to its direction."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    trees, leaves, rate = params
    constraints = [MONOTONE.get(name, 0) for name in FEATURES] if monotone else None
    model = HistGradientBoostingClassifier(max_iter=trees, max_leaf_nodes=leaves, learning_rate=rate,
                                           min_samples_leaf=MIN_SAMPLES_LEAF, early_stopping=False, random_state=0,
                                           monotonic_cst=constraints)
    weight = np.where(rows["set"][mask] == DEV_SET, DEV_WEIGHT, 1.0)
    return model.fit(rows["X"][mask], rows["y"][mask].astype(int), sample_weight=weight)


def export(model) -> dict:
    """sklearn's fitted trees as plain lists (what ``assistant.answer.selector.TreeEnsemble`` reads)."""
    trees = []
    depth = 0
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        depth = max(depth, int(nodes["depth"].max()))
        trees.append({
            "feature": nodes["feature_idx"].astype(int).tolist(),
            "threshold": nodes["num_threshold"].astype(float).tolist(),  # full precision: a rounded split flips rows
            "left": nodes["left"].astype(int).tolist(),
            "right": nodes["right"].astype(int).tolist(),
            "leaf": nodes["is_leaf"].astype(bool).tolist(),
            "value": [float(v) if leaf else 0.0 for v, leaf in zip(nodes["value"], nodes["is_leaf"])],
        })
    return {"baseline": float(np.ravel(model._baseline_prediction)[0]), "max_depth": depth + 1, "trees": trees}


def selection_figures(p: np.ndarray, rows: dict[str, np.ndarray], mask: np.ndarray) -> dict:
    """Top-1 figures over the questions in ``mask`` (answerable runs only)."""
    questions = np.unique(rows["question"][mask & (rows["variant"] == 0)])
    right = reachable = 0
    for q in questions:
        idx = np.where((rows["question"] == q) & (rows["variant"] == 0))[0]
        if rows["y"][idx].any():
            reachable += 1
            right += int(rows["y"][idx[np.argmax(p[idx])]])
    return {"questions": int(len(questions)), "with_a_positive": int(reachable),
            "top1": round(right / max(1, len(questions)), 4), "top1_when_reachable": round(right / max(1, reachable), 4)}


CALIBRATION_FOLD = 0  # held out of the fitted model: scored by it in benchmarks/tune_answers.py


def cross_validated(rows: dict[str, np.ndarray], mask: np.ndarray, params,
                    monotone: bool = False) -> tuple[np.ndarray, dict]:
    """Predictions for the fitting folds, each from a model trained on the others; and those models by fold."""
    folds = _fold(rows["group"])
    p = np.zeros(len(rows["y"]))
    models = {}
    for f in range(FOLDS):
        if f == CALIBRATION_FOLD:
            continue
        train, held = mask & (folds != f), mask & (folds == f)
        models[f] = _fit(rows, train, params, monotone)
        p[held] = models[f].predict_proba(rows["X"][held])[:, 1]
    return p, models


def trees_fingerprint(trees: dict) -> str:
    """Names one fit's trees: a fold or cross-fitted model records the fingerprint of the shipped
    trees fitted in the same run, so a reader of the side models can tell whether they belong to
    the model that ships (a screening fit in a worktree sharing ``index-bench`` rewrites them)."""
    return hashlib.sha1(json.dumps(trees, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def side_models_unmatched(shipped: dict, side_models: dict[str, dict]) -> list[str]:
    """The side models (by name) whose trees were not fitted in the run that fitted the shipped
    trees they stand in for, one line each: the shared trees, and each language's own."""
    out = []
    for name, side in side_models.items():
        if side.get("fitted_with") != trees_fingerprint(shipped.get("trees", {})):
            out.append(f"{name}: shared trees not fitted with the shipped ones")
        for lang, trees in shipped.get("trees_by_language", {}).items():
            if lang not in side.get("trees_by_language", {}):
                out.append(f"{name}: no {lang} trees (its {lang} questions are scored by its shared trees)")
            elif side.get("fitted_with_by_language", {}).get(lang) != trees_fingerprint(trees):
                out.append(f"{name}: {lang} trees not fitted with the shipped ones")
    return out


def with_current_features(model: dict, where: Path | str) -> dict:
    """``model`` (a copy) naming today's ``FEATURES``, to take a language's trees fitted on them.

    Features are only ever appended, so trees fitted before read the same columns by the same
    positions: a model whose features are a prefix of today's keeps its trees. Any other list
    means its trees read other columns: they must be fitted again (``fit``) first."""
    old = list(model.get("features", ()))
    if old != list(FEATURES)[: len(old)]:
        raise SystemExit(f"the shared trees of {where} were fitted on other features than this version "
                         "computes: run `python benchmarks/train_selector.py fit` first")
    return {**json.loads(json.dumps(model)), "features": list(FEATURES)}


def write_side_model(path: Path, trees: dict, language: str | None, fitted_with: str, **record) -> None:
    """Write a fold or cross-fitted model file the way ``merged_model`` writes the shipped one:
    without ``language``, ``trees`` become its shared trees and the language-specific trees it
    already holds stay; with one, ``trees`` become that language's own and its shared trees stay.
    So an out-of-fold model scores each question language with the same kind of trees as the
    product does (English questions with English trees)."""
    old = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    if language:
        if "trees" not in old:
            raise SystemExit(f"no shared trees in {path} to add {language}'s own to: "
                             "run `python benchmarks/train_selector.py fit` first")
        model = with_current_features(old, path)
        model.setdefault("trees_by_language", {})[language] = trees
        model.setdefault("fitted_with_by_language", {})[language] = fitted_with
    else:
        model = {"features": list(FEATURES), "trees": trees, "fitted_with": fitted_with, **record}
        for key in ("trees_by_language", "fitted_with_by_language"):
            if key in old:
                model[key] = old[key]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model, separators=(",", ":")) + "\n", encoding="utf-8")


def save_fold_models(models: dict, fitted_with: str, language: str | None = None) -> None:
    """The cross-validation models, one per public fitting fold: tune_answers.py scores a fold's
    training questions with the model that was not fitted on it, so every public training
    question, not only the calibration fold's, gives an honest probability."""
    for fold, model in models.items():
        write_side_model(OUT_OF_FOLD / f"{fold}.json", export(model), language, fitted_with, fold=fold)


def dev_fold(group: str, articles: list[str]) -> int:
    """Cross-fitting fold of a dev question: its article's place among the articles, or the
    pseudo-article an unanswerable question was hashed to."""
    return int(group.rsplit("-", 1)[1]) if group.startswith("unanswerable-") else articles.index(group)


def crossfit_dev(rows: dict[str, np.ndarray], fitting: np.ndarray, params, monotone: bool = False,
                 save: bool = True, language: str | None = None, fitted_with: str = "") -> np.ndarray:
    """For each dev article: a model fitted without it, saved for tune_answers.py, and its
    predictions for that article's questions (what the dev figures are honestly measured on)."""
    dev = rows["set"] == DEV_SET
    groups = rows["group"].astype(str)
    articles = sorted({g.split("/", 1)[1] for g in groups[dev] if not g.split("/", 1)[1].startswith("unanswerable-")})
    folds = np.array([dev_fold(g.split("/", 1)[1], articles) if d else -1 for g, d in zip(groups, dev)])
    p = np.zeros(len(rows["y"]))
    for fold, article in enumerate(articles):
        model = _fit(rows, fitting & (folds != fold), params, monotone)
        held = folds == fold
        p[held] = model.predict_proba(rows["X"][held])[:, 1]
        if save:
            write_side_model(CROSSFIT / f"{fold}.json", export(model), language, fitted_with, article=article,
                             fold=fold)
    return p


def merged_model(shipped: dict, fitted: dict, language: str | None) -> dict:
    """The model file to write: ``fitted`` as the shared model, keeping the shipped file's
    language-specific trees (fitted on rows of their own), or, for a ``language``, the shipped
    model with ``fitted``'s trees as that language's own (the shared trees, thresholds and
    training record stay). A shared refit keeps only the thresholds of the languages whose own
    trees it keeps."""
    if language:
        if "trees" not in shipped:
            raise SystemExit("no shared trees to add a language's own to: run `train_selector.py fit` first")
        merged = with_current_features(shipped, "the shipped model")  # a copy: the caller's dict stays as read
        merged.setdefault("trees_by_language", {})[language] = fitted["trees"]
        merged.setdefault("training_by_language", {})[language] = fitted["training"]
        return merged
    merged = dict(fitted)
    for key in ("trees_by_language", "training_by_language"):
        if key in shipped:
            merged[key] = shipped[key]
    # The shared trees' thresholds are chosen anew (tune_answers.py --write); a language whose own
    # trees stay keeps its threshold and how it was chosen, so that the tuner can keep it when
    # the side models do not carry those trees (without it, it would choose one on other trees).
    refusal = shipped.get("refusal", {})
    own = shipped.get("trees_by_language", {})
    kept = {lang: value for lang, value in refusal.get("threshold", {}).items() if lang in own}
    if kept:
        merged["refusal"] = {"threshold": kept}
        if "chosen_on" in refusal:
            merged["refusal"]["chosen_on"] = refusal["chosen_on"]
    return merged


def fit_and_write(rows: dict[str, np.ndarray], monotone: bool = False, report_only: Path | None = None,
                  language: str | None = None) -> None:
    """Choose the trees' settings by cross-validated top-1, fit, and write the model, the fold and
    cross-fitted models and the report (``report_only``: only the report, to that file; the
    shipped model and the cached fold models stay as they are; ``language``: the trees become
    that language's own in the shipped model, whose other trees stay)."""
    model = {"features": list(FEATURES), "training": {}}
    command = "python benchmarks/train_selector.py collect && python benchmarks/train_selector.py fit" + (
        " --monotone" if monotone else "") + (f" --report-only {report_only}" if report_only else "") + (
        f" --language {language}" if language else "")
    whose = (f"`trees_by_language.{language}` of `assistant/answer/selector.json`: trained on both languages' "
             f"rows (the larger Chinese data teaches them too), they score only {language} questions; the "
             "others are scored by the shared trees (`benchmarks/selector.md`)" if language else
             "`assistant/answer/selector.json`), one model for both question languages (a language with trees "
             "of its own, `benchmarks/selector_<language>.md`, excepted")
    report = ["# Answer-sentence selector" + (f", {language} trees" if language else ""), "",
              f"Command: `{command}`", "",
              f"Gradient-boosted trees (scikit-learn HistGradientBoostingClassifier, exported to {whose}). "
              "Top-1 = the most "
              "probable candidate sentence holds a gold answer; cross-validated over the training questions "
              f"({FOLDS} folds by article; one fold is held out of the model altogether, for "
              "`benchmarks/tune_answers.py` to calibrate on), candidates from the top 5 retrieved passages. "
              f"`{DEV_SET}` is our own dev split (eval/corpus_zh_en.dev.jsonl) over the default corpus, in-domain, "
              f"weighted {DEV_WEIGHT:g}x; its figures are leave-one-article-out."
              + (" Monotone: each feature of `MONOTONE` (train_selector.py) may move the probability only "
                 "its one way." if monotone else ""), "",
              "| (trees, leaves, learning rate) | top-1 zh | top-1 en |", "|---|---|---|"]
    # Public questions of the calibration fold are held out; our dev split is always fitted on
    # (its calibration uses the cross-fitted models instead).
    fitting = (_fold(rows["group"]) != CALIBRATION_FOLD) | (rows["set"] == DEV_SET)
    best = None
    for params in GRID:
        p, fold_models = cross_validated(rows, fitting, params, monotone)
        zh, en = (selection_figures(p, rows, fitting & (rows["lang"] == lang))["top1"] for lang in ("zh", "en"))
        report.append(f"| {params} | {zh:.4f} | {en:.4f} |")
        if best is None or zh + en > best[1]:
            best = (params, zh + en, p, fold_models)
    params, _, cv_p, fold_models = best
    if report_only is None:
        model["trees"] = export(_fit(rows, fitting, params, monotone))
        save_fold_models(fold_models, trees_fingerprint(model["trees"]), language)
    dev_p = crossfit_dev(rows, fitting, params, monotone, save=report_only is None, language=language,
                         fitted_with=trees_fingerprint(model.get("trees", {})))
    model["training"] = {"rows": int(fitting.sum()), "trees_leaves_rate": list(params),
                         "passages": AnswerSettings().passages,
                         "dev_weight": DEV_WEIGHT, "monotone": monotone,
                         "calibration_fold": f"public questions whose article hashes to fold {CALIBRATION_FOLD} "
                                             f"of {FOLDS}, held out"}
    taken_out = {str(n): int(len(np.unique(rows["question"][rows["set"] == n])))
                 for n in np.unique(rows["set"]) if str(n).endswith(ABLATED)}
    report += ["", "Questions also run against their own passage with the answer taken out (all candidates "
               "negative): " + ", ".join(f"{n} {c}" for n, c in taken_out.items()) + "."]
    report += ["", f"Chosen: {params}. Per training set and language (cross-validated):", ""]
    for lang in ("zh", "en"):
        for name in np.unique(rows["set"][(rows["lang"] == lang) & (rows["variant"] == 0)]):
            predictions = dev_p if name == DEV_SET else cv_p
            sub = selection_figures(predictions, rows, fitting & (rows["lang"] == lang) & (rows["set"] == name))
            model["training"][f"{name}/{lang}"] = sub
            report.append(f"- {name} ({lang}): top-1 {sub['top1']:.4f} over {sub['questions']} questions "
                          f"({sub['with_a_positive']} with a candidate holding the answer)")
        report += ["", f"Single features, top-1 by that feature alone ({lang}):", ""]
        for name in ("lex", "lex_local", "bigram", "dense"):
            single = selection_figures(rows["X"][:, FEATURES.index(name)], rows, fitting & (rows["lang"] == lang))
            report.append(f"- {name}: {single['top1']:.4f}")
        report.append("")
    model["training"]["sets"] = {str(n): int(len(np.unique(rows["question"][rows["set"] == n]))) for n in np.unique(rows["set"])}
    model["training"]["command"] = command
    if report_only is not None:
        report_only.write_text("\n".join(report) + "\n", encoding="utf-8")
        print("\n".join(report))
        return
    # A new model needs its refusal threshold chosen anew: `python benchmarks/tune_answers.py --write`.
    out = ROOT / "assistant" / "answer" / "selector.json"
    report_path = ROOT / "benchmarks" / "selector.md"
    model = merged_model(json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}, model, language)
    if language:
        report_path = ROOT / "benchmarks" / f"selector_{language}.md"
    out.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    report_path.write_text("\n".join(report) + "\n", encoding="utf-8")
    print("\n".join(report))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("sets", nargs="*", default=list(SETS))
    f = sub.add_parser("fit")
    f.add_argument("--monotone", action="store_true",
                   help="constrain the features of MONOTONE to their direction (see its comment)")
    f.add_argument("--report-only", type=Path, metavar="FILE",
                   help="write only the report, to FILE; the shipped model and the cached fold models stay")
    f.add_argument("--language", choices=LANGUAGES_WITH_OWN_TREES,
                   help="the fitted trees score only this language's questions (the model's trees_by_language; "
                        "the shipped trees stay for the others): English, fitted on rows collected with the "
                        "cross-lingual encoder on (the default); report benchmarks/selector_<language>.md")
    args = parser.parse_args()
    if args.command == "collect":
        for name in args.sets:
            collect(name)
            if name != DEV_SET:
                collect_ablated(name)
    else:
        fit_and_write(load_rows(), args.monotone, args.report_only, args.language)


if __name__ == "__main__":
    main()
