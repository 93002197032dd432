"""Answer stage: pick the sentences that answer the question, cite each one, or refuse.

``Answerer`` is the seam: today the extractive implementation below (no LLM needed); an LLM
answerer over any LangChain chat model will implement the same ``run``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.chunk import split_sentences
from assistant.embed import Embedder
from assistant.entities import Name
from assistant.evidence import Term, counted_thing, question_terms, quote_span, text_coverage
from assistant.prompts import load_prompt
from assistant.query import Query
from assistant.store import StoredIndex
from assistant.text import tokenize_zh
from assistant.types import Answer, Citation, Hit

class Answerer(Protocol):
    def run(self, query: Query, hits: list[Hit]) -> Answer: ...


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved chunk, scored against the question."""

    hit: Hit
    start: int
    end: int
    lexical: float  # IDF-weighted share of the question's terms found in the sentence
    dense: float  # cosine of the sentence to the question
    score: float


@dataclass(frozen=True)
class ExtractiveSettings:
    passages: int = 5  # top hits whose sentences are considered
    max_citations: int = 3
    keep_ratio: float = 0.75  # further sentences must score this share of the best one
    # Refusal thresholds, set on eval/corpus_zh_en.jsonl (eval/README.md has the trade-off).
    min_coverage_zh: float = 0.35  # share of the question's (IDF-weighted) terms in the best passage
    min_coverage_en: float = 0.2  # English: coverage of the translated terms
    long_sentence: int = 90  # characters; longer sentences are quoted by their best clauses


