"""Check a generated answer against the passages it was given, sentence by sentence.

Each sentence is scored against every sentence of the given passages by the extractive
answerer's own sentence scorer (the selector over term, number and name overlap plus dense
similarity), with the answer sentence in the place of the question. A passage supports the
sentence when its best sentence scores at least the support threshold (chosen on dev data by
``benchmarks/tune_support.py`` and stored with the selector model), and every number of the
sentence appears in that passage. Then:

* the cited passages that support it are kept ("verified");
* if none does, the best supporting passage among those given is cited instead ("reattributed");
* if no given passage does, the sentence is "unsupported"; a sentence citing nothing, "uncited";
* a number in brackets that names no given passage is dropped from what is shown ("invalid").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from assistant.answer.candidates import Candidate, gather
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.llm.context import Passage
from assistant.answer.qtype import classify
from assistant.answer.terms import question_terms
from assistant.query import parse_query
from assistant.types import AnswerSentence, Citation

# [1] [1][2] [1, 2] [1-3] ［1］ 【1】 [ 1 ]: the forms models write citations in. Numbers of one or
# two digits only: "[2022]" in "国发[2022]12号" is part of a document number, not a citation.
_N = r"\s*\d{1,2}\s*"
_LIST = rf"{_N}(?:[,，、\-–~]{_N})*"
MARKER = re.compile(rf"\s*(?:\[({_LIST})\]|［({_LIST})］|【({_LIST})】)")
# A full stop ends a sentence unless it closes a short capitalised abbreviation ("U.S.", "No.")
# or a list number ("1."); a line break always does.
_SENTENCE_END = re.compile(r"[。！？!?；;]+|(?<![A-Z])(?<!\b[A-Z][a-z])(?<!^\d)(?<!\n\d)\.(?=\s|$)|\n+")


def _cited_numbers(group: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"\s*[,，、]\s*", group.strip()):
        bounds = [int(x) for x in re.split(r"\s*[\-–~]\s*", part) if x.strip()]
        if len(bounds) == 2 and bounds[0] <= bounds[1] <= bounds[0] + 20:  # a range [1-3]
            out += list(range(bounds[0], bounds[1] + 1))
        else:
            out += bounds
    return out


@dataclass(frozen=True)
class DraftSentence:
    """A sentence of the model's reply: its words (markers removed) and the numbers it cites."""

    text: str
    cited: tuple[int, ...]


def split_reply(reply: str) -> list[DraftSentence]:
    """Sentences of ``reply``, each with the citation markers that follow or sit inside it.

    Markers written after the full stop ("…在内蒙古。[2]") belong to the sentence before.
    """
    pieces: list[str] = []
    at = 0
    for end in _SENTENCE_END.finditer(reply):
        stop = end.end()
        trailing = MARKER.match(reply, stop)
        while trailing:
            stop = trailing.end()
            trailing = MARKER.match(reply, stop)
        pieces.append(reply[at:stop])
        at = stop
    pieces.append(reply[at:])
    out = []
    for piece in pieces:
        cited = tuple(n for m in MARKER.finditer(piece) for group in m.groups() if group
                      for n in _cited_numbers(group))
        text = MARKER.sub("", piece).strip()
        if text.strip("。！？!?；;. \n"):
            out.append(DraftSentence(text, tuple(dict.fromkeys(cited))))
    return out


# Numbers, with the multiplier words that often follow them in either language.
_NUMBER = re.compile(r"(\d+(?:[,，]\d{3})*(?:\.\d+)?)\s*(万亿|亿|万|千|百|trillion|billion|million|thousand|hundred)?",
                     re.IGNORECASE)
