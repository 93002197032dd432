"""Load article files (.txt, .md, .html) into cleaned :class:`~assistant.types.Article` records.

* ``.txt`` – raw page text; :func:`assistant.clean.clean_page_text` finds headline, body and
  metadata.
* ``.html``/``.htm`` – the page's tree is first fixed where trafilatura misreads it (an article
  hidden until a script runs, layout tables, plugin fallbacks: :func:`assistant.clean.html.prepare_tree`);
  trafilatura extracts the main content and metadata; its text then goes through the same
  cleaner, which removes the junk trafilatura leaves in.
* ``.md`` – title from the first ``# `` heading; simple markdown markup is stripped.

Bytes are decoded as UTF-8 (with or without BOM), else GB18030 or Big5, whichever reads as
more common Chinese (see :func:`decode_bytes`).  The document id is the file stem.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Sequence
from copy import deepcopy
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.types import Article

if TYPE_CHECKING:
    from assistant.clean import CleanedPage

# The cleaner (assistant.clean: a few hundred regular expressions) is imported where a page is
# read, not here: `assistant ask` imports this module to list source files, and compiling the
# cleaner's patterns cost every cold question ~40 ms.

__all__ = [
    "SUPPORTED_SUFFIXES",
    "IngestError",
    "find_source_files",
    "decode_bytes",
    "load_article",
    "read_article",
    "LoadedArticle",
    "load_articles",
]

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
_HTML_SUFFIXES = (".html", ".htm")
_MARKDOWN_SUFFIXES = (".md", ".markdown")


class IngestError(Exception):
    """A file cannot be ingested; the message names the file and says what to do."""


# ---------------------------------------------------------------------------------------
# Finding files
# ---------------------------------------------------------------------------------------


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def find_source_files(paths: Sequence[Path]) -> list[Path]:
    """Expand folders (recursively, sorted, supported suffixes, no hidden files) and check files."""
    files: list[Path] = []
    for path in map(Path, paths):
        if not path.exists():
            raise IngestError(f"{path}: no such file or folder; check the path.")
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not _is_hidden(p, path)
            )
            if not found:
                raise IngestError(
                    f"{path}: folder has no {'/'.join(SUPPORTED_SUFFIXES)} files; add articles or pass another folder."
                )
            files.extend(found)
        elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
            raise IngestError(
                f"{path}: unsupported file type '{path.suffix}'; convert it to one of {', '.join(SUPPORTED_SUFFIXES)}."
            )
        else:
            files.append(path)
    # The same file named twice (folder + file inside it) is loaded once.
    unique: dict[Path, Path] = {}
    for file in files:
        unique.setdefault(file.resolve(), file)
    return list(unique.values())


# ---------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------


def _common_share(text: str, codec: str, common: Sequence[tuple[int, int]]) -> float:
    """Share of the non-ASCII characters of ``text`` whose ``codec`` code lies in ``common``.

    A GBK page wrongly read as Big5 (or the reverse) still decodes, but into rare characters;
    the right reading is made of the frequent ones.
    """
    total = hits = 0
    for char in text:
        if ord(char) < 128:
            continue
        total += 1
        try:
            encoded = char.encode(codec)
        except UnicodeEncodeError:
            continue
        if len(encoded) == 2 and any(lo <= (encoded[0] << 8 | encoded[1]) <= hi for lo, hi in common):
            hits += 1
    return hits / total if total else 0.0


# GB2312 rows A1–A3 (punctuation, full-width forms) and B0–D7 (the 3,755 level-1 hanzi).
_GB_COMMON = ((0xA1A1, 0xA3FE), (0xB0A1, 0xD7FE))
# Big5 A140–A2FF (punctuation, symbols) and A440–C67E (the 5,401 frequent hanzi).
_BIG5_COMMON = ((0xA140, 0xA2FF), (0xA440, 0xC67E))
_LEGACY_CHINESE = (("gb18030", "gb2312", _GB_COMMON), ("cp950", "cp950", _BIG5_COMMON), ("big5hkscs", "cp950", _BIG5_COMMON))


def _decode_legacy_chinese(data: bytes) -> str | None:
    """The GB18030 or Big5 reading of ``data`` with the most common characters, if any decodes."""
    best_text, best_share = None, -1.0
    for codec, scoring_codec, common in _LEGACY_CHINESE:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        share = _common_share(text, scoring_codec, common)
        if share > best_share:  # ties go to the earlier codec: GB18030 (mainland pages)
            best_text, best_share = text, share
    return best_text if best_share >= 0.5 else None


def _looks_binary(text: str) -> bool:
    controls = sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in "\t\n\r\f\v")
    return controls > max(2, len(text) // 100)


def decode_bytes(data: bytes, path: Path) -> str:
    """Decode file bytes to text with ``\\n`` newlines; binary or undecodable -> IngestError."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise IngestError(f"{path}: starts like UTF-16 text but does not decode as UTF-16; save the file as UTF-8.") from None
    elif b"\x00" in data:
        raise IngestError(f"{path}: looks like a binary file (contains NUL bytes); pass text, markdown or HTML files.")
    else:
        text = _decode_text(data, path)
    if _looks_binary(text):
        raise IngestError(f"{path}: looks like a binary file (control characters); pass text, markdown or HTML files.")
    return text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")


