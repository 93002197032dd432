"""What retrieval and answering read from an index, whatever stores it.

Every lookup a question makes goes through these methods: searches return the best ``k`` rows
with their scores (never a score for every chunk), and text, sentences and vectors are fetched
for the rows a question touches. So an implementation may keep its data on disk or in a server
(Milvus), and ranking and answering read a bounded number of rows whatever the collection's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from assistant.types import Article, Chunk


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


def best_per_chunk(chunk_rows: np.ndarray, sims: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Units' hits (the chunk each scores, its similarity; best first) as chunk hits: each chunk
    once, with its best unit's similarity, best first."""
    unique, first = np.unique(chunk_rows, return_index=True)
    order = np.argsort(first, kind="stable")
    return unique[order], sims[first[order]]


class TermStats(Protocol):
    """Document frequencies of lexical tokens over the chunks (the answer stage weighs question terms by them)."""

    def document_frequency(self, token: str) -> int: ...

    def idf(self, token: str) -> float: ...

    def vocabulary(self) -> list[str]: ...


class Index(Protocol):
    """A loaded index, read-only. Rows are chunk rows (``0 .. chunk_count-1``) unless named otherwise."""

    @property
    def chunk_count(self) -> int: ...

    @property
    def encoder(self) -> str: ...

    @property
    def terms(self) -> TermStats: ...

    def lexical_search(self, tokens: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Best ``k`` chunk rows by BM25 and their scores, best first."""
        ...

    def article_search(self, tokens: Sequence[str], k: int) -> tuple[list[str], np.ndarray]:
        """Best ``k`` articles (doc ids) by BM25 over the whole article and their scores, best first."""
        ...

    def dense_search(self, vector: np.ndarray, k: int, sentences: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Best ``k`` chunk rows by cosine and their similarity, best first: a chunk scores the best
        of its units among the ``k`` nearest (``sentences=False``: whole-chunk units only)."""
        ...

    @property
    def cross_lingual_encoder(self) -> str | None:
        """The second encoder whose vectors the index also holds for its units (None: none)."""
        ...

    def cross_lingual_search(self, vector: np.ndarray, k: int, sentences: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`dense_search`, over the cross-lingual encoder's vectors (only when
        :attr:`cross_lingual_encoder` names one)."""
        ...

    def chunk(self, row: int) -> Chunk: ...

    def chunk_row(self, chunk_id: str) -> int | None:
        """The row of a chunk of this index (None for a chunk it does not hold)."""
        ...

    def chunk_doc_ids(self, rows: Sequence[int]) -> list[str]:
        """The article of each chunk row, without reading the chunks (retrieval asks this of
        every candidate)."""
        ...

    def chunk_sentences(self, row: int) -> list[IndexedSentence]: ...

    def adjacent_chunk(self, row: int, step: int) -> int | None:
        """The row of the chunk just before (``step=-1``) or after (``step=1``) chunk ``row`` in
        its article (None at the article's first or last chunk)."""
        ...

    def sentence_vectors(self, vector_rows: Sequence[int]) -> np.ndarray: ...

    def article(self, doc_id: str) -> Article: ...

    def has_article(self, doc_id: str) -> bool: ...

    def match_text(self, doc_id: str) -> MatchText: ...

    def mentions(self, term: str, place: bool = False) -> bool:
        """Whether any article's title or text contains ``term`` (in match form); with ``place``,
        other than as the start of an organisation's name (浙江 of 浙江大学: ``entities.names_place``)."""
        ...

    def tokens_with(self, char: str) -> tuple[str, ...]:
        """The lexical vocabulary's tokens that contain ``char`` (looked up, not scanned: a large
        collection's vocabulary runs to millions of tokens)."""
        ...

    def article_ids(self) -> list[str]: ...

    def chunk_counts(self) -> dict[str, int]:
        """Chunks per article (the collection panel lists them)."""
        ...