_SCALE = {"百": 1e2, "千": 1e3, "万": 1e4, "亿": 1e8, "万亿": 1e12,
          "hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}


# Where a sentence drawing on several passages divides into its claims.
_CLAUSE = re.compile(r"[，,；;]\s*|\s+and\s+|\s+while\s+")

# A number directly followed by one of these is a month, day or hour ("5月", "9日"), not a count.
_DATE_UNIT = re.compile(r"\s*[月日时号]")


# ... or preceded by an English month ("May 5").
_MONTH_BEFORE = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+$")


def numbers(text: str) -> list[tuple[str, float, bool, bool]]:
    """(digits without separators, value with its multiplier word, scaled?, part of a date?) per number."""
    out = []
    for m in _NUMBER.finditer(text):
        digits = re.sub(r"[,，]", "", m.group(1))
        scale = _SCALE.get((m.group(2) or "").lower())
        dated = scale is None and (bool(_DATE_UNIT.match(text, m.end())) or bool(_MONTH_BEFORE.search(text, 0, m.start())))
        out.append((digits, float(digits) * (scale or 1.0), scale is not None, dated))
    return out


def numbers_found(sentence: str, passage_text: str) -> bool:
    """Every number of ``sentence`` is in the passage with the same meaning.

    A number with a multiplier word must have the same value there ("70 million" = "7000万",
    but "24 billion" is not "24个"); a plain number must appear as written, and not only as
    part of a date ("5" is not found in "5月").
    """
    given = numbers(passage_text)
    for digits, value, scaled, dated in numbers(sentence):
        if scaled:
            ok = any(abs(value - v) <= 1e-6 * max(1.0, abs(v)) for _, v, _, _ in given)
        else:
            ok = any(d == digits and (not is_date or dated) for d, _, _, is_date in given)
        if not ok:
            return False
    return True


@dataclass(frozen=True)
class CheckedReply:
    sentences: list[AnswerSentence]
    citations: list[Citation]
    text: str  # the reply as shown: markers renumbered, invalid ones gone, unchecked sentences marked


# Used only when the selector model carries no support threshold of its own.
DEFAULT_SUPPORT_THRESHOLD = 0.5

UNVERIFIED_NOTE = {"zh": "（未经资料核实）", "en": " (not verified against the passages)"}


class CitationChecker:
    """Checks replies against the passages given, with the extractive answerer's scorer."""

    def __init__(self, answerer: ExtractiveAnswerer) -> None:
        self.answerer = answerer
        self.index = answerer.index

    def support_threshold(self, lang: str) -> float:
        """The bar chosen for the selector model on the dev data (``benchmarks/tune_support.py``)."""
        chosen = self.answerer.selector.support_threshold(lang)
        return DEFAULT_SUPPORT_THRESHOLD if chosen is None else chosen

    def support(self, sentence: str, passages: list[Passage],
                candidates: list[Candidate] | None = None) -> tuple[np.ndarray, list[Candidate | None]]:
        """Per passage: the best probability that one of its sentences backs ``sentence``, and that sentence.

        ``candidates``: the passages' sentences (``gather``), when the caller checks several sentences.
        """
        if candidates is None:
            candidates = gather(self.index, [p.hit for p in passages], self.answerer.settings.article_context)
        best = np.zeros(len(passages), dtype=np.float32)
        best_candidate: list[Candidate | None] = [None] * len(passages)
        if not candidates:
            return best, best_candidate
        query = parse_query(sentence)
        probabilities = self.answerer.selector.probabilities(self.answerer.features(
            query, classify(query), question_terms(query, self.index.terms), candidates))
        for i, passage in enumerate(passages):
            chunk = passage.hit.chunk
            for candidate, p in zip(candidates, probabilities):
                s = candidate.sentence
                # a sentence two overlapping passages share supports both
                if s.doc_id == chunk.doc_id and chunk.start <= s.start < chunk.end and p > best[i]:
                    best[i], best_candidate[i] = p, candidate
        return best, best_candidate

    def check(self, reply: str, passages: list[Passage], lang: str) -> CheckedReply:
        bar = self.support_threshold(lang)
        by_n = {p.n: p for p in passages}
        candidates = gather(self.index, [p.hit for p in passages], self.answerer.settings.article_context)  # the same for every sentence
        display: dict[int, int] = {}  # passage number -> citation number shown, in order of first use
        quotes: dict[int, tuple[Candidate | None, bool]] = {}  # passage number -> (quote, verified)
        checked: list[tuple[DraftSentence, str, tuple[int, ...], tuple[int, ...], bool, tuple[str, ...]]] = []
        for draft in split_reply(reply):
            invalid = tuple(n for n in draft.cited if n not in by_n)
            cited = [n for n in draft.cited if n in by_n]
            best, best_candidate = self.support(draft.text, passages, candidates)
            if len(cited) > 1:  # "A did x, B did y [1][2]": each passage may back one clause
                for clause in _CLAUSE.split(draft.text):
                    if len(clause.strip()) >= 6:
                        part, part_candidate = self.support(clause, passages, candidates)
                        for i in np.flatnonzero(part > best):
                            best[i], best_candidate[i] = part[i], part_candidate[i]
            on_topic = {p.n: bool(best[i] >= bar) for i, p in enumerate(passages)}

            def holds_numbers(ns: list[int]) -> bool:  # a sentence citing [1][3] may take figures from both
                return numbers_found(draft.text, "\n".join(by_n[n].hit.chunk.text for n in ns))

            kept = [n for n in cited if on_topic[n]]
            if kept and holds_numbers(kept):
                status, final = "verified", kept
            else:
                order = sorted((i for i, p in enumerate(passages) if on_topic[p.n] and holds_numbers([p.n])),
                               key=lambda i: -best[i])
                if order:
                    status, final = ("reattributed" if cited or invalid else "uncited"), [passages[order[0]].n]
                else:
                    status, final = ("unsupported" if cited or invalid else "uncited"), cited
            if status == "uncited" and final:
                status = "reattributed"  # the checker found its source: shown with it
            found = holds_numbers(final) if final else not numbers(draft.text)
            spans = []
            for n in final:
                display.setdefault(n, len(display) + 1)
                candidate = best_candidate[passages.index(by_n[n])]
                verified = status in ("verified", "reattributed")
                previous = quotes.get(n)
                if previous is None or (verified and not previous[1]):
                    quotes[n] = (candidate, verified)
                spans.append(self._quote(candidate))
            checked.append((draft, status, tuple(final), invalid, found, tuple(spans)))
        citations = [self._citation(display[n], by_n[n], *quotes[n]) for n in sorted(display, key=display.get)]
        sentences = [AnswerSentence(d.text, status, tuple(display[n] for n in final), spans, invalid, found)
                     for d, status, final, invalid, found, spans in checked]
        return CheckedReply(sentences, citations, render(sentences, lang))

    def _quote(self, candidate: Candidate | None) -> str:
        if candidate is None:
            return ""
        s = candidate.sentence
        return self.index.article(s.doc_id).text[s.start:s.end]

    def _citation(self, n: int, passage: Passage, quote: Candidate | None, verified: bool) -> Citation:
        chunk = passage.hit.chunk
        article = self.index.article(chunk.doc_id)
        start, end = (quote.sentence.start, quote.sentence.end) if quote else (chunk.start, chunk.end)
        return Citation(n=n, doc_id=chunk.doc_id, title=article.title, source=article.source, date=article.date,
                        url=article.url, chunk_id=chunk.chunk_id, text=chunk.text, quote=article.text[start:end],
                        quote_start=start, quote_end=end, verified=verified)


def render(sentences: list[AnswerSentence], lang: str) -> str:
    """The checked answer: each sentence with its citation numbers; unchecked ones say so."""
    parts = []
    for s in sentences:
        markers = "".join(f"[{n}]" for n in s.citations)
        note = UNVERIFIED_NOTE[lang] if s.status in ("unsupported", "uncited") else ""
        text = s.text
        end = re.search(r"[。！？!?；;.]+$", text)
        body, stop = (text[:end.start()], end.group()) if end else (text, "" if lang == "zh" else ".")
        if lang == "en" and markers:
            markers = " " + markers
        parts.append(f"{body}{note}{markers}{stop}")
    return ("" if lang == "zh" else " ").join(parts)
