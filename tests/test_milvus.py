"""ASSISTANT_STORE=milvus: the same pipeline with its searches in Milvus Lite (embedded, in this
process): same answers and JSON, collection changes switch generations and drop the old
collections, and a server is tried when ASSISTANT_TEST_MILVUS_URI names one."""

from __future__ import annotations

import json
import os
import shutil

import pytest

pytest.importorskip("pymilvus", reason="pip install -e '.[milvus]'")
pytest.importorskip("milvus_lite", reason="pip install -e '.[milvus]'")

from assistant.config import Settings  # noqa: E402
from tests.conftest import NEW_ARTICLE  # noqa: E402

ZH = "遂宁市技术合同认定登记额是多少？"
EN = "How many innovation consortia has Inner Mongolia set up?"


@pytest.fixture(scope="module")
def milvus_settings(tmp_path_factory, tiny_corpus) -> Settings:
    root = tmp_path_factory.mktemp("milvus")
    corpus = root / "corpus"
    shutil.copytree(tiny_corpus, corpus)
    return Settings(index_dir=root / "index", corpus_dir=corpus, store="milvus")


@pytest.fixture(scope="module")
def milvus_assistant(milvus_settings):
    from assistant.pipeline import Assistant

    return Assistant.open(milvus_settings)


def test_the_index_is_searched_in_milvus_and_answers_like_faiss(milvus_assistant, tiny_assistant):
    from assistant.index.milvus import MilvusIndex
    from assistant.render import answer_to_json

    assert isinstance(milvus_assistant.index, MilvusIndex)
    assert not (milvus_assistant.settings.index_dir / milvus_assistant.index.manifest.data_dir / "dense.faiss").exists()
    for question, expected in ((ZH, "17.73亿元"), (EN, "24")):
        got, reference = milvus_assistant.ask(question), tiny_assistant.ask(question)
        assert not got.refused and expected in got.text
        assert got.citations[0].doc_id == reference.citations[0].doc_id
        assert answer_to_json(got).keys() == answer_to_json(reference).keys()
    assert milvus_assistant.ask("火星上的天气怎么样？").refused


def test_searches_return_best_first_through_the_interface(milvus_assistant):
    from assistant.query import parse_query

    index = milvus_assistant.index
    rows, scores = index.lexical_search(parse_query(ZH).lexical_tokens, 10)
    assert index.chunk(int(rows[0])).doc_id == "a_suining" and all(scores[:-1] >= scores[1:]) and scores[0] > 0
    docs, article_scores = index.article_search(["内蒙古"], 10)
    assert docs[0] == "b_mongolia" and article_scores[0] > 0
    vector = milvus_assistant.embedder.embed_query("遂宁市技术合同登记")
    chunk_rows, sims = index.dense_search(vector, 50)
    assert len(set(chunk_rows.tolist())) == len(chunk_rows) and all(sims[:-1] >= sims[1:])
    assert index.lexical_search([], 10)[0].size == 0 and index.lexical_search(["火星"], 10)[0].size == 0
    assert index.mentions("遂宁市") and not index.mentions("火星")
    assert index.terms.document_frequency("遂宁市") >= 1 and index.terms.idf("遂宁市") > index.terms.idf("创新")


def test_adding_and_removing_switch_generations_without_breaking_questions_in_flight(milvus_settings, tmp_path):
    from assistant import collection
    from assistant.index.milvus import collection_names, connect, default_uri
    from assistant.index.store import read_manifest
    from assistant.pipeline import Assistant

    settings = milvus_settings.model_copy(update={"index_dir": tmp_path / "index"})
    assistant = Assistant.open(settings)
    client = connect(default_uri(settings.index_dir, settings))
    generation = lambda: set(collection_names(settings.index_dir, read_manifest(settings.index_dir).data_dir).values())  # noqa: E731
    first, first_index = generation(), assistant.index
    assert first <= set(client.list_collections())
    extra = tmp_path / "lanzhou.txt"
    extra.write_text(NEW_ARTICLE, encoding="utf-8")
    collection.add(settings, [extra])  # as another process would: this assistant is not told
    # A question that started on the old generation still finds its collections ...
    assert first <= set(client.list_collections()) and first_index.lexical_search(["遂宁"], 5)[0].size
    # ... and the next question sees the switch by itself.
    answer = assistant.ask("兰州新区科技成果转化基金规模多大？")
    assert answer.citations and answer.citations[0].doc_id == "lanzhou" and "10亿元" in answer.text
    second = generation()
    collection.remove(settings, ["lanzhou"])
    assert all(c.doc_id != "lanzhou" for c in assistant.ask("兰州新区科技成果转化基金规模多大？").citations)
    current = set(client.list_collections())
    assert not first & current and second <= current and generation() <= current  # two generations at most


