"""Tests for assistant.langchain: AssistantRetriever and LangChainEmbeddings."""

from __future__ import annotations

import numpy as np
import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever

from assistant.langchain import AssistantRetriever, LangChainEmbeddings

QUESTION = "遂宁市技术合同认定登记额是多少？"
METADATA = {"doc_id", "chunk_id", "title", "source", "date", "url", "start", "end", "rank", "score"}


@pytest.fixture(scope="module")
def retriever(tiny_assistant) -> AssistantRetriever:
    return AssistantRetriever(assistant=tiny_assistant, k=3)


def test_invoke_returns_documents_with_citation_metadata(retriever, tiny_assistant):
    docs = retriever.invoke(QUESTION)
    assert isinstance(retriever, BaseRetriever)
    assert len(docs) == 3 and all(isinstance(d, Document) for d in docs)
    first = docs[0]
    assert first.metadata["doc_id"] == "a_suining" and "17.73" in first.page_content
    article = tiny_assistant.index.articles["a_suining"]
    assert {k: first.metadata[k] for k in ("title", "source", "date", "url")} == {
        "title": article.title, "source": article.source, "date": article.date, "url": article.url}
    for doc in docs:
        assert METADATA <= set(doc.metadata)
        assert doc.id == doc.metadata["chunk_id"]
        text = tiny_assistant.index.articles[doc.metadata["doc_id"]].text
        assert text[doc.metadata["start"]:doc.metadata["end"]] == doc.page_content
    assert [d.metadata["rank"] for d in docs] == [1, 2, 3]


def test_k_limits_the_number_of_documents(tiny_assistant):
    assert len(AssistantRetriever(assistant=tiny_assistant, k=1).invoke(QUESTION)) == 1


def test_english_question_and_lexical_mode(tiny_assistant):
    english = AssistantRetriever(assistant=tiny_assistant, k=2).invoke("How does Inner Mongolia register innovation consortia?")
    assert english[0].metadata["doc_id"] == "b_mongolia"
    lexical = AssistantRetriever(assistant=tiny_assistant, k=2, mode="lexical").invoke("甘肃省创新联合体")
    assert lexical[0].metadata["doc_id"] == "c_gansu"


def test_it_composes_as_a_runnable(retriever):
    batches = retriever.batch([QUESTION, "甘肃省组建了几家创新联合体？"])
    assert [docs[0].metadata["doc_id"] for docs in batches] == ["a_suining", "c_gansu"]


def test_from_settings_opens_the_index(tiny_settings, tiny_assistant):
    opened = AssistantRetriever.from_settings(tiny_settings, k=2)
    assert opened.k == 2
    assert opened.invoke(QUESTION)[0].metadata["doc_id"] == "a_suining"


def test_langchain_embeddings_shapes_and_unit_norm(tiny_assistant):
    embeddings = LangChainEmbeddings(tiny_assistant.embedder)
    assert isinstance(embeddings, Embeddings)
    docs = embeddings.embed_documents(["遂宁市技术合同认定登记额", "Inner Mongolia innovation consortia", "甘肃"])
    dim = tiny_assistant.embedder.dim
    assert len(docs) == 3 and all(len(row) == dim and isinstance(row[0], float) for row in docs)
    query = embeddings.embed_query("遂宁市技术合同")
    assert len(query) == dim and isinstance(query[0], float)
    np.testing.assert_allclose(np.linalg.norm(np.array(docs), axis=1), 1.0, atol=1e-5)
    assert int(np.argmax(np.array(docs) @ np.array(query))) == 0
    assert embeddings.embed_documents([]) == []
