"""An index's metadata read on demand: articles, chunks and match forms stay in their .jsonl
files, memory-mapped, and a line is parsed when a question needs it.

Opening a million-chunk index used to parse every line into Python objects: most of a
minute and gigabytes of RAM before the first question, for the few dozen chunks a question
reads. Now opening finds where each line starts (a numpy scan for newlines) and loads
``tables.npz``, the per-row arrays that retrieval needs for every candidate (a chunk's
article, its sentence count, its id), written beside the .jsonl files at build time.
"""

from __future__ import annotations

import mmap
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Generic, TypeVar

import numpy as np

from assistant.index.base import MatchText
from assistant.types import Article, Chunk, Sentence

TABLES_NAME = "tables.npz"
TABLES_FORMAT = 2  # 1: ids joined by newlines (could not hold a newline in a file name)
_SCAN_BLOCK = 1 << 26  # newlines are looked for 64 MiB at a time (no file-sized temporary arrays)

T = TypeVar("T")


class JsonlFile:
    """A .jsonl file (one JSON record per line, no blank lines, as ``write_index`` writes it),
    memory-mapped, with the byte span of every line.

    ``line_ends``: where each line's newline is, as written at build time; without them (or
    when they do not fit the file) the file is scanned for newlines, which reads all of it.
    """

    def __init__(self, path: Path, line_ends: np.ndarray | None = None) -> None:
        self.path = path
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            # An empty file cannot be mapped; it simply has no lines.
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        fits = line_ends is not None and (int(line_ends[-1]) == size - 1 if len(line_ends) else size == 0)
        self._ends = np.asarray(line_ends, dtype=np.int64) if fits else self._scan(size)
        self._starts = np.concatenate([[0], self._ends[:-1] + 1]).astype(np.int64)

    def _scan(self, size: int) -> np.ndarray:
        data = np.frombuffer(self._map, dtype=np.uint8) if size else np.zeros(0, dtype=np.uint8)
        ends = [np.flatnonzero(data[i:i + _SCAN_BLOCK] == 10) + i for i in range(0, size, _SCAN_BLOCK)]
        ends = np.concatenate(ends) if ends else np.zeros(0, dtype=np.int64)
        if size and data[-1] != 10:  # a last line without its newline
            ends = np.append(ends, size)
        del data  # the numpy view would pin the mapping
        return ends.astype(np.int64)

    @property
    def line_ends(self) -> np.ndarray:
        return self._ends

    def __len__(self) -> int:
        return len(self._ends)

    def record(self, line: int) -> dict:
        import orjson  # 2-4x faster than json on these lines

        return orjson.loads(self._map[self._starts[line]:self._ends[line]])

    def records(self) -> Iterator[dict]:
        for line in range(len(self)):
            yield self.record(line)


class _Parsed(Generic[T]):
    """Line -> object (``parse(line, record)``), parsed once and kept for the most recently
    used lines. Safe to share between the chat's threads."""

    def __init__(self, file: JsonlFile, parse: Callable[[int, dict], T], keep: int,
                 damaged: Callable[[str], Exception]) -> None:
        self.file, self._parse, self._keep, self._damaged = file, parse, keep, damaged
        self._cache: OrderedDict[int, T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, line: int) -> T:
        with self._lock:
            found = self._cache.get(line)
            if found is not None:
                self._cache.move_to_end(line)
                return found
        try:  # outside the lock: parsing is the slow part
            record = self.file.record(line)
        except ValueError as exc:  # a file changed since it was written
            raise self._damaged(f"line {line + 1} of {self.file.path.name} cannot be read: {exc}") from None
        found = self._parse(line, record)
        with self._lock:
            self._cache[line] = found
            if len(self._cache) > self._keep:
                self._cache.popitem(last=False)
        return found