def _decode_text(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    text = _decode_legacy_chinese(data)
    if text is not None:
        return text
    # Neither UTF-8 nor Chinese: let charset-normalizer guess (Latin-1, Shift-JIS, ...).
    from charset_normalizer import from_bytes

    guess = from_bytes(data).best()
    if guess is None:
        raise IngestError(f"{path}: cannot tell the text encoding; save the file as UTF-8.")
    return str(guess)


# ---------------------------------------------------------------------------------------
# Format readers
# ---------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _trafilatura_config():
    import trafilatura.settings

    config = deepcopy(trafilatura.settings.DEFAULT_CONFIG)
    # Below this many characters trafilatura falls back to a baseline extractor that glues all
    # paragraphs into one line; Chinese is dense, so a short article is already a real one.
    config["DEFAULT"]["MIN_EXTRACTED_SIZE"] = "50"
    return config


def _any_date(html: str, params: dict) -> str | None:
    """Last resort: the date htmldate's extensive search finds anywhere in the page."""
    from htmldate import find_date

    from assistant.clean import normalize_date

    try:
        found = find_date(html, **{**params, "extensive_search": True})
    except ValueError:
        return None
    if not found:
        return None
    # Only a date the page writes out: from a bare year ("©2024") htmldate guesses January 1st.
    year, month, day = found[:10].split("-")
    written = rf"{year}\s*[-/.年]\s*0?{int(month)}\s*[-/.月]\s*0?{int(day)}(?!\d)"
    return normalize_date(found) if re.search(written, html) else None


def _read_html(html: str, path: Path) -> tuple[CleanedPage, str]:
    """The cleaned page, and the text trafilatura extracted (what the cleaner started from)."""
    import trafilatura
    from lxml import html as lxml_html

    from assistant.clean import CleanedPage, clean_page_text, normalize_date
    from assistant.clean.html import html_hints, page_title, parse_html, prepare_tree

    tree = parse_html(html)
    if tree is not None and prepare_tree(tree):  # hidden article, layout tables, plugin fallbacks
        html = lxml_html.tostring(tree, encoding="unicode", doctype="<!DOCTYPE html>")
    # Dates from markup and meta tags only: the "extensive" search takes any date of the page,
    # such as the oldest entry of a related-news list; the cleaner reads the byline's instead.
    dates = {"original_date": True, "extensive_search": False, "max_date": datetime.date.today().isoformat()}
    doc = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, include_tables=True, config=_trafilatura_config(),
        date_extraction_params=dates,
    )
    if doc is None or not (doc.text or "").strip():
        raise IngestError(f"{path}: no article text found in the HTML; check it is a full article page.")
    hints = html_hints(tree) if tree is not None else None
    first = next((line for line in doc.text.splitlines() if len(line.strip()) >= 10 and re.search("[。！？!?]", line)), "")
    page = clean_page_text(doc.text, title=page_title(tree, doc.title or "", first), hints=hints)
    # trafilatura's metadata comes from <meta> tags and markup; the cleaner's from the text.
    return CleanedPage(
        title=page.title,
        text=page.text,
        source=(doc.sitename or "").strip() or page.source,
        date=(normalize_date(doc.date) if doc.date else None) or page.date or _any_date(html, dates),
        author=(doc.author or "").strip() or _meta_author(tree) or page.author,
        editor=page.editor,
        url=(doc.url or "").strip() or page.url,
        original_title=page.original_title,
    ), doc.text


