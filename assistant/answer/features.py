"""Features of each candidate sentence against the question: what the sentence selector reads.

Every feature is computed the same way at training time (``benchmarks/train_selector.py``)
and when answering, from this one function. Columns, in order, are ``FEATURES``; what each
means is in ``_DESCRIPTIONS``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from assistant.answer.candidates import Candidate
from assistant.answer.qtype import QuestionType, gives_new, is_typed
from assistant.answer.terms import Term, char_bigrams, coverage, longest_common_run, question_core
from assistant.index import TermStats
from assistant.query import Query
from assistant.index import Index
from assistant.text import tokenize_zh

_DESCRIPTIONS = {
    "lex": "IDF-weighted share of the question's terms in the sentence",
    "lex_title": "the same over the article title plus the sentence",
    "lex_window": "the same over the sentence with its two neighbours",
    "lex_gap": "lex minus the best lex among the candidates",
    "lex_rr": "1 / rank of the sentence by lex among the candidates",
    "neighbour_lex": "best lex of the previous or next sentence",
    "neighbour_gap": "neighbour_lex minus the best lex among the candidates (0: a neighbour matches best)",
    "bigram": "share of the question's content character bigrams in the sentence (Chinese questions)",
    "bigram_gap": "bigram minus the best bigram among the candidates",
    "bigram_idf": "IDF-weighted share of the question's content bigrams in the sentence",
    "lcs": "longest verbatim run of the question's content in the sentence / content length",
    "dense": "cosine of sentence and question vectors",
    "dense_gap": "dense minus the best dense among the candidates",
    "dense_rr": "1 / rank of the sentence by dense among the candidates",
    "dense_neighbour": "best cosine of the previous or next sentence",
    "dense_window": "cosine of the question and the mean of the sentence's and its neighbours' vectors",
    "dense_neighbour_gap": "dense_neighbour minus the best dense among the candidates",
    "precision": "share of the sentence's character bigrams that are in the question (a focused match)",
    "lex_local": "lex with each term's weight scaled by how few sentences of the same article have it "
                 "(the article's subject, in every sentence, says nothing about which sentence answers)",
    "bigram_local": "bigram share with the same local weighting",
    "chars_local": "share of the question's content characters in the sentence, locally weighted "
                   "(制成 meets 制得, 颜色 meets 蓝红色)",
    "type_match": "the question asks for a type (number, date, person, ...) and the sentence has it",
    "type_missing": "the question asks for a type and the sentence lacks it",
    "typed_lex": "type_match x lex",
    "match_number": "a number question, and the sentence has a number the question lacks",
    "match_date": "the same for a date question",
    "match_person": "the same for a person question (a name or a title)",
    "match_place": "the same for a place question",
    "after_best": "the sentence right after the best lex_local sentence of its article",
    "before_best": "the sentence right before it",
    "typed_neighbour": "type_match x (1 + neighbour_gap): the type, next to the best-matching sentence",
    "novel": "share of the sentence's words that are not in the question (an answer adds something)",
    "counted_present": "'how many X': X is named in the sentence",
    "counted_absent": "'how many X': X is not named in the sentence",
    "numbers": "share of the question's numbers (years, figures) found in the sentence",
    "uncovered": "weight share of the heaviest question term missing from title, sentence and neighbours",
    "top_term_missing": "the question's heaviest term is missing from title, sentence and neighbours",
    "year_conflict": "the question names a year; the sentence and its neighbours name another year but not it",
    "years_in_article": "share of the years the question names that its article mentions anywhere",
    "counted_in_article": "'how many X': X is named somewhere in the article (1), nowhere (-1), no X (0)",
    "hit_rr": "1 / retrieval rank of the passage",
    "hit_gap": "fused retrieval score of the passage minus the best among the candidates' passages",
    "first": "the sentence opens its article",
    "log_len": "log of the sentence length in characters",
    "question_mark": "the sentence is itself a question",
    "english": "the question is in English (its words meet the text through translations)",
}
FEATURES = tuple(_DESCRIPTIONS)

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")  # a year a question or sentence names


@dataclass(frozen=True)
class QuestionContext:
    """What is computed once per question before its candidates are scored."""

    query: Query
    qtype: QuestionType
    terms: list[Term]
    core: str  # content characters of a Chinese question (terms.question_core)
    core_bigrams: frozenset[str]
    bigram_weights: dict[str, float]  # IDF of each content bigram the collection knows
    numbers: tuple[str, ...]
    years: tuple[str, ...]
    question_tokens: frozenset[str]
    question_match: str
    vector: np.ndarray  # the question's embedding

    @classmethod
    def build(cls, query: Query, qtype: QuestionType, terms: list[Term], vector: np.ndarray,
              lexical: TermStats) -> "QuestionContext":
        core = question_core(query)
        bigrams = frozenset(char_bigrams(core))
        weights = {b: lexical.idf(b) for b in bigrams if lexical.document_frequency(b) > 0}
        tokens = frozenset(query.lexical_tokens) | frozenset(t for term in terms for t in term.tokens)
        return cls(query, qtype, terms, core, bigrams, weights, tuple(dict.fromkeys(_NUMBER.findall(query.normalized))),
                   tuple(dict.fromkeys(YEAR.findall(query.normalized))), tokens, query.match, vector)


@lru_cache(maxsize=50_000)
def _tokens(match_text: str) -> frozenset[str]:
    return frozenset(tokenize_zh(match_text))


def _next_to_best(candidates: list[Candidate], out: np.ndarray, col: dict[str, int]) -> None:
    """Mark the neighbours of each article's best-matching sentence: an answer often follows
    the sentence that restates the question ("…的女儿王法慧。" then "她…")."""
    best: dict[str, int] = {}
    for i, c in enumerate(candidates):
        j = best.get(c.sentence.doc_id)
        if j is None or out[i, col["lex_local"]] > out[j, col["lex_local"]]:
            best[c.sentence.doc_id] = i
    for i, c in enumerate(candidates):
        j = best[c.sentence.doc_id]
        if i != j:
            out[i, col["after_best"]] = float(c.before_start == candidates[j].sentence.start)
            out[i, col["before_best"]] = float(c.after_start == candidates[j].sentence.start)


def _local_features(ctx: QuestionContext, candidates: list[Candidate], out: np.ndarray, col: dict[str, int]) -> None:
    """Coverage features weighted by specificity within each article's candidate sentences.

    Within one article every sentence is about its subject, so the subject's words (usually
    the rarest, heaviest terms of the question) cannot tell its sentences apart; the words of
    the question's predicate can. A unit found in a share f of the article's candidate
    sentences gets its weight multiplied by (1 - f) (plus a small floor).
    """
    by_doc: dict[str, list[int]] = {}
    for i, c in enumerate(candidates):
        by_doc.setdefault(c.sentence.doc_id, []).append(i)
    chars = [ch for ch in dict.fromkeys(ctx.core.replace(" ", ""))]
    for rows in by_doc.values():
        token_sets = [_tokens(candidates[i].match) for i in rows]
        gram_sets = [char_bigrams(candidates[i].match) for i in rows]
        texts = [candidates[i].match for i in rows]
        n = len(rows)

        def local(present) -> np.ndarray:
            """(units, sentences) presence matrix -> per-sentence locally weighted share."""
            present = np.asarray(present, dtype=np.float32).reshape(-1, n)
            if present.size == 0:
                return np.zeros(n, dtype=np.float32)
            weight = 0.1 + 0.9 * (1.0 - present.mean(axis=1))
            return (weight[:, None] * present).sum(axis=0) / weight.sum()

        term_present = [[bool(t.tokens & ts) for ts in token_sets] for t in ctx.terms]
        idf = np.array([t.weight for t in ctx.terms], dtype=np.float32)
        if len(idf):
            present = np.asarray(term_present, dtype=np.float32)
            weight = idf * (0.1 + 0.9 * (1.0 - present.mean(axis=1)))
            out[rows, col["lex_local"]] = (weight[:, None] * present).sum(axis=0) / max(1e-6, float(weight.sum()))
        if ctx.core_bigrams:
            out[rows, col["bigram_local"]] = local([[g in gs for gs in gram_sets] for g in ctx.core_bigrams])
        if chars:
            out[rows, col["chars_local"]] = local([[ch in t for t in texts] for ch in chars])


def feature_matrix(ctx: QuestionContext, candidates: list[Candidate], index: Index) -> np.ndarray:
    """(len(candidates), len(FEATURES)) float32, reading sentence vectors and titles from ``index``."""
    n = len(candidates)
    out = np.zeros((n, len(FEATURES)), dtype=np.float32)
    if n == 0:
        return out
    titles = [index.match_text(c.sentence.doc_id).title for c in candidates]
    rows = [c.sentence.vector_row for c in candidates]
    neighbour_rows = sorted({r for c in candidates for r in (c.context_before_row, c.context_after_row) if r >= 0} - set(rows))
    stored = index.sentence_vectors(rows + neighbour_rows)
    vector_of = dict(zip(rows + neighbour_rows, stored))
    vectors = stored[:n]
    zero = np.zeros_like(ctx.vector)
    col = {name: i for i, name in enumerate(FEATURES)}
    terms = ctx.terms
    total_weight = sum(t.weight for t in terms) or 1.0
    core_len = len(ctx.core.replace(" ", ""))
    typed = is_typed(ctx.qtype)
    top_score = max(c.hit.score for c in candidates)
    bigram_total = sum(ctx.bigram_weights.values())
    heaviest = max((t.weight for t in terms), default=0.0)
    for i, (cand, title) in enumerate(zip(candidates, titles)):
        tokens = _tokens(cand.match)
        before, after = _tokens(cand.context_before), _tokens(cand.context_after)
        title_tokens = _tokens(title)
        row = out[i]
        row[col["lex"]] = coverage(terms, tokens)
        row[col["lex_title"]] = coverage(terms, tokens | title_tokens)
        context = tokens | before | after
        row[col["lex_window"]] = coverage(terms, context)
        row[col["neighbour_lex"]] = max(coverage(terms, before), coverage(terms, after))
        if ctx.core_bigrams:
            grams = char_bigrams(cand.match)
            row[col["bigram"]] = len(ctx.core_bigrams & grams) / len(ctx.core_bigrams)
            row[col["precision"]] = len(ctx.core_bigrams & grams) / max(1, len(grams))
            if bigram_total:
                row[col["bigram_idf"]] = sum(w for b, w in ctx.bigram_weights.items() if b in grams) / bigram_total
        if core_len:
            row[col["lcs"]] = min(1.0, longest_common_run(ctx.core, cand.match) / core_len)
        if typed:
            fits = gives_new(ctx.qtype, cand.match, ctx.question_match)
            row[col["type_match"]] = float(fits)
            row[col["type_missing"]] = float(not fits)
        if tokens:
            row[col["novel"]] = len(tokens - ctx.question_tokens) / len(tokens)
        if ctx.qtype.counted_forms:
            named = any(form in cand.match for form in ctx.qtype.counted_forms)
            row[col["counted_present"]] = float(named)
            row[col["counted_absent"]] = float(not named)
        if ctx.numbers:
            row[col["numbers"]] = sum(n in cand.match for n in ctx.numbers) / len(ctx.numbers)
        missing = [t.weight for t in terms if not t.tokens & (context | title_tokens)]
        row[col["uncovered"]] = max(missing, default=0.0) / total_weight
        row[col["top_term_missing"]] = float(bool(terms) and max(missing, default=-1.0) >= heaviest)
        if ctx.years:
            around = f"{cand.context_before} {cand.match} {cand.context_after}"
            named = set(YEAR.findall(around))
            row[col["year_conflict"]] = float(bool(named) and not named & set(ctx.years))
            article = index.match_text(cand.sentence.doc_id)
            row[col["years_in_article"]] = sum(y in article.text or y in article.title for y in ctx.years) / len(ctx.years)
        if ctx.qtype.counted_forms:
            article = index.match_text(cand.sentence.doc_id).text
            row[col["counted_in_article"]] = 1.0 if any(f in article for f in ctx.qtype.counted_forms) else -1.0
        row[col["hit_rr"]] = 1.0 / cand.hit.rank
        row[col["hit_gap"]] = cand.hit.score - top_score
        row[col["first"]] = float(cand.first_in_article)
        row[col["log_len"]] = math.log(1 + len(cand.match))
        row[col["question_mark"]] = float(cand.match.rstrip("\"'”’)）").endswith(("?", "？")))
        neighbours = [vector_of[r] for r in (cand.context_before_row, cand.context_after_row) if r >= 0]
        if neighbours:
            row[col["dense_neighbour"]] = max(float(v @ ctx.vector) for v in neighbours)
            window = vectors[i] + sum(neighbours, zero)
            row[col["dense_window"]] = float(window @ ctx.vector) / max(1e-6, float(np.linalg.norm(window)))
        else:
            row[col["dense_window"]] = float(vectors[i] @ ctx.vector)
    _local_features(ctx, candidates, out, col)
    out[:, col["english"]] = float(ctx.query.lang == "en")
    out[:, col["dense"]] = vectors @ ctx.vector
    for name in ("lex", "bigram", "dense"):
        values = out[:, col[name]]
        out[:, col[f"{name}_gap"]] = values - values.max()
    for name in ("lex", "dense"):
        values = out[:, col[name]]
        ranks = (values[None, :] > values[:, None]).sum(axis=1) + 1  # ties share a rank
        out[:, col[f"{name}_rr"]] = 1.0 / ranks
    out[:, col["neighbour_gap"]] = out[:, col["neighbour_lex"]] - out[:, col["lex"]].max()
    out[:, col["dense_neighbour_gap"]] = out[:, col["dense_neighbour"]] - out[:, col["dense"]].max()
    if ctx.qtype.kind in ("number", "date", "person", "place"):
        out[:, col[f"match_{ctx.qtype.kind}"]] = out[:, col["type_match"]]
    _next_to_best(candidates, out, col)
    out[:, col["typed_lex"]] = out[:, col["type_match"]] * out[:, col["lex"]]
    out[:, col["typed_neighbour"]] = out[:, col["type_match"]] * (1.0 + out[:, col["neighbour_gap"]])
    return out