class LazyChunks(Sequence[Chunk]):
    """``chunks.jsonl`` as a list of chunks, parsed as they are read.

    Each chunk is checked against the tables when it is parsed: a chunk with more or fewer
    sentences than it has sentence vectors would hand the answerer another sentence's vector,
    so it raises ``mismatch(message)`` instead (the store makes that its damaged-index error).
    """

    def __init__(self, file: JsonlFile, sentence_counts: np.ndarray, mismatch: Callable[[str], Exception],
                 keep: int = 4096) -> None:
        def parse(row: int, record: dict) -> Chunk:
            chunk = chunk_from_record(record)
            if len(chunk.sentences) != sentence_counts[row]:
                raise mismatch(f"chunk row {row} has {len(chunk.sentences)} sentences and "
                               f"{sentence_counts[row]} sentence vectors")
            return chunk

        self._rows = _Parsed(file, parse, keep, mismatch)

    def __len__(self) -> int:
        return len(self._rows.file)

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        n = len(self)
        if not -n <= row < n:
            raise IndexError(f"chunk row {row} out of range ({n} chunks)")
        return self._rows.get(row % n)


class LazyById(Mapping[str, T]):
    """A .jsonl file keyed by the records' ``doc_id``, in file order; ``ids`` are those keys."""

    def __init__(self, file: JsonlFile, ids: list[str], parse: Callable[[dict], T],
                 damaged: Callable[[str], Exception], keep: int = 1024) -> None:
        self.ids = ids
        self._line = {doc_id: line for line, doc_id in enumerate(ids)}
        self._rows = _Parsed(file, lambda _line, record: parse(record), keep, damaged)

    def __getitem__(self, doc_id: str) -> T:
        return self._rows.get(self._line[doc_id])

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._line

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)


def chunk_from_record(record: dict) -> Chunk:
    record = dict(record)
    sentences = tuple(Sentence(**s) for s in record.pop("sentences", ()))
    return Chunk(**record, sentences=sentences)


def article_from_record(record: dict) -> Article:
    return Article(**record)


def match_from_record(record: dict) -> MatchText:
    return MatchText(record["title"], record["text"])


_CHUNK_ID = re.compile(r"[0-9a-f]{16}")  # chunk.chunk_id's spelling: 16 lower-case hex characters


def chunk_key(chunk_id: str) -> int:
    """A chunk id (16 lower-case hex characters) as the unsigned 64-bit number the tables
    store; ``ValueError`` for anything else (0x…, upper case, spaces: never an id we wrote)."""
    if not isinstance(chunk_id, str) or not _CHUNK_ID.fullmatch(chunk_id):
        raise ValueError(f"not a chunk id: {chunk_id!r}")
    return int(chunk_id, 16)