class ExtractiveAnswerer:
    """Extracts cited sentences from the retrieved passages; refuses when the evidence is weak.

    Refusal has three grounds: the question names a place or organisation no article mentions
    (a question about Guangdong gets no answer about Gansu); no retrieved passage belongs to an
    article about the place the question names; or the best passages cover too little of what
    the question asks.
    """

    def __init__(self, index: StoredIndex, embedder: Embedder, prompts_dir: Path,
                 settings: ExtractiveSettings = ExtractiveSettings()) -> None:
        self.index = index
        self.embedder = embedder
        self.prompts_dir = Path(prompts_dir)
        self.settings = settings
        self._unit_rows = {(index.chunks[u.chunk_row].doc_id, u.start, u.end): i for i, u in enumerate(index.units)}
        self._article_text = {doc_id: f"{a.title}\n{a.text}".lower() for doc_id, a in index.articles.items()}

    def run(self, query: Query, hits: list[Hit]) -> Answer:
        names = query.names
        missing = [n.label for n in names if not any(self._mentioned(v) for v in n.variants)]
        if missing:
            return self._refuse(query, hits, missing)
        scoped = self._scope_to_places(hits[: self.settings.passages], names)
        terms = question_terms(query, self.index.lexical)
        candidates = self._candidates(query, scoped, terms)
        if not candidates or self._too_weak(query, scoped, candidates, terms):
            return self._refuse(query, hits, [])
        chosen = self._choose(candidates)
        counted = counted_thing(query)
        if counted and not self._any_mentions(chosen, counted[1]):
            return self._refuse(query, hits, [counted[0]])
        # Quotes are trimmed to the clauses about the question's subject; the place it names
        # is already settled by the article, so a clause holding only the place is not kept.
        place_tokens = {t for n in names if n.is_place for v in n.variants for t in [v, *tokenize_zh(v)]}
        subject = [t for t in terms if not t.tokens & place_tokens] or terms
        return self._compose(query, hits, chosen, subject)

    # -- what the question asks ------------------------------------------------------------

    @staticmethod
    def _any_mentions(chosen: list[Candidate], spellings: tuple[str, ...]) -> bool:
        return any(s in c.hit.chunk.text for s in spellings for c in chosen)

    def _mentioned(self, term: str) -> bool:
        lowered = term.lower()
        return any(lowered in text for text in self._article_text.values())

    def _scope_to_places(self, hits: list[Hit], names: tuple[Name, ...]) -> list[Hit]:
        """Keep passages from articles that mention a place the question names (if it names any)."""
        places = [n for n in names if n.is_place]
        if not places:
            return hits
        return [h for h in hits
                if any(v.lower() in self._article_text[h.chunk.doc_id] for n in places for v in n.variants)]

    # -- evidence --------------------------------------------------------------------------

    def _candidates(self, query: Query, hits: list[Hit], terms: list[Term]) -> list[Candidate]:
        seen: set[tuple[str, int]] = set()
        spans = []
        for hit in hits:
            text = self.index.articles[hit.chunk.doc_id].text
            for start, end in split_sentences(text, hit.chunk.start, hit.chunk.end):
                if (hit.chunk.doc_id, start) not in seen:
                    seen.add((hit.chunk.doc_id, start))
                    spans.append((hit, start, end))
        if not spans:
            return []
        dense = self._sentence_similarities(query, spans)
        dense_weight = 0.5 if query.lang == "en" else 0.3
        out = []
        for (hit, start, end), sim in zip(spans, dense):
            article = self.index.articles[hit.chunk.doc_id]
            # The title stands in for context the sentence leaves implicit (自治区 -> 内蒙古).
            covered = text_coverage(terms, f"{article.title}\n{article.text[start:end]}")
            prior = 1.0 / (1.0 + 0.1 * (hit.rank - 1))  # the retriever's judgement of the passage
            score = ((1 - dense_weight) * covered + dense_weight * max(sim, 0.0)) * prior
            out.append(Candidate(hit, start, end, covered, float(sim), score))
        return sorted(out, key=lambda c: -c.score)

    def _sentence_similarities(self, query: Query, spans) -> np.ndarray:
        """Cosine of each sentence to the question, reusing the index's sentence vectors."""
        vectors = []
        missing = []
        for i, (hit, start, end) in enumerate(spans):
            row = self._unit_rows.get((hit.chunk.doc_id, start, end))
            vectors.append(None if row is None else self.index.dense.vector(row))
            if row is None:
                missing.append(i)
        if missing:
            texts = [self.index.articles[spans[i][0].chunk.doc_id].text[spans[i][1]:spans[i][2]] for i in missing]
            for i, v in zip(missing, self.embedder.embed_passages(texts)):
                vectors[i] = v
        q = self.embedder.embed_query(query.normalized)
        return np.stack(vectors) @ q

    def _too_weak(self, query: Query, hits: list[Hit], candidates: list[Candidate], terms: list[Term]) -> bool:
        s = self.settings
        best_coverage = max(text_coverage(terms, f"{h.chunk.title}\n{h.chunk.text}") for h in hits[:3])
        # Cosine similarities are not compared with a fixed bar: their scale differs by encoder.
        return best_coverage < (s.min_coverage_zh if query.lang == "zh" else s.min_coverage_en)

    def _choose(self, candidates: list[Candidate]) -> list[Candidate]:
        best = candidates[0].score
        chosen = [c for c in candidates if c.score >= self.settings.keep_ratio * best]
        return chosen[: self.settings.max_citations]

    # -- composition -----------------------------------------------------------------------

    def _compose(self, query: Query, hits: list[Hit], chosen: list[Candidate], terms: list[Term]) -> Answer:
        citations = []
        parts = []
        for n, candidate in enumerate(chosen, start=1):
            chunk = candidate.hit.chunk
            article = self.index.articles[chunk.doc_id]
            qs, qe = quote_span(article.text, candidate.start, candidate.end, terms, self.settings.long_sentence)
            quote = article.text[qs:qe]
            citations.append(Citation(
                n=n, doc_id=chunk.doc_id, title=article.title, source=article.source, date=article.date,
                url=article.url, chunk_id=chunk.chunk_id, text=chunk.text, quote=quote, quote_start=qs, quote_end=qe,
            ))
            parts.append(f"{quote.rstrip('。.;；')}[{n}]")
        body = "。".join(parts) + "。" if query.lang == "zh" else " ".join(parts)
        template = load_prompt(self.prompts_dir, f"answer.{query.lang}.txt")
        return Answer(query.text, template.format(body=body), False, citations, hits, query.lang)

    def _refuse(self, query: Query, hits: list[Hit], missing: list[str]) -> Answer:
        if missing and query.lang == "zh":
            detail = "（资料中没有提到" + "、".join(f"“{m}”" for m in missing) + "）"
        elif missing:
            detail = " (nothing in it mentions " + ", ".join(missing) + ")"
        else:
            detail = ""
        template = load_prompt(self.prompts_dir, f"refusal.{query.lang}.txt")
        return Answer(query.text, template.format(detail=detail), True, [], hits, query.lang)
