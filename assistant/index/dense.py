"""Dense side of the index: FAISS inner-product search over L2-normalised unit vectors.

Small collections get an exact ``IndexFlatIP``. From ``exact_below`` vectors on (100,000 by
default) an exact scan costs tens of milliseconds per question on one core, so the index is
approximate: an inverted file (``IndexIVFFlat``, the default) or a graph (``IndexHNSWFlat``).
Both keep every vector in full float32, so :meth:`DenseIndex.vectors` and
:meth:`DenseIndex.vectors_at` still return exactly what was added (a rebuild reuses them and
the answer stage scores sentences with them) and the index costs no extra copy of them.
benchmarks/scale.md has the measurements behind the defaults.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

EXACT_BELOW = 100_000
APPROXIMATE = ("ivf", "hnsw")
# IVF: about 2 * sqrt(n) lists, of which NPROBE are scanned per question (~1.6% of the
# vectors at 1M), and k-means trained on at most TRAIN_PER_LIST vectors per list.
NPROBE = 32
TRAIN_PER_LIST = 50
# HNSW: graph degree, and the candidate list kept while building / searching.
HNSW_M = 32
EF_CONSTRUCTION = 40
EF_SEARCH = 64


class DenseIndex:
    """Inner-product (= cosine on unit vectors) search; saved as one FAISS file."""

    def __init__(self, faiss_index, *, nprobe: int | None = None, ef_search: int | None = None) -> None:
        self._index = faiss_index
        self.set_search_params(nprobe=nprobe, ef_search=ef_search)

    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        *,
        exact_below: int = EXACT_BELOW,
        approximate: str = "ivf",
        nlist: int | None = None,
        nprobe: int = NPROBE,
        hnsw_m: int = HNSW_M,
        ef_construction: int = EF_CONSTRUCTION,
        ef_search: int = EF_SEARCH,
        seed: int = 1234,
    ) -> "DenseIndex":
        """An index over ``vectors`` (n, dim), rows numbered in order.

        ``exact_below``: fewer vectors than this get the exact flat index (default 100,000).
        ``approximate``: the index above it, ``"ivf"`` (default: builds in ~a tenth of HNSW's
        time, which every ``ingest``/``add`` pays again) or ``"hnsw"``.
        ``nlist``: IVF lists (default ``2 * sqrt(n)``); ``nprobe``: lists scanned per query
        (default 32). ``hnsw_m``: HNSW links per vector (default 32); ``ef_construction`` /
        ``ef_search``: HNSW candidate lists when building (40) / searching (64; a search for
        k results uses at least k). ``seed``: k-means sampling, so a rebuild is repeatable.
        """
        import faiss

        if approximate not in APPROXIMATE:
            raise ValueError(f"unknown approximate index '{approximate}'; choose one of {', '.join(APPROXIMATE)}")
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, dim = vectors.shape
        if n < max(exact_below, 1):
            index = faiss.IndexFlatIP(dim)
            index.add(vectors)
            return cls(index)
        if approximate == "hnsw":
            index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = ef_construction
            index.add(vectors)
            return cls(index, ef_search=ef_search)
        nlist = nlist or max(1, int(round(2 * math.sqrt(n))))
        nlist = min(nlist, n)
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = seed
        index.cp.niter = 10  # FAISS's default 25 iterations buy no measurable recall here (benchmarks/scale.md)
        train = vectors
        if n > nlist * TRAIN_PER_LIST:
            rows = np.random.default_rng(seed).choice(n, nlist * TRAIN_PER_LIST, replace=False)
            train = vectors[np.sort(rows)]
        index.cp.max_points_per_centroid = TRAIN_PER_LIST  # the sample above already is the budget
        index.train(train)
        index.add(vectors)
        # Row -> (list, offset) table: reconstruct() and vectors() in insertion order need it.
        index.make_direct_map()
        return cls(index, nprobe=nprobe)

    @classmethod
    def load(cls, path: Path, *, mmap: bool = True, nprobe: int | None = None,
             ef_search: int | None = None) -> "DenseIndex":
        """The index saved at ``path``; any FAISS file, including the flat ones of older versions.

        With ``mmap`` the stored vectors stay in the file and the OS pages them in as they are
        read (flat and HNSW codes, IVF lists), so opening a 1M-vector index costs little RAM and
        several processes share one copy. ``nprobe`` / ``ef_search`` override the saved values.
        """
        import faiss

        # IO_FLAG_MMAP_IFC reads the whole file through one mapping and leaves the flat codes
        # (IndexFlat, HNSW storage) and IVF lists in it (the older IO_FLAG_MMAP maps only IVF
        # lists and cannot be combined with it). The file is never rewritten in place (every
        # build writes a new data folder), so a mapping cannot see a half-written file.
        flags = faiss.IO_FLAG_MMAP_IFC if mmap else 0
        return cls(faiss.read_index(str(path), flags), nprobe=nprobe, ef_search=ef_search)

    def save(self, path: Path) -> None:
        import faiss

        # Streamed through Python's own file object: no in-memory copy of a large index (a
        # serialised copy doubled the peak of a 2.5M-vector build), and a full disk raises
        # OSError with its errno instead of FAISS's generic RuntimeError.
        with path.open("wb") as f:
            failure: list[OSError] = []

            def write(chunk) -> int:
                if not failure:  # after a failed write, the rest is dropped
                    try:
                        f.write(chunk)
                    except OSError as exc:  # raised below: FAISS ignores what its writer returns
                        failure.append(exc)
                return len(chunk)

            try:
                faiss.write_index(self._index, faiss.PyCallbackIOWriter(write))
            except RuntimeError:
                if not failure:
                    raise
            if failure:
                raise failure[0]

    def set_search_params(self, *, nprobe: int | None = None, ef_search: int | None = None) -> None:
        """Speed/recall knobs of an approximate index (ignored by the others)."""
        import faiss

        ivf = faiss.try_extract_index_ivf(self._index) if not isinstance(self._index, faiss.IndexFlat) else None
        if ivf is not None and nprobe is not None:
            ivf.nprobe = int(min(nprobe, ivf.nlist))
        if isinstance(self._index, faiss.IndexHNSW) and ef_search is not None:
            self._index.hnsw.efSearch = int(ef_search)

    @property
    def kind(self) -> str:
        """``"flat"``, ``"ivf"`` or ``"hnsw"``."""
        import faiss

        if isinstance(self._index, faiss.IndexHNSW):
            return "hnsw"
        if isinstance(self._index, faiss.IndexIVF):
            return "ivf"
        return "flat"

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
        """Top-``k`` (row ids, similarities) for one query vector.

        Approximate indexes may return fewer than ``k`` rows (an IVF search sees only the
        vectors of the lists it probes); the similarities are exact either way.
        """
        k = min(k, self.size)
        if k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        sims, rows = self._index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        keep = rows[0] >= 0
        return rows[0][keep], sims[0][keep]
