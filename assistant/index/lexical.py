"""Lexical side of the index: BM25 over the tokens of :func:`assistant.text.tokenize_zh`.

bm25s builds the index and writes it in its open format (npy + json, no pickle). Questions
read those files here, without bm25s: scoring is a sum over the posting lists of the query's
tokens, and not importing bm25s (and the scipy it pulls in) takes about 0.3 s off every cold
``assistant ask``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

# bm25s's file names (bm25s.BM25.save / load)
_ARRAYS = {"data": "data.csc.index.npy", "indices": "indices.csc.index.npy", "indptr": "indptr.csc.index.npy"}
_VOCAB, _PARAMS = "vocab.index.json", "params.index.json"
# Variants whose scores are sums over posting lists alone (others add a non-occurrence term).
_SUMMED = {"lucene", "robertson", "atire"}


class LexicalIndex:
    """BM25 over pre-tokenised documents: a CSC score matrix (one column of postings per token)."""

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, num_docs: int,
                 vocabulary: dict[str, int], built=None) -> None:
        self._data, self._indices, self._indptr = data, indices, indptr
        self._num_docs = int(num_docs)
        self._vocab = vocabulary
        self._built = built  # the bm25s object of a fresh build, which writes the files
        # Document frequency per vocabulary id: the CSC posting lists are per token.
        self._df = np.diff(np.asarray(indptr))

    @classmethod
    def build(cls, documents: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> "LexicalIndex":
        import bm25s

        bm25 = bm25s.BM25(k1=k1, b=b, method="lucene")
        # An empty document would break bm25s' vocabulary; the empty token stands in.
        bm25.index([list(doc) or [""] for doc in documents], show_progress=False)
        s = bm25.scores
        return cls(s["data"], s["indices"], s["indptr"], s["num_docs"], bm25.vocab_dict, built=bm25)

    @classmethod
    def load(cls, folder: Path, mmap: bool = True) -> "LexicalIndex":
        """The index bm25s saved in ``folder``.

        With ``mmap`` the score matrix (its CSC data, indices and pointer arrays) stays in its
        .npy files and the OS pages in the posting lists a question reads: a 1M-chunk index
        opens in a fraction of its size in RAM, and processes reading one index share it.
        The files are never rewritten in place (every build writes a new data folder), so a
        mapping cannot see a half-written file.
        """
        params = json.loads((folder / _PARAMS).read_text(encoding="utf-8"))
        if params.get("method", "lucene") not in _SUMMED:
            raise ValueError(f"BM25 variant {params.get('method')!r} is not one this index reads")
        vocabulary = json.loads((folder / _VOCAB).read_text(encoding="utf-8"))
        arrays = {name: np.load(folder / file, mmap_mode="r" if mmap else None, allow_pickle=False)
                  for name, file in _ARRAYS.items()}
        return cls(arrays["data"], arrays["indices"], arrays["indptr"], params["num_docs"], vocabulary)

    def save(self, folder: Path) -> None:
        if self._built is None:
            raise RuntimeError("only a freshly built lexical index is saved; a loaded one is already on disk")
        self._built.save(str(folder), allow_pickle=False, show_progress=False)

    @property
    def size(self) -> int:
        return self._num_docs

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for the query tokens (zeros when none is known); a token
        given twice counts twice, as in bm25s."""
        scores = np.zeros(self._num_docs, dtype=np.float32)
        for token in tokens:
            token_id = self._vocab.get(token)
            if token_id is None:
                continue
            start, end = int(self._indptr[token_id]), int(self._indptr[token_id + 1])
            # A posting list names each document once, so a plain fancy-index add is exact
            # (and several times faster than np.add.at).
            scores[self._indices[start:end]] += self._data[start:end]
        return scores

    def vocabulary(self) -> list[str]:
        """Every token the index knows."""
        return [t for t in self._vocab if t]

    def document_frequency(self, token: str) -> int:
        token_id = self._vocab.get(token)
        return 0 if token_id is None else int(self._df[token_id])

    def idf(self, token: str) -> float:
        """Smoothed IDF; unknown tokens get the highest value (they are the most specific)."""
        n = self.size
        df = self.document_frequency(token)
        return float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))
