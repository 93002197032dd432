"""Tests for assistant.index.dense: exact inner-product search, vector roundtrips and the FAISS file format."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from assistant.index.dense import DenseIndex


def unit_rows(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return unit_rows(20, 16)


@pytest.fixture(scope="module")
def index(vectors) -> DenseIndex:
    return DenseIndex.build(vectors)


def test_size_and_dim(index, vectors):
    assert (index.size, index.dim) == vectors.shape


def test_search_returns_best_first_with_cosine_scores(index, vectors):
    query = vectors[7] + 0.1 * vectors[3]
    rows, sims = index.search(query, 5)
    expected = np.argsort(-(vectors @ query), kind="stable")[:5]
    assert rows.tolist() == expected.tolist()
    assert rows[0] == 7
    np.testing.assert_allclose(sims, vectors[rows] @ query, rtol=1e-5)
    assert np.all(np.diff(sims) <= 1e-7)


def test_search_caps_k_at_the_index_size(index):
    rows, sims = index.search(np.ones(16, dtype=np.float32), 100)
    assert len(rows) == len(sims) == 20
    assert sorted(rows.tolist()) == list(range(20))


def test_search_accepts_float64_and_2d_queries(index, vectors):
    rows, _ = index.search(vectors[4].astype(np.float64).reshape(1, -1), 1)
    assert rows.tolist() == [4]


def test_empty_index_returns_no_hits():
    empty = DenseIndex.build(np.zeros((0, 8), dtype=np.float32))
    assert (empty.size, empty.dim) == (0, 8)
    assert empty.vectors().shape == (0, 8)
    rows, sims = empty.search(np.ones(8, dtype=np.float32), 5)
    assert len(rows) == len(sims) == 0


def test_vectors_and_vector_give_back_what_was_added_in_order(index, vectors):
    np.testing.assert_array_equal(index.vectors(), vectors)
    np.testing.assert_array_equal(index.vector(12), vectors[12])
    np.testing.assert_array_equal(index.vector(np.int64(0)), vectors[0])


def test_save_load_roundtrip_is_a_faiss_file(index, vectors, tmp_path):
    path = tmp_path / "dense.faiss"
    index.save(path)
    assert path.read_bytes()[:4] == b"IxFI"  # FAISS's flat inner-product fourcc, not a pickle
    loaded = DenseIndex.load(path)
    assert (loaded.size, loaded.dim) == (20, 16)
    np.testing.assert_array_equal(loaded.vectors(), vectors)
    query = vectors[2]
    for a, b in zip(loaded.search(query, 5), index.search(query, 5)):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- approximate indexes at scale

def recall_at_10(approx: DenseIndex, vectors: np.ndarray, queries: np.ndarray) -> float:
    hits = 0
    for query in queries:
        exact = np.argsort(-(vectors @ query), kind="stable")[:10]
        rows, _ = approx.search(query, 10)
        hits += len(set(rows.tolist()) & set(exact.tolist()))
    return hits / (10 * len(queries))


@pytest.fixture(scope="module")
def many() -> np.ndarray:
    return unit_rows(2000, 32, seed=1)


@pytest.fixture(scope="module", params=["ivf", "hnsw"])
def approx(request, many) -> DenseIndex:
    return DenseIndex.build(many, exact_below=500, approximate=request.param)


def test_the_threshold_picks_exact_below_and_approximate_from_it(many):
    assert DenseIndex.build(many[:499], exact_below=500).kind == "flat"
    assert DenseIndex.build(many[:500], exact_below=500).kind == "ivf"
    assert DenseIndex.build(many[:500], exact_below=500, approximate="hnsw").kind == "hnsw"
    assert DenseIndex.build(many).kind == "flat"  # the default threshold is far above 2,000
    with pytest.raises(ValueError, match="unknown approximate"):
        DenseIndex.build(many, exact_below=500, approximate="pq")


def test_approximate_search_recalls_the_exact_top_10(approx, many):
    queries = unit_rows(50, 32, seed=2)
    assert recall_at_10(approx, many, queries) >= 0.9
    rows, sims = approx.search(queries[0], 10)
    np.testing.assert_allclose(sims, many[rows] @ queries[0], rtol=1e-5)  # exact similarities, best first
    assert np.all(np.diff(sims) <= 1e-7)


def test_approximate_index_gives_back_the_exact_vectors_in_order(approx, many):
    np.testing.assert_array_equal(approx.vectors(), many)
    np.testing.assert_array_equal(approx.vectors_at([1999, 0, 7, 7]), many[[1999, 0, 7, 7]])
    np.testing.assert_array_equal(approx.vector(123), many[123])
    assert approx.vectors_at([]).shape == (0, 32)
    assert (approx.size, approx.dim) == (2000, 32)


@pytest.mark.parametrize("mmap", [True, False])
def test_approximate_save_load_roundtrip(approx, many, tmp_path, mmap):
    path = tmp_path / "dense.faiss"
    approx.save(path)
    loaded = DenseIndex.load(path, mmap=mmap)
    assert (loaded.kind, loaded.size, loaded.dim) == (approx.kind, 2000, 32)
    np.testing.assert_array_equal(loaded.vectors(), many)
    np.testing.assert_array_equal(loaded.vectors_at([5, 1500]), many[[5, 1500]])
    for query in unit_rows(5, 32, seed=3):
        for a, b in zip(loaded.search(query, 10), approx.search(query, 10)):
            np.testing.assert_array_equal(a, b)


def test_search_params_trade_speed_for_recall(approx, many):
    queries = unit_rows(30, 32, seed=4)
    approx.set_search_params(nprobe=1, ef_search=10)
    low = recall_at_10(approx, many, queries)
    approx.set_search_params(nprobe=10_000, ef_search=2000)  # every list / the whole graph: exact
    assert recall_at_10(approx, many, queries) == 1.0 > low
    approx.set_search_params(nprobe=32, ef_search=64)  # back to the defaults for the other tests


@pytest.mark.parametrize("mmap", [True, False])
def test_a_flat_index_written_by_an_older_version_still_loads(vectors, tmp_path, mmap):
    import faiss

    old = faiss.IndexFlatIP(16)
    old.add(vectors)
    path = tmp_path / "dense.faiss"
    path.write_bytes(faiss.serialize_index(old).tobytes())  # exactly how earlier versions saved it
    loaded = DenseIndex.load(path, mmap=mmap)
    assert (loaded.kind, loaded.size) == ("flat", 20)
    np.testing.assert_array_equal(loaded.vectors(), vectors)
    rows, _ = loaded.search(vectors[9], 3)
    assert rows[0] == 9


def test_a_memory_mapped_index_reads_its_vectors_from_the_file(tmp_path):
    """Loading maps the file instead of copying it: resident memory barely grows until searched.

    Measured in fresh processes, with FAISS imported before the first reading (the library
    itself is ~16 MiB); IVF is the index type whose lists the mapping covers.
    """
    import subprocess
    import sys

    big = unit_rows(60_000, 64, seed=5)  # 15 MiB of float32
    path = tmp_path / "dense.faiss"
    DenseIndex.build(big, exact_below=50_000).save(path)
    script = (
        "import sys, faiss; from pathlib import Path; from assistant.index.dense import DenseIndex\n"
        "rss = lambda: int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1])\n"
        "before = rss(); DenseIndex.load(Path(sys.argv[1]), mmap=sys.argv[2] == '1'); print(rss() - before)\n"
    )
    grown = {m: int(subprocess.run([sys.executable, "-c", script, str(path), m], check=True, capture_output=True,
                                   text=True).stdout) for m in ("0", "1")}
    assert grown["0"] > 12_000 > 4_000 > grown["1"], grown  # KiB: a full copy vs a mapping


@pytest.mark.skipif(sys.platform != "linux", reason="a file-size limit stands in for a full disk")
def test_a_full_disk_while_saving_is_an_oserror_with_its_errno(tmp_path):
    script = (
        "import errno, resource, signal, numpy as np\n"
        "from pathlib import Path\n"
        "from assistant.index.dense import DenseIndex\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))\n"
        "index = DenseIndex.build(np.eye(384, dtype='float32').repeat(2, axis=0))\n"
        "try:\n"
        f"    index.save(Path({str(tmp_path / 'dense.faiss')!r}))\n"
        "except OSError as exc:\n"
        "    print('OSError', errno.errorcode[exc.errno])\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.stdout.strip() == "OSError EFBIG", run.stderr[-2000:]
