"""Answer stage: pick the sentences that answer the question, cite each one, or refuse.

``Answerer`` is the seam: today the extractive implementation below (no LLM needed); an LLM
answerer over any LangChain chat model will implement the same ``run``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.chunk import split_sentences
from assistant.embed import Embedder
from assistant.prompts import load_prompt
from assistant.query import Query, expand_english
from assistant.store import StoredIndex
from assistant.entities import place_and_org_names
from assistant.text import tokenize_zh
from assistant.types import Answer, Citation, Hit

_CLAUSE_END = re.compile(r"[，,；;：:]")
_ADMIN_SUFFIX = re.compile(r"(特别行政区|自治区|自治州|省|市|县|区|州)$")


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
    # Refusal thresholds (tuned on eval/corpus_zh_en.jsonl; see eval/README.md).
    min_coverage_zh: float = 0.45  # IDF-weighted share of question terms in the best passage
    min_dense_en: float = 0.30
    min_coverage_en: float = 0.15
    long_sentence: int = 90  # characters; longer sentences are quoted by their best clauses


class ExtractiveAnswerer:
    """Extracts cited sentences from the retrieved passages; refuses when the evidence is weak."""

    def __init__(self, index: StoredIndex, embedder: Embedder, prompts_dir: Path,
                 settings: ExtractiveSettings = ExtractiveSettings()) -> None:
        self.index = index
        self.embedder = embedder
        self.prompts_dir = Path(prompts_dir)
        self.settings = settings
        self._unit_rows = {(index.chunks[u.chunk_row].doc_id, u.start, u.end): i for i, u in enumerate(index.units)}

    def run(self, query: Query, hits: list[Hit]) -> Answer:
        terms = self._weighted_terms(query)
        missing = self._unknown_entities(query)
        if missing:
            return self._refuse(query, hits, missing)
        candidates = self._candidates(query, hits[: self.settings.passages], terms)
        if not candidates or self._too_weak(query, hits, candidates, terms):
            return self._refuse(query, hits, [])
        chosen = self._choose(candidates)
        return self._compose(query, hits, chosen, terms)

    # -- evidence --------------------------------------------------------------------------

    def _weighted_terms(self, query: Query) -> dict[str, float]:
        """Question terms with their IDF; expansion terms of English questions count less."""
        expansion = {t for term in query.expansion for t in tokenize_zh(term)}
        weights = {}
        for token in dict.fromkeys(query.lexical_tokens):
            idf = self.index.lexical.idf(token)
            weights[token] = idf * (0.5 if token in expansion else 1.0)
        return weights

    def _unknown_entities(self, query: Query) -> list[str]:
        """Place/organisation names in the question that no article mentions at all."""
        names = place_and_org_names(query.normalized) if query.lang == "zh" else _english_names(query.text)
        missing = []
        for name in names:
            variants = [name] if query.lang == "zh" else [name.lower(), *expand_english(name)]
            if not any(self._mentioned(v) for v in variants):
                missing.append(name)
        return missing

    def _mentioned(self, term: str) -> bool:
        """Whether any article mentions the name, also without its administrative suffix (省, 市 ...)."""
        core = _ADMIN_SUFFIX.sub("", term) or term
        for variant in {term.lower(), core.lower()}:
            if any(variant in a.text.lower() or variant in a.title.lower() for a in self.index.articles.values()):
                return True
        return False

    def _candidates(self, query: Query, hits: list[Hit], terms: dict[str, float]) -> list[Candidate]:
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
        total = sum(terms.values()) or 1.0
        dense_weight = 0.6 if query.lang == "en" else 0.3
        out = []
        for (hit, start, end), sim in zip(spans, dense):
            sentence = self.index.articles[hit.chunk.doc_id].text[start:end]
            tokens = set(tokenize_zh(sentence))
            coverage = sum(w for t, w in terms.items() if t in tokens) / total
            prior = 1.0 / (1.0 + 0.15 * (hit.rank - 1))
            score = ((1 - dense_weight) * coverage + dense_weight * max(sim, 0.0)) * prior
            out.append(Candidate(hit, start, end, coverage, float(sim), score))
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
        q = self.embedder.embed_queries([query.normalized])[0]
        return np.stack(vectors) @ q

    def _too_weak(self, query: Query, hits: list[Hit], candidates: list[Candidate], terms: dict[str, float]) -> bool:
        s = self.settings
        best_coverage = max(self._passage_coverage(h, terms) for h in hits[:3])
        if query.lang == "zh":
            return best_coverage < s.min_coverage_zh
        best_dense = max(c.dense for c in candidates)
        return best_dense < s.min_dense_en and best_coverage < s.min_coverage_en

    def _passage_coverage(self, hit: Hit, terms: dict[str, float]) -> float:
        tokens = set(tokenize_zh(f"{hit.chunk.title}\n{hit.chunk.text}"))
        total = sum(terms.values()) or 1.0
        return sum(w for t, w in terms.items() if t in tokens) / total

    def _choose(self, candidates: list[Candidate]) -> list[Candidate]:
        best = candidates[0].score
        chosen = [c for c in candidates if c.score >= self.settings.keep_ratio * best]
        return chosen[: self.settings.max_citations]

    # -- composition -----------------------------------------------------------------------

    def _quote_span(self, candidate: Candidate, terms: dict[str, float]) -> tuple[int, int]:
        """The whole sentence, or for a long one the clauses that hold the question's terms."""
        text = self.index.articles[candidate.hit.chunk.doc_id].text
        start, end = candidate.start, candidate.end
        if end - start <= self.settings.long_sentence:
            return start, end
        clauses = _clauses(text, start, end)
        gains = [sum(w for t, w in terms.items() if t in set(tokenize_zh(text[s:e]))) for s, e in clauses]
        if max(gains) <= 0:
            return start, end
        best = int(np.argmax(gains))
        lo = hi = best
        # Grow over neighbouring clauses that also carry question terms (at most three clauses).
        while hi - lo < 2:
            left = gains[lo - 1] if lo > 0 else 0
            right = gains[hi + 1] if hi + 1 < len(clauses) else 0
            if max(left, right) <= 0:
                break
            if right >= left:
                hi += 1
            else:
                lo -= 1
        return clauses[lo][0], clauses[hi][1]

    def _compose(self, query: Query, hits: list[Hit], chosen: list[Candidate], terms: dict[str, float]) -> Answer:
        citations = []
        parts = []
        for n, candidate in enumerate(chosen, start=1):
            chunk = candidate.hit.chunk
            article = self.index.articles[chunk.doc_id]
            qs, qe = self._quote_span(candidate, terms)
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


def _clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    s = start
    for m in _CLAUSE_END.finditer(text, start, end):
        spans.append((s, m.end()))
        s = m.end()
    if s < end:
        spans.append((s, end))
    # Quote without the trailing clause mark.
    return [(a, b - 1) if _CLAUSE_END.match(text[b - 1]) and b - 1 > a else (a, b) for a, b in spans]


_QUESTION_WORDS = {"what", "which", "who", "whom", "whose", "when", "where", "why", "how", "is", "are", "does", "do",
                   "did", "was", "were", "can", "could", "should", "would", "will", "has", "have", "in", "the", "a",
                   "an", "according", "tell", "list", "name", "give", "describe", "explain", "i", "please",
                   # dates are not names
                   "january", "february", "march", "april", "may", "june", "july", "august", "september",
                   "october", "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday",
                   "saturday", "sunday"}


def _english_names(text: str) -> list[str]:
    """Capitalised words that are not the sentence's first word or a question word: likely names."""
    words = re.findall(r"[A-Za-z][A-Za-z\-]+", text)
    names = []
    for i, word in enumerate(words):
        if word[0].isupper() and word.lower() not in _QUESTION_WORDS and (i > 0 or word.lower() not in _QUESTION_WORDS):
            names.append(word)
    return names