def test_a_faiss_index_is_rebuilt_into_milvus_when_the_store_changes(fresh_settings):
    from assistant.indexer import is_up_to_date
    from assistant.index.store import read_manifest
    from assistant.pipeline import Assistant, ensure_index

    Assistant.open(fresh_settings)
    milvus = fresh_settings.model_copy(update={"store": "milvus"})
    assert not is_up_to_date(milvus.index_dir, [milvus.corpus_dir], milvus)
    ensure_index(milvus)
    assert read_manifest(milvus.index_dir).extra["store"] == "milvus"
    assert Assistant(milvus).ask(ZH).citations[0].doc_id == "a_suining"


def test_the_cross_lingual_vectors_are_searched_in_milvus_as_in_faiss(fresh_settings):
    """Both stores hold the same second vector set; a FAISS index moved into Milvus reuses it."""
    import numpy as np

    from assistant.embed import load_embedder
    from assistant.index.milvus import CROSS_LINGUAL_VECTORS, MilvusIndex
    from assistant.index.store import load_index
    from assistant.pipeline import ensure_index

    faiss_settings = fresh_settings.model_copy(update={"cross_lingual_encoder": "use"})
    ensure_index(faiss_settings)
    faiss_index = load_index(faiss_settings.index_dir)
    milvus = faiss_settings.model_copy(update={"store": "milvus"})
    stages = []
    report = ensure_index(milvus, progress=lambda stage, done, total: stages.append(stage))
    assert report.changed and report.embedded == 0 and not {"embed", "embed_cross_lingual"} & set(stages)  # both reused
    index = load_index(milvus.index_dir)
    assert isinstance(index, MilvusIndex) and index.cross_lingual_encoder == "use-m3"
    assert (milvus.index_dir / index.manifest.data_dir / CROSS_LINGUAL_VECTORS).exists()
    vector = load_embedder("use").embed_query(EN)
    rows, sims = index.cross_lingual_search(vector, 20)
    expected_rows, expected_sims = faiss_index.cross_lingual_search(vector, 20)
    assert rows.tolist() == expected_rows.tolist()
    np.testing.assert_allclose(sims, expected_sims, atol=1e-4)
    # The main vectors are searched in their own field, as before.
    main_vector = load_embedder(milvus.encoder).embed_query(EN)
    assert index.dense_search(main_vector, 20)[0].tolist() == faiss_index.dense_search(main_vector, 20)[0].tolist()
    off = load_index(ensure_index(milvus.model_copy(update={"cross_lingual_encoder": "none"})).index_dir)
    assert off.cross_lingual_encoder is None
    with pytest.raises(ValueError, match="no cross-lingual"):
        off.cross_lingual_search(vector, 5)


def test_another_process_opens_the_index_after_this_one_lets_go(milvus_settings, milvus_assistant):
    import subprocess
    import sys

    from assistant.index.milvus import default_uri, release

    release(default_uri(milvus_settings.index_dir, milvus_settings))
    env = {**os.environ, "ASSISTANT_STORE": "milvus", "ASSISTANT_INDEX_DIR": str(milvus_settings.index_dir),
           "ASSISTANT_CORPUS_DIR": str(milvus_settings.corpus_dir)}
    run = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", ZH, "--json"], env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout)["citations"][0]["doc_id"] == "a_suining"


@pytest.mark.skipif(not os.environ.get("ASSISTANT_TEST_MILVUS_URI"),
                    reason="set ASSISTANT_TEST_MILVUS_URI=http://host:19530 to try a Milvus server")
def test_a_milvus_server(tmp_path, tiny_corpus):
    from assistant.pipeline import Assistant

    settings = Settings(index_dir=tmp_path / "index", corpus_dir=tiny_corpus, store="milvus",
                        milvus_uri=os.environ["ASSISTANT_TEST_MILVUS_URI"],
                        milvus_token=os.environ.get("ASSISTANT_TEST_MILVUS_TOKEN"))
    answer = Assistant.open(settings).ask(ZH)
    assert answer.citations[0].doc_id == "a_suining" and "17.73亿元" in answer.text