def _meta_author(tree) -> str | None:
    """``<meta name="author">``; trafilatura drops non-Latin author names."""
    from assistant.clean import normalize_paragraph

    if tree is None:
        return None
    values = tree.xpath('//meta[@name="author" or @property="article:author"]/@content')
    return next((normalize_paragraph(v) for v in values if v.strip() and not v.startswith("http")), None)


_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_MD_TITLE = re.compile(r"^\s{0,3}#\s+(.+?)\s*#*\s*$")
_MD_LIST = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_MD_QUOTE = re.compile(r"^\s*>\s?")
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1|(?<![A-Za-z0-9*])\*(?!\s)(.+?)(?<!\s)\*(?![A-Za-z0-9*])")
_MD_CODE = re.compile(r"`([^`]*)`")
_MD_RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$")


def _strip_markdown(line: str) -> str:
    line = _MD_QUOTE.sub("", _MD_LIST.sub("", _MD_HEADING.sub("", line)))
    line = _MD_LINK.sub(r"\1", _MD_IMAGE.sub("", line))
    line = _MD_EMPHASIS.sub(lambda m: m.group(2) or m.group(3), line)
    return _MD_CODE.sub(r"\1", line)


def _read_markdown(text: str) -> CleanedPage:
    from assistant.clean import CleanedPage, normalize_paragraph

    lines = text.split("\n")
    title_at = next((i for i, line in enumerate(lines) if _MD_TITLE.match(line)), None)
    if title_at is None:  # no "# " heading: the first non-empty line is the title
        title_at = next((i for i, line in enumerate(lines) if line.strip()), 0)
        title = normalize_paragraph(_strip_markdown(lines[title_at])) if lines else ""
    else:
        title = normalize_paragraph(_strip_markdown(_MD_TITLE.match(lines[title_at]).group(1)))
    body = [
        normalize_paragraph(_strip_markdown(line))
        for i, line in enumerate(lines)
        if i != title_at and not _MD_RULE.match(line)
    ]
    return CleanedPage(title=title, text="\n".join(p for p in body if p))


# ---------------------------------------------------------------------------------------
# Articles
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedArticle:
    """An article and how much of its page text the cleaner kept (whitespace not counted)."""

    article: Article
    page_chars: int  # the page's text: the decoded file, or trafilatura's extraction of an HTML page
    kept_chars: int  # title and body as kept

    @property
    def kept_share(self) -> float:
        return self.kept_chars / self.page_chars if self.page_chars else 1.0


def _visible_chars(text: str) -> int:
    return sum(1 for c in text if not c.isspace())


def load_article(path: Path) -> Article:
    """Read, decode and clean one file; the document id is the file stem."""
    return read_article(path).article


def read_article(path: Path) -> LoadedArticle:
    """:func:`load_article`, also saying how much of the page text was kept."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"{path}: cannot read the file ({exc.strerror}); check the path and permissions.") from exc
    text = decode_bytes(data, path)
    if not text.strip():
        raise IngestError(f"{path}: file is empty; remove it or add the article text.")

    suffix = path.suffix.lower()
    page_text = text
    if suffix in _HTML_SUFFIXES:
        page, page_text = _read_html(text, path)
    elif suffix in _MARKDOWN_SUFFIXES:
        page = _read_markdown(text)
    else:
        from assistant.clean import clean_page_text

        page = clean_page_text(text)
    if not page.text.strip():
        raise IngestError(f"{path}: no article text left after removing page navigation; check the file holds an article.")

    article = Article(
        doc_id=path.stem,
        title=page.title or path.stem,
        text=page.text,
        source=page.source,
        date=page.date,
        author=page.author,
        editor=page.editor,
        url=page.url,
        original_title=page.original_title,
        path=str(path),
    )
    return LoadedArticle(article, _visible_chars(page_text), _visible_chars(f"{page.title}{page.text}"))


def load_articles(paths: Sequence[Path]) -> list[Article]:
    """Load every supported file under ``paths``; document ids (file stems) must be unique."""
    files = find_source_files(paths)
    seen: dict[str, Path] = {}
    for file in files:
        if file.stem in seen:
            raise IngestError(
                f"{seen[file.stem]} and {file}: same document id '{file.stem}'; rename one of the files."
            )
        seen[file.stem] = file
    return [load_article(file) for file in files]
