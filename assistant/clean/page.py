"""Page structure: headline, lead, body and tail of a page's text (see the package docstring)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.clean.html import HtmlHints
from assistant.clean.lines import (
    _END_MARK,
    _SENTENCE_END,
    _is_breadcrumb,
    _is_counter,
    _is_headline_item,
    _is_prose,
    _is_stamp_line,
    _is_stamped_headline,
    _is_subtitle,
    _is_tail_marker,
    _is_widget,
    _linked_share,
    _TAIL_MARKER,
)
from assistant.clean.metadata import (
    _CLOSING_REPORTER,
    _Metadata,
    _compact,
    _find_date,
    _iso_from_match,
    _is_name_line,
    _names,
    _read_byline,
    _read_credit_line,
    _read_meta_line,
    normalize_paragraph,
)
from assistant.text import to_simplified


@dataclass(frozen=True)
class CleanedPage:
    """The article body (paragraphs joined by ``\\n``) and the metadata found around it."""

    title: str
    text: str
    source: str | None = None
    date: str | None = None  # ISO 8601
    author: str | None = None
    editor: str | None = None
    url: str | None = None
    original_title: str | None = None  # "原标题：…": the headline the article first ran under


# ---------------------------------------------------------------------------------------
# Lines that are page furniture wherever they are
# ---------------------------------------------------------------------------------------

_LINKED = 0.6  # a line this much inside links is a link to another page, not article text
_MARKED_CAPTION = 120  # a line opened by ▲ up to this long is a picture's caption...
# ...when it speaks of the picture ("▲图为…", "…摄", "图片来自…"), not a ▲ bullet point.
_TRIANGLE_CAPTION = re.compile(r"^[▲△](?:\s*图|.*(?:摄|供图|图片来[源自]|资料图|截图))")
_PULL_QUOTE = 60  # a line up to this long that repeats words of a longer kept line is a pull quote
_LIST_HEADING = 12  # "小编最近文章", "相关推荐": a short heading right above a list of entries


@dataclass(frozen=True)
class _Page:
    """The page's lines and what is known about each from the HTML."""

    lines: list[str]
    hints: HtmlHints

    def is_entry(self, i: int) -> bool:
        """An entry of a recommendation/headline list: a link, or a headline with its timestamp."""
        line = self.lines[i]
        if _is_prose(line):
            return False
        return _is_stamped_headline(line) or _linked_share(line, self.hints.linked) >= _LINKED

    def is_list_stamp(self, i: int) -> bool:
        """A timestamp line ("2022-09-14", "河南商报 · 56评论 · 3小时前") next to a list entry."""
        if not _is_stamp_line(self.lines[i]):
            return False
        return any(0 <= j < len(self.lines) and self.is_entry(j) for j in (i - 1, i + 1))

    def is_list_heading(self, i: int) -> bool:
        line = self.lines[i]
        if len(line) > _LIST_HEADING or _SENTENCE_END.search(line):
            return False
        following = self.lines[i + 1 : i + 3]
        return len(following) == 2 and all(self.is_entry(j) for j in (i + 1, i + 2))

    def is_furniture(self, i: int) -> bool:
        line = self.lines[i]
        if _is_table_row(line):  # a row of a data table (layout tables are flattened before extraction)
            return False
        return (
            self.is_entry(i)
            or self.is_list_stamp(i)
            or self.is_list_heading(i)
            or _is_counter(line)
            or _is_widget(line)
            or _compact(line) in self.hints.captions
            or _compact(line) in self.hints.widgets
            or (len(line) <= _MARKED_CAPTION and bool(_TRIANGLE_CAPTION.match(line)))
        )


# ---------------------------------------------------------------------------------------
# Headline and lead
# ---------------------------------------------------------------------------------------

_HEAD_WINDOW = 15  # the headline and meta line are within the first lines before the body


