"""The index on disk: open formats, a manifest, and atomic replacement.

Layout of an index folder::

    manifest.json        which data folder is current + encoder, chunker, corpus fingerprint
    .write.lock          held while a process writes (one writer at a time; readers never wait)
    .partial/            vectors a killed build had embedded (npz), reused by the next build
    data-<id>/articles.jsonl, chunks.jsonl (with each chunk's sentences), units.jsonl,
              match.jsonl (each article's title and text in match form: Simplified,
              half-width, lower case, offsets equal to the stored text), tables.npz (per-row
              arrays: a chunk's article, id and sentence count, a unit's chunk), dense.faiss,
              lexical/ (BM25 per chunk), article_lexical/ (BM25 per article; bm25s npy+json),
              cross_lingual.faiss (the same units embedded by the cross-lingual encoder, when
              the manifest names one in ``extra["cross_lingual_encoder"]``),
              sources.json (the sources, again: a damaged manifest is rebuilt from them)

A build writes a fresh ``data-<id>/`` and then atomically replaces ``manifest.json``
(``os.replace``), so a crash mid-build leaves the previous index loadable. No pickle anywhere.
Articles, chunks and match forms are read on demand from the mapped .jsonl files
(``assistant/index/rows.py``), so opening costs the same at five articles as at a million chunks.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Protocol, Sequence

import numpy as np

from assistant.index.dense import DenseIndex
from assistant.index.base import IndexedSentence, MatchText, best_per_chunk
from assistant.index.lexical import LexicalIndex
from assistant.index.rows import (
    TABLES_NAME,
    JsonlFile,
    LazyById,
    LazyChunks,
    RowTables,
    article_from_record,
    chunk_from_record,
    match_from_record,
)
from assistant.entities import names_place
from assistant.text import tokenize_zh
from assistant.types import Article, Chunk

FORMAT_VERSION = 3
MANIFEST_NAME = "manifest.json"
PARTIAL_NAME = ".partial"  # vectors an unfinished build already embedded, for the next build to reuse
SOURCES_NAME = "sources.json"  # each data folder's own record of its sources, for repairs
LOCK_NAME = ".write.lock"  # held by the one process allowed to write the folder
# Files a fresh checkout's index/ folder may hold besides an index.
_HARMLESS = {".gitignore", ".gitkeep", "README.md", LOCK_NAME, PARTIAL_NAME, "milvus.db"}  # milvus.db: Milvus Lite's default
# Write errors that mean "no room": the disk or quota is full, or a file-size limit was hit.
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_TMP_MANIFEST = re.compile(rf"^\.{re.escape(MANIFEST_NAME)}\.[0-9a-f]+\.tmp$")


class IndexStoreError(Exception):
    """A one-line, user-facing problem with an index folder."""


class DamagedIndexError(IndexStoreError):
    """Our index, but unreadable: a forced rebuild repairs it."""


class IndexBusyError(IndexStoreError):
    """Another process is writing the index and the caller chose not to wait."""


@contextmanager
def writer_lock(index_dir: Path, wait: bool = True, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the folder's write lock: one writer at a time, readers never wait.

    Readers need no lock because a writer only ever adds a new data folder and then switches
    ``manifest.json`` atomically. Two writers, though, would delete each other's half-written
    data folders, so the second one waits here (``on_wait`` is called once, to tell the user)
    or, with ``wait=False``, fails at once with :class:`IndexBusyError`. The lock is an OS file
    lock, released when its process ends however it ends, and re-entrant within a process.
    """
    from filelock import FileLock, Timeout

    try:
        read_manifest(index_dir)  # a file or a foreign folder is refused before anything is created in it
    except DamagedIndexError:
        pass  # ours: the writer about to run is what repairs it
    index_dir.mkdir(parents=True, exist_ok=True)
    # One lock object per path in this process, so a writer that already holds it re-enters.
    lock = FileLock(index_dir / LOCK_NAME, is_singleton=True)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if not wait:
            raise IndexBusyError(
                f"another process is writing the index at {index_dir}; wait for it to finish, "
                "or run again without --no-wait to wait for it"
            ) from None
        if on_wait:
            on_wait()
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


