"""LangChain adapters: drop the assistant's retrieval into your own chains.

    from assistant.langchain import AssistantRetriever
    retriever = AssistantRetriever.from_settings(Settings())
    docs = retriever.invoke("遂宁市技术合同认定登记额是多少？")

The encoder is also available as a LangChain ``Embeddings`` (:class:`LangChainEmbeddings`). LangChain lives
only here, so the CLI's own path never imports it.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.embed import Embedder
from assistant.query import parse_query
from assistant.types import Hit

__all__ = ["AssistantRetriever", "LangChainEmbeddings", "hit_to_document"]


class LangChainEmbeddings(Embeddings):
    """Adapter so an Embedder can be used wherever LangChain expects ``Embeddings``."""

    def __init__(self, embedder: Embedder, batch_size: int = 64) -> None:
        self.embedder = embedder
        self.batch_size = batch_size

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_passages(texts, batch_size=self.batch_size).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_queries([text])[0].tolist()


def hit_to_document(hit: Hit, article_meta: dict[str, Any]) -> Document:
    chunk = hit.chunk
    return Document(
        page_content=chunk.text,
        id=chunk.chunk_id,
        metadata={
            "chunk_id": chunk.chunk_id,
            "doc_id": chunk.doc_id,
            "title": chunk.title,
            "start": chunk.start,
            "end": chunk.end,
            "rank": hit.rank,
            "score": hit.score,
            **article_meta,
        },
    )


class AssistantRetriever(BaseRetriever):
    """A langchain-core ``BaseRetriever`` over the assistant's hybrid index."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    assistant: Any  # assistant.pipeline.Assistant (Any keeps pydantic from inspecting it)
    k: int = 5
    mode: str = "hybrid"

    @classmethod
    def from_settings(cls, settings, **kwargs) -> "AssistantRetriever":
        from assistant.pipeline import Assistant

        return cls(assistant=Assistant.open(settings), **kwargs)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        from assistant.pipeline import validate_k, validate_question

        # The same checks as `assistant ask` and the HTTP API (QuestionError on bad input).
        text = validate_question(query, self.assistant.settings.max_question_chars)
        hits = self.assistant.retriever(self.mode).run(parse_query(text), k=validate_k(self.k))
        docs = []
        for hit in hits:
            article = self.assistant.index.article(hit.chunk.doc_id)
            meta = {"source": article.source, "date": article.date, "url": article.url}
            docs.append(hit_to_document(hit, meta))
        return docs