def _is_title_candidate(line: str) -> bool:
    return (
        4 <= len(line) <= 80
        and not line.endswith("。")
        and not _is_subtitle(line)
        and not _is_breadcrumb(line)
        and not _is_widget(line)
        and not _is_tail_marker(line)
        and not _read_meta_line(line, _Metadata())
        and not _read_byline(line, _Metadata())
    )


def _find_title(lines: list[str], first_prose: int) -> int | None:
    """Index of the headline among the head lines, or None.

    With a meta line, the headline is the longest candidate above it (the lines above are
    breadcrumbs and widgets), or below it when the page puts the meta line first; without
    one, the longest candidate before the first paragraph.
    """
    window = range(min(first_prose, _HEAD_WINDOW))
    meta_at = next((i for i in window if _read_meta_line(lines[i], _Metadata())), None)
    searches = [window] if meta_at is None else [range(meta_at), range(meta_at + 1, window.stop)]
    for search in searches:
        candidates = [i for i in search if _is_title_candidate(lines[i])]
        if candidates:
            return max(candidates, key=lambda i: (len(lines[i]), -i))
    return None


def _is_title_fragment(line: str, titles: list[str]) -> bool:
    """The headline repeated (whole, or split over lines, or its kicker) at the top of the body."""
    compact = _compact(line)
    return len(compact) >= 4 and any(compact in _compact(title) for title in titles if title)


def _clean_lead(page: _Page, lead: range, titles: list[str], meta: _Metadata) -> list[str]:
    """Lines between headline and first paragraph: keep subtitles, harvest and drop the rest."""
    kept = []
    for i in lead:
        line = page.lines[i]
        if _is_title_fragment(line, titles) or _is_breadcrumb(line):
            continue
        if _read_credit_line(line, meta) or _read_meta_line(line, meta) or _read_byline(line, meta):
            continue
        if page.is_furniture(i) or _compact(line) in page.hints.byline:  # "北京": a piece of the byline block
            continue
        if _is_table_row(line) and _is_meta_row(line, meta):  # "| 索引号： | … | 发布日期： | … |"
            continue
        if _is_name_line(line) and meta.author in (None, line):
            meta.offer("author", line)
            continue
        if (_is_tail_marker(line) and not _is_prose(line)) or _is_notice(line):  # stray nav heading, or a
            continue  # copyright notice above the body
        if _is_subtitle(line) and kept == [] and meta.original_title and i > 0 and page.lines[i - 1].startswith("原标题"):
            meta.original_title += line  # "原标题：X" / "——Y": the original headline and its subtitle
            continue
        kept.append(line)
    return kept


# ---------------------------------------------------------------------------------------
# Body and tail
# ---------------------------------------------------------------------------------------

_MIN_LIST_RUN = 3  # consecutive headline-list lines that count as a related-links block
_SUBHEADING_CHARS = 20  # a subheading between paragraphs is a short line without a full stop

# Prose that belongs to a page's footer rather than to an article.
_FOOTER_PROSE = re.compile(r"版权|转载|侵权|免责|授权|联系电话|联系我们|邮箱|地址|备案|ICP|违法和不良")
# A site footer line (legal notice, registration numbers) wherever the words sit in the line.
_SITE_FOOTER = re.compile(r"版权所有|Copyright|©|All [Rr]ights [Rr]eserved|ICP[备证]|公网安备|网站标识码|主办单位|承办单位")


# A reprint notice closing the article ("本文系X独家稿件，未经授权，不得转载…"): the site's, not the author's.
_RIGHTS_NOTICE = re.compile(r"未经.{0,8}授权|不得转载|禁止转载|谢绝转载|转载请|版权归|版权所有|不代表本[网站台报]|与本(?:网站?|站|平台)立场无关|"
                            r"仅提供信息存储|\bprovides? information storage|uploaded and posted by a user")