@dataclass(frozen=True)
class Unit:
    """A span embedded for dense search (a sentence or a whole chunk) and the chunk it scores."""

    chunk_row: int
    start: int  # offsets in the article text
    end: int
    key: str  # hash of the exact text embedded, to reuse vectors on rebuild
    kind: str = "sentence"  # "chunk" (the chunk with its title) or "sentence"


@dataclass(frozen=True)
class UnitTable:
    """The units of a loaded index as arrays (row i = dense vector i): millions of units open as
    two arrays instead of as many Python objects. Offsets and keys stay in ``units.jsonl``."""

    chunk_rows: np.ndarray  # the chunk each unit scores
    is_sentence: np.ndarray  # a sentence of its chunk (else the chunk with its title)

    def __len__(self) -> int:
        return len(self.chunk_rows)


@dataclass
class Manifest:
    encoder: str
    dim: int
    chunker: dict
    lexical: dict
    corpus_fingerprint: str
    sources: list[str]
    documents: dict[str, str]  # doc_id -> sha256 of the source file
    counts: dict[str, int]
    data_dir: str
    created: str
    format_version: int = FORMAT_VERSION
    extra: dict = field(default_factory=dict)


@dataclass
class StoredIndex:
    """A loaded index: the FAISS + bm25s implementation of what retrieval and answering read.

    Stages read it through its methods (``chunk_sentences``, ``sentence_vectors``,
    ``match_text``, ``mentions``) rather than through the arrays behind them.
    """

    path: Path
    manifest: Manifest
    articles: Mapping[str, Article]  # read on demand (rows.LazyById)
    chunks: Sequence[Chunk]  # read on demand (rows.LazyChunks)
    units: UnitTable
    dense: DenseIndex
    lexical: LexicalIndex  # one BM25 row per chunk
    article_lexical: LexicalIndex  # one BM25 row per article, in ``articles`` order
    match_texts: Mapping[str, MatchText]
    tables: RowTables
    # The same units embedded by a second encoder that matches English questions with Chinese
    # text better alongside the first (``Settings.cross_lingual_encoder``); None when not built.
    cross_lingual: DenseIndex | None = None

    def __post_init__(self) -> None:
        self.unit_chunk_rows = self.units.chunk_rows
        self.unit_is_sentence = self.units.is_sentence
        self.chunk_article_rows = self.tables.chunk_articles
        # A chunk's sentence units are written in the order of ``Chunk.sentences``: grouped by
        # chunk (stable sort), with where each chunk's group starts.
        sentence_rows = np.flatnonzero(self.unit_is_sentence)
        self._sentence_rows = sentence_rows[np.argsort(self.unit_chunk_rows[sentence_rows], kind="stable")]
        self._sentence_start = np.searchsorted(self.unit_chunk_rows[self._sentence_rows], np.arange(len(self.chunks) + 1))
        self._mentions: dict[tuple[str, bool], bool] = {}
        self._article_ids = self.tables.article_ids  # article rows -> doc ids (the article BM25's order)
        self._vocabulary_by_char: dict[str, tuple[str, ...]] | None = None  # built on first need

    # -- the Index interface (assistant/index/base.py) --------------------------------------

    @property
    def chunk_count(self) -> int:
        return len(self.chunks)

    @property
    def encoder(self) -> str:
        return self.manifest.encoder

    @property
    def terms(self) -> LexicalIndex:
        return self.lexical

    def lexical_search(self, tokens: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        return top_k(self.lexical.scores(tokens), k)

    def article_search(self, tokens: Sequence[str], k: int) -> tuple[list[str], np.ndarray]:
        rows, scores = top_k(self.article_lexical.scores(tokens), k)
        return [self._article_ids[r] for r in rows], scores

    def dense_search(self, vector: np.ndarray, k: int, sentences: bool = True) -> tuple[np.ndarray, np.ndarray]:
        return self._best_chunks(self.dense, vector, k, sentences)

    def _best_chunks(self, vectors: DenseIndex, vector: np.ndarray, k: int, sentences: bool) -> tuple[np.ndarray, np.ndarray]:
        """The nearest ``k`` units of ``vectors`` (one row per unit) as chunk hits."""
        rows, sims = vectors.search(vector, k)
        if not sentences:
            keep = ~self.unit_is_sentence[rows]
            rows, sims = rows[keep], sims[keep]
        return best_per_chunk(self.unit_chunk_rows[rows], sims)

    def chunk(self, row: int) -> Chunk:
        return self.chunks[row]

    def chunk_row(self, chunk_id: str) -> int | None:
        return self.tables.chunk_row(chunk_id)

    def chunk_doc_ids(self, rows: Sequence[int]) -> list[str]:
        ids = self._article_ids
        return [ids[a] for a in self.chunk_article_rows[np.asarray(rows, dtype=np.int64)].tolist()]

    def chunk_sentences(self, row: int) -> list[IndexedSentence]:
        chunk = self.chunks[row]
        return [IndexedSentence(chunk.doc_id, s.start, s.end, s.quotable, vector_row)
                for s, vector_row in zip(chunk.sentences,
                                         self._sentence_rows[self._sentence_start[row]:self._sentence_start[row + 1]].tolist())]

    def adjacent_chunk(self, row: int, step: int) -> int | None:
        # An article's chunks are stored in their order, one after another (the index is built
        # article by article); the ordinal check keeps that assumption honest.
        other = row + step
        if not 0 <= other < len(self.chunks) or self.chunk_article_rows[other] != self.chunk_article_rows[row]:
            return None
        return other if self.chunks[other].ordinal == self.chunks[row].ordinal + step else None

    @property
    def cross_lingual_encoder(self) -> str | None:
        return self.manifest.extra.get("cross_lingual_encoder") if self.cross_lingual is not None else None

    def cross_lingual_search(self, vector: np.ndarray, k: int, sentences: bool = True) -> tuple[np.ndarray, np.ndarray]:
        if self.cross_lingual is None:
            raise ValueError("this index holds no cross-lingual vectors")
        return self._best_chunks(self.cross_lingual, vector, k, sentences)

    def sentence_vectors(self, vector_rows: Sequence[int]) -> np.ndarray:
        return self.dense.vectors_at(vector_rows)

    def article(self, doc_id: str) -> Article:
        return self.articles[doc_id]

    def has_article(self, doc_id: str) -> bool:
        return doc_id in self.articles

    def article_ids(self) -> list[str]:
        return list(self._article_ids)

    def chunk_counts(self) -> dict[str, int]:
        counts = np.bincount(self.chunk_article_rows, minlength=len(self._article_ids))
        return {doc_id: int(n) for doc_id, n in zip(self._article_ids, counts.tolist()) if n}

    def match_text(self, doc_id: str) -> MatchText:
        return self.match_texts[doc_id]

    def mentions(self, term: str, place: bool = False) -> bool:
        """Whether an article's title or text contains ``term`` (given in match form; a name).

        Chunks are looked up by BM25 tokens and checked for the exact string, so a question
        reads a few chunks, not every article: first by the term's own tokens; then, for a term
        inside longer words (陕 of 陕州) or across two words, by the vocabulary tokens holding it
        or its first and last characters. On the names of the CMRC 2018 dev and XQuAD-zh
        questions this gives a scan's verdict for 3,862 of 3,866 lookups; the 4 others are
        strings across two words (本届赛赛, 颗大犬齿), reported missing (CMRC refusals 0.010 -> 0.011).
        With ``place``, an occurrence counts only where it is not the start of an organisation's
        name (浙江 of 浙江大学 names the university: ``entities.names_place``).
        """
        key = (term, place)
        if key not in self._mentions:
            self._mentions[key] = self._found_by(tokenize_zh(term), term, place) or self._found_by(
                self._tokens_holding(term), term, place)
        return self._mentions[key]

    def _found_by(self, tokens: list[str], term: str, place: bool = False, k: int = 50) -> bool:
        if not tokens:
            return False
        contains = names_place if place else (lambda text, t: t in text)
        rows, scores = self.lexical_search(tokens, k)
        for row in rows[scores > 0]:
            chunk = self.chunks[row]
            match = self.match_texts[chunk.doc_id]
            if contains(match.text[chunk.start:chunk.end], term) or contains(match.title, term):
                return True
        return False

    def tokens_with(self, char: str) -> tuple[str, ...]:
        if self._vocabulary_by_char is None:  # one pass over the vocabulary, on first need
            by_char: dict[str, list[str]] = {}
            for token in self.terms.vocabulary():
                for c in set(token):
                    by_char.setdefault(c, []).append(token)
            self._vocabulary_by_char = {c: tuple(tokens) for c, tokens in by_char.items()}
        return self._vocabulary_by_char.get(char, ())

    def _tokens_holding(self, term: str, most: int = 200) -> list[str]:
        """Vocabulary tokens that contain ``term``; failing that, those ending in its first character
        and those starting with its last (a term split between two words)."""
        holding = [t for t in self.tokens_with(term[0]) if term in t]
        if holding:
            return holding[:most]
        heads = [t for t in self.tokens_with(term[0]) if t.endswith(term[0])]
        tails = [t for t in self.tokens_with(term[-1]) if t.startswith(term[-1])]
        return heads[:most] + tails[:most]


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best rows of ``scores`` and their scores, best first (ties: lower row first),
    without sorting all of them.

    BM25 leaves most rows of a large collection at 0, so the selection runs over the scored
    rows only; zeros (lowest rows first) fill up when fewer than ``k`` scored.
    """
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=scores.dtype)
    scored = np.flatnonzero(scores)
    if len(scored) > k:
        values = scores[scored]
        kth = np.partition(values, len(values) - k)[len(values) - k]  # the k-th best score
        above = scored[values > kth]
        tied = scored[values == kth][: k - len(above)]  # lowest rows first, as a full sort would
        rows = np.concatenate([above, tied])
    elif len(scored) < k:
        rows = np.concatenate([scored, np.flatnonzero(scores == 0)[: k - len(scored)]])
    else:
        rows = scored
    rows = rows[np.lexsort((rows, -scores[rows]))]
    return rows.astype(np.int64), scores[rows]


def _write_jsonl(path: Path, records: Iterable[dict]) -> np.ndarray:
    """Write one JSON record per line; returns where each line's newline is (for ``tables.npz``)."""
    ends: list[int] = []
    written = 0
    with path.open("wb") as f:
        for record in records:
            line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
            f.write(line)
            written += len(line)
            ends.append(written - 1)
    return np.asarray(ends, dtype=np.int64)


def _read_jsonl(path: Path) -> list[dict]:
    import orjson  # 2-4x faster than json on the millions of lines a large index has

    with path.open("rb") as f:
        return [orjson.loads(line) for line in f if line.strip()]


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as f:
                os.fsync(f.fileno())


def read_manifest(index_dir: Path) -> Manifest | None:
    """The manifest of ``index_dir``; ``None`` when there is no index there yet."""
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexStoreError(f"{index_dir} is a file, not an index folder; pass a folder with --index")
    path = index_dir / MANIFEST_NAME
    if not path.exists():
        if index_dir.is_dir() and _foreign_entries(index_dir):
            raise IndexStoreError(
                f"{index_dir} is not an assistant index (no {MANIFEST_NAME}); "
                "pass another --index folder or empty this one"
            )
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        manifest = Manifest(**data)
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise DamagedIndexError(
            f"{path} is corrupt ({type(exc).__name__}); rebuild the index with {repair_hint(index_dir)}"
        ) from None
    if manifest.format_version != FORMAT_VERSION:
        raise DamagedIndexError(
            f"{index_dir} has index format {manifest.format_version}, this version reads {FORMAT_VERSION}; "
            f"rebuild it with {repair_hint(index_dir)}"
        )
    return manifest


def _foreign_entries(index_dir: Path) -> list[str]:
    """Entries that are neither ours (data folders, a half-written manifest) nor harmless."""
    return [p.name for p in index_dir.iterdir()
            if p.name not in _HARMLESS and not p.name.startswith("data-") and not _TMP_MANIFEST.match(p.name)]


# Every generation's data folder holds these; the searchable parts add their own (SearchParts.files).
_DATA_FILES = ("articles.jsonl", "chunks.jsonl", "units.jsonl", "match.jsonl")
FAISS_FILES = ("dense.faiss", "lexical", "article_lexical")
CROSS_LINGUAL_FILE = "cross_lingual.faiss"


def store_files(manifest: Manifest) -> tuple[str, ...]:
    if manifest.extra.get("store") == "milvus":
        from assistant.index.milvus import CROSS_LINGUAL_VECTORS, MILVUS_FILES

        search_files, cross_lingual_file = MILVUS_FILES, CROSS_LINGUAL_VECTORS
    else:
        search_files, cross_lingual_file = FAISS_FILES, CROSS_LINGUAL_FILE
    return _DATA_FILES + search_files + ((cross_lingual_file,) if manifest.extra.get("cross_lingual_encoder") else ())


def is_complete(index_dir: Path, manifest: Manifest) -> bool:
    """Cheap check that every part the manifest points at is on disk."""
    data = index_dir / manifest.data_dir
    return bool(manifest.data_dir) and all((data / name).exists() for name in store_files(manifest))


def open_index(settings) -> StoredIndex:
    """The configured index (``ASSISTANT_INDEX_DIR``), opened as the settings say."""
    return load_index(settings.index_dir, settings.index_mmap, settings.dense_nprobe,
                      milvus_uri=settings.milvus_uri, milvus_token=settings.milvus_token)


def load_index(index_dir: Path, mmap: bool = True, nprobe: int | None = None, *, milvus_uri: str | None = None,
               milvus_token: str | None = None) -> StoredIndex:
    """The index at ``index_dir``; ``mmap``: map its FAISS and BM25 files instead of reading them,
    ``nprobe``: IVF lists searched per question (None: as built). An index whose searchable parts
    live in Milvus is opened there (``milvus_uri``: None for the one it was built in)."""
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexStoreError(f"no index at {index_dir}; build one with `assistant ingest --index {index_dir}`")
    if manifest.extra.get("store") == "milvus":
        from assistant.index.milvus import load_milvus_index

        return load_milvus_index(index_dir, manifest, uri=milvus_uri, token=milvus_token)
    data = index_dir / manifest.data_dir
    try:
        meta = read_metadata(data)
        dense = DenseIndex.load(data / "dense.faiss", mmap=mmap, nprobe=nprobe)
        lexical = LexicalIndex.load(data / "lexical", mmap=mmap)
        article_lexical = LexicalIndex.load(data / "article_lexical", mmap=mmap)
        cross_lingual = (DenseIndex.load(data / CROSS_LINGUAL_FILE, mmap=mmap, nprobe=nprobe)
                         if manifest.extra.get("cross_lingual_encoder") else None)
        consistent = meta.consistent()
    except Exception as exc:  # any unreadable part means the same thing to the user
        raise unreadable(index_dir, exc) from None
    if (not consistent or dense.size != len(meta.units) or lexical.size != len(meta.chunks)
            or article_lexical.size != len(meta.articles) or dense.dim != manifest.dim
            or (cross_lingual is not None and cross_lingual.size != len(meta.units))):
        raise DamagedIndexError(
            f"index at {index_dir} is inconsistent ({dense.size} vectors for {len(meta.units)} units, "
            f"{lexical.size} BM25 rows for {len(meta.chunks)} chunks); rebuild it with {repair_hint(index_dir)}"
        )
    return StoredIndex(index_dir, manifest, meta.articles, meta.chunks, meta.units, dense, lexical, article_lexical,
                       meta.match_texts, meta.tables, cross_lingual)


def unreadable(index_dir: Path, exc: Exception) -> DamagedIndexError:
    """The error for an index a part of which cannot be read, with the command that rebuilds it."""
    return DamagedIndexError(f"index at {index_dir} is damaged ({type(exc).__name__}: {str(exc)[:120]}); "
                             f"rebuild it with {repair_hint(index_dir)}")


@dataclass(frozen=True)
class Metadata:
    """What every generation stores beside its searchable parts, opened for reading on demand."""

    articles: LazyById[Article]
    chunks: LazyChunks
    units: UnitTable
    match_texts: LazyById[MatchText]
    tables: RowTables
    unit_lines: int  # lines of units.jsonl (its keys are read only by a rebuild)

    def consistent(self) -> bool:
        """The files and tables describe the same rows (a cheap check: no line is parsed)."""
        return self.tables.consistent(len(self.chunks), len(self.articles), len(self.match_texts), self.unit_lines)


def _stored_tables(path: Path) -> RowTables | None:
    """The tables written with the data folder; None when there are none in this version's
    format (a folder written before they existed, or by a version that wrote them otherwise):
    they are derived data, computed again from the lines."""
    import zipfile

    try:
        return RowTables.load(path)
    except (FileNotFoundError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
        return None


def read_metadata(data: Path) -> Metadata:
    """Articles, chunks, units and match forms of the data folder ``data``.

    The .jsonl files are mapped, not parsed; the per-row tables come from ``tables.npz``. A
    folder written before it existed gets them from one pass over its lines instead.
    """
    names = ("articles", "chunks", "match")
    tables = _stored_tables(data / TABLES_NAME)
    if tables is not None:
        files = {name: JsonlFile(data / f"{name}.jsonl", tables.line_ends.get(name)) for name in names}
        # units.jsonl is read only by rebuilds (for its keys): here its size says whether it is whole.
        unit_ends = tables.line_ends.get("units")
        size = (data / "units.jsonl").stat().st_size
        whole = unit_ends is not None and (int(unit_ends[-1]) == size - 1 if len(unit_ends) else size == 0)
        unit_lines = len(unit_ends) if whole else len(JsonlFile(data / "units.jsonl"))
        tables.line_ends.pop("units", None)  # 8 bytes a vector, not needed again
    else:
        files = {name: JsonlFile(data / f"{name}.jsonl") for name in names}
        unit_file = JsonlFile(data / "units.jsonl")
        unit_lines = len(unit_file)
        units = list(unit_file.records())
        tables = RowTables.build([r["doc_id"] for r in files["articles"].records()],
                                 [chunk_from_record(r) for r in files["chunks"].records()],
                                 [u["chunk_row"] for u in units], [u.get("kind", "sentence") == "sentence" for u in units],
                                 [r["doc_id"] for r in files["match"].records()],
                                 {**{name: file.line_ends for name, file in files.items()}, "units": unit_file.line_ends})
    if len(tables.article_ids) != len(files["articles"]) or len(tables.match_ids) != len(files["match"]):
        raise ValueError(f"{TABLES_NAME} does not match the .jsonl files")
    index_dir = data.parent

    def mismatch(what: str) -> DamagedIndexError:
        return DamagedIndexError(f"index at {index_dir} is inconsistent ({what}); rebuild it with {repair_hint(index_dir)}")

    return Metadata(LazyById(files["articles"], tables.article_ids, article_from_record, mismatch),
                    LazyChunks(files["chunks"], tables.chunk_sentences, mismatch),
                    UnitTable(tables.unit_chunk_rows, tables.unit_is_sentence),
                    LazyById(files["match"], tables.match_ids, match_from_record, mismatch),
                    tables, unit_lines)


def repair_hint(index_dir: Path) -> str:
    """The command that rebuilds a damaged index from the user's own sources (never silently from corpus/)."""
    if recorded_sources(index_dir):
        return f"`assistant ingest --force --index {index_dir}`"
    return f"`assistant ingest PATHS... --force --index {index_dir}` (PATHS: the files or folders of your articles)"


def recorded_sources(index_dir: Path) -> list[Path]:
    """The sources an index was built from, read leniently (any format version).

    From the manifest; when that is unreadable, from the copy each data folder keeps
    (``sources.json``, newest complete folder first), so that repairing a damaged index
    rebuilds it from the user's own sources.
    """
    return [Path(s) for s in _recorded(index_dir).get("sources", [])]


def recorded_exclusions(index_dir: Path) -> list[Path]:
    """Files under the sources that ``assistant remove`` took out of the index (resolved paths)."""
    return [Path(s) for s in _recorded(index_dir).get("excluded", [])]


def _recorded(index_dir: Path) -> dict[str, list[str]]:
    candidates = [index_dir / MANIFEST_NAME]
    if index_dir.is_dir():
        folders = [p for p in index_dir.glob("data-*") if (p / SOURCES_NAME).is_file()
                   and all((p / name).exists() for name in _DATA_FILES)]  # complete enough to know its sources
        candidates += [p / SOURCES_NAME for p in sorted(folders, key=lambda p: p.stat().st_mtime, reverse=True)]
    for path in candidates:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            sources = data.get("sources", [])
            excluded = data.get("excluded", data.get("extra", {}).get("excluded", []))
        except (OSError, ValueError, TypeError, AttributeError):
            continue
        if sources and all(isinstance(s, str) for s in [*sources, *excluded]):
            return {"sources": sources, "excluded": excluded}
    return {}


def stored_vectors(index_dir: Path, encoder: str) -> dict[str, np.ndarray]:
    """The vectors of the index at ``index_dir`` keyed by the hash of the text embedded.

    Read straight from ``units.jsonl`` and ``dense.faiss`` (or ``cross_lingual.faiss``, when
    ``encoder`` is the index's cross-lingual one; with Milvus, the ``.npy`` copies kept beside it), so an index written by an older format
    version still gives its vectors to a rebuild; ``{}`` when there is nothing usable.
    """
    try:
        data = json.loads((index_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
        if not data.get("data_dir"):
            return {}
        folder = index_dir / data["data_dir"]
        if data.get("encoder") == encoder:
            faiss_file, milvus_file = folder / "dense.faiss", folder / "vectors.npy"
        elif (data.get("extra") or {}).get("cross_lingual_encoder") == encoder:
            from assistant.index.milvus import CROSS_LINGUAL_VECTORS

            faiss_file, milvus_file = folder / CROSS_LINGUAL_FILE, folder / CROSS_LINGUAL_VECTORS
        else:
            return {}
        keys = [u["key"] for u in _read_jsonl(folder / "units.jsonl")]
        if faiss_file.exists():
            vectors = DenseIndex.load(faiss_file).vectors()
        elif milvus_file.exists():  # an index searched in Milvus keeps its vectors beside it for rebuilds
            vectors = np.load(milvus_file, allow_pickle=False)
        else:
            return {}
    except Exception:  # missing, damaged or foreign: there is simply nothing to reuse
        return {}
    if len(keys) != len(vectors):
        return {}
    return dict(zip(keys, vectors))


def _partial_prefix(encoder: str) -> str:
    """File-name prefix of one encoder's partial vectors (another encoder's are never mixed in)."""
    return hashlib.sha1(encoder.encode()).hexdigest()[:8]


def save_partial_vectors(index_dir: Path, encoder: str, keys: list[str], vectors: np.ndarray) -> None:
    """Keep vectors embedded so far, so a build that is killed does not lose them (npz, no pickle)."""
    folder = index_dir / PARTIAL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{_partial_prefix(encoder)}-{uuid.uuid4().hex[:8]}"
    tmp = folder / f".{name}.npz.tmp"  # not "*.npz" until complete: a reader never sees a half-written file
    with open(tmp, "wb") as out:  # a file object, so numpy does not append ".npz" to the name
        np.savez(out, keys=np.asarray(keys, dtype=str), vectors=np.asarray(vectors, dtype=np.float32))
    os.replace(tmp, folder / f"{name}.npz")


def partial_vectors(index_dir: Path, encoder: str) -> dict[str, np.ndarray]:
    """Vectors an unfinished build of ``encoder`` left behind, keyed like :func:`stored_vectors`."""
    found: dict[str, np.ndarray] = {}
    for path in sorted((index_dir / PARTIAL_NAME).glob(f"{_partial_prefix(encoder)}-*.npz")):
        try:
            with np.load(path, allow_pickle=False) as data:
                found.update(zip(data["keys"].tolist(), data["vectors"]))
        except (OSError, ValueError, KeyError):  # a file cut short by the kill: embed those again
            continue
    return found


def drop_partial_vectors(index_dir: Path) -> None:
    shutil.rmtree(index_dir / PARTIAL_NAME, ignore_errors=True)


class SearchParts(Protocol):
    """The searchable side of a generation, written into (or beside) its data folder."""

    files: tuple[str, ...]

    def save(self, data: Path) -> None: ...

    def discard(self, data: Path) -> None:
        """Undo :meth:`save` of a generation that is not used (a failed build, an old generation)."""
        ...


@dataclass
class FaissParts:
    """FAISS vectors and bm25s matrices, as files in the data folder."""

    dense: DenseIndex
    lexical: LexicalIndex
    article_lexical: LexicalIndex
    cross_lingual: DenseIndex | None = None

    @property
    def files(self) -> tuple[str, ...]:
        return FAISS_FILES + ((CROSS_LINGUAL_FILE,) if self.cross_lingual is not None else ())

    def save(self, data: Path) -> None:
        self.dense.save(data / "dense.faiss")
        self.lexical.save(data / "lexical")
        self.article_lexical.save(data / "article_lexical")
        if self.cross_lingual is not None:
            self.cross_lingual.save(data / CROSS_LINGUAL_FILE)

    def discard(self, data: Path) -> None:
        pass  # the files go with the folder


def write_index(
    index_dir: Path,
    manifest: Manifest,
    articles: list[Article],
    chunks: list[Chunk],
    units: list[Unit],
    match_texts: dict[str, MatchText],
    search: SearchParts,
) -> None:
    """Write a complete new generation, then switch ``manifest.json`` to it in one atomic step.

    The caller holds :func:`writer_lock`, so data folders the manifest does not point at are
    leftovers of killed builds: they are removed first, which also frees their disk space.
    """
    try:
        current = read_manifest(index_dir)  # refuses a foreign folder (or a file) before anything is written
    except DamagedIndexError:
        current = None  # ours but unreadable: replacing it is the repair
    if current is not None:
        _remove_stale_generations(index_dir, keep={current.data_dir})
    index_dir.mkdir(parents=True, exist_ok=True)
    manifest.data_dir = f"data-{uuid.uuid4().hex[:12]}"
    data = index_dir / manifest.data_dir
    data.mkdir()
    cleanup: list[Path] = []
    try:
        ends = {
            "articles": _write_jsonl(data / "articles.jsonl", (asdict(a) for a in articles)),
            "chunks": _write_jsonl(data / "chunks.jsonl", (asdict(c) for c in chunks)),
            "units": _write_jsonl(data / "units.jsonl", (asdict(u) for u in units)),
            "match": _write_jsonl(data / "match.jsonl", ({"doc_id": d, "title": m.title, "text": m.text}
                                                         for d, m in match_texts.items())),
        }
        RowTables.build([a.doc_id for a in articles], chunks, [u.chunk_row for u in units],
                        [u.kind == "sentence" for u in units], list(match_texts), ends).save(data / TABLES_NAME)
        search.save(data)
        (data / SOURCES_NAME).write_text(
            json.dumps({"sources": manifest.sources, "excluded": manifest.extra.get("excluded", [])}, ensure_ascii=False),
            encoding="utf-8")
        _fsync_tree(data)
        tmp = index_dir / f".{MANIFEST_NAME}.{uuid.uuid4().hex[:8]}.tmp"
        cleanup.append(tmp)
        tmp.write_text(json.dumps(asdict(manifest), ensure_ascii=False, indent=2), encoding="utf-8")
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, index_dir / MANIFEST_NAME)
    except BaseException as exc:
        search.discard(data)
        shutil.rmtree(data, ignore_errors=True)
        for path in cleanup:
            path.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno in _NO_SPACE:
            raise IndexStoreError(
                f"no room to write the index at {index_dir} ({exc.strerror}); free some disk space and run the "
                "ingest again. The previous index is unchanged."
            ) from None
        raise
    # The generation just replaced stays until the next build when it is searched in Milvus:
    # questions still running on it, and processes that have not reopened the index yet, keep
    # working (files of a FAISS generation stay readable to processes that mapped them).
    previous = {current.data_dir} if current is not None and (index_dir / current.data_dir / "milvus.json").is_file() else set()
    _remove_stale_generations(index_dir, keep={manifest.data_dir} | previous)


def _remove_stale_generations(index_dir: Path, keep: set[str]) -> None:
    for path in index_dir.glob("data-*"):
        if path.is_dir() and path.name not in keep:
            if (path / "milvus.json").is_file():  # its searchable parts live in Milvus: drop them there too
                from assistant.index.milvus import drop_generation

                drop_generation(path)
            shutil.rmtree(path, ignore_errors=True)
    for path in index_dir.glob(f".{MANIFEST_NAME}.*.tmp"):
        path.unlink(missing_ok=True)
