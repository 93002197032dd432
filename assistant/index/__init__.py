"""The index: one interface (:class:`assistant.index.base.Index`) that retrieval and answering
read, and its implementations (FAISS + bm25s files; Milvus)."""

from assistant.index.base import Index, IndexedSentence, MatchText, TermStats

__all__ = ["Index", "IndexedSentence", "MatchText", "TermStats"]
