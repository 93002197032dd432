"""The index on disk: open formats, a manifest, and atomic replacement.

Layout of an index folder::

    manifest.json        which data folder is current + encoder, chunker, corpus fingerprint
    data-<id>/articles.jsonl, chunks.jsonl (with each chunk's sentences), units.jsonl,
              match.jsonl (each article's title and text in match form: Simplified,
              half-width, lower case, offsets equal to the stored text), dense.faiss,
              lexical/ (BM25 per chunk), article_lexical/ (BM25 per article; bm25s npy+json)

A build writes a fresh ``data-<id>/`` and then atomically replaces ``manifest.json``
(``os.replace``), so a crash mid-build leaves the previous index loadable. No pickle anywhere.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np

from assistant.dense import DenseIndex
from assistant.lexical import LexicalIndex
from assistant.types import Article, Chunk, Sentence

FORMAT_VERSION = 3
MANIFEST_NAME = "manifest.json"
# Files a fresh checkout's index/ folder may hold besides an index.
_HARMLESS = {".gitignore", ".gitkeep", "README.md"}
_TMP_MANIFEST = re.compile(rf"^\.{re.escape(MANIFEST_NAME)}\.[0-9a-f]+\.tmp$")
REPAIR = "assistant ingest --force --index {index_dir}"


class IndexStoreError(Exception):
    """A one-line, user-facing problem with an index folder."""


class DamagedIndexError(IndexStoreError):
    """Our index, but unreadable: a forced rebuild repairs it."""


@dataclass(frozen=True)
class Unit:
    """A span embedded for dense search (a sentence or a whole chunk) and the chunk it scores."""

    chunk_row: int
    start: int  # offsets in the article text
    end: int
    key: str  # hash of the exact text embedded, to reuse vectors on rebuild
    kind: str = "sentence"  # "chunk" (the chunk with its title) or "sentence"


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


@dataclass(frozen=True)
class MatchText:
    """An article's title and text in match form (``assistant.text.match_form``)."""

    title: str
    text: str


@dataclass(frozen=True)
class IndexedSentence:
    """A sentence of a chunk as the index holds it: offsets in its article, and its vector's row."""

    doc_id: str
    start: int
    end: int
    quotable: bool
    vector_row: int


@dataclass
class StoredIndex:
    """A loaded index: the FAISS + bm25s implementation of what retrieval and answering read.

    Stages read it through its methods (``chunk_sentences``, ``sentence_vectors``,
    ``match_text``, ``mentions``) rather than through the arrays behind them.
    """

    path: Path
    manifest: Manifest
    articles: dict[str, Article]
    chunks: list[Chunk]
    units: list[Unit]
    dense: DenseIndex
    lexical: LexicalIndex  # one BM25 row per chunk
    article_lexical: LexicalIndex  # one BM25 row per article, in ``articles`` order
    match_texts: dict[str, MatchText]

    def __post_init__(self) -> None:
        self.unit_chunk_rows = np.fromiter((u.chunk_row for u in self.units), dtype=np.int64, count=len(self.units))
        self.unit_is_sentence = np.fromiter((u.kind == "sentence" for u in self.units), dtype=bool, count=len(self.units))
        article_row = {doc_id: i for i, doc_id in enumerate(self.articles)}
        self.chunk_article_rows = np.fromiter((article_row[c.doc_id] for c in self.chunks), dtype=np.int64,
                                              count=len(self.chunks))
        # A chunk's sentence units are written in the order of ``Chunk.sentences``.
        self._sentence_units: list[list[int]] = [[] for _ in self.chunks]
        for row, unit in enumerate(self.units):
            if unit.kind == "sentence":
                self._sentence_units[unit.chunk_row].append(row)
        self._mentions: dict[str, bool] = {}
        self._chunk_rows = {c.chunk_id: row for row, c in enumerate(self.chunks)}

    def chunk_row(self, chunk_id: str) -> int | None:
        """The row of a chunk of this index (None for a chunk it does not hold)."""
        return self._chunk_rows.get(chunk_id)

    def chunk_sentences(self, chunk_row: int) -> list[IndexedSentence]:
        chunk = self.chunks[chunk_row]
        return [IndexedSentence(chunk.doc_id, s.start, s.end, s.quotable, row)
                for s, row in zip(chunk.sentences, self._sentence_units[chunk_row])]

    def sentence_vectors(self, rows: list[int]) -> np.ndarray:
        return self.dense.vectors_at(rows)

    def match_text(self, doc_id: str) -> MatchText:
        return self.match_texts[doc_id]

    def mentions(self, term: str) -> bool:
        """Whether any article's title or text contains ``term`` (given in match form).

        A scan of the stored match forms, remembered per term: fine for thousands of
        articles; a large collection needs a term index behind this method instead.
        """
        if term not in self._mentions:
            self._mentions[term] = any(term in m.title or term in m.text for m in self.match_texts.values())
        return self._mentions[term]


