"""The index searched in Milvus: BM25 by Milvus's own function over its jieba analyzer, and
dense vectors in a Milvus vector index, with the retriever's fusion on top (``ASSISTANT_STORE=milvus``).

``ASSISTANT_MILVUS_URI`` is a local path (Milvus Lite: embedded, in this process) or a server
(``http://host:19530``). Each generation of an index gets its own three collections (chunks,
articles, units), named after the index folder and the generation, so a rebuild switches
atomically with the manifest and the old collections are dropped after the switch. What the
answer stage reads besides searches (articles, chunk sentences, match forms, term statistics,
the vectors a rebuild reuses) stays in the generation's data folder, as for FAISS.

Milvus Lite ranks BM25 with statistics per segment, so scores differ a little from a server's
(and from bm25s); its BM25 distances are negative (more negative is better), a server's
positive: scores are taken as magnitudes, in the order Milvus returns them.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from assistant.config import Settings
from assistant.index.base import MatchText, best_per_chunk
from assistant.index.lexical import LexicalIndex
from assistant.index.store import (
    DamagedIndexError,
    IndexStoreError,
    Manifest,
    StoredIndex,
    Unit,
    read_metadata,
    repair_hint,
    unreadable,
)
from assistant.text import STOPWORDS
from assistant.types import Article, Chunk

MILVUS_FILES = ("vectors.npy", "terms.json", "milvus.json")
# The cross-lingual encoder's vectors of the same units, kept beside them (as vectors.npy) so a
# rebuild reuses them; searched in the unit collection's second vector field.
CROSS_LINGUAL_VECTORS = "cross_lingual.npy"
# Milvus's jieba analyzer, without punctuation and the project's stopwords (as bm25s's tokens are).
_PUNCTUATION = list("，。、；：？！“”‘’（）《》【】—…·,.;:?!()[]\"'-/%")
ANALYZER = {"tokenizer": "jieba", "filter": [{"type": "stop", "stop_words": sorted(set(_PUNCTUATION) | set(STOPWORDS) | {" "})}]}
# A server counts VARCHAR length in UTF-8 bytes (at most 65,535); 20,000 CJK characters fit.
# An article's BM25 row reads its first 20,000 characters (chunks are far shorter).
MAX_TEXT_CHARS = 20_000
MAX_RESULTS = 16_384  # Milvus's largest top-k
_INSERT_BATCH = 1_000

_clients: dict[tuple[str, str], object] = {}
_clients_lock = threading.Lock()


def connect(uri: str, token: str | None = None):
    """One client per URI and token in this process (Milvus Lite opens a local file once per process)."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise IndexStoreError("ASSISTANT_STORE=milvus needs pymilvus and milvus-lite: pip install -e '.[milvus]'") from None
    key = (uri, token or "")
    with _clients_lock:
        if key not in _clients:
            if not uri.startswith(("http://", "https://", "tcp://")):
                Path(uri).parent.mkdir(parents=True, exist_ok=True)
            try:
                _clients[key] = MilvusClient(uri=uri, token=token or "")
            except Exception as exc:
                raise IndexStoreError(
                    f"cannot open Milvus at {uri} ({type(exc).__name__}: {str(exc)[:160]}); a Milvus Lite file is "
                    "opened by one process at a time, and a server must be reachable") from None
        return _clients[key]


def release(uri: str) -> None:
    """Let another process open a Milvus Lite file this process used (nothing to do for a server)."""
    with _clients_lock:
        for key in [k for k in _clients if k[0] == uri]:
            del _clients[key]
    if not uri.startswith(("http://", "https://", "tcp://")):
        try:
            from milvus_lite.server_manager import server_manager_instance
        except ImportError:
            return
        server_manager_instance.release_server(uri)


def default_uri(index_dir: Path, settings: Settings) -> str:
    return settings.milvus_uri or str(index_dir / "milvus.db")


def collection_names(index_dir: Path, generation: str) -> dict[str, str]:
    """This index's collections for one generation (a data folder): letters, digits and ``_`` only."""
    owner = hashlib.sha1(str(Path(index_dir).resolve()).encode()).hexdigest()[:8]
    gen = generation.removeprefix("data-")
    return {part: f"a{owner}_{gen}_{part}" for part in ("chunks", "articles", "units")}


