"""The sentences an answer may quote: those of the top retrieved passages, as the index stores them."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.index import Index, IndexedSentence
from assistant.types import Hit


@dataclass(frozen=True)
class Candidate:
    """A quotable sentence of a retrieved passage, with its neighbours.

    The passage's neighbours (``before``, ``after``, their starts) are what a quote may join and
    what the checks on a lead read: a citation quotes its own passage. The context the selector's
    features read (``context_*``) is the same, unless ``gather`` is asked for the article's: then
    a sentence at a passage's edge reads its context from the adjacent passage.
    """

    hit: Hit  # the passage it was found in (the first one, when several passages hold it)
    sentence: IndexedSentence
    text: str  # as stored (what a quote is cut from)
    match: str  # the same sentence in match form: Simplified, half-width, lower case
    before: str  # the previous sentence of the passage in match form ("" at its start)
    after: str  # the next one
    first_in_article: bool
    before_start: int = -1  # where the passage's neighbours start in the article (-1: none)
    after_start: int = -1
    before_quotable: bool = False  # the previous sentence may be quoted (not a title or byline)
    context_before: str = ""  # the previous sentence the features read, in match form
    context_after: str = ""
    context_before_row: int = -1  # their vector rows (-1: none)
    context_after_row: int = -1


def gather(index: Index, hits: list[Hit], article_context: bool = False) -> list[Candidate]:
    """Every quotable sentence of ``hits`` (passages of ``index``) once, in hit order (a sentence
    two overlapping passages share is taken from the better-ranked one).

    ``article_context``: a sentence at a passage's edge takes its context (``context_before``,
    ``context_after``) from the adjacent passage of its article. Long policy sentences make
    passages of one to five sentences, so without it many candidates have no context at all,
    which the selector, trained on public passages where that is rare, reads as a weak sentence.
    """
    seen: set[tuple[str, int]] = set()
    out: list[Candidate] = []
    row_of = index.chunk_row
    for hit in hits:
        row = row_of(hit.chunk.chunk_id)
        sentences = index.chunk_sentences(row)
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
            context_before, context_after = before, after
            if article_context and before is None:
                context_before = _across_edge(index, row, -1, sentence)
            if article_context and after is None:
                context_after = _across_edge(index, row, 1, sentence)
            out.append(Candidate(
                hit=hit,
                sentence=sentence,
                text=article.text[sentence.start:sentence.end],
                match=match[sentence.start:sentence.end],
                before=match[before.start:before.end] if before else "",
                after=match[after.start:after.end] if after else "",
                first_in_article=sentence.start == first_start,
                before_start=before.start if before else -1,
                after_start=after.start if after else -1,
                before_quotable=bool(before and before.quotable),
                context_before=match[context_before.start:context_before.end] if context_before else "",
                context_after=match[context_after.start:context_after.end] if context_after else "",
                context_before_row=context_before.vector_row if context_before else -1,
                context_after_row=context_after.vector_row if context_after else -1,
            ))
    return out


def _across_edge(index: Index, row: int, step: int, sentence: IndexedSentence) -> IndexedSentence | None:
    """The article's sentence just before (``step=-1``) or after ``sentence``, from the adjacent
    passage (passages overlap, so it is the last one ending before ``sentence`` starts, or the
    first one starting after it ends)."""
    other = index.adjacent_chunk(row, step)
    if other is None:
        return None
    sentences = index.chunk_sentences(other)
    if step < 0:
        earlier = [s for s in sentences if s.end <= sentence.start]
        return earlier[-1] if earlier else None
    later = [s for s in sentences if s.start >= sentence.end]
    return later[0] if later else None


def adjacent_candidate(index: Index, candidate: Candidate, step: int) -> Candidate | None:
    """The article's sentence just before (``step=-1``) or after (``step=1``) ``candidate``, as a
    candidate of a passage that holds it: the candidate's own passage when it does, else the
    adjacent one (None when there is none or it may not be quoted)."""
    row = index.chunk_row(candidate.hit.chunk.chunk_id)
    own = index.chunk_sentences(row)
    at = next((i for i, s in enumerate(own) if s.start == candidate.sentence.start), None)
    if at is None:
        return None
    hit = candidate.hit
    if 0 <= at + step < len(own):
        wanted = own[at + step]
    else:
        wanted = _across_edge(index, row, step, candidate.sentence)
        other = index.adjacent_chunk(row, step)
        if wanted is None or other is None:
            return None
        hit = Hit(chunk=index.chunk(other), score=0.0, rank=0)  # a passage retrieval did not rank
    return next((c for c in gather(index, [hit]) if c.sentence.start == wanted.start), None)
