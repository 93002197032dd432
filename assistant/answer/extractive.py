"""The extractive answerer: quote the sentences that answer, cite each one, or refuse.

    question ──> refusal checks (instruction, small talk, nothing in the collection, unknown name)
             ──> candidates: the stored sentences of the top passages
             ──> features ──> selector: P(sentence holds the answer)
             ──> refuse if no sentence reaches the threshold
             ──> reader: the most probable few reordered by a cross-encoder (reader.py)
             ──> refusal checks on the lead (refusal.BEST_SENTENCE_CHECKS: counted noun, year, answer type,
                 organisation, date, share, each, money, measure word, office, name); a lead lacking
                 only what is asked may give way to the next probable sentence that passes them
             ──> compose the quotes

No LLM is needed; an LLM answerer implements the same ``Answerer`` protocol.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.answer import compose, record
from assistant.answer.candidates import Candidate, adjacent_candidate, gather
from assistant.answer.compose import Scored
from assistant.answer.features import QuestionContext, feature_matrix
from assistant.answer.qtype import QuestionType, classify, gives_new
from assistant.answer.reader import SentenceReader, load_reader, reader_path
from assistant.answer.refusal import (
    TOPIC_CHECKS, BestSentence, best_sentence_refused, chinese_unit_figures, instruction, missing_names, off_collection,
    place_articles, refusing_checks, small_talk, unknown_attribute)
from assistant.answer.selector import SentenceSelector
from assistant.answer.settings import DEFAULT_THRESHOLD, AnswerSettings
from assistant.answer.smalltalk_model import smalltalk_model_for
from assistant.answer.terms import Term, question_terms
from assistant.embed import Embedder, EmbedderError, load_embedder
from assistant.prompts import load_prompt
from assistant.query import Query, parse_query
from assistant.collection_renderings import with_collection_renderings
from assistant.romanised import with_collection_names
from assistant.index import Index
from assistant.text import match_form
from assistant.types import Answer, Citation, Hit


class Answerer(Protocol):
    def run(self, query: Query, hits: list[Hit]) -> Answer: ...


@dataclass(frozen=True)
class Selection:
    """What the selector made of one question: its type, terms and scored candidates."""

    qtype: QuestionType
    terms: list[Term]
    scored: list[Scored]  # in candidate order

    @property
    def best_probability(self) -> float:
        return max((s.probability for s in self.scored), default=0.0)


class ExtractiveAnswerer:
    """Quotes the sentences the selector finds most likely to answer; refuses when none is likely enough."""

    def __init__(self, index: Index, embedder: Embedder, prompts_dir: Path,
                 settings: AnswerSettings = AnswerSettings(), selector: SentenceSelector | None = None,
                 reader: SentenceReader | None = None,
                 language_readers: dict[str, SentenceReader] | None = None) -> None:
        """``reader``: the reader for every question (default: the packaged ones, loaded on first
        use); ``language_readers``: with it, the readers of languages that have their own (a
        tuning script's out-of-sample readers). A ``reader`` given alone reads every language."""
        self.index = index
        self.embedder = embedder
        self.prompts_dir = Path(prompts_dir)
        self.settings = settings
        self._selector = selector
        self._reader = reader
        self._language_readers = dict(language_readers or {})

    @property
    def selector(self) -> SentenceSelector:
        """The model, loaded on first use (gathering candidates and features needs none)."""
        if self._selector is None:
            self._selector = SentenceSelector.load()
        return self._selector

    @property
    def reader(self) -> SentenceReader | None:
        """The shared cross-encoder, loaded on first use; None when it is off or the package has none."""
        return self.reader_for(None)

    def reader_for(self, lang: str | None) -> SentenceReader | None:
        """The cross-encoder for questions in ``lang``: the language's own when there is one and
        ``AnswerSettings.language_readers`` is on, else the shared one; None when the reader is off."""
        if not self.settings.reader:
            return None
        if lang is not None and self.settings.language_readers and lang in self._language_readers:
            return self._language_readers[lang]
        if self._reader is not None:
            return self._reader
        return load_reader(reader_path(lang, self.settings.language_readers))

    def with_settings(self, settings: AnswerSettings) -> "ExtractiveAnswerer":
        """The same answerer (index, encoder, models shared) with other settings."""
        return ExtractiveAnswerer(self.index, self.embedder, self.prompts_dir, settings, self._selector, self._reader,
                                  self._language_readers)

    def threshold(self, lang: str) -> float:
        """Refusal threshold: the user's setting, else the one calibrated with the model."""
        if self.settings.threshold is not None:
            return self.settings.threshold
        calibrated = self.selector.threshold(lang)
        return DEFAULT_THRESHOLD if calibrated is None else calibrated

    # -- the stage --------------------------------------------------------------------------

    def run(self, query: Query, hits: list[Hit]) -> Answer:
        query = self.resolved(query)
        recorded = self.recorded(query, hits)
        if recorded is not None:
            return recorded
        refusal, selection = self.prepare(query, hits)
        return refusal if refusal is not None else self.answer(query, hits, selection)

    def resolved(self, query: Query) -> Query:
        """The question with the pinyin names it writes spelled as this collection spells them
        (``assistant.romanised``; the same question when it writes none) and, when
        ``collection_renderings_per_word`` is on, its English words' nearest collection words
        (``assistant.collection_renderings``). The public entry points resolve it themselves, so a
        tuning script may pass the question as parsed."""
        s = self.settings
        return with_collection_renderings(with_collection_names(query, self.index), self.index,
                                          s.collection_rendering_threshold, s.collection_renderings_per_word)

    def prepare(self, query: Query, hits: list[Hit]) -> tuple[Answer | None, Selection | None]:
        """Everything before the threshold and the checks on the lead: an early refusal, or the
        scored selection (public: tuning scripts answer one selection under several settings)."""
        query = self.resolved(query)
        terms = question_terms(query, self.index.terms)
        refusal = self.refuse_early(query, hits, terms)
        if refusal is not None:
            return refusal, None
        selection = self.select(query, hits, classify(query), terms, rerank=False)
        # The reader only reorders, so the best probability the threshold reads is the same
        # before it: a question refused here is spared its ~0.3 s.
        if selection.scored and selection.best_probability >= self.threshold(query.lang):
            selection = self.reranked(query, selection)
        return None, selection

    def refuse_early(self, query: Query, hits: list[Hit], terms: list[Term]) -> Answer | None:
        """A refusal that needs no sentence scoring: an instruction or small talk (declined with a
        reply saying what the assistant does), words the collection does not have, a name no
        article mentions, or (``attribute_gate_langs``) a question about a named thing asking with
        words no article uses (张贞祥 … 出生). The generated-answer path calls it too."""
        if instruction(query) or small_talk(query) or self.learned_small_talk(query):
            return self.decline(query, hits)
        if off_collection(terms):
            return self.refuse(query, hits, related=False)
        missing = missing_names(query, self.index)
        if missing:
            return self.refuse(query, hits, missing=missing)
        if query.lang in self.settings.attribute_gate_langs:
            unknown = unknown_attribute(query, terms, self.index.terms)
            if unknown:
                return self.refuse(query, hits, missing=unknown)
        return None

    def learned_small_talk(self, query: Query) -> bool:
        """The learned check (``smalltalk_model.py``): talk with the assistant, in wordings no pattern knows."""
        if not self.settings.smalltalk_check:
            return False
        model = smalltalk_model_for(self.embedder.name, query.lang)
        if model is None:
            return False
        try:
            vectors = [self.embedder.embed_query(query.normalized),
                       *(load_embedder(name).embed_query(query.normalized) for name in model.extra_encoders)]
        except EmbedderError:  # an encoder the model also reads cannot be loaded here: the patterns decide
            return False
        return model.is_small_talk(np.concatenate([np.asarray(v, dtype=np.float32).reshape(-1) for v in vectors]),
                                   query.lang)

    def answer(self, query: Query, hits: list[Hit], selection: Selection) -> Answer:
        """Refuse when no sentence is probable enough (or a count names something else, the
        article is of another year, the asked kind of thing is not there, or no name the question
        gives is named around it; each check on per language, ``AnswerSettings``), else compose the quotes."""
        query = self.resolved(query)
        passing = self.passing(query, selection)
        return self.refuse(query, hits) if passing is None else self._compose(query, hits, passing)

    def passing(self, query: Query, selection: Selection) -> Selection | None:
        """What the answer is composed from, or None when it refuses: ``answer`` without the
        composition (public: tuning scripts count refusals under many settings)."""
        query = self.resolved(query)
        if not selection.scored or selection.best_probability < self.threshold(query.lang):
            return None
        return self.checked(query, self.typed_first(query, selection))

    def checked(self, query: Query, selection: Selection) -> Selection | None:
        """The selection without the sentences the checks on the lead refuse, or None (refuse).

        The most probable sentence leads unless a check refuses it. When it is refused only for
        lacking what the question asks (no figure, no count of the thing counted, no such office:
        not ``TOPIC_CHECKS``, which find it about another year or name), then in the languages of
        ``AnswerSettings.check_fallback_langs`` the next most probable sentence is tried, and so
        on while a sentence is at least ``check_fallback_ratio`` of the best one's probability
        (and above the threshold); the sentences passed over are not quoted at all.
        """
        ranked = sorted(selection.scored, key=lambda s: -s.probability)
        asked, query = query, self._checked_query(query)
        failed = refusing_checks(self._best(query, selection, ranked[0], asked), self.settings)
        if not failed:
            return selection
        if query.lang not in self.settings.check_fallback_langs or TOPIC_CHECKS.intersection(failed):
            return None
        floor = max(self.threshold(query.lang), self.settings.check_fallback_ratio * ranked[0].probability)
        lead_article = ranked[0].candidate.sentence.doc_id
        for i, scored in enumerate(ranked[1:], start=1):
            if scored.probability < floor:
                return None
            if self.settings.check_fallback_same_article and scored.candidate.sentence.doc_id != lead_article:
                continue
            passed_over = {id(s) for s in ranked[:i]}
            remaining = replace(selection, scored=[s for s in selection.scored if id(s) not in passed_over])
            if not best_sentence_refused(self._best(query, remaining, scored, asked), self.settings):
                return remaining
        return None

    def _checked_query(self, query: Query) -> Query:
        """The question as the checks read it: with its English figures also in Chinese units when
        ``figures_in_chinese_units`` is on (a figure it names is not news)."""
        if not self.settings.figures_in_chinese_units:
            return query
        return replace(query, match=f"{query.match} {' '.join(chinese_unit_figures(query.text))}")

    def _best(self, query: Query, selection: Selection, lead: Scored, asked: Query) -> BestSentence:
        """What the checks on a lead read: the sentence with its passage neighbours, alone in the
        languages outside ``check_neighbour_langs``, and with only the neighbour its quote would
        join in those of ``check_quoted_neighbour_langs`` (what the checks pass is then what the
        answer shows). In the languages of ``figure_checks_read_quote_langs`` the figure checks
        read exactly the quote the answer would show (``asked``: the question as asked, whose
        quote that is; ``query``: as the checks read it)."""
        shown = None
        if query.lang in self.settings.figure_checks_read_quote_langs:
            start, end = self._span(lead.candidate, asked, selection, lead.probability)
            quoted = self.index.match_text(lead.candidate.sentence.doc_id).text[start:end]
            shown = replace(lead.candidate, match=quoted, before="", after="")
        candidate = lead.candidate
        if query.lang not in self.settings.check_neighbour_langs:
            candidate = replace(candidate, before="", after="")
        elif query.lang in self.settings.check_quoted_neighbour_langs:
            joined = self._quoted_neighbour(candidate, selection, lead.probability)
            joined_start = joined.sentence.start if joined is not None else -2
            candidate = replace(candidate, before=candidate.before if joined_start == candidate.before_start else "",
                                after=candidate.after if joined_start == candidate.after_start else "")
        return BestSentence(query, selection.qtype, candidate, self.index, shown)

    def typed_first(self, query: Query, selection: Selection) -> Selection:
        """The selection with the lead's rank given to the most probable sentence holding the asked
        kind of thing, when the lead holds none and that sentence is probable enough
        (``AnswerSettings.type_first_kinds``, ``type_first_ratio``); the ranks' probabilities stay."""
        s = self.settings
        if selection.qtype.kind not in s.type_first_kinds or not selection.scored:
            return selection
        p = np.array([x.probability for x in selection.scored])
        top = np.argsort(-p, kind="stable")
        holds = lambda i: gives_new(selection.qtype, selection.scored[i].candidate.match, query.match)  # noqa: E731
        if holds(top[0]):
            return selection
        floor = s.type_first_ratio * p[top[0]]
        promoted = next((i for i in top[1:] if p[i] >= floor and holds(i)), None)
        if promoted is None:
            return selection
        # As under the reader: the values by rank stay, only who holds each rank changes.
        p[[promoted, *(i for i in top if i != promoted)]] = p[top]
        return replace(selection, scored=[Scored(x.candidate, float(q)) for x, q in zip(selection.scored, p)])

    def select(self, query: Query, hits: list[Hit], qtype: QuestionType | None = None,
               terms: list[Term] | None = None, rerank: bool = True) -> Selection:
        """Score the candidate sentences of the top passages, reordered by the reader unless
        ``rerank`` is off (public: tuning scripts use it too)."""
        query = self.resolved(query)
        qtype = qtype or classify(query)
        terms = question_terms(query, self.index.terms) if terms is None else terms
        candidates = self.candidates(query, hits)
        if not candidates:
            return Selection(qtype, terms, [])
        probabilities = self.selector.probabilities(self.features(query, qtype, terms, candidates))
        places = place_articles(query, self.index, {c.sentence.doc_id for c in candidates})
        if len(places) > 1:
            # A comparison ("甘肃和内蒙古各…"): a sentence about one place answers the question
            # asked of that place, so it is scored against the question without the others.
            for place, docs in places.items():
                rows = [i for i, c in enumerate(candidates) if c.sentence.doc_id in docs]
                if not rows:
                    continue
                part = _without(query, [p for p in places if p != place])
                scores = self.selector.probabilities(self.features(
                    part, classify(part), question_terms(part, self.index.terms), [candidates[i] for i in rows]))
                probabilities[rows] = np.maximum(probabilities[rows], scores)
        selection = Selection(qtype, terms, [Scored(c, float(p)) for c, p in zip(candidates, probabilities)])
        return self.reranked(query, selection) if rerank else selection

    def reranked(self, query: Query, selection: Selection) -> Selection:
        """The selection with its most probable sentences reordered by the reader (when it is on)."""
        reader = self.reader_for(query.lang)
        if reader is None or not selection.scored:
            return selection
        candidates = [s.candidate for s in selection.scored]
        question = reader.question_text(query.match, query.expansion_groups, query.lang,
                                        query.collection_renderings)
        probabilities = reader.rerank(question, [c.match for c in candidates],
                                           np.array([s.probability for s in selection.scored]),
                                           self.settings.reader_shortlist, self.settings.reader_memory, query.lang)
        return replace(selection, scored=[Scored(c, float(p)) for c, p in zip(candidates, probabilities)])

    def candidates(self, query: Query, hits: list[Hit]) -> list[Candidate]:
        """The quotable sentences of the top passages (of the places the question names, if any).

        Passages this index does not hold (hits from another index) have nothing to quote here.
        """
        known = [h for h in hits[: self.settings.passages] if self.index.chunk_row(h.chunk.chunk_id) is not None]
        return gather(self.index, self._scope_to_places(known, query), self.settings.article_context)

    def features(self, query: Query, qtype: QuestionType, terms: list[Term], candidates: list[Candidate]) -> np.ndarray:
        """What the selector reads; ``benchmarks/train_selector.py`` trains on exactly this."""
        context = QuestionContext.build(query, qtype, terms, self.embedder.embed_query(query.normalized),
                                        self.index.terms)
        return feature_matrix(context, candidates, self.index)

    def _scope_to_places(self, hits: list[Hit], query: Query) -> list[Hit]:
        """Keep passages from articles that mention a place the question names (if it names any)."""
        places = place_articles(query, self.index, {h.chunk.doc_id for h in hits})
        if not places:
            return hits
        allowed = set().union(*places.values())
        return [h for h in hits if h.chunk.doc_id in allowed]

    # -- the article's record ---------------------------------------------------------------

    def recorded(self, query: Query, hits: list[Hit]) -> Answer | None:
        """The answer from the articles' records (``listing_answer``, else ``record_answer``) when
        ``AnswerSettings.record_answers`` is on and the question is no instruction; None when the
        question asks nothing of them (the generated-answer path calls it too: the model is given
        passages, not records). ``query`` as ``resolved`` returns it: ``run`` has resolved it already."""
        if not self.settings.record_answers or instruction(query):
            return None
        return self.listing_answer(query, hits) or self.record_answer(query, hits)

    def listing_answer(self, query: Query, hits: list[Hit]) -> Answer | None:
        """The answer to a question about the collection's articles as such ("有哪些文章？", "哪篇
        文章最新？", "List the articles about Gansu."): the articles, each cited by its record; None
        when the question is none or no article holds its topic."""
        asked = record.listing_question(query)
        if asked is None:
            return None
        if asked.topic:
            terms = question_terms(parse_query(asked.topic), self.index.terms)
            if not terms:  # the topic is nothing the collection has: the passages' answer says so
                return None
            docs = dict.fromkeys(h.chunk.doc_id for h in hits if self.index.chunk_row(h.chunk.chunk_id) is not None)
            articles = [a for a in map(self.index.article, docs) if record.holds_every(
                f"{match_form(a.title)} {self.index.match_text(a.doc_id).text}", terms)]
        else:
            articles = [self.index.article(d) for d in self.index.article_ids()]
            articles.sort(key=lambda a: a.date or "", reverse=True)  # newest first, undated last
        if asked.order is not None:
            dated = sorted((a for a in articles if a.date), key=lambda a: a.date, reverse=asked.order == "newest")
            articles = dated[:1]
        if not articles:
            return None
        body, citations = record.listing_body(articles, asked.order, query.lang)
        template = load_prompt(self.prompts_dir, f"answer.{query.lang}.txt")
        return Answer(query.text, template.format(body=body), False, citations, hits, query.lang)

    def record_answer(self, query: Query, hits: list[Hit]) -> Answer | None:
        """The answer to a question about the article itself (who wrote it, when and where it ran,
        who edited it, the author's post) from its record and author note (``record.py``); a refusal
        naming what the record lacks; None when the question asks none of that or points at no article."""
        asked = record.record_question(query, lambda: record.authors_in_reach(hits, self.index))
        if asked is None:
            return None
        article = record.chosen_article(asked, query, hits, self.index)
        if article is None:
            return None
        fields = [f for f in asked.fields if record.field_value(article, f)]
        note = record.author_note(article, asked.author or next(iter(record.recorded_authors(article)), None)) \
            if asked.post else None
        note_hit = record.note_chunk(self.index, hits, article.doc_id, note) if note else None
        if not fields and note_hit is None:
            # The article asked about has no record of it, and no passage can hold a byline or a
            # publication date (the cleaner takes those lines out): say what is missing.
            return self.refuse(query, hits, missing=record.asked_names(asked.fields, query.lang)) if asked.fields else None
        body, citations = record.record_body(article, fields, note_hit.chunk if note_hit else None, note, query.lang)
        template = load_prompt(self.prompts_dir, f"answer.{query.lang}.txt")
        return Answer(query.text, template.format(body=body), False, citations, hits, query.lang)

    # -- composition ------------------------------------------------------------------------

    def _compose(self, query: Query, hits: list[Hit], selection: Selection) -> Answer:
        s = self.settings
        docs = {sc.candidate.sentence.doc_id for sc in selection.scored}
        comparison = place_articles(query, self.index, docs)
        groups = compose.choose(selection.scored, query, selection.qtype, selection.terms,
                                threshold=self.threshold(query.lang),
                                extra_ratio=s.extra_ratio, min_gain=s.min_gain, max_quotes=s.max_quotes,
                                place_articles=comparison if len(comparison) > 1 else {})
        pieces = self._statement_pieces(groups, query, selection) if s.split_statement_lists else []
        if len(comparison) > 1:  # a comparison keeps each place's quote: the piece takes a free place only
            pieces = pieces[:max(0, s.max_quotes - len(groups))]
        groups = (groups[:1] + pieces + groups[1:])[:s.max_quotes]
        citations: list[Citation] = []
        parts: list[tuple[str, str, list[int]]] = []  # (English lead-in, quote, markers)
        for i, group in enumerate(groups):
            lead = group[0].candidate
            if any(group is piece for piece in pieces):  # its own clauses: there for the list, not as a likely answer
                start, end = self._clause_span(lead, query, selection)
            else:
                start, end = self._span(lead, query, selection, group[0].probability)
            quote = self.index.article(lead.sentence.doc_id).text[start:end]
            markers = []
            for scored in group:
                citation = self._citation(len(citations) + 1, scored.candidate, quote, (start, end) if scored is group[0] else None)
                citations.append(citation)
                markers.append(citation.n)
            match = self.index.match_text(lead.sentence.doc_id).text[start:end]
            own_part = i == 0 or (len(comparison) > 1 and any(lead.sentence.doc_id in d for d in comparison.values()))
            parts.append((compose.english_lead_in(query, selection.qtype, match, first=own_part), quote, markers))
        if query.lang == "zh":
            body = compose.chinese_body([(q, ns) for _, q, ns in parts])
        else:
            body = compose.english_body(parts)
        template = load_prompt(self.prompts_dir, f"answer.{query.lang}.txt")
        # A comparison with a place no quote is about says so: the answer covers only part of it.
        uncovered = ([place for place, docs in comparison.items() if not compose.quotes_about(groups, docs)]
                     if len(comparison) > 1 else [])
        return Answer(query.text, template.format(body=body), False, citations, hits, query.lang,
                      notice=self._comparison_gap(query, uncovered) if uncovered else None)

    def _comparison_gap(self, query: Query, places: list[str]) -> str:
        """The notice naming the places of a comparison the answer has no quote about."""
        names = {name.label: name for name in query.names}
        if query.lang == "zh":
            shown = "、".join(f"“{place}”" for place in places)
        else:  # the place as the question writes it, and as the quoted Chinese sources do
            chinese = {place: next((v for v in names[place].variants if not v.isascii()), None) for place in places}
            shown = ", ".join(f"{place} ({chinese[place]})" if chinese[place] else place for place in places)
        return load_prompt(self.prompts_dir, f"comparison_gap.{query.lang}.txt").format(places=shown)

    def _statement_pieces(self, groups: list[list[Scored]], query: Query, selection: Selection) -> list[list[Scored]]:
        """For a list question whose lead is one piece of a sentence the chunker cut at a comma for
        length, the adjacent pieces of that sentence that hold an enumeration (each a group of one,
        to quote after the lead): the statement is one, and the list asked for may sit in either
        piece. The piece before when the lead continues one, the piece after when the lead is cut."""
        if selection.qtype.kind != "list" or not groups:
            return []
        lead = groups[0][0].candidate
        text = self.index.article(lead.sentence.doc_id).text
        steps = [step for step, edge in ((-1, _visible_before(text, lead.sentence.start)),
                                         (1, lead.text.rstrip()[-1:])) if edge and edge in compose.PIECE_BREAKS]
        chosen = {compose.sentence_key(g[0].candidate) for g in groups}
        pieces = []
        for step in steps:
            piece = adjacent_candidate(self.index, lead, step)
            if piece is None or compose.sentence_key(piece) in chosen \
                    or not gives_new(selection.qtype, piece.match, query.match):
                continue
            scored = next((sc for sc in selection.scored if sc.candidate.sentence.doc_id == piece.sentence.doc_id
                           and sc.candidate.sentence.start == piece.sentence.start), None)
            pieces.append([scored or Scored(piece, 0.0)])
        return pieces

    def _clause_span(self, candidate: Candidate, query: Query, selection: Selection) -> tuple[int, int]:
        """The candidate sentence, by its relevant clauses when long (``compose.quote_span``)."""
        s = self.settings
        return compose.quote_span(candidate, selection.terms, selection.qtype, s.max_quote_chars,
                                  s.clause_quote_chars, query.match, s.dates_are_no_figures,
                                  s.clause_needs_type, s.quote_holds_terms, s.year_clauses)

    def _span(self, lead: Candidate, query: Query, selection: Selection, probability: float) -> tuple[int, int]:
        """The lead sentence (by its relevant clauses when long), or the lead with its neighbour
        when the neighbour is nearly as likely to hold the answer (a reply in the next sentence)
        and in the same paragraph (past a paragraph break another subject begins); a lead opening
        with a pronoun, with the sentence before it (what the pronoun stands for)."""
        s = self.settings
        neighbour = self._quoted_neighbour(lead, selection, probability)
        if neighbour is not None:
            return min(lead.sentence.start, neighbour.sentence.start), max(lead.sentence.end, neighbour.sentence.end)
        start, end = self._clause_span(lead, query, selection)
        if s.pronoun_context and start == lead.sentence.start and lead.before_quotable \
                and end - lead.before_start <= s.max_window_chars and compose.opens_with_pronoun(lead.match) \
                and "\n" not in self.index.article(lead.sentence.doc_id).text[lead.before_start:start]:
            return lead.before_start, end
        return start, end

    def _quoted_neighbour(self, lead: Candidate, selection: Selection, probability: float) -> Candidate | None:
        """The neighbour the lead's quote joins: likely enough, and the two within
        ``max_window_chars`` and one paragraph."""
        neighbour = self._likely_neighbour(lead, selection, probability)
        if neighbour is None:
            return None
        start = min(lead.sentence.start, neighbour.sentence.start)
        end = max(lead.sentence.end, neighbour.sentence.end)
        if end - start > self.settings.max_window_chars or "\n" in self.index.article(lead.sentence.doc_id).text[start:end]:
            return None
        return neighbour

    def _likely_neighbour(self, lead: Candidate, selection: Selection, probability: float) -> Candidate | None:
        best = None
        for scored in selection.scored:
            c = scored.candidate
            if c.sentence.doc_id != lead.sentence.doc_id or c is lead:
                continue
            adjacent = c.sentence.start in (lead.before_start, lead.after_start)
            if adjacent and scored.probability >= self.settings.neighbour_ratio * probability:
                if best is None or scored.probability > best[1]:
                    best = (c, scored.probability)
        return best[0] if best else None

    def _citation(self, n: int, candidate: Candidate, quote: str, span: tuple[int, int] | None) -> Citation:
        """A citation of ``candidate``'s passage; a duplicate passage quotes the same words where it has them."""
        chunk = candidate.hit.chunk
        article = self.index.article(chunk.doc_id)
        if span is None:  # the same words in a near-duplicate passage, in whichever script it has them
            at = candidate.match.find(match_form(quote))
            span = ((candidate.sentence.start + at, candidate.sentence.start + at + len(quote)) if at >= 0
                    else (candidate.sentence.start, candidate.sentence.end))
        start, end = span
        return Citation(n=n, doc_id=chunk.doc_id, title=article.title, source=article.source, date=article.date,
                        url=article.url, chunk_id=chunk.chunk_id, text=chunk.text, quote=article.text[start:end],
                        quote_start=start, quote_end=end)

    # -- refusal ----------------------------------------------------------------------------

    def refuse(self, query: Query, hits: list[Hit], missing: list[str] = (), related: bool = True) -> Answer:
        lang = query.lang
        if missing and lang == "zh":
            detail = "（资料中没有提到" + "、".join(f"“{m}”" for m in missing) + "）"
        elif missing:
            detail = " (nothing in it mentions " + ", ".join(missing) + ")"
        else:
            detail = ""
        nearby = self._related(hits) if related else []
        lines = []
        if nearby:
            lines.append("可能相关：" if lang == "zh" else "Possibly related:")
            lines += [f"- {_describe(h, self.index)}" for h in nearby]
        template = load_prompt(self.prompts_dir, f"refusal.{lang}.txt")
        text = template.format(detail=detail, related="\n".join(lines)).strip()
        return Answer(query.text, text, True, [], hits, lang, related=nearby)

    def decline(self, query: Query, hits: list[Hit]) -> Answer:
        """The reply to small talk or an instruction: a refusal that says what the assistant does
        (no "possibly related" passages: nothing was asked about them)."""
        text = load_prompt(self.prompts_dir, f"not_a_question.{query.lang}.txt").strip()
        return Answer(query.text, text, True, [], hits, query.lang, related=[], declined=True)

    def _related(self, hits: list[Hit]) -> list[Hit]:
        """The nearest passages, one per article, best first (at most three)."""
        seen: set[str] = set()
        out = []
        for hit in hits:
            if self.index.chunk_row(hit.chunk.chunk_id) is None:
                continue  # from another index: nothing of it to show
            if hit.chunk.doc_id not in seen:
                seen.add(hit.chunk.doc_id)
                out.append(hit)
            if len(out) == 3:
                break
        return out


def _visible_before(text: str, pos: int) -> str:
    """The last character before ``pos`` that is no whitespace ("" at the start), read backwards
    rather than by copying the article up to ``pos``."""
    while pos > 0 and text[pos - 1].isspace():
        pos -= 1
    return text[pos - 1] if pos else ""


def _without(query: Query, labels: list[str]) -> Query:
    """The question with some of the names it gives left out (the rest of a comparison)."""
    text = query.text
    for label in labels:
        text = re.sub(re.escape(label), " ", text, flags=re.IGNORECASE)
    return parse_query(text) if text.strip() else query


def _describe(hit: Hit, index: Index) -> str:
    article = index.article(hit.chunk.doc_id)
    meta = ", ".join(x for x in (article.source, article.date) if x)
    return f"{article.title}" + (f" ({meta})" if meta else "")

