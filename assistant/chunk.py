"""CHUNK stage: split an article into runs of whole sentences that fit a token budget.

Three layers, each usable on its own:

* ``split_paragraphs``: one paragraph per non-empty line (``Article.text`` is "\\n"-joined).
* ``split_sentences``: Chinese-aware sentence spans. Ends at 。！？；……/…, and at the ASCII
  ``! ? ; .`` these pages use inside Chinese text, with guards so that decimals (17.73亿元,
  0.73%), URLs, initials/abbreviations (R. d., Co.), list markers ("1.") and brand names
  (Yahoo!) do not end a sentence. Closing quotes/brackets right after a terminator stay with
  their sentence. Semicolons inside quotes/brackets (“需求导向、系统谋划;企业主体”) and any
  terminator inside a book title 《…》 do not end a sentence. A paragraph end always does.
* ``chunk_article``: packs sentences into chunks of at most ``max_tokens`` cl100k_base tokens.

Packing policy (every chunk is one contiguous span ``article.text[start:end]``):

* Sentences are added greedily until the next one would overflow the budget.
* Paragraph boundaries are the preferred break: when the whole next paragraph does not fit
  into the current chunk, the chunk is closed before it if that paragraph fits a chunk on its
  own, or if the current chunk is already at least half full (otherwise the long paragraph
  is used to fill the chunk, to avoid runt chunks).
* Short heading paragraphs (one sentence without a final terminator, e.g.
  "政府引导,组建创新联合体") never end a chunk: at a break they move to the next chunk.
* Overlap: after a break *inside* a paragraph, the next chunk repeats the last whole sentences
  of that paragraph, at most ``overlap_tokens`` in total. A break at a paragraph boundary
  carries no overlap: paragraphs are self-contained, and repeating the previous one would
  only duplicate text in the index.
* A sentence longer than the budget is split at the coarsest breaks that suffice: clause
  marks (，,：:；;), then 、, then after closing brackets or at spaces, and as a last resort
  into fixed character windows. Chunks end mid-sentence only inside such a long sentence,
  and a break there moves back to the sentence's start if the chunk stays half full.

Token counts are taken once per sentence; a chunk's size is estimated from them and then
checked once with a real count before it is emitted.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from assistant.text import to_simplified
from assistant.tokens import count_tokens
from assistant.types import Article, Chunk, Sentence

_STRONG_ENDS = "。！？"  # always end a sentence (outside book titles)
_TERMINATORS = "。！？；…!?;."
_CLOSERS = "”’」』）)》】]"
_OPENERS = "“‘「『（(《【[{"
_BRACKET_PAIRS = {"“": "”", "‘": "’", "「": "」", "『": "』", "（": "）", "(": ")",
                  "《": "》", "【": "】", "[": "]", "{": "}"}
_CLAUSE_PUNCT = "，,、：:；;"
# Words that take an abbreviation period in the English names and titles found in these texts.
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "co", "inc", "ltd", "jr", "sr", "vs", "no",
                  "vol", "fig", "prof", "gen", "mt", "ft", "corp", "dept", "univ", "e.g", "i.e"}

_TERMINATOR_RUN = re.compile(r"[。！？；…!?;.]+")
# Where an over-budget sentence may be cut, coarsest first: clause marks, then enumeration
# commas, then after a closing bracket or at a space.
_CLAUSE_BREAKS = (re.compile(r"[，,：:；;]"), re.compile(r"、"), re.compile(r"[”’」』）)》】\]]|\s+"))
_URL_LIKE = re.compile(r"(?:://|www\.|@)", re.IGNORECASE)
# News-page furniture that survives cleaning as a line of its own: it is indexed (it names the
# article) but never quoted as evidence.
_FURNITURE_LINE = re.compile(r"^(?:原标题|来源|本文来源|责任编辑|编辑|作者|记者|通讯员|摄影|图片来源|转载自)\s*[:：/|]")


def _is_cjk(ch: str) -> bool:
    """Han, kana or hangul: text in which an ASCII terminator may end a sentence."""
    code = ord(ch)
    return (0x3040 <= code <= 0x30FF or 0x3400 <= code <= 0x4DBF or 0x4E00 <= code <= 0x9FFF
            or 0xF900 <= code <= 0xFAFF or 0xAC00 <= code <= 0xD7AF)


def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink ``[start, end)`` so it neither starts nor ends with whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Whitespace-stripped spans of the non-blank "\\n"-separated lines of ``text[start:end]``."""
    spans = []
    line_start = start
    while line_start < end:
        newline = text.find("\n", line_start, end)
        line_end = end if newline < 0 else newline
        span = _strip_span(text, line_start, line_end)
        if span[0] < span[1]:
            spans.append(span)
        line_start = line_end + 1
    return spans