def _write_jsonl(path: Path, records: Iterable[dict]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


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
            f"{path} is corrupt ({type(exc).__name__}); rebuild the index with `{REPAIR.format(index_dir=index_dir)}`"
        ) from None
    if manifest.format_version != FORMAT_VERSION:
        raise DamagedIndexError(
            f"{index_dir} has index format {manifest.format_version}, this version reads {FORMAT_VERSION}; "
            f"rebuild it with `{REPAIR.format(index_dir=index_dir)}`"
        )
    return manifest


def _foreign_entries(index_dir: Path) -> list[str]:
    """Entries that are neither ours (data folders, a half-written manifest) nor harmless."""
    return [p.name for p in index_dir.iterdir()
            if p.name not in _HARMLESS and not p.name.startswith("data-") and not _TMP_MANIFEST.match(p.name)]


_DATA_FILES = ("articles.jsonl", "chunks.jsonl", "units.jsonl", "match.jsonl", "dense.faiss", "lexical",
               "article_lexical")


def is_complete(index_dir: Path, manifest: Manifest) -> bool:
    """Cheap check that every part the manifest points at is on disk."""
    data = index_dir / manifest.data_dir
    return bool(manifest.data_dir) and all((data / name).exists() for name in _DATA_FILES)


def load_index(index_dir: Path) -> StoredIndex:
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexStoreError(f"no index at {index_dir}; build one with `assistant ingest --index {index_dir}`")
    data = index_dir / manifest.data_dir
    try:
        articles = {a["doc_id"]: Article(**a) for a in _read_jsonl(data / "articles.jsonl")}
        chunks = [_chunk(c) for c in _read_jsonl(data / "chunks.jsonl")]
        units = [Unit(**u) for u in _read_jsonl(data / "units.jsonl")]
        match_texts = {m["doc_id"]: MatchText(m["title"], m["text"]) for m in _read_jsonl(data / "match.jsonl")}
        dense = DenseIndex.load(data / "dense.faiss")
        lexical = LexicalIndex.load(data / "lexical")
        article_lexical = LexicalIndex.load(data / "article_lexical")
    except Exception as exc:  # any unreadable part means the same thing to the user
        raise DamagedIndexError(
            f"index at {index_dir} is damaged ({type(exc).__name__}: {str(exc)[:120]}); "
            f"rebuild it with `{REPAIR.format(index_dir=index_dir)}`"
        ) from None
    sentence_units = [0] * len(chunks)
    for unit in units:
        if unit.kind == "sentence" and 0 <= unit.chunk_row < len(chunks):
            sentence_units[unit.chunk_row] += 1
    if (dense.size != len(units) or lexical.size != len(chunks) or article_lexical.size != len(articles)
            or dense.dim != manifest.dim or match_texts.keys() != articles.keys()
            or any(n != len(c.sentences) for n, c in zip(sentence_units, chunks))):
        raise DamagedIndexError(
            f"index at {index_dir} is inconsistent ({dense.size} vectors for {len(units)} units, "
            f"{lexical.size} BM25 rows for {len(chunks)} chunks); rebuild it with `{REPAIR.format(index_dir=index_dir)}`"
        )
    return StoredIndex(index_dir, manifest, articles, chunks, units, dense, lexical, article_lexical, match_texts)


