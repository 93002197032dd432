"""Lexical side of the index: BM25 (bm25s) over the tokens of :func:`assistant.text.tokenize_zh`."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np


class LexicalIndex:
    """BM25 over pre-tokenised documents; saved with bm25s's own open format (npy + json, no pickle)."""

    def __init__(self, bm25) -> None:
        self._bm25 = bm25
        # Document frequency per vocabulary id: the CSC posting lists are per token.
        self._df = np.diff(np.asarray(bm25.scores["indptr"]))

    @classmethod
    def build(cls, documents: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> "LexicalIndex":
        import bm25s

        bm25 = bm25s.BM25(k1=k1, b=b, method="lucene")
        # An empty document would break bm25s' vocabulary; the empty token stands in.
        bm25.index([list(doc) or [""] for doc in documents], show_progress=False)
        return cls(bm25)

    @classmethod
    def load(cls, folder: Path, mmap: bool = True) -> "LexicalIndex":
        """The index saved in ``folder``.

        With ``mmap`` the score matrix (its CSC data, indices and pointer arrays) stays in its
        .npy files and the OS pages in the posting lists a question reads: a 1M-chunk index
        opens in a fraction of its size in RAM, and processes reading one index share it.
        Scores are the same as a fully loaded index's. The files are never rewritten in place
        (every build writes a new data folder), so a mapping cannot see a half-written file.
        """
        import bm25s

        return cls(bm25s.BM25.load(str(folder), load_corpus=False, allow_pickle=False, mmap=mmap,
                                   show_progress=False))

    def save(self, folder: Path) -> None:
        self._bm25.save(str(folder), allow_pickle=False, show_progress=False)

    @property
    def size(self) -> int:
        return int(self._bm25.scores["num_docs"])

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for the query tokens (zeros when none is known)."""
        ids = self._bm25.get_tokens_ids(list(tokens))
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(ids), dtype=np.float32)

    def vocabulary(self) -> list[str]:
        """Every token the index knows."""
        return [t for t in self._bm25.vocab_dict if t]

    def document_frequency(self, token: str) -> int:
        token_id = self._bm25.vocab_dict.get(token)
        return 0 if token_id is None else int(self._df[token_id])

    def idf(self, token: str) -> float:
        """Smoothed IDF; unknown tokens get the highest value (they are the most specific)."""
        n = self.size
        df = self.document_frequency(token)
        return float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))
