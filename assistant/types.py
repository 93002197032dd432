"""The small typed records that flow between pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Article:
    """One cleaned article. ``text`` is the body; citation offsets index into it."""

    doc_id: str
    title: str
    text: str
    source: str | None = None
    date: str | None = None  # ISO 8601: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]
    author: str | None = None
    editor: str | None = None
    url: str | None = None
    path: str | None = None
    original_title: str | None = None  # "原标题：…" of a reprinted article


@dataclass(frozen=True)
class Sentence:
    """One sentence of an article, split once by the chunker; offsets index ``Article.text``."""

    start: int
    end: int
    quotable: bool = True  # False for headings, subtitles, bylines and 原标题/来源 lines


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of one article; ``text == article.text[start:end]``."""

    chunk_id: str  # stable content hash
    doc_id: str
    text: str
    start: int
    end: int
    ordinal: int  # position of the chunk within its article
    title: str = ""
    # The chunk's sentences in order (a sentence longer than the chunk budget is clipped to
    # the chunk): what the index embeds one by one and the answerer quotes from.
    sentences: tuple[Sentence, ...] = ()


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the per-retriever evidence."""

    chunk: Chunk
    score: float
    rank: int
    dense: float | None = None
    lexical: float | None = None


@dataclass(frozen=True)
class Citation:
    """One cited passage; ``quote`` is ``article.text[quote_start:quote_end]``.

    A citation of ``kind`` "record" cites the article's record instead (source, date, author,
    editor: what the cleaner read off its header, ``assistant/answer/record.py``): ``text`` is the
    record as one line, ``quote`` the value answered, and its offsets index ``text``.
    """

    n: int
    doc_id: str
    title: str
    source: str | None
    date: str | None
    url: str | None
    chunk_id: str
    text: str  # the whole passage (chunk text)
    quote: str  # the exact span the answer relies on
    quote_start: int  # offsets in the cleaned article text
    quote_end: int
    # A quote is checked against its passage: always true for extractive quotes (they are the
    # passage's own words); for a generated answer, whether the passage supports what cites it.
    verified: bool = True
    kind: str = "passage"  # or "record"


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of a generated answer and what checking it against the passages found.

    ``status``: "verified" (its citations support it), "reattributed" (another given passage
    does, and is cited instead), "unsupported" (no given passage does), "uncited" (no citation
    at all). ``invalid`` lists citation numbers that pointed at no given passage (never shown).
    ``numbers_found``: every number in the sentence appears in a passage it cites.
    """

    text: str
    status: str
    citations: tuple[int, ...] = ()  # display numbers (Citation.n) after re-attribution
    quotes: tuple[str, ...] = ()  # per citation, the passage sentence that supports it best
    invalid: tuple[int, ...] = ()
    numbers_found: bool = True


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    refused: bool
    citations: list[Citation]
    hits: list[Hit]
    lang: str = "zh"
    timings_ms: dict[str, float] = field(default_factory=dict)
    related: list[Hit] = field(default_factory=list)  # for a refusal: the nearest passages, one per article
    mode: str = "extractive"  # "extractive" (quotes) or "llm" (generated, citations checked)
    sentences: list[AnswerSentence] = field(default_factory=list)  # llm mode: each sentence, checked
    notice: str | None = None  # e.g. why a generated answer fell back to the extractive one, a word read as another
    fell_back: bool = False  # llm mode: the model failed and the extractive answer is shown instead
    standalone_question: str | None = None  # a chat follow-up condensed with its history
    usage: dict[str, int] = field(default_factory=dict)  # llm mode: tokens in and out
    # Small talk or an instruction: refused (nothing about the collection was asked), and the
    # text says what the assistant does instead of "no passage answers this".
    declined: bool = False

    def quotes(self) -> list[str]:
        """The distinct quotes in citation order (near-duplicate passages share one quote)."""
        return list(dict.fromkeys(c.quote for c in sorted(self.citations, key=lambda c: c.n)))