# Wordings that are a site's notice only when they speak of the site, its stories or its readers
# ("如对本稿件有异议或投诉，请联系…", "留言内容由发言人自负责任"); an article's own sentence may say
# "对公示内容如有异议，请…联系…" or "出行时请遵守交通规定".
_SITE_NOTICE = re.compile(r"未经.{0,8}允许|作者独立观点|请遵守.{0,12}(?:规范|礼仪|公约|规定)|发言人自负|"
                          r"仅代表(?:网友|用户|作者)(?:个人)?(?:观点|立场)?|(?:异议|投诉).{0,12}(?:请?联系|请致电|请发邮件)")
_SITE_WORDS = re.compile(r"本网|本站|本平台|本文|本稿|本内容|稿件|网友|留言|跟帖|评论|发言|转载|平台")


def _site_notice(line: str) -> bool:
    """A site's copyright, reprint or disclaimer wording ("…未经授权不得转载", "如对本稿件有异议…")."""
    return bool(_RIGHTS_NOTICE.search(line) or (_SITE_NOTICE.search(line) and _SITE_WORDS.search(line)))


def _is_notice(line: str) -> bool:
    """A site's notice, or a footer heading's prose ("【版权声明】本文系…未经授权不得转载")."""
    return _site_notice(line) or bool(_is_tail_marker(line) and _FOOTER_PROSE.search(line))


def _find_tail_start(page: _Page, start: int) -> int:
    """Index of the first tail line at or after ``start`` (``len(lines)`` if there is none).

    A footer word followed by more article prose does not end the article: that line alone
    is dropped, or kept when it is a bare heading ("延伸阅读" over more paragraphs).
    """
    lines = page.lines
    for i in range(start, len(lines)):
        line = lines[i]
        if _END_MARK.match(line):
            return i
        if _is_tail_marker(line) or (_SITE_FOOTER.search(line) and not _is_prose(line)):
            if _article_continues(page, i + 1):
                continue
            return i
        if _is_list_line(page, i) and _starts_list_block(page, i):
            return i
    return len(lines)


def _is_table_row(line: str) -> bool:
    """A row of a data table as trafilatura writes it: "| 指标 | 单位 | 数值 |", "|---|---|"."""
    return line.startswith("|") and line.endswith("|") and line.count("|") >= 3


def _is_meta_row(line: str, meta: _Metadata) -> bool:
    """A row of the metadata grid above a government article: labelled cells ("发布机构：")."""
    cells = [c.strip() for c in line.strip("|").split("|") if c.strip()]
    labelled = [c for c in cells if c.endswith(("：", ":")) or _read_meta_line(c, meta)]
    return bool(labelled) and not any(_is_prose(c) for c in cells)


def _is_list_line(page: _Page, i: int) -> bool:
    if _is_table_row(page.lines[i]):
        return False
    return _is_headline_item(page.lines[i]) or page.is_entry(i) or page.is_list_stamp(i) or _is_counter(page.lines[i])


def _is_body_prose(line: str) -> bool:
    return (
        _is_prose(line)
        and len(line) >= 40
        and not _FOOTER_PROSE.search(line)
        and not _SITE_FOOTER.search(line)
        and not _is_tail_marker(line)
    )


def _article_continues(page: _Page, i: int) -> bool:
    """More article after line ``i - 1``: a prose paragraph, then another one or the page's end.

    Widgets and list entries in between are skipped; a single paragraph followed by anything
    else is more likely the summary of a recommendation than the article.
    """
    following = [j for j in range(i, len(page.lines)) if not page.is_furniture(j)]
    if not following or not _is_body_prose(page.lines[following[0]]):
        return False
    # Another paragraph next, or after a short subheading ("龙头带动 集群成势").
    after = [page.lines[j] for j in following[1:3]]
    return (len(following) == 1 or _is_body_prose(after[0])
            or (_is_subheading(after[0]) and len(after) == 2 and _is_body_prose(after[1])))


def _is_subheading(line: str) -> bool:
    return len(line) <= _SUBHEADING_CHARS and not _SENTENCE_END.search(line) and not _is_tail_marker(line)