def _chunk(record: dict) -> Chunk:
    sentences = tuple(Sentence(**s) for s in record.pop("sentences", ()))
    return Chunk(**record, sentences=sentences)


def recorded_sources(index_dir: Path) -> list[Path]:
    """The sources an index folder's manifest names, read leniently (any format version)."""
    try:
        data = json.loads((index_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
        return [Path(s) for s in data.get("sources", [])]
    except (OSError, ValueError, TypeError, AttributeError):
        return []


def stored_vectors(index_dir: Path, encoder: str) -> dict[str, np.ndarray]:
    """The vectors of the index at ``index_dir`` keyed by the hash of the text embedded.

    Read straight from ``units.jsonl`` and ``dense.faiss``, so an index written by an older
    format version still gives its vectors to a rebuild; ``{}`` when there is nothing usable.
    """
    try:
        data = json.loads((index_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
        if data.get("encoder") != encoder or not data.get("data_dir"):
            return {}
        folder = index_dir / data["data_dir"]
        keys = [u["key"] for u in _read_jsonl(folder / "units.jsonl")]
        vectors = DenseIndex.load(folder / "dense.faiss").vectors()
    except Exception:  # missing, damaged or foreign: there is simply nothing to reuse
        return {}
    if len(keys) != len(vectors):
        return {}
    return dict(zip(keys, vectors))


def write_index(
    index_dir: Path,
    manifest: Manifest,
    articles: list[Article],
    chunks: list[Chunk],
    units: list[Unit],
    match_texts: dict[str, MatchText],
    dense: DenseIndex,
    lexical: LexicalIndex,
    article_lexical: LexicalIndex,
) -> None:
    """Write a complete new generation, then switch ``manifest.json`` to it in one atomic step."""
    try:
        read_manifest(index_dir)  # refuses a foreign folder (or a file) before anything is written
    except DamagedIndexError:
        pass  # ours but unreadable: replacing it is the repair
    index_dir.mkdir(parents=True, exist_ok=True)
    manifest.data_dir = f"data-{uuid.uuid4().hex[:12]}"
    data = index_dir / manifest.data_dir
    data.mkdir()
    cleanup: list[Path] = []
    try:
        _write_jsonl(data / "articles.jsonl", (asdict(a) for a in articles))
        _write_jsonl(data / "chunks.jsonl", (asdict(c) for c in chunks))
        _write_jsonl(data / "units.jsonl", (asdict(u) for u in units))
        _write_jsonl(data / "match.jsonl", ({"doc_id": d, "title": m.title, "text": m.text} for d, m in match_texts.items()))
        dense.save(data / "dense.faiss")
        lexical.save(data / "lexical")
        article_lexical.save(data / "article_lexical")
        _fsync_tree(data)
        tmp = index_dir / f".{MANIFEST_NAME}.{uuid.uuid4().hex[:8]}.tmp"
        cleanup.append(tmp)
        tmp.write_text(json.dumps(asdict(manifest), ensure_ascii=False, indent=2), encoding="utf-8")
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, index_dir / MANIFEST_NAME)
    except BaseException:
        shutil.rmtree(data, ignore_errors=True)
        for path in cleanup:
            path.unlink(missing_ok=True)
        raise
    _remove_stale_generations(index_dir, keep=manifest.data_dir)


def _remove_stale_generations(index_dir: Path, keep: str) -> None:
    for path in index_dir.glob("data-*"):
        if path.is_dir() and path.name != keep:
            shutil.rmtree(path, ignore_errors=True)
    for path in index_dir.glob(f".{MANIFEST_NAME}.*.tmp"):
        path.unlink(missing_ok=True)