@dataclass(frozen=True)
class RowTables:
    """Per-row arrays of one generation, so that no question has to parse lines for them.

    ``article_ids``: doc ids in ``articles.jsonl`` order (= the article BM25's rows);
    ``match_ids``: the same for ``match.jsonl``; ``chunk_articles``: each chunk's article row;
    ``chunk_sentences``: how many sentences each chunk has (checked against the units);
    ``chunk_keys`` / ``chunk_key_rows``: chunk ids as numbers, sorted, with their rows;
    ``unit_chunk_rows`` / ``unit_is_sentence``: the unit table (row i = dense vector i);
    ``line_ends``: per .jsonl file, where each line ends (so opening need not read the files).
    """

    article_ids: list[str]
    match_ids: list[str]
    chunk_articles: np.ndarray
    chunk_sentences: np.ndarray
    chunk_keys: np.ndarray
    chunk_key_rows: np.ndarray
    unit_chunk_rows: np.ndarray
    unit_is_sentence: np.ndarray
    line_ends: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def build(cls, article_ids: Sequence[str], chunks: Sequence[Chunk], unit_chunk_rows: Sequence[int],
              unit_is_sentence: Sequence[bool], match_ids: Sequence[str] | None = None,
              line_ends: dict[str, np.ndarray] | None = None) -> "RowTables":
        article_row = {doc_id: i for i, doc_id in enumerate(article_ids)}
        n = len(chunks)
        keys = np.fromiter((chunk_key(c.chunk_id) for c in chunks), dtype=np.uint64, count=n)
        order = np.argsort(keys, kind="stable")
        return cls(
            list(article_ids), list(article_ids if match_ids is None else match_ids),
            np.fromiter((article_row.get(c.doc_id, -1) for c in chunks), dtype=np.int64, count=n),
            np.fromiter((len(c.sentences) for c in chunks), dtype=np.int64, count=n),
            keys[order], order.astype(np.int64),
            np.asarray(unit_chunk_rows, dtype=np.int64).reshape(-1),
            np.asarray(unit_is_sentence, dtype=bool).reshape(-1),
            {name: np.asarray(ends, dtype=np.int64) for name, ends in (line_ends or {}).items()})

    def save(self, path: Path) -> None:
        # Ids as one JSON list in UTF-8 bytes: a fixed-width numpy string array would pad every
        # id to the longest one, and any character (a newline in a file name) survives JSON.
        with path.open("wb") as f:
            np.savez(f, format=np.asarray(TABLES_FORMAT), article_ids=_blob(self.article_ids), match_ids=_blob(self.match_ids),
                     chunk_articles=self.chunk_articles, chunk_sentences=self.chunk_sentences,
                     chunk_keys=self.chunk_keys, chunk_key_rows=self.chunk_key_rows,
                     unit_chunk_rows=self.unit_chunk_rows, unit_is_sentence=self.unit_is_sentence,
                     **{f"line_ends_{name}": ends for name, ends in self.line_ends.items()})

    @classmethod
    def load(cls, path: Path) -> "RowTables":
        """The tables saved at ``path``; ``ValueError`` for a file of another format."""
        with np.load(path, allow_pickle=False) as data:
            if "format" not in data.files or int(data["format"]) != TABLES_FORMAT:
                raise ValueError(f"{path.name} is not in format {TABLES_FORMAT}")
            return cls(_ids(data["article_ids"]), _ids(data["match_ids"]), data["chunk_articles"],
                       data["chunk_sentences"], data["chunk_keys"], data["chunk_key_rows"],
                       data["unit_chunk_rows"], data["unit_is_sentence"],
                       {name.removeprefix("line_ends_"): data[name] for name in data.files if name.startswith("line_ends_")})

    def consistent(self, chunks: int, articles: int, matches: int, units: int) -> bool:
        """The arrays agree with each other and with the files' line counts."""
        n = chunks
        if not (len(self.chunk_articles) == len(self.chunk_sentences) == len(self.chunk_keys) == len(self.chunk_key_rows) == n
                and len(self.unit_chunk_rows) == len(self.unit_is_sentence) == units
                and len(self.article_ids) == articles and len(self.match_ids) == matches == articles):
            return False
        rows_ok = all(((a >= 0) & (a < limit)).all() for a, limit in (
            (self.chunk_articles, articles), (self.chunk_key_rows, n), (self.unit_chunk_rows, n)))
        if not rows_ok or set(self.match_ids) != set(self.article_ids):
            return False
        sentence_units = np.bincount(self.unit_chunk_rows[self.unit_is_sentence], minlength=n)
        return bool((sentence_units == self.chunk_sentences).all())

    def chunk_row(self, chunk_id: str) -> int | None:
        try:
            key = np.uint64(chunk_key(chunk_id))
        except ValueError:  # not an id this index could have written
            return None
        # The last of equal keys, as a dict built in row order would keep.
        at = int(np.searchsorted(self.chunk_keys, key, side="right")) - 1
        return int(self.chunk_key_rows[at]) if at >= 0 and self.chunk_keys[at] == key else None


def _blob(ids: Sequence[str]) -> np.ndarray:
    import orjson

    return np.frombuffer(orjson.dumps(list(ids)), dtype=np.uint8)


def _ids(blob: np.ndarray) -> list[str]:
    import orjson

    ids = orjson.loads(blob.tobytes())
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("the ids in tables.npz are not a list of strings")
    return ids