def split_paragraphs(text: str) -> list[tuple[int, int]]:
    """Spans of the non-empty lines of ``text``, leading/trailing whitespace excluded."""
    return _lines(text, 0, len(text))


# --- sentence splitting -------------------------------------------------------------------


def _enclosed_spans(text: str, start: int, end: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Matched (open, close) positions of quotes/brackets in one paragraph, and of 《》 alone.

    Each bracket kind has its own stack so that a stray closer of one kind cannot unbalance
    another; unmatched openers are ignored (they protect nothing). ASCII double quotes pair
    up in order of appearance.
    """
    stacks: dict[str, list[int]] = {opener: [] for opener in _BRACKET_PAIRS}
    closer_to_opener = {close: open_ for open_, close in _BRACKET_PAIRS.items()}
    pairs: list[tuple[int, int]] = []
    open_ascii_quote = -1
    for i in range(start, end):
        ch = text[i]
        if ch in stacks:
            stacks[ch].append(i)
        elif ch in closer_to_opener and stacks[closer_to_opener[ch]]:
            pairs.append((stacks[closer_to_opener[ch]].pop(), i))
        elif ch == '"':
            if open_ascii_quote < 0:
                open_ascii_quote = i
            else:
                pairs.append((open_ascii_quote, i))
                open_ascii_quote = -1
    titles = [(o, c) for o, c in pairs if text[o] == "《"]
    return pairs, titles


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(o < pos < c for o, c in spans)


def _is_closer(text: str, pos: int, para_start: int) -> bool:
    """Whether ``text[pos]`` closes a quote/bracket (an ASCII quote closes when one is open)."""
    ch = text[pos]
    if ch in _CLOSERS:
        return True
    if ch in "\"'":
        return text.count(ch, para_start, pos) % 2 == 1
    return False


def _next_visible(text: str, pos: int, end: int) -> str:
    """The first non-whitespace character at or after ``pos`` in the paragraph, or ""."""
    while pos < end and text[pos].isspace():
        pos += 1
    return text[pos] if pos < end else ""


def _continues_sentence(text: str, after: int, para_end: int) -> bool:
    """Shared guard for ASCII terminators: does the text right after them go on the sentence?

    A lowercase word after a space ("Wow! eye", "Trust... the") or an ASCII letter/digit
    glued to the mark (17.73, gov.cn, ?id=) continues it; CJK text, an opening quote, or a
    capitalised word after a space starts a new sentence.
    """
    if after >= para_end:
        return False
    nxt = text[after]
    if nxt.isspace():
        following = _next_visible(text, after, para_end)
        return following.isascii() and following.islower()
    if _is_cjk(nxt) or nxt in _OPENERS:
        return False
    return True


def _token_before(text: str, pos: int, para_start: int) -> str:
    """The whitespace/CJK-delimited token that ends right before ``pos`` ("www.x.cn", "Co")."""
    start = pos
    while start > para_start and not text[start - 1].isspace() and not _is_cjk(text[start - 1]):
        start -= 1
    return text[start:pos]


def _period_ends_sentence(text: str, pos: int, after: int, sent_start: int, para: tuple[int, int]) -> bool:
    """Rules for a lone ASCII "." at ``pos`` (``after`` is past any closing quotes)."""
    para_start, para_end = para
    if after >= para_end:
        return True
    if _continues_sentence(text, after, para_end):
        return False
    token = _token_before(text, pos, para_start)
    if _URL_LIKE.search(token):
        return False
    word = re.search(r"[A-Za-z.]*$", token).group(0).rstrip(".").lower()
    if (len(word) == 1 and word.upper() == token[-1]) or word in _ABBREVIATIONS:
        return False  # initials "R. d. du" / "Henry A. Walsh", or "St. Paul", "Co.）"
    so_far = text[sent_start:pos].strip()
    if len(so_far) <= 3 and so_far.isascii() and so_far.isalnum():
        return False  # list marker "1." / "a." / "IV."
    if pos > para_start and text[pos - 1].isdigit() and not text[after].isspace():
        return False  # "系列1.由于": a number glued to the next clause is a list marker
    return True


def _ends_sentence(text: str, run: tuple[int, int], after: int, sent_start: int,
                   para: tuple[int, int], spans: tuple[list, list]) -> bool:
    """Whether the terminator run ``text[run[0]:run[1]]`` (closers up to ``after``) ends a sentence."""
    pos, run_end = run
    para_start, para_end = para
    brackets, titles = spans
    marks = "".join(ch for ch in text[pos:after] if ch in _TERMINATORS)  # "!」。" counts as 。
    if _inside(pos, titles):
        return False  # 《你好!世界》 is a title, not a sentence end
    if any(ch in _STRONG_ENDS for ch in marks):
        return True
    nxt = text[after] if after < para_end else ""
    if "…" in marks or ".." in marks:  # ellipsis: ends unless the clause visibly goes on
        if marks == "…" and after == run_end and nxt and _is_cjk(nxt):
            return False  # a lone "…" glued to text marks an omission ("研发…的机制"); "……" ends
        return not (nxt in _CLAUSE_PUNCT or nxt == "等" or _continues_sentence(text, after, para_end))
    if "；" in marks or ";" in marks:
        if _inside(pos, brackets):
            return False  # “需求导向、系统谋划;企业主体、政府统筹” is one quoted list
        if "；" in marks:
            return True
        following = _next_visible(text, after, para_end)
        return following == "" or _is_cjk(following) or following in _OPENERS
    if "!" in marks or "?" in marks:
        if pos > para_start and _is_ascii_alnum(text[pos - 1]) and nxt and not nxt.isspace():
            return False  # "Yahoo!奇摩", "a.php?id=3"
        return not _continues_sentence(text, after, para_end)
    return _period_ends_sentence(text, pos, after, sent_start, para)


def _paragraph_sentences(text: str, para_start: int, para_end: int) -> list[tuple[int, int]]:
    spans: tuple[list, list] | None = None  # computed lazily: most paragraphs need it once
    sentences = []
    sent_start = para_start
    resume = para_start
    for match in _TERMINATOR_RUN.finditer(text, para_start, para_end):
        if match.start() < resume:
            continue  # already absorbed into the previous sentence's closing run
        after = match.end()
        while after < para_end and (text[after] in _TERMINATORS or _is_closer(text, after, para_start)):
            after += 1
        if spans is None:
            spans = _enclosed_spans(text, para_start, para_end)
        run = (match.start(), match.end())
        if _ends_sentence(text, run, after, sent_start, (para_start, para_end), spans):
            sentence = _strip_span(text, sent_start, after)
            if sentence[0] < sentence[1]:
                sentences.append(sentence)
            sent_start = resume = after
    sentence = _strip_span(text, sent_start, para_end)
    if sentence[0] < sentence[1]:
        sentences.append(sentence)
    return sentences


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans (absolute offsets into ``text``) within ``text[start:end]``.

    Every line is a paragraph and a paragraph end always ends a sentence; spans exclude
    leading/trailing whitespace.
    """
    end = len(text) if end is None else end
    sentences = []
    for para_start, para_end in _lines(text, start, end):
        sentences.extend(_paragraph_sentences(text, para_start, para_end))
    return sentences


def _cut_points(text: str, start: int, end: int, breaks: re.Pattern) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` after each match of ``breaks``, but not inside 1,000 / 08:37 / ://."""
    pieces = []
    piece_start = start
    for match in breaks.finditer(text, start, end):
        pos = match.start()
        if text[pos] in ",:" and 0 < pos < end - 1 and text[pos - 1].isdigit() and text[pos + 1].isdigit():
            continue
        if text.startswith("//", pos + 1):
            continue
        pieces.append(_strip_span(text, piece_start, match.end()))
        piece_start = match.end()
    pieces.append(_strip_span(text, piece_start, end))
    return [p for p in pieces if p[0] < p[1]]


def _hard_split(text: str, start: int, end: int, tokens: int, max_tokens: int) -> list[tuple[int, int, int]]:
    """Last resort for a run with no break at all: fixed windows of characters within budget."""
    pieces = []
    width = max(1, (end - start) * max_tokens // tokens)
    pos = start
    while pos < end:
        size = min(width, end - pos)
        piece_tokens = count_tokens(text[pos:pos + size])
        while piece_tokens > max_tokens and size > 1:
            size = max(1, size * 3 // 4)
            piece_tokens = count_tokens(text[pos:pos + size])
        pieces.append((pos, pos + size, piece_tokens))
        pos += size
    return pieces


def _split_long(text: str, start: int, end: int, max_tokens: int,
                level: int = 0) -> list[tuple[int, int, int]]:
    """``(start, end, tokens)`` pieces of a sentence, each within ``max_tokens``.

    Cuts at the coarsest breaks that are needed, so a long sentence is split at commas and
    only an over-budget comma clause is split further.
    """
    tokens = count_tokens(text[start:end])
    if tokens <= max_tokens:
        return [(start, end, tokens)]
    if level == len(_CLAUSE_BREAKS):
        return _hard_split(text, start, end, tokens, max_tokens)
    pieces = []
    for p_start, p_end in _cut_points(text, start, end, _CLAUSE_BREAKS[level]):
        pieces.extend(_split_long(text, p_start, p_end, max_tokens, level + 1))
    return pieces


# --- chunking -----------------------------------------------------------------------------


def chunk_id(doc_id: str, text: str) -> str:
    """Stable content hash of a chunk: 16 hex chars of sha1(doc_id + "\\x00" + text)."""
    return hashlib.sha1(f"{doc_id}\x00{text}".encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class _Unit:
    """The smallest piece a chunk is built from: a sentence, or a clause of a long one."""

    start: int
    end: int
    tokens: int
    para: int  # index of its paragraph
    sentence: int  # index of its sentence


@dataclass(frozen=True)
class _Paragraph:
    first: int  # index of its first unit
    stop: int  # one past its last unit
    heading: bool


def _is_heading(text: str, start: int, end: int, units: int, tokens: int, max_tokens: int) -> bool:
    """A short one-sentence paragraph with no final terminator: "政府引导,组建创新联合体"."""
    last = text[start:end].rstrip(_CLOSERS + "\"'")[-1:]
    return units == 1 and tokens <= max_tokens // 4 and last not in _TERMINATORS


def _units(text: str, max_tokens: int) -> tuple[list[_Unit], list[_Paragraph]]:
    units: list[_Unit] = []
    paragraphs: list[_Paragraph] = []
    sentence_index = 0
    for para_index, (para_start, para_end) in enumerate(split_paragraphs(text)):
        first = len(units)
        for sent_start, sent_end in _paragraph_sentences(text, para_start, para_end):
            for start, end, tokens in _split_long(text, sent_start, sent_end, max_tokens):
                units.append(_Unit(start, end, tokens, para_index, sentence_index))
            sentence_index += 1
        heading = _is_heading(text, para_start, para_end, len(units) - first,
                              sum(u.tokens for u in units[first:]), max_tokens)
        paragraphs.append(_Paragraph(first, len(units), heading))
    return units, paragraphs


class _Packer:
    """Greedy packing of units into chunks; a chunk is always a unit range ``[a, b)``."""

    def __init__(self, text: str, units: list[_Unit], paragraphs: list[_Paragraph],
                 max_tokens: int, overlap_tokens: int):
        self.text, self.units, self.paragraphs = text, units, paragraphs
        self.max_tokens, self.overlap_tokens = max_tokens, overlap_tokens
        # Prefix sums make a range's estimate O(1): sum of unit tokens plus one per line break.
        self._prefix = [0]
        for unit in units:
            self._prefix.append(self._prefix[-1] + unit.tokens)
        self.ranges: list[tuple[int, int]] = []
        self.last_end = 0  # end unit of the last emitted chunk

    def estimate(self, a: int, b: int) -> int:
        if a >= b:
            return 0
        breaks = self.units[b - 1].para - self.units[a].para
        return self._prefix[b] - self._prefix[a] + breaks

    def fits(self, a: int, b: int) -> bool:
        return self.estimate(a, b) <= self.max_tokens

    def starts_paragraph(self, b: int) -> bool:
        return self.paragraphs[self.units[b].para].first == b

    def paragraph_stop(self, b: int) -> int:
        return self.paragraphs[self.units[b].para].stop

    def trailing_headings(self, a: int, b: int) -> int:
        """First unit of the heading paragraphs that end the range ``[a, b)`` (``b`` if none)."""
        h = b
        while h > a:
            para = self.paragraphs[self.units[h - 1].para]
            if not para.heading or para.first < a:
                break
            h = para.first
        return h

    def opens_sentence(self, i: int) -> bool:
        return i == 0 or self.units[i - 1].sentence != self.units[i].sentence

    def overlap_start(self, a: int, b: int) -> int:
        """First unit repeated before unit ``b``: the longest tail of ``[a, b)`` in ``b``'s
        paragraph within the overlap budget that starts a sentence (or, when ``b`` continues
        a long sentence, a clause of that sentence). Never all of ``[a, b)``."""
        para = self.units[b].para
        s = b
        while (s - 1 > a and self.units[s - 1].para == para
               and self.estimate(s - 1, b) <= self.overlap_tokens
               and self.fits(s - 1, b + 1)):
            s -= 1
        while s < b and not (self.opens_sentence(s) or self.units[s].sentence == self.units[b].sentence):
            s += 1
        return s

    def sentence_break_before(self, a: int, b: int) -> int:
        """Move a mid-sentence break at ``b`` back to the last sentence start, if the chunk
        stays at least half full and still ends past the previous chunk; else keep ``b``."""
        half = self.max_tokens // 2
        for e in range(b - 1, max(a, self.last_end), -1):
            if self.estimate(a, e) < half:
                break
            if not self.opens_sentence(e):
                continue
            if self.starts_paragraph(e) and self.estimate(a, self.trailing_headings(a, e)) < half:
                break  # the headings before e would move on and leave a runt
            return e
        return b

    def real_tokens(self, a: int, b: int) -> int:
        return count_tokens(self.text[self.units[a].start:self.units[b - 1].end])

    def pack(self) -> list[tuple[int, int]]:
        """Unit ranges ``[a, b)`` of the chunks, in order; each ends past the one before."""
        a = b = 0
        n = len(self.units)
        while b < n or a < b:
            if b == n:
                a, b = self.close(a, b)  # the last chunk (a real-count trim may re-queue units)
                continue
            if a == b:
                b += 1  # an empty chunk takes any unit
                continue
            if self.starts_paragraph(b) and not self.fits(a, self.paragraph_stop(b)):
                h = self.trailing_headings(a, b)
                if h > a and (self.fits(h, self.paragraph_stop(b))
                              or self.estimate(a, h) >= self.max_tokens // 2):
                    a, b = self.close(a, b)  # break at the paragraph boundary
                    continue
            if self.fits(a, b + 1):
                b += 1
            else:
                a, b = self.close(a, b)
        return self.ranges

    def close(self, a: int, b: int) -> tuple[int, int]:
        """Emit the chunk ``[a, b)`` (or a prefix of it); return the next chunk's ``(a, b)``."""
        if b < len(self.units) and not self.opens_sentence(b):
            b = self.sentence_break_before(a, b)  # the units after it are re-queued
        if b >= len(self.units):
            end = next_a = b
        elif self.starts_paragraph(b):
            h = self.trailing_headings(a, b)
            end = next_a = h if h > a else b  # headings move on unless they are all there is
        else:
            end, next_a = b, self.overlap_start(a, b)
        # The estimate ignores how BPE merges across sentence joins, so check a real count
        # (about 1 chunk in 4,000 needs a trim); never trim back into the previous chunk.
        trimmed = end
        while trimmed - 1 > max(a, self.last_end) and self.real_tokens(a, trimmed) > self.max_tokens:
            trimmed -= 1
        while a < self.last_end and a + 1 < trimmed and self.real_tokens(a, trimmed) > self.max_tokens:
            a += 1  # still over: give up overlap rather than the budget
        self.ranges.append((a, trimmed))
        self.last_end = trimmed
        if trimmed < end:  # re-queue what did not fit
            b = trimmed
            next_a = trimmed if self.starts_paragraph(trimmed) else self.overlap_start(a, trimmed)
        return max(next_a, a + 1), b  # the next chunk starts after this one


def _check_budget(max_tokens: int, overlap_tokens: int) -> None:
    if max_tokens < 1:
        raise ValueError(
            f"max_tokens must be at least 1 (got {max_tokens}): set ASSISTANT_CHUNK_TOKENS to e.g. 160"
        )
    if not 0 <= overlap_tokens < max_tokens:
        raise ValueError(
            f"overlap_tokens must be from 0 to max_tokens - 1 (got {overlap_tokens} with max_tokens="
            f"{max_tokens}): set ASSISTANT_OVERLAP_TOKENS to about a quarter of the chunk budget"
        )


def chunk_article(article: Article, max_tokens: int = 160, overlap_tokens: int = 40) -> list[Chunk]:
    """Split ``article.text`` into ordered chunks of whole sentences (see module docstring).

    Each chunk carries its sentences (``Chunk.sentences``), so nothing downstream splits again.
    """
    _check_budget(max_tokens, overlap_tokens)
    text = article.text
    # Boundaries are found on the Simplified form (same length, so the same offsets): token
    # counts then do not depend on the script, and a Traditional article is chunked exactly
    # like its Simplified twin.
    basis = to_simplified(text)
    units, paragraphs = _units(basis, max_tokens)
    ranges = _Packer(basis, units, paragraphs, max_tokens, overlap_tokens).pack()
    unquotable = _unquotable_paragraphs(basis, paragraphs, units)
    chunks = []
    for ordinal, (a, b) in enumerate(ranges):
        start, end = units[a].start, units[b - 1].end
        chunk_text = text[start:end]
        chunks.append(Chunk(chunk_id=chunk_id(article.doc_id, chunk_text), doc_id=article.doc_id,
                            text=chunk_text, start=start, end=end, ordinal=ordinal,
                            title=article.title, sentences=_sentences(units[a:b], unquotable)))
    return chunks


def _unquotable_paragraphs(text: str, paragraphs: list[_Paragraph], units: list[_Unit]) -> set[int]:
    """Paragraphs that are page furniture, not statements: headings and subtitles (only when
    the article has body paragraphs besides them), bylines, 原标题/来源/责任编辑 lines.
    ``text`` is the Simplified form of the article."""
    out = set()
    for i, para in enumerate(paragraphs):
        if para.first == para.stop:
            continue
        first_text = text[units[para.first].start:units[para.stop - 1].end]
        if (para.heading and len(paragraphs) > 1) or _FURNITURE_LINE.match(first_text):
            out.add(i)
    return out


def _sentences(units: list[_Unit], unquotable: set[int]) -> tuple[Sentence, ...]:
    """The chunk's units grouped back into sentences (clauses of a long sentence rejoin)."""
    sentences: list[Sentence] = []
    for i, unit in enumerate(units):
        if i and units[i - 1].sentence == unit.sentence:
            sentences[-1] = Sentence(sentences[-1].start, unit.end, sentences[-1].quotable)
        else:
            sentences.append(Sentence(unit.start, unit.end, unit.para not in unquotable))
    return tuple(sentences)
