"""Dense side of the index: FAISS inner-product search over L2-normalised unit vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class DenseIndex:
    """Exact inner-product (= cosine on unit vectors) search; saved with ``faiss.write_index``."""

    def __init__(self, faiss_index) -> None:
        self._index = faiss_index

    @classmethod
    def build(cls, vectors: np.ndarray) -> "DenseIndex":
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors)
        return cls(index)

    @classmethod
    def load(cls, path: Path) -> "DenseIndex":
        import faiss

        return cls(faiss.read_index(str(path)))

    def save(self, path: Path) -> None:
        import faiss

        # Serialised in memory and written by Python, so a full disk raises OSError (with its
        # errno) instead of FAISS's generic RuntimeError.
        path.write_bytes(faiss.serialize_index(self._index).tobytes())

    @property
    def dim(self) -> int:
        return int(self._index.d)

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    def vectors(self) -> np.ndarray:
        """All stored vectors, in insertion order (used to reuse embeddings on rebuild)."""
        if self.size == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._index.reconstruct_n(0, self.size)

    def vector(self, row: int) -> np.ndarray:
        return self._index.reconstruct(int(row))

    def vectors_at(self, rows) -> np.ndarray:
        """The stored vectors of ``rows``, (len(rows), dim)."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._index.reconstruct_batch(rows)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (row ids, similarities) for one query vector."""
        k = min(k, self.size)
        if k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        sims, rows = self._index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        keep = rows[0] >= 0
        return rows[0][keep], sims[0][keep]
