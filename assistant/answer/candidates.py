"""The sentences an answer may quote: those of the top retrieved passages, as the index stores them."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.index import Index, IndexedSentence
from assistant.types import Hit


@dataclass(frozen=True)
class Candidate:
    """A quotable sentence of a retrieved passage, with its neighbours for context."""

    hit: Hit  # the passage it was found in (the first one, when several passages hold it)
    sentence: IndexedSentence
    text: str  # as stored (what a quote is cut from)
    match: str  # the same sentence in match form: Simplified, half-width, lower case
    before: str  # the previous sentence of the passage in match form ("" at its start)
    after: str  # the next one
    first_in_article: bool
    before_row: int = -1  # vector rows of the neighbours (-1: none)
    after_row: int = -1
    before_start: int = -1  # where the neighbours start in the article (-1: none)
    after_start: int = -1
    before_quotable: bool = False  # the previous sentence may be quoted (not a title or byline)


def gather(index: Index, hits: list[Hit]) -> list[Candidate]:
    """Every quotable sentence of ``hits`` (passages of ``index``) once, in hit order (a sentence
    two overlapping passages share is taken from the better-ranked one)."""
    seen: set[tuple[str, int]] = set()
    out: list[Candidate] = []
    row_of = index.chunk_row
    for hit in hits:
        sentences = index.chunk_sentences(row_of(hit.chunk.chunk_id))
        article = index.article(hit.chunk.doc_id)
        match = index.match_text(hit.chunk.doc_id).text
        first_start = len(match) - len(match.lstrip())
        for i, sentence in enumerate(sentences):
            key = (sentence.doc_id, sentence.start)
            if key in seen or not sentence.quotable:
                continue
            seen.add(key)
            before = sentences[i - 1] if i > 0 else None
            after = sentences[i + 1] if i + 1 < len(sentences) else None
            out.append(Candidate(
                hit=hit,
                sentence=sentence,
                text=article.text[sentence.start:sentence.end],
                match=match[sentence.start:sentence.end],
                before=match[before.start:before.end] if before else "",
                after=match[after.start:after.end] if after else "",
                first_in_article=sentence.start == first_start,
                before_row=before.vector_row if before else -1,
                after_row=after.vector_row if after else -1,
                before_start=before.start if before else -1,
                after_start=after.start if after else -1,
                before_quotable=bool(before and before.quotable),
            ))
    return out