# -- writing ------------------------------------------------------------------------------


@dataclass
class MilvusParts:
    """The searchable side of a generation in Milvus, plus what stays beside it on disk."""

    uri: str
    token: str | None
    index_dir: Path
    articles: Sequence[Article]
    chunks: Sequence[Chunk]
    units: Sequence[Unit]
    vectors: np.ndarray
    chunk_tokens: Sequence[Sequence[str]]  # the lexical tokens of each chunk and article, as bm25s indexes them
    article_tokens: Sequence[Sequence[str]]
    lexical: LexicalIndex  # for the answer stage's term statistics (terms.json)
    dense_exact_below: int
    cross_lingual_vectors: np.ndarray | None = None  # the same units by the cross-lingual encoder, if on

    @classmethod
    def for_build(cls, index_dir: Path, settings: Settings, articles, chunks, units, vectors, chunk_tokens,
                  article_tokens, lexical, cross_lingual_vectors: np.ndarray | None = None) -> "MilvusParts":
        return cls(default_uri(index_dir, settings), settings.milvus_token, Path(index_dir), articles, chunks, units,
                   vectors, chunk_tokens, article_tokens, lexical, settings.dense_exact_below, cross_lingual_vectors)

    @property
    def files(self) -> tuple[str, ...]:
        return MILVUS_FILES + ((CROSS_LINGUAL_VECTORS,) if self.cross_lingual_vectors is not None else ())

    def save(self, data: Path) -> None:
        client = connect(self.uri, self.token)
        names = collection_names(self.index_dir, data.name)
        _create_text_collection(client, names["chunks"])
        _insert(client, names["chunks"], (
            {"row": row, "doc_id": c.doc_id, "text": _analyzer_text(tokens)}
            for row, (c, tokens) in enumerate(zip(self.chunks, self.chunk_tokens))))
        _create_text_collection(client, names["articles"])
        _insert(client, names["articles"], (
            {"row": row, "doc_id": a.doc_id, "text": _analyzer_text(tokens)}
            for row, (a, tokens) in enumerate(zip(self.articles, self.article_tokens))))
        cross = self.cross_lingual_vectors
        _create_unit_collection(client, names["units"], self.vectors.shape[1], exact=len(self.units) < self.dense_exact_below,
                                cross_lingual_dim=None if cross is None else cross.shape[1])
        _insert(client, names["units"], (
            {"row": row, "chunk_row": u.chunk_row, "sentence": u.kind == "sentence", "dense": self.vectors[row].tolist(),
             **({} if cross is None else {"cross_lingual": cross[row].tolist()})}
            for row, u in enumerate(self.units)))
        for name in names.values():
            client.flush(name)  # unflushed rows are searched without an index: 100x slower (Milvus Lite)
        np.save(data / "vectors.npy", np.asarray(self.vectors, dtype=np.float32), allow_pickle=False)
        if cross is not None:
            np.save(data / CROSS_LINGUAL_VECTORS, np.asarray(cross, dtype=np.float32), allow_pickle=False)
        vocabulary = self.lexical.vocabulary()
        (data / "terms.json").write_text(json.dumps(
            {"documents": self.lexical.size, "df": {t: self.lexical.document_frequency(t) for t in vocabulary}},
            ensure_ascii=False), encoding="utf-8")
        (data / "milvus.json").write_text(json.dumps({"uri": self.uri, "collections": names}), encoding="utf-8")

    def discard(self, data: Path) -> None:
        _drop(connect(self.uri, self.token), collection_names(self.index_dir, data.name).values())


def _analyzer_text(tokens: Sequence[str]) -> str:
    """What Milvus's analyzer reads: the words bm25s indexes for FAISS (match form, jieba words, no
    stopwords), space-separated, without the character bigrams added for long words: Milvus's
    jieba (search mode) adds the sub-words of long words itself. A question is given the same way."""
    return " ".join(_without_bigrams(tokens))[:MAX_TEXT_CHARS]


