"""Tests for assistant.dense: exact inner-product search, vector roundtrips and the FAISS file format."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.dense import DenseIndex


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