def _starts_list_block(page: _Page, i: int) -> bool:
    """A run of headline items with no article prose after it (a list inside the body is kept)."""
    run = 0
    while i + run < len(page.lines) and _is_list_line(page, i + run):
        run += 1
    if run < _MIN_LIST_RUN:
        return False
    for line in page.lines[i + run :]:
        if _is_tail_marker(line):
            break
        if _is_prose(line):
            return False
    return True


def _keep_in_body(page: _Page, i: int, meta: _Metadata) -> bool:
    line = page.lines[i]
    if page.is_furniture(i) or _read_credit_line(line, meta):
        return False
    closing = _CLOSING_REPORTER.match(line)  # a "（记者 周洁）" line of its own
    if closing:
        meta.offer("author", _names(closing["names"]))
        return False
    if _BODY_BYLINE.match(line) and _read_byline(line, meta):  # "记者 陈嘉欣" closing the article
        return False
    if _is_tail_marker(line):  # a footer word the article goes on after: kept only as a heading
        match = _TAIL_MARKER.match(line)
        return match is not None and match.end() == len(line) and not match["after"]
    return True


# A byline inside the body is set apart from its names ("记者 陈嘉欣", "文/张三"), unlike a
# heading that starts with the same word ("作者简介").
_BODY_BYLINE = re.compile(r"^[□■◎●◆]?\s*(?:(?:[\u4e00-\u9fff·\-－—]{0,14}(?:报|网|社|台|刊|新闻|客户端)|本报|本台|本刊)?\s*(?:记者|通讯员)|作者|撰文|文)"
                          r"\s*[\s:：/｜|]\s*\S")  # "记者 陈嘉欣", "文/某某报记者 刘思远"; not "争做新时代记者 勇担使命"


def _without_pull_quotes(body: list[str]) -> list[str]:
    """Drop a quotation set apart between paragraphs whose words stand whole in another line of
    the article: a pull quote in large type (「常常一个下午下来，连水都没时间喝。」). Only a line
    that opens with a quote mark and holds a full stop counts (a subheading does neither)."""
    words = [re.sub(r"\W", "", line) for line in body]  # words only: a quote moves its full stop
    joined = "\n".join(words)
    return [line for line, w in zip(body, words)
            if not (line.startswith(("「", "“", "『", '"')) and _SENTENCE_END.search(line)
                    and 4 <= len(w) <= _PULL_QUOTE and joined.count(w) >= 2)]


def _read_tail(lines: list[str], title: str, meta: _Metadata) -> None:
    """Harvest metadata from the tail; the article's own entry in a news list gives its date."""
    for line in lines:
        _read_credit_line(line, meta) or _read_meta_line(line, meta, require_key_at_start=True)
    if meta.date is None and title:
        for line in lines:
            date = _find_date(line)
            if date and _mentions_title(line[date.end() :], title):
                meta.offer("date", _iso_from_match(date))
                break


def _mentions_title(text: str, title: str) -> bool:
    text, title = _compact(text), _compact(title)
    if text.endswith(("...", "…")):  # truncated list entry
        text = text.rstrip(".…")
        return len(text) >= 8 and title.startswith(text)
    return title in text


# ---------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------