def _without_bigrams(tokens: Sequence[str]) -> list[str]:
    """``tokens`` minus the bigrams :func:`assistant.text.tokenize_zh` puts after each long word."""
    out: list[str] = []
    word = ""
    for token in tokens:
        if len(token) == 2 and word and token in word:
            continue
        out.append(token)
        word = token if len(token) >= 3 else ""
    return out


def drop_generation(data: Path) -> None:
    """Drop the collections of an old or unfinished generation (its ``milvus.json`` names them)."""
    try:
        recorded = json.loads((data / "milvus.json").read_text(encoding="utf-8"))
        _drop(connect(recorded["uri"], Settings().milvus_token), recorded["collections"].values())
    except (OSError, ValueError, KeyError, IndexStoreError):
        pass  # nothing recorded or Milvus unreachable: the collections stay, the folder goes


def _drop(client, names) -> None:
    for name in names:
        if client.has_collection(name):
            client.drop_collection(name)


def _create_text_collection(client, name: str) -> None:
    from pymilvus import DataType, Function, FunctionType

    _drop(client, [name])
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
    schema.add_field("text", DataType.VARCHAR, max_length=65_535, enable_analyzer=True, analyzer_params=ANALYZER)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"],
                                 output_field_names=["sparse"]))
    params = client.prepare_index_params()
    params.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                     params={"bm25_k1": 1.2, "bm25_b": 0.75})  # bm25s's settings (assistant/index/lexical.py)
    client.create_collection(name, schema=schema, index_params=params)


def _create_unit_collection(client, name: str, dim: int, exact: bool, cross_lingual_dim: int | None = None) -> None:
    """One row per unit: its chunk, whether it is a sentence, its vector ("dense") and, when the
    cross-lingual encoder is on, that encoder's vector of it ("cross_lingual")."""
    from pymilvus import DataType

    _drop(client, [name])
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    schema.add_field("chunk_row", DataType.INT64)
    schema.add_field("sentence", DataType.BOOL)
    vector_fields = {"dense": dim, **({} if cross_lingual_dim is None else {"cross_lingual": cross_lingual_dim})}
    params = client.prepare_index_params()
    for field_name, field_dim in vector_fields.items():
        schema.add_field(field_name, DataType.FLOAT_VECTOR, dim=field_dim)
        # Exact below the same size as FAISS; above, Milvus's HNSW (unit vectors: inner product = cosine).
        if exact:
            params.add_index(field_name=field_name, index_type="FLAT", metric_type="IP")
        else:
            params.add_index(field_name=field_name, index_type="HNSW", metric_type="IP",
                             params={"M": 32, "efConstruction": 200})
    client.create_collection(name, schema=schema, index_params=params)


def _insert(client, name: str, rows) -> None:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == _INSERT_BATCH:
            client.insert(name, batch)
            batch = []
    if batch:
        client.insert(name, batch)


# -- reading ------------------------------------------------------------------------------


@dataclass
class TermTable:
    """Document frequencies of the lexical tokens over the chunks (as bm25s counted them at ingest)."""

    documents: int
    df: dict[str, int]

    def document_frequency(self, token: str) -> int:
        return self.df.get(token, 0)

    def idf(self, token: str) -> float:
        """The same smoothed IDF as :meth:`LexicalIndex.idf`."""
        df = self.document_frequency(token)
        return float(np.log(1.0 + (self.documents - df + 0.5) / (df + 0.5)))

    def vocabulary(self) -> list[str]:
        return [t for t in self.df if t]


@dataclass
class MilvusIndex(StoredIndex):
    """A generation whose searches run in Milvus; everything else is read as for FAISS."""

    client: object = None
    names: dict[str, str] = field(default_factory=dict)
    vectors: np.ndarray | None = None  # memory-mapped vectors.npy: the answer stage's sentence vectors
    term_table: TermTable | None = None

    @property
    def terms(self) -> TermTable:
        return self.term_table

    def lexical_search(self, tokens: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        rows, scores, _ = self._bm25(self.names["chunks"], tokens, k)
        return rows, scores

    def article_search(self, tokens: Sequence[str], k: int) -> tuple[list[str], np.ndarray]:
        _, scores, docs = self._bm25(self.names["articles"], tokens, k)
        return docs, scores

    def _bm25(self, collection: str, tokens: Sequence[str], k: int):
        text = _analyzer_text([t for t in tokens if t])
        if not text or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), []
        hits = self.client.search(collection, data=[text], anns_field="sparse", limit=min(k, MAX_RESULTS),
                                  search_params={"metric_type": "BM25"}, output_fields=["doc_id"])[0]
        rows = np.array([int(h["row"]) for h in hits], dtype=np.int64)  # hits are keyed by the primary key's name
        scores = np.array([abs(float(h["distance"])) for h in hits], dtype=np.float32)
        return rows, scores, [h["entity"]["doc_id"] for h in hits]

    @property
    def cross_lingual_encoder(self) -> str | None:
        return self.manifest.extra.get("cross_lingual_encoder")

    def dense_search(self, vector: np.ndarray, k: int, sentences: bool = True) -> tuple[np.ndarray, np.ndarray]:
        return self._vector_search("dense", vector, k, sentences)

    def cross_lingual_search(self, vector: np.ndarray, k: int, sentences: bool = True) -> tuple[np.ndarray, np.ndarray]:
        if not self.cross_lingual_encoder:
            raise ValueError("this index holds no cross-lingual vectors")
        return self._vector_search("cross_lingual", vector, k, sentences)

    def _vector_search(self, field_name: str, vector: np.ndarray, k: int, sentences: bool) -> tuple[np.ndarray, np.ndarray]:
        if k <= 0 or not len(self.units):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        hits = self.client.search(self.names["units"], data=[np.asarray(vector, dtype=np.float32).tolist()],
                                  anns_field=field_name, limit=min(k, MAX_RESULTS), filter="" if sentences else "sentence == false",
                                  search_params={"metric_type": "IP", "params": {"ef": max(64, min(k, MAX_RESULTS))}},
                                  output_fields=["chunk_row"])[0]
        chunk_rows = np.array([int(h["entity"]["chunk_row"]) for h in hits], dtype=np.int64)
        sims = np.array([float(h["distance"]) for h in hits], dtype=np.float32)
        order = np.argsort(-sims, kind="stable")  # best first, whatever order the engine returns
        return best_per_chunk(chunk_rows[order], sims[order])

    def sentence_vectors(self, vector_rows: Sequence[int]) -> np.ndarray:
        return np.asarray(self.vectors[np.asarray(vector_rows, dtype=np.int64)], dtype=np.float32)


def load_milvus_index(index_dir: Path, manifest: Manifest, uri: str | None = None, token: str | None = None) -> MilvusIndex:
    data = index_dir / manifest.data_dir
    try:
        recorded = json.loads((data / "milvus.json").read_text(encoding="utf-8"))
        meta = read_metadata(data)
        consistent = meta.consistent()
        vectors = np.load(data / "vectors.npy", mmap_mode="r", allow_pickle=False)
        terms = json.loads((data / "terms.json").read_text(encoding="utf-8"))
        table = TermTable(int(terms["documents"]), {str(t): int(n) for t, n in terms["df"].items()})
    except Exception as exc:
        raise unreadable(index_dir, exc) from None
    uri = uri or recorded["uri"]
    client = connect(uri, token)
    names = recorded["collections"]
    missing = [n for n in names.values() if not client.has_collection(n)]
    if missing or len(vectors) != len(meta.units) or not consistent:
        raise DamagedIndexError(
            f"index at {index_dir} is inconsistent with Milvus at {uri} (missing collections: {', '.join(missing) or 'none'}; "
            f"{len(vectors)} vectors for {len(meta.units)} units); rebuild it with {repair_hint(index_dir)}")
    for name in names.values():
        client.load_collection(name)  # a new process finds them released
    return MilvusIndex(index_dir, manifest, meta.articles, meta.chunks, meta.units, None, None, None, meta.match_texts,
                       meta.tables, client=client, names=names, vectors=vectors, term_table=table)


__all__ = ["CROSS_LINGUAL_VECTORS", "MILVUS_FILES", "MatchText", "MilvusIndex", "MilvusParts", "TermTable", "connect", "drop_generation",
           "load_milvus_index", "release"]