def clean_page_text(raw: str, title: str | None = None, hints: HtmlHints | None = None) -> CleanedPage:
    """Split raw page text into headline, body and metadata.

    ``title``: the headline when already known (HTML <title>/<h1>); it is then not searched
    for, but still removed where the body repeats it.  ``hints``: what the page's HTML says
    about its lines (links, captions), see :mod:`assistant.clean.html`.

    The rules are written in Simplified script; a Traditional page is cleaned by the same
    rules applied to its Simplified form (same length, line for line), and what they keep is
    then cut from the page as written, so 來源/原標題/責任編輯 lines go exactly as 来源/原标题/
    责任编辑 lines do and the article keeps its own script.
    """
    hints = hints or HtmlHints()
    simplified = to_simplified(raw)
    if simplified == raw:
        return _clean(raw, title, hints)
    hints = HtmlHints(
        linked=frozenset(to_simplified(t) for t in hints.linked),
        captions=frozenset(to_simplified(t) for t in hints.captions),
        widgets=frozenset(to_simplified(t) for t in hints.widgets),
        byline=frozenset(to_simplified(t) for t in hints.byline),
        headings=tuple(to_simplified(t) for t in hints.headings),
    )
    page = _clean(simplified, to_simplified(title) if title else title, hints)
    original = "\n".join(normalize_paragraph(line) for line in raw.splitlines())
    converted = to_simplified(original)

    def restore(value: str | None, start: int = 0) -> tuple[str | None, int]:
        at = converted.find(value, start) if value else -1
        return (original[at:at + len(value)], at + len(value)) if at >= 0 else (value, start)

    body, cursor = [], 0
    for line in page.text.split("\n") if page.text else []:
        restored, cursor = restore(line, cursor)
        body.append(restored)
    return CleanedPage(
        title=title if title else restore(page.title)[0] or "",
        text="\n".join(body),
        source=restore(page.source)[0],
        date=page.date,
        author=restore(page.author)[0],
        editor=restore(page.editor)[0],
        url=page.url,
        original_title=restore(page.original_title)[0],
    )


def _is_sentence(line: str) -> bool:
    """Any line ending a sentence: the body of an article too short for a prose paragraph."""
    return len(line) >= 6 and bool(re.search(r"[。！？!?]$", line))


def _clean(raw: str, title: str | None, hints: HtmlHints) -> CleanedPage:
    lines = [p for p in (normalize_paragraph(line) for line in raw.splitlines()) if p]
    page = _Page(lines, hints)
    meta = _Metadata()
    # A copyright or reprint notice above the article is not where it starts...
    # ...nor is the headline itself, when it asks a question ("学研技转卡关？…").
    headline = _compact(title) if title else None
    first_prose = next((i for i, line in enumerate(lines)
                        if _is_prose(line) and not _is_notice(line) and _compact(line) != headline), len(lines))

    lead_start = 0
    if title is None:
        title_at = _find_title(lines, first_prose)
        title = lines[title_at] if title_at is not None else ""
    else:  # the known headline's line in the text: what is above it is navigation
        title_at = next((i for i in range(first_prose) if _compact(lines[i]) == _compact(title)), None)
    if title_at is not None:
        lead_start = title_at + 1
        for line in lines[:title_at]:  # breadcrumbs and widgets, or a meta line put first
            _read_meta_line(line, meta)
    first_prose = max(first_prose, lead_start)
    if first_prose == len(lines):  # no paragraph: a one-sentence article
        first_prose = next(
            (i for i in range(lead_start, len(lines)) if _is_sentence(lines[i]) and _keep_in_body(page, i, _Metadata())),
            len(lines),
        )

    tail_start = _find_tail_start(page, first_prose)
    body = _clean_lead(page, range(lead_start, first_prose), [title, *hints.headings], meta)
    body += [lines[i] for i in range(first_prose, tail_start) if _keep_in_body(page, i, meta)]
    while len(body) > 1 and _site_notice(body[-1]):
        body.pop()
    body = _without_pull_quotes([line for line in body if _compact(line) != headline])  # the headline again: a link to itself
    _read_tail(lines[tail_start:], title, meta)

    if meta.author is None and body:
        closing = _CLOSING_REPORTER.search(body[-1])  # "…工作的支持。(记者 华静)"
        if closing:
            meta.offer("author", _names(closing["names"]))

    return CleanedPage(
        title=title,
        text="\n".join(body),
        source=meta.source,
        date=meta.date,
        author=meta.author,
        editor=meta.editor,
        url=meta.url,
        original_title=meta.original_title,
    )
